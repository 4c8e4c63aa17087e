//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIOParser
public import Logging
import NIOConcurrencyHelpers
public import NIOCore
internal import NIOHTTP1
public import NIOPosix
import NIOWebSocket
public import ServiceLifecycle

/// The HTTP/WebSocket listener in front of an ``EngineIOServer``, as a `Service`.
///
/// `run()` binds, serves until graceful shutdown (or cancellation), then closes every
/// session (each client reconnects: see ``EngineIOServer/beginDraining()``), and closes the
/// remaining connections.
public final class EngineIOHTTPServer: Service, Sendable {
    /// Where to listen.
    public struct Address: Sendable, Hashable {
        public var host: String
        public var port: Int
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    public let engine: EngineIOServer
    let address: Address
    let group: any EventLoopGroup
    let router: EngineIORouter?
    let logger: Logger
    private let state = NIOLockedValueBox(State())
    private let listening: EventLoopPromise<SocketAddress>

    private struct State {
        var serverChannel: (any Channel)?
        var connections: [ObjectIdentifier: any Channel] = [:]
        var shuttingDown = false
        /// Set when graceful shutdown begins: readiness fails from then on.
        var draining = false
        /// The application's part of readiness (a cluster adapter's subscription).
        var readinessCheck: (@Sendable () -> Bool)?
    }

    /// - Parameters:
    ///   - engine: the engine that serves the Engine.IO path.
    ///   - address: host and port; port 0 picks a free port (see ``localAddress``).
    ///   - eventLoopGroup: the loops that run connections.
    ///   - router: answers requests outside the engine path (`nil`: 404).
    public init(
        engine: EngineIOServer,
        address: Address,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        router: EngineIORouter? = nil,
        logger: Logger
    ) {
        self.engine = engine
        self.address = address
        self.group = eventLoopGroup
        self.router = router
        self.logger = logger
        self.listening = eventLoopGroup.any().makePromise()
    }

    /// The bound address, once listening.
    public var localAddress: SocketAddress {
        get async throws { try await self.listening.futureResult.get() }
    }

    /// Adds the application's condition to readiness (`GET /readyz`): the server is ready while
    /// it listens, is not shutting down, and `check` returns true. Called on every probe.
    public func setReadinessCheck(_ check: @escaping @Sendable () -> Bool) {
        self.state.withLockedValue { $0.readinessCheck = check }
    }

    /// Whether `GET /readyz` answers 200 now.
    public var isReady: Bool {
        let (listening, check) = self.state.withLockedValue { state in
            (state.serverChannel?.isActive == true && !state.shuttingDown && !state.draining, state.readinessCheck)
        }
        // A front end's drain (``EngineIOServer/beginDraining()``) also ends readiness.
        return listening && !self.engine.isDraining && (check?() ?? true)
    }

    public func run() async throws {
        let serverChannel: any Channel
        do {
            serverChannel = try await self.makeBootstrap().bind(host: self.address.host, port: self.address.port).get()
        } catch {
            self.listening.fail(error)
            throw error
        }
        self.state.withLockedValue { $0.serverChannel = serverChannel }
        if let local = serverChannel.localAddress {
            self.listening.succeed(local)
        }
        self.logger.info(
            "listening",
            metadata: [EngineIOLoggingKeys.httpAddress: "\(serverChannel.localAddress.map { "\($0)" } ?? "?")"]
        )
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                try? await serverChannel.closeFuture.get()
            } onCancel: {
                serverChannel.close(promise: nil)
            }
        } onGracefulShutdown: {
            self.state.withLockedValue { $0.draining = true }
            serverChannel.close(promise: nil)
        }
        await self.shutdownConnections()
    }

    /// Drains the engine (no new sessions; each live one is closed), then closes connections.
    private func shutdownConnections() async {
        self.state.withLockedValue { $0.shuttingDown = true }
        // New handshakes on connections still open are refused from here on.
        await self.engine.beginDraining()
        let connections = self.state.withLockedValue { Array($0.connections.values) }
        for connection in connections {
            // Runs after the close frames queued by the drain on the same loop.
            connection.eventLoop.execute { connection.close(promise: nil) }
        }
        for connection in connections {
            try? await connection.closeFuture.get()
        }
        self.logger.info("stopped")
    }

    private func makeBootstrap() -> ServerBootstrap {
        let engine = self.engine
        let router = self.router
        // One for every connection of this server (built here, not per accepted connection).
        let health = HTTPHealthEndpoints(eventLoops: self.group, isReady: { [self] in self.isReady })
        return ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            // NIO keeps each connection's last receive buffer for reuse, idle or not; start
            // it small (Socket.IO messages usually are) so that an idle connection holds
            // 512 bytes, not 2 KiB. It still grows for large messages.
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65536))
            .childChannelInitializer { [self] channel in
                let accepted = self.state.withLockedValue { state -> Bool in
                    guard !state.shuttingDown else { return false }
                    state.connections[ObjectIdentifier(channel)] = channel
                    return true
                }
                guard accepted else { return channel.close() }
                channel.closeFuture.whenComplete { [self] _ in
                    _ = self.state.withLockedValue { $0.connections.removeValue(forKey: ObjectIdentifier(channel)) }
                }
                return channel.eventLoop.makeCompletedFuture {
                    try Self.configurePipeline(channel: channel, engine: engine, router: router, health: health)
                }
            }
    }

    /// Installs the HTTP/1.1 + WebSocket-upgrade pipeline that serves `engine` on a
    /// connection. Must run on the channel's loop. (Tests install it on embedded channels.)
    ///
    /// Until a WebSocket upgrade, the connection also has:
    /// - NIO's `BackPressureHandler` first: no reads while the channel is not writable, so a
    ///   client that sends requests but does not read the answers stops being read;
    /// - NIO's decoder limits on header fields and bytes
    ///   (``EngineIOConfiguration/HTTPTimeouts/maxHeaderCount``, `maxHeaderBytes`): beyond
    ///   them NIO answers `400 Bad Request` and closes;
    /// - ``HTTPConnectionTimeoutHandler``: header, request and keep-alive timeouts.
    static func configurePipeline(
        channel: any Channel,
        engine: EngineIOServer,
        router: EngineIORouter?,
        health: HTTPHealthEndpoints? = nil
    ) throws {
        let maxFrameSize = min(max(engine.configuration.maxPayload, 1 << 12), 1 << 30)
        let timeouts = engine.configuration.httpTimeouts
        let httpHandler = EngineIOHTTPHandler(server: engine, router: router, health: health)
        let backPressure = BackPressureHandler()
        let timeoutHandler = HTTPConnectionTimeoutHandler(timeouts: timeouts)
        let boundHandlers = NIOLoopBound((httpHandler, backPressure, timeoutHandler), eventLoop: channel.eventLoop)
        let upgrader = Self.makeUpgrader(
            engine: engine,
            maxFrameSize: maxFrameSize,
            httpHandler: NIOLoopBound(httpHandler, eventLoop: channel.eventLoop)
        )
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldCount = timeouts.maxHeaderCount
        limits.maxHeaderFieldSize = timeouts.maxHeaderBytes
        limits.maxHeaderListSize = timeouts.maxHeaderBytes
        try channel.pipeline.syncOperations.addHandler(backPressure)
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(
            withPipeliningAssistance: true,
            withServerUpgrade: (
                upgraders: [upgrader],
                completionHandler: { context in
                    // A WebSocket: the Engine.IO heartbeat and slow-reader limit watch it.
                    let (http, backPressure, timeouts) = boundHandlers.value
                    context.pipeline.syncOperations.removeHandler(http, promise: nil)
                    context.pipeline.syncOperations.removeHandler(timeouts, promise: nil)
                    context.pipeline.syncOperations.removeHandler(backPressure, promise: nil)
                }
            ),
            withErrorHandling: true,
            withOutboundHeaderValidation: true,
            withEncoderConfiguration: .init(),
            withDecoderLimitConfiguration: limits
        )
        try channel.pipeline.syncOperations.addHandler(timeoutHandler)
        try channel.pipeline.syncOperations.addHandler(httpHandler)
    }

    private static func makeUpgrader(
        engine: EngineIOServer,
        maxFrameSize: Int,
        httpHandler: NIOLoopBound<EngineIOHTTPHandler>
    ) -> EngineIOWebSocketUpgrader {
        // NIO's upgrader checks the request and answers the handshake; the pipeline after
        // the upgrade is ours (see EngineIOWebSocketUpgrader).
        let handshake = NIOWebSocketServerUpgrader(
            maxFrameSize: maxFrameSize,
            automaticErrorHandling: true,
            shouldUpgrade: { channel, head in
                let (path, query) = EngineIORequest.split(head.uri)
                guard engine.isEngineRequest(path: path, query: query) else {
                    return channel.eventLoop.makeSucceededFuture(nil)
                }
                let refuse: (EngineIORequestError) -> EventLoopFuture<HTTPHeaders?> = { error in
                    httpHandler.value.upgradeRefusal = error
                    return channel.eventLoop.makeSucceededFuture(nil)
                }
                let request = engine.request(for: head, on: channel)
                switch engine.route(request, isWebSocketUpgrade: true) {
                case .failure(let error):
                    return refuse(error)
                case .success(.session(_, .polling)), .success(.handshake(.polling)):
                    return refuse(.badRequest)
                case .success(.session(_, .websocket)):
                    return channel.eventLoop.makeSucceededFuture([:])
                case .success(.handshake(.websocket)):
                    guard let allowRequest = engine.allowRequest else {
                        return channel.eventLoop.makeSucceededFuture([:])
                    }
                    return channel.eventLoop.makeFutureWithTask { await allowRequest(request) }.map { refusal in
                        if let refusal {
                            httpHandler.value.upgradeRefusal = .forbidden(refusal.message)
                            return nil
                        }
                        return [:]
                    }
                }
            },
            // Never called: only the handshake half of this upgrader is used.
            upgradePipelineHandler: { channel, _ in channel.eventLoop.makeSucceededVoidFuture() }
        )
        return EngineIOWebSocketUpgrader(handshake: handshake) { channel, head in
            let request = engine.request(for: head, on: channel)
            try channel.pipeline.syncOperations.addHandlers(
                WebSocketFrameEncoder(),
                EngineIOWebSocketHandler(server: engine, request: request, maxMessageSize: maxFrameSize)
            )
        }
    }
}
