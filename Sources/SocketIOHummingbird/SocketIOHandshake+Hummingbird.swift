//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Hummingbird
import EngineIO
public import Hummingbird
public import SocketIO

extension SocketIOHandshake {
    /// The application's request context of the handshake request, after its middleware
    /// ran (what Flask-SocketIO's `session` and `current_user` give a `connect` handler).
    ///
    /// For a polling session it is the context of the handshake GET; for a WebSocket-only
    /// session, that of the upgrade request. `nil` when the server is not mounted on
    /// Hummingbird (RouterMethods/addSocketIO(_:)) or the context is of another type.
    public func requestContext<Context: RequestContext>(_ type: Context.Type = Context.self) -> Context? {
        self.request.context as? Context
    }
}
#endif
