//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import SocketIO
import SocketIOParser

/// The Swift twin of Flask-SocketIO's example app: the same events and answers, so that a
/// Flask-SocketIO worker and this one are interchangeable behind one front.
enum DemoApp {
    /// Installs the example's handlers on namespace `/`.
    static func install(on io: SocketIOServer, node: String = "") {
        io.onConnect { socket, _ in
            socket.emit("my_response", ["data": "Connected", "count": 0])
        }
        io.on("my_event") { socket, arguments in
            socket.emit("my_response", ["data": arguments.first?["data"] ?? .null, "count": .int(bump(socket))])
        }
        io.on("my_broadcast_event") { socket, arguments in
            // Flask's `broadcast=True` includes the sender: the whole namespace, not `socket.broadcast`.
            socket.nsp.emit("my_response", ["data": arguments.first?["data"] ?? .null, "count": .int(bump(socket))])
        }
        io.on("join") { socket, arguments in
            socket.join(arguments.first?["room"]?.stringValue ?? "")
            socket.emit("my_response", ["data": .string(roomsAnswer(socket.rooms)), "count": .int(bump(socket))])
        }
        io.on("leave") { socket, arguments in
            socket.leave(arguments.first?["room"]?.stringValue ?? "")
            socket.emit("my_response", ["data": .string(roomsAnswer(socket.rooms)), "count": .int(bump(socket))])
        }
        io.on("close_room") { socket, arguments in
            let room = arguments.first?["room"]?.stringValue ?? ""
            socket.nsp.to(room).emit("my_response", ["data": .string("Room \(room) is closing."), "count": .int(bump(socket))])
            io.closeRoom(room)
        }
        io.on("my_room_event") { socket, arguments in
            let message = arguments.first ?? .null
            // Flask's `emit(..., to=room)` includes the sender when it is in the room.
            socket.nsp.to(message["room"]?.stringValue ?? "").emit("my_response", ["data": message["data"] ?? .null, "count": .int(bump(socket))])
        }
        io.on("disconnect_request") { socket, _ in
            // Disconnect once the client confirmed it got the goodbye (Flask: callback).
            socket.emit("my_response", ["data": "Disconnected!", "count": .int(bump(socket))]) { _ in
                socket.disconnect()
            }
        }
        io.on("my_ping") { socket, _ in
            socket.emit("my_pong")
        }
        // Operations: which worker serves this client, and the client address it sees
        // (X-Forwarded-For behind nginx with --trust-proxy).
        io.onWithAck("worker_info") { socket, _ in
            [["node": .string(node), "client": socket.handshake.clientAddress.map { .string($0) } ?? .null]]
        }
        // Acknowledges with the arguments it got (binary attachments included): the round trip
        // that `socketio-bench latency` measures, against this server and Flask-SocketIO alike.
        io.onWithAck("echo") { _, arguments in
            SocketIOAck(arguments)
        }
        io.onAny { socket, event, arguments in
            socket.emit("my_response", ["data": .string("Unknown event \(event)"), "count": .int(bump(socket))])
        }
        // The server-generated event every 10 seconds.
        io.startBackgroundTask {
            var count = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(10))
                if Task.isCancelled { break }
                count += 1
                io.emit("my_response", ["data": "Server generated event", "count": .int(count)])
            }
        }
    }

    /// Flask's answer to `join`/`leave`, "In rooms: a, b", bounded: the room list stops
    /// after about 4 KB ("… and N more"). The rooms of a socket are bounded by
    /// `maxRoomsPerSocket` and `maxRoomNameBytes` (about 1 MB of names), and the answer
    /// used to list them all on every join.
    static func roomsAnswer(_ rooms: [String], limit: Int = 4096) -> String {
        var answer = "In rooms: "
        for (index, room) in rooms.enumerated() {
            let separator = index == 0 ? "" : ", "
            if answer.utf8.count + separator.utf8.count + room.utf8.count > limit {
                return answer + "\(separator)… and \(rooms.count - index) more"
            }
            answer += separator + room
        }
        return answer
    }

    /// Counts the events of one session (Flask: `session['receive_count']`).
    private static func bump(_ socket: SocketIOSocket) -> Int {
        socket.session.update { values in
            let count = (values["receive_count"] as? Int ?? 0) + 1
            values["receive_count"] = count
            return count
        }
    }

    /// The reference handlers of the Socket.IO protocol documentation's test server.
    static func installReference(on io: SocketIOServer) {
        io.onConnect { socket, auth in
            socket.emit("auth", auth ?? [:])
        }
        io.on("message") { socket, arguments in
            socket.emit("message-back", arguments: arguments)
        }
        io.onWithAck("message-with-ack") { _, arguments in
            SocketIOAck(arguments)
        }
        io.of("/custom").onConnect { socket, auth in
            socket.emit("auth", auth ?? [:])
        }
    }
}
