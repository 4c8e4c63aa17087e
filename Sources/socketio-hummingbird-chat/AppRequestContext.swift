//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Hummingbird
import Hummingbird

/// The application's request context. ``SessionMiddleware`` fills `user` from the session
/// cookie; the Socket.IO handlers read it back through the handshake
/// (`socket.handshake.requestContext(AppRequestContext.self)`).
struct AppRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The logged-in user, `nil` without a valid session.
    var user: User?
    /// The id of the request's session, when it has a valid one.
    var sessionID: String?
    /// The Socket.IO room of the session's sockets (what `POST /logout` disconnects).
    var sessionRoom: String?

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }
}
#endif
