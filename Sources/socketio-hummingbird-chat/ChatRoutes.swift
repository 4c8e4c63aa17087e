//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Hummingbird
import Hummingbird
import SocketIO
import SocketIOHummingbird
import SocketIOParser

/// The application's HTTP routes, beside the Socket.IO engine routes.
enum ChatRoutes {
    static func add(to router: Router<AppRequestContext>, io: SocketIOServer, sessions: SessionStore, users: UserDirectory, page: ChatPage) {
        router.get("/") { _, context in
            ChatPage.response(user: context.user)
        }
        router.get("/socket.io/socket.io.js") { _, _ in
            page.clientBundleResponse()
        }
        router.post("/login") { request, context in
            let body = try await request.body.collect(upTo: 4096)
            guard let form = try? URLEncodedFormDecoder().decode(LoginForm.self, from: String(buffer: body)),
                let user = users.authenticate(name: form.name, password: form.password)
            else {
                return ChatPage.response(user: nil, loginError: "Wrong name or password.", status: .unauthorized)
            }
            // A new id at every login (no session fixation); the old session ends.
            if let old = context.sessionID { try await sessions.remove(old) }
            let id = try await sessions.create(for: user)
            var response = Response.redirect(to: "/", type: .normal)
            response.setCookie(sessions.cookie(for: id))
            return response
        }
        router.post("/logout") { _, context in
            if let id = context.sessionID {
                try await sessions.remove(id)
            }
            if let room = context.sessionRoom {
                // The session's sockets go too: their handshake's user is no longer logged in.
                io.to([room]).disconnectSockets()
            }
            var response = Response.redirect(to: "/", type: .normal)
            response.setCookie(SessionStore.expiredCookie)
            return response
        }
        // Emits `notification` to every socket of a user. Deliberately open (no login): it
        // stands for a back-end event (a webhook, another service) reaching the browser. A
        // real application keeps such a route on an internal listener or checks a token.
        router.post("/notify/:user") { request, context -> Response in
            let name = try context.parameters.require("user")
            guard users.user(named: name) != nil else { throw HTTPError(.notFound, message: "no such user") }
            // Decoded as a form (`+` is a space), as a browser or `requests` encodes it.
            let query = try? URLEncodedFormDecoder().decode(NotifyQuery.self, from: request.uri.query ?? "")
            let text = query?.text ?? "Hello \(name)"
            io.to([ChatEvents.userRoom(name)]).emit("notification", arguments: [["to": .string(name), "text": .string(text)]])
            return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "notified \(name)\n")))
        }
    }

    /// The query of `POST /notify/:user`: `?text=...`, optional.
    private struct NotifyQuery: Decodable {
        let text: String?
    }
}
#endif
