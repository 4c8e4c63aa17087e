//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Hummingbird
public import Hummingbird
public import HummingbirdCore
public import SocketIO

extension HTTPServerBuilder {
    /// HTTP/1.1 with the Engine.IO WebSocket upgrade of `io`, for
    /// `Application(router:server:)`.
    ///
    /// An upgrade request on the engine path is checked by the engine and by `router` (the
    /// application's, the one given to `Application`): its middleware runs, and the context
    /// it leaves is the session's (SocketIOHandshake/requestContext(_:)). Any other
    /// request, including a WebSocket upgrade elsewhere, is served as plain HTTP by the
    /// application. The engine's polling routes come from RouterMethods/addSocketIO(_:).
    ///
    /// Plain HTTP connections get the standalone listener's limits from the engine's
    /// configuration (`EngineIOConfiguration.httpTimeouts`): the header, request and
    /// keep-alive timeouts close slow or idle connections, and a request beyond the header
    /// limits (the tighter of `configuration.httpDecoder`'s and the engine's) gets
    /// `400 Bad Request` and the connection closes. An engine WebSocket leaves them behind.
    ///
    /// On graceful shutdown the first connection told to quiesce drains the engine
    /// (`EngineIOServer.beginDraining()`): new handshakes are refused and every session ends
    /// as a lost transport (what was buffered, then a noop on a held poll or a WebSocket
    /// close 1001), so that held polls and WebSockets end and clients reconnect elsewhere.
    /// - Parameters:
    ///   - io: the Socket.IO server to serve.
    ///   - router: the application's router.
    ///   - configuration: HTTP/1.1 settings, as for `.http1(configuration:)`.
    public static func socketIO<ResponderBuilder: HTTPResponderBuilder>(
        _ io: SocketIOServer,
        router: ResponderBuilder,
        configuration: HTTP1Channel.Configuration = .init()
    ) -> HTTPServerBuilder where ResponderBuilder.Responder.Context: InitializableFromSource<ApplicationRequestContextSource> {
        let upgradeResponder = router.buildResponder()
        return HTTPServerBuilder { responder in
            SocketIOHTTP1Channel(io: io, responder: responder, upgradeResponder: upgradeResponder, configuration: configuration)
        }
    }
}
#endif
