//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import Foundation
import NIOConcurrencyHelpers
import SocketIO
import SocketIOParser

/// The test server's fixtures for the Socket.IO nouns (issue 14): acks on demand,
/// middlewares, parent namespaces, the broadcast operator, the disconnecting handler.
/// The contract is in Tests/Interop/README.md.
enum APIScenarios {
    /// What the guarded namespace's handlers saw (so a test can check that a refused
    /// client reached none of them).
    private static let guardedConnects = NIOLockedValueBox(0)

    static func install(on io: SocketIOServer) {
        // Acks on demand.
        io.on("silent") { _, _ in }
        io.on("ack_later") { _, arguments, ack in
            let delay = arguments.first?.intValue ?? 100
            try await Task.sleep(for: .milliseconds(delay))
            ack("late", .int(delay))
        }
        io.on("ack_maybe") { socket, arguments, ack in
            // Answers only the calls after the first `skip` ones: a client's retries see
            // silence, then an answer.
            let skip = arguments.first?.intValue ?? 0
            let seen = socket.session.update { values -> Int in
                let seen = (values["ack_maybe"] as? Int ?? 0) + 1
                values["ack_maybe"] = seen
                return seen
            }
            if seen > skip { ack(.int(seen)) }
        }
        io.onWithAck("ask_all") { socket, arguments in
            // Every socket in the room answers; the sender gets the gathered answers.
            let room = arguments.first?.stringValue ?? ""
            do {
                let answers = try await io.to(room).timeout(.milliseconds(arguments.count > 1 ? arguments[1].intValue ?? 2000 : 2000)).emitWithAck("poll", .string(socket.id))
                return ["answers", .array(answers.map { .array($0) })]
            } catch {
                return ["error", .string("\(error)")]
            }
        }
        io.onWithAck("guarded_stats") { _, _ in
            [["connects": .int(guardedConnects.withLockedValue { $0 }), "sockets": .int(io.of("/guarded").localSockets().count)]]
        }
        io.onWithAck("transport") { socket, _ in [.string(io.transport(sid: socket.id) ?? "")] }
        io.onWithAck("members") { socket, arguments in
            [.array(socket.nsp.localMembers(of: arguments.first?.stringValue ?? "").map { .string($0) })]
        }

        // Middlewares: `/guarded` admits auth {"token": "let-me-in"} only.
        let guarded = io.of("/guarded")
        guarded.use { socket in
            guard socket.handshake.auth?["token"]?.stringValue == "let-me-in" else {
                throw ConnectionRefused("unauthorized", data: ["code": 401])
            }
            socket.session["admitted"] = true
        }
        guarded.onConnect { socket, _ in
            guardedConnects.withLockedValue { $0 += 1 }
            socket.emit("guarded_welcome", .bool(socket.session.get("admitted", as: Bool.self) == true))
        }

        // Parent namespaces: `/dyn-<digits>` made on first connect.
        let dynamic = try! io.of(pattern: #"^/dyn-\d+$"#)
        dynamic.onConnect { socket, _ in socket.emit("dyn_welcome", .string(socket.namespace)) }
        dynamic.on("echo") { socket, arguments in socket.emit("echo", arguments: arguments) }
        dynamic.onWithAck("shout") { socket, arguments in
            socket.broadcast.emit("shout", arguments: arguments)
            return ["ok"]
        }

        // Lifecycle: `/lifecycle` tells a room's other members who is leaving, while the
        // leaving socket is still in the room.
        let lifecycle = io.of("/lifecycle")
        lifecycle.onWithAck("join") { socket, arguments in
            socket.join(arguments.first?.stringValue ?? "")
            return ["ok"]
        }
        lifecycle.onDisconnecting { socket, reason in
            let rooms = socket.rooms.filter { $0 != socket.id }
            socket.to(rooms).emit("member_leaving", .string(socket.id), .array(rooms.map { .string($0) }), .string("\(reason)"))
        }
    }
}
