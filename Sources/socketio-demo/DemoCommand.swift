//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import ArgumentParser
import Backplane
import EngineIO
import ExecutableSupport
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import SocketIO
import SocketIOCluster
import SocketIOMessageQueue

/// `socketio-demo`: the project's main job.
@main
struct DemoCommand: AsyncParsableCommand {
    enum Mode: String, ExpressibleByArgument, CaseIterable {
        /// The Flask-SocketIO example app, with its page at `/`.
        case demo
        /// The handlers of the Socket.IO protocol docs' reference server.
        case socketioReference = "socketio-reference"
        /// Plain Engine.IO echo at `/engine.io/` (the Engine.IO protocol docs' reference server).
        case engineioEcho = "engineio-echo"
    }

    static let configuration = CommandConfiguration(
        commandName: "socketio-demo",
        abstract: "The swift-socketio demo server."
    )

    /// The HTTP front end.
    enum Server: String, ExpressibleByArgument, CaseIterable {
        /// The engine's own listener.
        case standalone
        /// Mounted on a Hummingbird application (SocketIOHummingbird; needs the Hummingbird trait).
        case hummingbird
    }

    @Option(help: "What to serve: \(Mode.allCases.map(\.rawValue).joined(separator: ", ")).")
    var mode: Mode = .demo

    @Option(help: "The HTTP front end: \(Server.allCases.map(\.rawValue).joined(separator: ", ")) (socketio-reference and demo modes).")
    var server: Server = .standalone

    @Option(help: "Address to bind.")
    var host = "127.0.0.1"

    @Option(help: "Port to bind (0 picks a free one).")
    var port = 5000

    @Option(name: .customLong("ping-interval-ms"), help: "Ping interval in milliseconds (mode default if unset).")
    var pingIntervalMilliseconds: Int64?

    @Option(name: .customLong("ping-timeout-ms"), help: "Ping timeout in milliseconds (mode default if unset).")
    var pingTimeoutMilliseconds: Int64?

    @Option(help: "Largest accepted message or POST body in bytes.")
    var maxPayload = 1_000_000

    @Option(help: "Allowed CORS origins: comma-separated, '*' for any (default: same origin; reference modes: any).")
    var corsOrigins: String?

    @Option(help: "A local socket.io-client bundle to serve at /socket.io/socket.io.js (default: redirect to the CDN).")
    var clientJS: String?

    @Option(help: "Message queue URL (redis://host:port); default: $SOCKETIO_MESSAGE_QUEUE (keeps a password out of the process list); neither: one process, in-memory.")
    var messageQueue: String?

    @Option(help: "Message queue channel (python-socketio: socketio; Flask-SocketIO: flask-socketio).")
    var channel = "socketio"

    @Option(help: "Set the cookie sio_node=VALUE on handshakes, for nginx routing (an opaque id: scripts/nginx-config.sh --node-id ADDRESS).")
    var nodeCookie: String?

    @Flag(help: "Trust the proxy in front (nginx): X-Forwarded-For's right-most entry names the client; X-Forwarded-Host/-Proto name the origin for same-origin checks.")
    var trustProxy = false

    @Option(help: "Trust the proxy (as --trust-proxy) only from these peers: comma-separated addresses and CIDR networks, e.g. 127.0.0.1,10.0.0.0/8 (--trust-proxy alone: any peer).")
    var trustedProxies: String?

    @Option(name: .customLong("headers-timeout-ms"), help: "Time a connection has to send a request's headers (Node headersTimeout; default 60000).")
    var headersTimeoutMilliseconds: Int64?

    @Option(name: .customLong("request-timeout-ms"), help: "Time a request has from its headers to its end (Node requestTimeout; default 300000).")
    var requestTimeoutMilliseconds: Int64?

    @Option(name: .customLong("keep-alive-timeout-ms"), help: "Idle time allowed between requests on a kept-alive connection (Node keepAliveTimeout; default 5000).")
    var keepAliveTimeoutMilliseconds: Int64?

    @Option(help: "Outbound bytes buffered for one client that does not read before it is dropped as a slow reader (default 16 MiB).")
    var maxBufferedBytes: Int?

    @Option(help: "Outbound bytes buffered for all slow readers together; the session that passes it is dropped (default 256 MiB, 0: off).")
    var maxTotalBufferedBytes: Int?

    @Option(help: "Most live Engine.IO sessions; further handshakes get 403 (default 100000, 0: off).")
    var maxSessions: Int?

    @Option(help: "Most sessions per client address that have not sent a message yet; further handshakes get 403 (default 1000, 0: off).")
    var maxHalfOpenSessionsPerAddress: Int?

    @Option(help: "Most server-to-client emits waiting for an ack per socket; further ones fail at once (default 1024, 0: off).")
    var maxPendingAcks: Int?

    @Option(help: "Most rooms a socket may be in, its own included; further joins are ignored (default 1000, 0: off).")
    var maxRoomsPerSocket: Int?

    @Option(help: "Longest room name in UTF-8 bytes; joins of longer names are ignored (default 1024, 0: off).")
    var maxRoomNameBytes: Int?

    @Option(help: "Events queued behind a socket's busy handler before the connection stops reading (default 64, 0: off).")
    var maxQueuedEvents: Int?

    @Option(help: "Event loop threads (default: the cores this process may run on, affinity included).")
    var threads: Int?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        LoggingSystem.bootstrapStandardError(level: self.logLevel)
        let logger = Logger(label: "socketio-demo")
        let address = EngineIOHTTPServer.Address(host: self.host, port: self.port)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, self.threads ?? AvailableCores.count))
        switch self.mode {
        case .engineioEcho:
            if self.server == .hummingbird {
                throw ValidationError("--server hummingbird serves Socket.IO modes only")
            }
            let configuration = EngineIOConfiguration(
                path: "/engine.io/",
                pingInterval: .milliseconds(self.pingIntervalMilliseconds ?? 300),
                pingTimeout: .milliseconds(self.pingTimeoutMilliseconds ?? 200),
                maxPayload: self.maxPayload,
                cors: self.cors(default: .any)
            )
            let engine = EngineIOServer(configuration: configuration, delegate: EngineIOEchoDelegate(), logger: logger)
            let listener = EngineIOHTTPServer(engine: engine, address: address, eventLoopGroup: group, logger: logger)
            try await Self.serve([listener], listener: listener, logger: logger)
        case .socketioReference:
            let io = SocketIOServer(
                configuration: SocketIOConfiguration(
                    engine: EngineIOConfiguration(
                        pingInterval: .milliseconds(self.pingIntervalMilliseconds ?? 300),
                        pingTimeout: .milliseconds(self.pingTimeoutMilliseconds ?? 200),
                        maxPayload: self.maxPayload,
                        cors: self.cors(default: .any)
                    ),
                    connectTimeout: .milliseconds(1000)
                ),
                eventLoopGroup: group,
                logger: logger
            )
            DemoApp.installReference(on: io)
            if self.server == .hummingbird {
                try await self.serveOnHummingbird(io: io, page: nil, group: group, logger: logger)
                return
            }
            let listener = io.httpServer(host: self.host, port: self.port)
            try await Self.serve([io, listener], listener: listener, logger: logger)
        case .demo:
            let page = try DemoPage(clientBundlePath: self.clientJS)
            var adapter: (any SocketIOAdapter)?
            if let queue = BackplaneURL.fromOptionOrEnvironment(self.messageQueue, optionName: "--message-queue") {
                do {
                    let transport = try MessageQueueTransport.make(url: queue.url, channel: self.channel, maxPayload: self.maxPayload, logger: logger)
                    adapter = ClusterAdapter(transport: transport, logger: logger)
                } catch {
                    throw ValidationError("\(queue.source): \(error)")
                }
            }
            let trustsProxy = self.trustProxy || self.trustedProxies != nil
            var engine = EngineIOConfiguration(
                pingInterval: .milliseconds(self.pingIntervalMilliseconds ?? 25_000),
                pingTimeout: .milliseconds(self.pingTimeoutMilliseconds ?? 20_000),
                maxPayload: self.maxPayload,
                cors: self.cors(default: .sameOrigin).trustingForwardedHeaders(trustsProxy),
                trustForwardedFor: trustsProxy,
                nodeCookie: self.nodeCookie.map { CookieConfiguration.NodeCookie(value: $0) }
            )
            engine.httpTimeouts = self.httpTimeouts
            if let list = self.trustedProxies {
                do {
                    engine.trustedProxies = try TrustedProxies(list.split(separator: ",").map(String.init))
                } catch {
                    throw ValidationError("--trusted-proxies: \(error)")
                }
            }
            if let value = self.maxBufferedBytes { engine.maxBufferedBytes = value }
            if let value = self.maxTotalBufferedBytes { engine.maxTotalBufferedBytes = value }
            if let value = self.maxSessions { engine.maxSessions = value }
            if let value = self.maxHalfOpenSessionsPerAddress { engine.maxHalfOpenSessionsPerAddress = value }
            var configuration = SocketIOConfiguration(engine: engine)
            if let value = self.maxPendingAcks { configuration.maxPendingAcks = value }
            if let value = self.maxRoomsPerSocket { configuration.maxRoomsPerSocket = value }
            if let value = self.maxRoomNameBytes { configuration.maxRoomNameBytes = value }
            if let value = self.maxQueuedEvents { configuration.maxQueuedEvents = value }
            let io = SocketIOServer(
                configuration: configuration,
                adapter: adapter,
                eventLoopGroup: group,
                logger: logger
            )
            DemoApp.install(on: io, node: "\(self.host):\(self.port)")
            if self.server == .hummingbird {
                try await self.serveOnHummingbird(io: io, page: page, group: group, logger: logger)
                return
            }
            let listener = io.httpServer(host: self.host, port: self.port, router: page.route)
            try await Self.serve([io, listener], listener: listener, logger: logger)
        }
    }

    /// Serves `io` mounted on a Hummingbird application on `group`.
    private func serveOnHummingbird(io: SocketIOServer, page: DemoPage?, group: any EventLoopGroup, logger: Logger) async throws {
        #if Hummingbird
        try await DemoHummingbird.serve(io: io, page: page, host: self.host, port: self.port, group: group, logger: logger)
        #else
        throw ValidationError("--server hummingbird: built without the Hummingbird trait")
        #endif
    }

    /// The HTTP timeouts, with the command line's overrides.
    private var httpTimeouts: EngineIOConfiguration.HTTPTimeouts {
        var timeouts = EngineIOConfiguration.HTTPTimeouts()
        if let value = self.headersTimeoutMilliseconds { timeouts.headersTimeout = .milliseconds(value) }
        if let value = self.requestTimeoutMilliseconds { timeouts.requestTimeout = .milliseconds(value) }
        if let value = self.keepAliveTimeoutMilliseconds { timeouts.keepAliveTimeout = .milliseconds(value) }
        return timeouts
    }

    private func cors(default fallback: CORSConfiguration) -> CORSConfiguration {
        guard let origins = self.corsOrigins else { return fallback }
        if origins == "*" { return .any }
        return .list(origins.split(separator: ",").map { String($0.filter { $0 != " " }) })
    }

    /// Runs the services until SIGINT/SIGTERM (stopped in reverse order: the listener
    /// first), printing the listener's address once it listens.
    static func serve(_ services: [any Service], listener: some AddressReporting, logger: Logger) async throws {
        try await ServiceRunner.run(services, localAddress: { try await listener.localAddress }, logger: logger)
    }
}

/// A server that can tell where it listens.
protocol AddressReporting: Sendable {
    var localAddress: SocketAddress { get async throws }
}

extension EngineIOHTTPServer: AddressReporting {}
extension SocketIOHTTPService: AddressReporting {}

extension Logger.Level: @retroactive ExpressibleByArgument {}
