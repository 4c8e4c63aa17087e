//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import EngineIO
import EngineIOParser
public import Logging
import NIOConcurrencyHelpers
public import NIOCore
public import NIOPosix
import SocketIOParser
import Synchronization

/// A Socket.IO v5 server: namespaces, events, acks, rooms, broadcasts.
///
/// Register handlers on the main namespace (`io.on`, `io.use`) or on others
/// (`io.of("/chat").on`), then serve: the server is a `Service` (its adapter and handler
/// tasks) that runs beside a listener, ``httpServer(host:port:router:eventLoopGroup:)``, in
/// one `ServiceGroup` (`[io, listener]`), or both at once with ``run(host:port:router:)``.
/// Emit with the broadcast operator: `io.emit`, `io.to(room).emit`,
/// `io.of("/chat").except(sid).emit`. Every method is safe from any task: handlers,
/// background tasks and HTTP handlers alike.
public final class SocketIOServer: SocketIOHandlerRegistering, SocketIOBroadcastOperatorProviding {
    public let configuration: SocketIOConfiguration
    /// The Engine.IO engine underneath.
    public let engine: EngineIOServer
    /// The client manager (in-memory unless a cluster manager is given).
    public let adapter: any SocketIOAdapter
    /// The main namespace `/` (Node's `io.sockets`).
    public let sockets: SocketIONamespace
    let logger: Logger
    /// The counters and log lines of the configuration's limits.
    let limits = SocketIOLimitReporters()
    /// Connection state recovery, when ``SocketIOConfiguration/connectionStateRecovery`` is
    /// set: its session store and how broadcasts are logged.
    public let recovery: SocketIORecovery?
    private let namespaces: NIOLockedValueBox<Namespaces>
    private let defaultErrorHandler = NIOLockedValueBox<SocketIOErrorHandler?>(nil)
    let tasks = NIOLockedValueBox<TaskRegistry>(TaskRegistry())
    /// The handlers of other nodes' server-side emits (``onServerSideEmit(_:_:)``).
    let serverSideHandlers = SocketIOServerSideHandlers()
    let executors = EventLoopTaskExecutors()
    /// Set once by ``stopTasks()``; read without the registry's lock on every event that a
    /// synchronous handler could take inline.
    let stopping = Atomic<Bool>(false)
    /// The loops of the server's own work (the adapter's receiving task runs on one), and of
    /// its listeners unless they are given others.
    public let eventLoopGroup: any EventLoopGroup
    /// Whether ``run()`` runs (at most once).
    let serviceState = NIOLockedValueBox(SocketIOServiceState.idle)

    /// The namespaces by name, and the parents that match names.
    struct Namespaces {
        var byName: [String: SocketIONamespace]
        var parents: [SocketIOParentNamespace] = []
    }

    struct TaskRegistry {
        var nextID = 0
        var running: [Int: Task<Void, Never>] = [:]
        /// Tasks that ended while they were being started (a task started immediately can).
        var endedBeforeRegistration: Set<Int> = []
        var stopping = false
    }

    /// Creates a server.
    /// - Parameters:
    ///   - configuration: Socket.IO and Engine.IO settings.
    ///   - adapter: the client manager; `nil` for the embedded in-memory one.
    ///   - sessionStore: where connection state recovery keeps sessions and events, when
    ///     ``SocketIOConfiguration/connectionStateRecovery`` is set; `nil` for an
    ///     ``InMemorySessionStore`` of this process (also with a cluster adapter: recovery is
    ///     per node until a store shared by the cluster exists). Ignored when recovery is off.
    ///   - allowRequest: an optional hook that may refuse Engine.IO handshakes (403).
    ///   - eventLoopGroup: the loops of the server's own work (the adapter's receiving task)
    ///     and, by default, of its listeners (``httpServer(host:port:router:eventLoopGroup:)``).
    ///   - logger: where the server logs (logging off: a no-op logger).
    public init(
        configuration: SocketIOConfiguration = SocketIOConfiguration(),
        adapter: (any SocketIOAdapter)? = nil,
        sessionStore: (any SocketIOSessionStore)? = nil,
        allowRequest: EngineIOServer.AllowRequest? = nil,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "socketio")
    ) {
        let bridge = EngineBridge()
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.adapter = adapter ?? InMemoryAdapter()
        self.logger = logger
        if let options = configuration.connectionStateRecovery {
            let recovery = SocketIORecovery(
                configuration: options,
                store: sessionStore ?? InMemorySessionStore(configuration: options),
                limits: self.limits,
                logger: logger
            )
            if !self.adapter.enableConnectionStateRecovery(recovery) {
                logger.warning("connection state recovery: the adapter does not log broadcasts; recovered clients miss what was sent meanwhile")
            }
            self.recovery = recovery
        } else {
            self.recovery = nil
        }
        let main = SocketIONamespace(name: "/", adapter: self.adapter, defaultAckTimeout: .nanoseconds(configuration.ackTimeout.nanoseconds))
        self.sockets = main
        self.namespaces = NIOLockedValueBox(Namespaces(byName: ["/": main]))
        self.engine = EngineIOServer(configuration: configuration.engine, delegate: bridge, allowRequest: allowRequest, logger: logger)
        bridge.server.withLockedValue { $0.server = self }
        let handlers = self.serverSideHandlers
        self.adapter.setServerSideEmitReceiver { event, arguments, ack in handlers.receive(event, arguments, ack) }
    }

    /// Hands Engine.IO sessions to the server; holds it weakly to avoid a cycle.
    private final class EngineBridge: EngineIOServerDelegate {
        struct Weak { weak var server: SocketIOServer? }
        let server = NIOLockedValueBox(Weak())

        func sessionOpened(_ session: EngineIOSession) -> any EngineIOSessionHandler {
            guard let server = self.server.withLockedValue({ $0.server }) else {
                session.close()
                return ClosedSessionHandler()
            }
            return SocketIOClientConnection(transport: session, server: server)
        }
    }

    private final class ClosedSessionHandler: EngineIOSessionHandler {
        func sessionDidReceive(_ message: EngineIOMessage) {}
        func sessionDidClose(reason: EngineIOCloseReason) {}
    }

    var defaultAckTimeout: Duration {
        .nanoseconds(self.configuration.ackTimeout.nanoseconds)
    }

    public var registrationNamespace: SocketIONamespace { self.sockets }
    public var broadcastOperator: SocketIOBroadcastOperator { self.sockets.broadcastOperator }

    // MARK: Namespaces

    /// The namespace with this name, made on first use (Node `io.of(name)`; Flask's
    /// `namespace=`). Clients may connect to any namespace made this way.
    public func of(_ name: String) -> SocketIONamespace {
        self.namespaces.withLockedValue { namespaces in
            if let namespace = namespaces.byName[name] { return namespace }
            let namespace = SocketIONamespace(name: name, adapter: self.adapter, defaultAckTimeout: self.defaultAckTimeout)
            namespaces.byName[name] = namespace
            return namespace
        }
    }

    /// A parent namespace: a client connecting to a name the predicate accepts gets a child
    /// namespace sharing the parent's handlers (Node `io.of((name, auth, next) => …)`).
    public func of(matching matcher: @escaping SocketIOParentNamespace.Matcher) -> SocketIOParentNamespace {
        self.addParent(description: "<predicate>", matcher)
    }

    /// A parent namespace for the names a regular expression matches whole (Node
    /// `io.of(/^\/team-\d+$/)`).
    public func of(pattern: String) throws -> SocketIOParentNamespace {
        let regex = try SendableRegex(pattern)
        return self.addParent(description: pattern) { name, _ in regex.matches(name) }
    }

    /// A parent namespace that accepts every name (Flask-SocketIO's `namespaces="*"`).
    public func ofAny() -> SocketIOParentNamespace {
        self.addParent(description: "*") { _, _ in true }
    }

    private func addParent(description: String, _ matcher: @escaping SocketIOParentNamespace.Matcher) -> SocketIOParentNamespace {
        let parent = SocketIOParentNamespace(description: description, matcher: matcher, adapter: self.adapter, defaultAckTimeout: self.defaultAckTimeout)
        self.namespaces.withLockedValue { $0.parents.append(parent) }
        return parent
    }

    /// The namespace a client's CONNECT asks for: one made with ``of(_:)``, else a child of
    /// the first parent that accepts the name; `nil` when none (`Invalid namespace`).
    func namespace(forConnecting name: String, auth: SocketIOValue?) -> SocketIONamespace? {
        let (known, parents) = self.namespaces.withLockedValue { ($0.byName[name], $0.parents) }
        if let known { return known }
        // Matchers are user code: called outside the lock.
        for parent in parents where parent.matcher(name, auth) {
            return parent.child(name)
        }
        return nil
    }

    /// Handles errors of namespaces without their own handler (Flask `on_error_default`).
    public func onDefaultError(_ handler: @escaping @Sendable (any Error, SocketIOErrorContext) async -> Void) {
        self.defaultErrorHandler.withLockedValue {
            $0 = { error, context in
                await handler(error, context)
                return nil
            }
        }
    }

    /// Handles errors of namespaces without their own handler; a returned value is the
    /// acknowledgement of the failed event.
    public func onDefaultErrorWithAck(_ handler: @escaping SocketIOErrorHandler) {
        self.defaultErrorHandler.withLockedValue { $0 = handler }
    }

    /// Registers a class-based namespace (Flask's `on_namespace`).
    public func register(_ controller: SocketIONamespaceController) {
        var router = SocketIONamespaceRouter()
        controller.routes(&router)
        self.of(controller.namespace).handlers.update { handlers in
            handlers.connect = { socket, auth in try await controller.onConnect(socket, auth: auth) }
            handlers.disconnect = { socket, reason in await controller.onDisconnect(socket, reason: reason) }
            handlers.events = router.events
            handlers.catchAll = .async { socket, event, arguments, ack in
                if let answer = try await controller.onEvent(socket, event: event, arguments: arguments) { ack.send(answer.values) }
            }
            handlers.error = { error, context in await controller.onError(error, context: context) }
        }
    }

    /// The default error handler, else a log line.
    func reportToDefaultHandler(_ error: any Error, context: SocketIOErrorContext) async -> SocketIOAck? {
        if let handler = self.defaultErrorHandler.withLockedValue({ $0 }) {
            return await handler(error, context)
        }
        self.logger.info(
            "handler failed",
            metadata: [
                SocketIOLoggingKeys.event: "\(context.event)", SocketIOLoggingKeys.namespace: "\(context.socket.namespace)",
                SocketIOLoggingKeys.error: "\(error)",
            ]
        )
        return nil
    }

    /// Attaches a connection that does not come from the engine (the test client).
    package func attach(_ transport: any SocketIOTransport) -> any EngineIOSessionHandler {
        SocketIOClientConnection(transport: transport, server: self)
    }
}

extension SocketIOServer {
    /// An HTTP/WebSocket listener serving this server (a `Service`). It serves; the server
    /// itself runs as a second `Service` beside it: `ServiceGroup(services: [io, listener])`
    /// (see ``run()``), or both at once with ``run(host:port:router:)``.
    /// - Parameters:
    ///   - router: answers requests outside the Socket.IO path (pages, scripts).
    ///   - eventLoopGroup: the loops that run connections (and, by default, handlers); `nil`:
    ///     the server's ``eventLoopGroup``. Size it with ``AvailableCores/count`` when the
    ///     process is pinned to fewer cores than the machine has.
    public func httpServer(
        host: String,
        port: Int,
        router: EngineIORouter? = nil,
        eventLoopGroup: (any EventLoopGroup)? = nil
    ) -> SocketIOHTTPService {
        SocketIOHTTPService(
            server: self,
            http: EngineIOHTTPServer(
                engine: self.engine,
                address: .init(host: host, port: port),
                eventLoopGroup: eventLoopGroup ?? self.eventLoopGroup,
                router: router,
                logger: self.logger
            )
        )
    }
}
