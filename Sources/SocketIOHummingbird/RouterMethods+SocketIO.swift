//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Hummingbird
import EngineIO
public import Hummingbird
public import SocketIO

extension RouterMethods {
    /// Serves the Engine.IO path of `io` (`/socket.io/` by default): long-polling (GET,
    /// POST and the CORS preflight) and the check of WebSocket upgrade requests.
    ///
    /// Middleware added before this call (on the router or the group) runs on every engine
    /// request; the context it leaves on the handshake request is
    /// SocketIOHandshake/requestContext(_:). Other paths under the engine path (e.g.
    /// `/socket.io/socket.io.js`) stay free for the application.
    ///
    /// The application must be served by `HTTPServerBuilder.socketIO(_:router:configuration:)`,
    /// which gives these routes the connection (its event loop, a held poll) and the
    /// WebSocket upgrade; under another server they answer 500.
    @discardableResult
    public func addSocketIO(_ io: SocketIOServer) -> Self {
        let responder = SocketIOEngineResponder<Context>(engine: io.engine)
        let path = RouterPath(io.engine.configuration.normalizedPath)
        for method in [HTTPRequest.Method.get, .post, .options] {
            self.on(path, method: method, responder: responder)
        }
        return self
    }
}
#endif
