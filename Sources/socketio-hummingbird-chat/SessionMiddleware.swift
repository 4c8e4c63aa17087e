//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Hummingbird
import Hummingbird

/// Reads the session cookie and puts the session's user in the context (Flask-Login's
/// `login_manager.user_loader`). It runs on every request the router serves, the Socket.IO
/// engine's included, so the connect handler sees the user of the handshake request.
struct SessionMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let sessions: SessionStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let id = request.cookies[SessionStore.cookieName]?.value, let entry = try await self.sessions.entry(for: id) {
            context.user = entry.user
            context.sessionID = id
            context.sessionRoom = entry.room
        }
        return try await next(request, context)
    }
}
#endif
