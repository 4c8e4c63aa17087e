//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Hummingbird
import EngineIO
import HTTPTypes
public import Hummingbird
public import HummingbirdCore
public import Logging
public import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket
public import SocketIO

/// A Hummingbird connection that serves a mounted SocketIOServer beside the application
/// (what `HTTPServerBuilder.socketIO(_:router:configuration:)` builds; public for
/// applications that assemble their own server).
///
/// The first request of a connection may be an Engine.IO WebSocket upgrade: the engine and
/// the application's router check it (the app's middleware runs; the context it leaves is
/// the session's), and an accepted one gets the engine's own WebSocket pipeline: messages
/// encoded once for all recipients, flushes batched per event loop, no task per message.
/// Everything else is Hummingbird's HTTP/1.1 (as `HTTP1Channel`), where the engine path is
/// served by the routes of `RouterMethods.addSocketIO(_:)`.
public struct SocketIOHTTP1Channel<WSResponder: HTTPResponder>: ServerChildChannel, HTTPChannelHandler
where WSResponder.Context: InitializableFromSource<ApplicationRequestContextSource> {
    /// What ``setup(channel:logger:)`` makes of a connection.
    public typealias Value = Connection

    /// A connection once its first request was read: upgraded to an engine WebSocket, or HTTP.
    public struct Connection: ServerChildChannelValue {
        let kind: EventLoopFuture<SocketIOHTTP1ChannelKind>
        let state: SocketIOConnectionState
        /// The connection's channel.
        public let channel: any Channel
    }

    /// The application's responder (Hummingbird's `HTTPChannelHandler` requirement).
    public let responder: HTTPChannelHandler.Responder
    let engine: EngineIOServer
    let upgradeResponder: WSResponder
    let configuration: HTTP1Channel.Configuration
    let drain: SocketIODrain

    /// A channel serving `io` beside the application.
    /// - Parameters:
    ///   - io: the Socket.IO server.
    ///   - responder: the application's responder, for HTTP requests.
    ///   - upgradeResponder: the application's router, run on engine upgrade requests.
    ///   - configuration: HTTP/1.1 settings, as `HTTP1Channel`'s.
    public init(
        io: SocketIOServer,
        responder: @escaping HTTPChannelHandler.Responder,
        upgradeResponder: WSResponder,
        configuration: HTTP1Channel.Configuration = .init()
    ) {
        self.engine = io.engine
        self.drain = SocketIODrain(engine: io.engine)
        self.responder = responder
        self.upgradeResponder = upgradeResponder
        self.configuration = configuration
    }

    /// Sets up a new connection's pipeline (Hummingbird calls it on the channel's loop).
    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Connection> {
        channel.eventLoop.makeCompletedFuture {
            // As the standalone listener: a small first receive buffer keeps idle connections
            // cheap; up to 16 reads per wake-up; no Nagle delay (Hummingbird sets none).
            if let options = channel.syncOptions {
                try options.setOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65536))
                try options.setOption(.maxMessagesPerRead, value: 16)
                try options.setOption(.tcpOption(.tcp_nodelay), value: 1)
            }
            let state = SocketIOConnectionState(channel: channel)
            let engine = self.engine
            let maxFrameSize = min(max(engine.configuration.maxPayload, 1 << 12), 1 << 30)
            let upgradeResponder = self.upgradeResponder
            let drain = self.drain
            // The standalone listener's header, request and keep-alive timeouts (slowloris,
            // issue 9). An engine WebSocket leaves them behind: its heartbeat and slow-reader
            // limit take over. (The standalone listener's `BackPressureHandler` is not needed
            // here: Hummingbird's request loop writes through `NIOAsyncChannel`, which waits
            // while the channel is not writable and then stops reading; test_front.py's
            // never-reading pipelining client checks it.)
            let timeouts = engine.configuration.httpTimeouts
            let timeoutHandler = NIOLoopBound(HTTPConnectionTimeoutHandler(timeouts: timeouts), eventLoop: channel.eventLoop)
            let handshake = NIOTypedWebSocketServerUpgrader<SocketIOHTTP1ChannelKind>(
                maxFrameSize: maxFrameSize,
                shouldUpgrade: { channel, head in
                    Self.shouldUpgrade(channel: channel, head: head, engine: engine, responder: upgradeResponder, state: state, logger: logger)
                },
                // Not used: the pipeline after the upgrade is the engine's (see below).
                upgradePipelineHandler: { channel, _ in channel.eventLoop.makeSucceededFuture(.engineWebSocket) }
            )
            let upgrader = EngineIOTypedWebSocketUpgrader(handshake: handshake) { channel, head in
                let context = state.stateOnLoop.upgradeContext
                state.stateOnLoop.upgradeContext = nil
                let request = engine.request(for: head, on: channel, context: context)
                channel.pipeline.syncOperations.removeHandler(timeoutHandler.value, promise: nil)
                try channel.pipeline.syncOperations.addHandlers(
                    WebSocketFrameEncoder(),
                    SocketIOQuiesceHandler(drain: drain),
                    EngineIOWebSocketHandler(server: engine, request: request, maxMessageSize: maxFrameSize)
                )
            }
            let http1 = self.configuration
            let replay = NIOLoopBound(SocketIODeclinedUpgradeReplay(), eventLoop: channel.eventLoop)
            let upgradeConfiguration = NIOTypedHTTPServerUpgradeConfiguration<SocketIOHTTP1ChannelKind>(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        // Hummingbird's HTTP/1 pipeline, plus the close after a last answer
                        // and the drain on quiesce.
                        let operations = channel.pipeline.syncOperations
                        try operations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try operations.addHandler(SocketIOCloseAfterResponseHandler())
                        try operations.addHandler(SocketIOQuiesceHandler(drain: drain))
                        try operations.addHandlers(http1.additionalChannelHandlers())
                        try operations.addHandler(HTTPConnectionStateHandler(idleTimeout: http1.idleTimeout.map { .init($0) }, logger: logger))
                        replay.value.replay()
                        operations.removeHandler(replay.value, promise: nil)
                        return .http(
                            try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                                wrappingChannelSynchronously: channel,
                                configuration: .init(isOutboundHalfClosureEnabled: true)
                            )
                        )
                    }
                }
            )
            var pipeline = NIOUpgradableHTTPServerPipelineConfiguration(upgradeConfiguration: upgradeConfiguration)
            pipeline.enablePipelining = false  // Hummingbird serves a connection's requests in order
            // NIO's error handler, as the standalone listener: a request the decoder refuses
            // (bad syntax, beyond the header limits below) gets `400 Bad Request` before the
            // connection closes, rather than a bare close. An upgrade removes it.
            pipeline.enableErrorHandling = true
            pipeline.enableResponseHeaderValidation = false
            // The tighter of the application's and the engine's header limits (beyond them
            // NIO's decoder fails the request and the connection closes).
            pipeline.decoderConfiguration.maxHeaderFieldSize = min(http1.httpDecoder.maxHeaderFieldSize, timeouts.maxHeaderBytes)
            pipeline.decoderConfiguration.maxHeaderListSize = min(http1.httpDecoder.maxHeaderListSize, timeouts.maxHeaderBytes)
            pipeline.decoderConfiguration.maxHeaderFieldCount = min(http1.httpDecoder.maxHeaderFieldCount, timeouts.maxHeaderCount)
            let operations = channel.pipeline.syncOperations
            let kind = try operations.configureUpgradableHTTPServerPipeline(configuration: pipeline)
            let upgradeHandler = try operations.handler(type: NIOTypedHTTPServerUpgradeHandler<SocketIOHTTP1ChannelKind>.self)
            // After the decoder, so that it sees one request's parts at a time, and before
            // the upgrade decision, so that a connection that never completes its first
            // request is closed too.
            try operations.addHandler(timeoutHandler.value, position: .before(upgradeHandler))
            try operations.addHandler(replay.value, position: .before(upgradeHandler))
            return Connection(kind: kind, state: state, channel: channel)
        }
    }

    /// Serves a connection: Hummingbird's request loop, or waits for an engine WebSocket to close.
    public func handle(value: Connection, logger: Logger) async {
        do {
            switch try await value.kind.get() {
            case .http(let asyncChannel):
                // The engine routes find the connection through the task-local: Hummingbird
                // serves every request of the connection in this task.
                await SocketIOConnectionState.$current.withValue(value.state) {
                    await self.handleHTTP(asyncChannel: asyncChannel, logger: logger)
                }
            case .engineWebSocket:
                try await value.channel.closeFuture.get()
            }
        } catch {
            logger.trace("connection ended", metadata: ["error": "\(error)"])
        }
    }

    /// Runs the engine's checks and the application's router on an upgrade request; `nil`
    /// declines it (it goes on as plain HTTP).
    private static func shouldUpgrade(
        channel: any Channel,
        head: HTTPRequestHead,
        engine: EngineIOServer,
        responder: WSResponder,
        state: SocketIOConnectionState,
        logger: Logger
    ) -> EventLoopFuture<HTTPHeaders?> {
        let (path, query) = EngineIORequest.split(head.uri)
        guard engine.isEngineRequest(path: path, query: query) else {
            // Not the engine's: the application gets it as plain HTTP (v1 serves engine
            // WebSockets only).
            return channel.eventLoop.makeSucceededFuture(nil)
        }
        // One task per upgrade request (not per message), to run the async router.
        return channel.eventLoop.makeFutureWithTask { () -> HTTPHeaders? in
            let slot = SocketIOUpgradeSlot()
            var status = HTTPResponse.Status.badRequest
            do {
                let request = Request(head: try HTTPRequest(head, secure: false, splitCookie: false), body: .init(buffer: ByteBuffer()))
                let context = WSResponder.Context(source: .init(channel: channel, logger: logger))
                let response = try await SocketIOConnectionState.$current.withValue(state) {
                    try await SocketIOUpgradeSlot.$current.withValue(slot) {
                        try await responder.respond(to: request, context: context)
                    }
                }
                status = response.status
            } catch let error as any HTTPResponseError {
                status = error.status
            } catch {
                logger.debug("upgrade check failed", metadata: ["error": "\(error)"])
            }
            let outcome = slot.outcome
            let accepted = status == .ok
            return try await state.onLoop { connection -> HTTPHeaders? in
                switch outcome {
                case .accepted(let context) where accepted:
                    connection.upgradeContext = context
                    return [:]
                case .refused(let error):
                    connection.upgradeRefusal = error
                    return nil
                case .accepted, nil:
                    // Refused by the application (its middleware's answer is given again
                    // on the HTTP path).
                    return nil
                }
            }
        }
    }
}

/// How a connection's first request went.
enum SocketIOHTTP1ChannelKind: Sendable {
    /// Hummingbird's HTTP/1.1.
    case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
    /// The engine's WebSocket pipeline is in place; the connection's task only waits.
    case engineWebSocket
}
#endif
