//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Hummingbird
import OrderedCollections
import SocketIO
import SocketIOHummingbird
import SocketIOParser

/// The chat's Socket.IO handlers (namespace `/`).
///
/// Rooms: every socket is in `user:NAME` (what `POST /notify/NAME` emits to) and
/// `session:TAG` (``AppRequestContext/sessionRoom``, what `POST /logout` disconnects);
/// clients may not join either kind.
enum ChatEvents {
    static func userRoom(_ name: String) -> String { "user:\(name)" }

    static func install(on io: SocketIOServer) {
        // Flask-Login's `if not current_user.is_authenticated: raise ConnectionRefusedError`:
        // the client's `connect_error` carries the message.
        io.use { socket in
            guard socket.user != nil else { throw ConnectionRefused("unauthorized") }
        }
        io.onConnect { socket, _ in
            guard let context = socket.context, let user = context.user else { return }
            socket.join(userRoom(user.name))
            if let room = context.sessionRoom { socket.join(room) }
        }
        io.onWithAck("whoami") { socket, _ in
            [.string(socket.user?.name ?? "")]
        }
        // `join`/`leave` {room}: the ack lists the rooms the socket chose.
        io.onWithAck("join") { socket, arguments in
            guard let room = arguments.first?["room"]?.stringValue, isPublic(room) else {
                return [["error": "invalid room"]]
            }
            socket.join(room)
            return [["rooms": publicRooms(of: socket)]]
        }
        io.onWithAck("leave") { socket, arguments in
            guard let room = arguments.first?["room"]?.stringValue, isPublic(room) else {
                return [["error": "invalid room"]]
            }
            socket.leave(room)
            return [["rooms": publicRooms(of: socket)]]
        }
        // `message` {room, text, ...}: to everyone in the room (the sender too, if a member),
        // with `from` set by the server; the message's other fields (binary ones too) pass
        // through.
        io.on("message") { socket, arguments in
            guard let user = socket.user, case .object(var message) = arguments.first,
                let room = message["room"]?.stringValue, isPublic(room)
            else { return }
            message["from"] = .string(user.name)
            socket.nsp.to([room]).emit("message", arguments: [.object(message)])
        }
    }

    /// A room a client may name: not empty, not a user's or a session's.
    static func isPublic(_ room: String) -> Bool {
        !room.isEmpty && !room.hasPrefix("user:") && !room.hasPrefix("session:")
    }

    private static func publicRooms(of socket: SocketIOSocket) -> SocketIOValue {
        .array(socket.rooms.filter { $0 != socket.id && isPublic($0) }.sorted().map { .string($0) })
    }
}

extension SocketIOSocket {
    /// The application's context of the handshake request, after ``SessionMiddleware``.
    fileprivate var context: AppRequestContext? { self.handshake.requestContext(AppRequestContext.self) }
    /// The logged-in user the socket belongs to.
    fileprivate var user: User? { self.context?.user }
}
#endif
