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
public import SocketIOParser
import Synchronization

/// A Socket.IO v5 server: namespaces, events, acks, rooms, broadcasts.
///
/// Register handlers, then serve with ``httpServer(host:port:router:)`` (a `Service`) or
/// ``run(host:port:router:)``. Every method is safe from any task: handlers, background
/// tasks and HTTP handlers alike.
public final class SocketIOServer: Sendable {
    public let configuration: SocketIOConfiguration
    /// The Engine.IO engine underneath.
    public let engine: EngineIOServer
    /// The client manager (in-memory unless a cluster manager is given).
    public let adapter: any SocketIOAdapter
    let logger: Logger
    /// The counters and log lines of the configuration's limits.
    let limits = SocketIOLimitReporters()
    private let namespaces = NIOLockedValueBox<[String: SocketIONamespaceHandlers]>(["/": SocketIONamespaceHandlers()])
    private let defaultErrorHandler = NIOLockedValueBox<SocketIOErrorHandler?>(nil)
    private let tasks = NIOLockedValueBox<TaskRegistry>(TaskRegistry())
    private let executors = EventLoopTaskExecutors()
    /// Set once by ``stopTasks()``; read without the registry's lock on every event that a
    /// synchronous handler could take inline.
    private let stopping = Atomic<Bool>(false)

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
    ///   - allowRequest: an optional hook that may refuse Engine.IO handshakes (403).
    ///   - logger: where the server logs (logging off: a no-op logger).
    public init(
        configuration: SocketIOConfiguration = SocketIOConfiguration(),
        adapter: (any SocketIOAdapter)? = nil,
        allowRequest: EngineIOServer.AllowRequest? = nil,
        logger: Logger = Logger(label: "socketio")
    ) {
        let bridge = EngineBridge()
        self.configuration = configuration
        self.adapter = adapter ?? InMemoryAdapter()
        self.logger = logger
        self.engine = EngineIOServer(configuration: configuration.engine, delegate: bridge, allowRequest: allowRequest, logger: logger)
        bridge.server.withLockedValue { $0.server = self }
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

    /// Attaches a connection that does not come from the engine (the test client).
    package func attach(_ transport: any SocketIOTransport) -> any EngineIOSessionHandler {
        SocketIOClientConnection(transport: transport, server: self)
    }

    // MARK: Registration

    private func update(_ namespace: String, _ body: (inout SocketIONamespaceHandlers) -> Void) {
        self.namespaces.withLockedValue { body(&$0[namespace, default: SocketIONamespaceHandlers()]) }
    }

    func handlers(_ namespace: String) -> SocketIONamespaceHandlers? {
        self.namespaces.withLockedValue { $0[namespace] }
    }

    /// The handler of one event (its own, else the namespace's catch-all); looks up only
    /// that, without copying the namespace's tables.
    func eventHandler(_ namespace: String, _ name: String) -> SocketIOStoredEventHandler? {
        self.namespaces.withLockedValue { $0[namespace]?.eventHandler(name) }
    }

    func hasNamespace(_ namespace: String) -> Bool {
        self.namespaces.withLockedValue { $0[namespace] != nil }
    }

    /// Declares a namespace without handlers (clients may connect to it).
    public func namespace(_ name: String) {
        self.update(name) { _ in }
    }

    // A closure that never awaits picks the synchronous overload of `on`, `onWithAck` and
    // `onAny` (Swift prefers it over converting the closure to `async`). Such a handler runs
    // inline, on the connection's event loop as the event is read, with no task: the cheap
    // path for the common handler that emits, joins rooms or returns an ack. It must not
    // block. An `async` handler runs on the socket's handler task. Either way a socket's
    // handlers run one at a time, in arrival order.

    /// Handles an event; no acknowledgement (an ack the client asked for carries no
    /// arguments).
    public func on(
        _ event: String,
        namespace: String = "/",
        _ handler: @escaping @Sendable (SocketIOSocket, [SocketIOValue]) async throws -> Void
    ) {
        self.update(namespace) { $0.events[event] = .withoutAck(handler) }
    }

    /// Handles an event with a handler that does not suspend: it runs inline on the
    /// connection's event loop (no task) and must not block.
    public func on(
        _ event: String,
        namespace: String = "/",
        _ handler: @escaping @Sendable (SocketIOSocket, [SocketIOValue]) throws -> Void
    ) {
        self.update(namespace) { $0.events[event] = .withoutAck(handler) }
    }

    /// Handles an event; the returned values are the acknowledgement (Flask: the handler's
    /// return value). A separate name, because Swift cannot tell a closure that returns
    /// nothing from one that returns an ack when the body has several statements.
    public func onWithAck(
        _ event: String,
        namespace: String = "/",
        _ handler: @escaping @Sendable (SocketIOSocket, [SocketIOValue]) async throws -> SocketIOAck
    ) {
        self.update(namespace) { $0.events[event] = .named(handler) }
    }

    /// Handles an event with a handler that does not suspend; the returned values are the
    /// acknowledgement. It runs inline on the connection's event loop and must not block.
    public func onWithAck(
        _ event: String,
        namespace: String = "/",
        _ handler: @escaping @Sendable (SocketIOSocket, [SocketIOValue]) throws -> SocketIOAck
    ) {
        self.update(namespace) { $0.events[event] = .named(handler) }
    }

    /// Handles an event whose first argument decodes as `T` (a `Codable` payload).
    /// A payload that does not decode goes to the error handler.
    public func on<T: Decodable & Sendable>(
        _ event: String,
        namespace: String = "/",
        as type: T.Type,
        _ handler: @escaping @Sendable (SocketIOSocket, T) async throws -> Void
    ) {
        self.update(namespace) {
            $0.events[event] = .withoutAck { socket, arguments in
                try await handler(socket, try SocketIOValueCoder.decode(T.self, from: arguments.first ?? .null))
            }
        }
    }

    /// Handles an event whose first argument decodes as `T`, with a handler that does not
    /// suspend (it runs inline on the connection's event loop and must not block).
    public func on<T: Decodable & Sendable>(
        _ event: String,
        namespace: String = "/",
        as type: T.Type,
        _ handler: @escaping @Sendable (SocketIOSocket, T) throws -> Void
    ) {
        self.update(namespace) {
            $0.events[event] = .withoutAck { socket, arguments in
                try handler(socket, try SocketIOValueCoder.decode(T.self, from: arguments.first ?? .null))
            }
        }
    }

    /// Handles every event of a namespace that has no handler of its own.
    public func onAny(
        namespace: String = "/",
        _ handler: @escaping @Sendable (SocketIOSocket, String, [SocketIOValue]) async throws -> Void
    ) {
        self.update(namespace) {
            $0.catchAll = .async { socket, event, arguments in
                try await handler(socket, event, arguments)
                return nil
            }
        }
    }

    /// Handles every event of a namespace that has no handler of its own, with a handler
    /// that does not suspend (it runs inline on the connection's event loop).
    public func onAny(
        namespace: String = "/",
        _ handler: @escaping @Sendable (SocketIOSocket, String, [SocketIOValue]) throws -> Void
    ) {
        self.update(namespace) {
            $0.catchAll = .sync { socket, event, arguments in
                try handler(socket, event, arguments)
                return nil
            }
        }
    }

    /// Runs when a client connects; return `false` (Flask's `return False`) or throw
    /// ``ConnectionRefused`` to refuse. A separate name from ``onConnect(namespace:_:)`` for
    /// the same reason as ``onWithAck(_:namespace:_:)``.
    public func onConnectWithDecision(namespace: String = "/", _ handler: @escaping SocketIOConnectHandler) {
        self.update(namespace) { $0.connect = handler }
    }

    /// Runs when a client connects; throw ``ConnectionRefused`` to refuse.
    public func onConnect(namespace: String = "/", _ handler: @escaping @Sendable (SocketIOSocket, SocketIOValue?) async throws -> Void) {
        self.update(namespace) {
            $0.connect = { socket, auth in
                try await handler(socket, auth)
                return true
            }
        }
    }

    /// Runs when a socket leaves the namespace.
    public func onDisconnect(namespace: String = "/", _ handler: @escaping SocketIODisconnectHandler) {
        self.update(namespace) { $0.disconnect = handler }
    }

    /// Handles errors thrown by this namespace's handlers.
    public func onError(namespace: String = "/", _ handler: @escaping @Sendable (any Error, SocketIOErrorContext) async -> Void) {
        self.update(namespace) {
            $0.error = { error, context in
                await handler(error, context)
                return nil
            }
        }
    }

    /// Handles errors of namespaces without their own handler.
    public func onDefaultError(_ handler: @escaping @Sendable (any Error, SocketIOErrorContext) async -> Void) {
        self.defaultErrorHandler.withLockedValue {
            $0 = { error, context in
                await handler(error, context)
                return nil
            }
        }
    }

    /// Registers a class-based namespace.
    public func register(_ controller: SocketIONamespaceController) {
        var router = SocketIONamespaceRouter()
        controller.routes(&router)
        self.update(controller.namespace) { handlers in
            handlers.connect = { socket, auth in try await controller.onConnect(socket, auth: auth) }
            handlers.disconnect = { socket, reason in await controller.onDisconnect(socket, reason: reason) }
            handlers.events = router.events
            handlers.catchAll = .async { socket, event, arguments in
                try await controller.onEvent(socket, event: event, arguments: arguments)
            }
            handlers.error = { error, context in await controller.onError(error, context: context) }
        }
    }

    // MARK: Emitting (from anywhere)

    /// Emits an event to a namespace: everyone, or the members of `to` (rooms or sids),
    /// minus the sockets in `skip`.
    public func emit(
        _ event: String,
        _ arguments: SocketIOValue...,
        to room: String? = nil,
        namespace: String = "/",
        skip: [String] = []
    ) async {
        await self.emit(event, arguments: arguments, to: room.map { [$0] } ?? [], namespace: namespace, skip: skip)
    }

    /// Emits an event to a namespace (see the variadic form).
    public func emit(
        _ event: String,
        arguments: [SocketIOValue],
        to rooms: [String] = [],
        namespace: String = "/",
        skip: [String] = []
    ) async {
        await self.adapter.broadcast(
            .event(event, arguments, namespace: namespace),
            to: SocketIOBroadcastTarget(namespace: namespace, rooms: rooms, except: skip)
        )
    }

    /// Sends an unnamed message: the `message` event (Flask `send`), or the `json` event
    /// with `json: true`.
    public func send(
        _ message: SocketIOValue,
        json: Bool = false,
        to room: String? = nil,
        namespace: String = "/",
        skip: [String] = []
    ) async {
        await self.emit(json ? "json" : "message", arguments: [message], to: room.map { [$0] } ?? [], namespace: namespace, skip: skip)
    }

    /// Emits to one socket (on any node) and waits for its acknowledgement.
    /// - Throws: ``SocketIOAckError`` on timeout, disconnect or an unknown sid.
    public func emitWithAck(
        _ event: String,
        _ arguments: SocketIOValue...,
        to sid: String,
        namespace: String = "/",
        timeout: Duration? = nil
    ) async throws(SocketIOAckError) -> [SocketIOValue] {
        let packet = SocketIOPacket.event(event, arguments, namespace: namespace)
        let timeout = timeout ?? self.defaultAckTimeout
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<[SocketIOValue], SocketIOAckError>, Never>) in
            let once = NIOLockedValueBox(Optional(continuation))
            Task {
                await self.adapter.emit(packet, toSocket: sid, callback: { result in
                    once.withLockedValue { $0.take() }?.resume(returning: result)
                }, timeout: timeout)
            }
        }
        return try result.get()
    }

    // MARK: Rooms and sockets

    /// Puts a socket (on any node) in a room.
    public func joinRoom(sid: String, room: String, namespace: String = "/") async {
        await self.adapter.join(sid: sid, rooms: [room], namespace: namespace)
    }

    /// Takes a socket (on any node) out of a room.
    public func leaveRoom(sid: String, room: String, namespace: String = "/") async {
        await self.adapter.leave(sid: sid, rooms: [room], namespace: namespace)
    }

    /// Empties a room.
    public func closeRoom(_ room: String, namespace: String = "/") async {
        await self.adapter.closeRoom(room, namespace: namespace)
    }

    /// The rooms of a socket connected to this node.
    public func rooms(sid: String, namespace: String = "/") -> [String] {
        self.adapter.rooms(sid: sid, namespace: namespace)
    }

    /// Disconnects a socket (on any node) from a namespace.
    public func disconnect(sid: String, namespace: String = "/") async {
        await self.adapter.disconnect(sid: sid, namespace: namespace)
    }

    /// The session storage of a socket connected to this node.
    public func session(sid: String, namespace: String = "/") -> SocketIOSessionStorage? {
        self.adapter.localSocket(sid: sid, namespace: namespace)?.session
    }

    // MARK: Tasks

    /// Starts a background task that lives until it returns or the server stops (it is
    /// cancelled then). Flask-SocketIO `start_background_task`.
    public func startBackgroundTask(_ body: @escaping @Sendable () async -> Void) {
        self.track(body)
    }

    /// Runs `body` as a tracked task (on `executor` when given); `stop()` cancels and awaits
    /// every one.
    /// - Returns: `false` when the server is stopping (nothing was started).
    @discardableResult
    private func track(
        on executor: (any TaskExecutor)? = nil,
        immediately: Bool = false,
        _ body: @escaping @Sendable () async -> Void
    ) -> Bool {
        let id = self.tasks.withLockedValue { registry -> Int? in
            guard !registry.stopping else { return nil }
            registry.nextID += 1
            return registry.nextID
        }
        guard let id else { return false }
        let run: @Sendable () async -> Void = {
            await body()
            self.tasks.withLockedValue { registry in
                if registry.running.removeValue(forKey: id) == nil { registry.endedBeforeRegistration.insert(id) }
            }
        }
        // Created outside the lock: a task started immediately may run to its end (and
        // unregister itself) before `Task.immediate` returns.
        let task = immediately ? Task.immediate(executorPreference: executor, operation: run) : Task(executorPreference: executor, operation: run)
        self.tasks.withLockedValue { registry in
            if registry.endedBeforeRegistration.remove(id) == nil { registry.running[id] = task }
        }
        return true
    }

    /// Starts a socket: it joins its own room and its handlers begin with `connect`.
    func start(_ socket: SocketIOSocket) {
        self.adapter.socketConnected(socket)
        socket.enqueue(.connect)
    }

    /// Starts the task that drains a socket's mailbox: one at a time per socket, and only
    /// while it has events, which keeps the Socket.IO ordering contract (a socket's handlers
    /// run one after the other) without parking a task on every idle connection.
    func runHandlerTask(for socket: SocketIOSocket) -> Bool {
        guard let executor = socket.handlerExecutor else {
            return self.track { await socket.drainMailbox() }
        }
        // On the connection's loop (an event just read) the handler starts right here, up to
        // its first suspension, instead of being queued behind the loop's other work.
        return self.track(on: executor, immediately: executor.eventLoop.inEventLoop) {
            await socket.drainMailbox()
        }
    }

    /// The executor of a connection's handler tasks (one per loop), or `nil` when handlers
    /// run on the global executor (``SocketIOConfiguration/handlersOnEventLoop``).
    func handlerExecutor(for eventLoop: any EventLoop) -> EventLoopTaskExecutor? {
        self.configuration.handlersOnEventLoop ? self.executors.executor(for: eventLoop) : nil
    }

    /// Whether ``stopTasks()`` has begun: no handler starts any more.
    var isStopping: Bool { self.stopping.load(ordering: .acquiring) }

    /// Cancels background tasks and waits for every handler task to end.
    public func stopTasks() async {
        self.stopping.store(true, ordering: .releasing)
        let running = self.tasks.withLockedValue { registry -> [Task<Void, Never>] in
            registry.stopping = true
            return Array(registry.running.values)
        }
        for task in running { task.cancel() }
        for task in running { await task.value }
    }

    // MARK: Handler execution

    func runConnect(_ socket: SocketIOSocket) async {
        let alwaysConnect = self.configuration.alwaysConnect
        if alwaysConnect { socket.markConnected() }
        let handler = self.handlers(socket.namespace)?.connect
        do {
            let accepted = try await handler?(socket, socket.handshake.auth) ?? true
            if accepted {
                if !alwaysConnect { socket.markConnected() }
            } else {
                socket.refuse(ConnectionRefused("Connection rejected by server"), alreadyConnected: alwaysConnect)
            }
        } catch let refusal as ConnectionRefused {
            socket.refuse(refusal, alreadyConnected: alwaysConnect)
        } catch {
            _ = await self.report(error, context: SocketIOErrorContext(socket: socket, event: "connect", arguments: []))
            socket.refuse(ConnectionRefused("Connection rejected by server"), alreadyConnected: alwaysConnect)
        }
    }

    func runEvent(
        _ socket: SocketIOSocket,
        name: String,
        arguments: [SocketIOValue],
        ackID: Int?,
        handler: SocketIOStoredEventHandler?
    ) async {
        guard let handler else {
            self.logger.debug("no handler for event", metadata: [SocketIOLoggingKeys.event: "\(name)", SocketIOLoggingKeys.namespace: "\(socket.namespace)"])
            return
        }
        let ack: SocketIOAck?
        do {
            ack = try await handler(socket, name, arguments)
        } catch {
            ack = await self.report(error, context: SocketIOErrorContext(socket: socket, event: name, arguments: arguments))
        }
        self.sendAck(ack, id: ackID, socket: socket)
    }

    /// Runs a synchronous handler inline (no task).
    /// - Returns: `nil` when it is done (ack sent), or the error it threw, for the error
    ///   handler, which may suspend and so runs on the socket's handler task.
    func runInline(
        _ handler: @Sendable (SocketIOSocket, String, [SocketIOValue]) throws -> SocketIOAck?,
        socket: SocketIOSocket,
        name: String,
        arguments: [SocketIOValue],
        ackID: Int?
    ) -> (any Error)? {
        do {
            self.sendAck(try handler(socket, name, arguments), id: ackID, socket: socket)
            return nil
        } catch {
            return error
        }
    }

    /// The error handler of a synchronous handler that threw; its result is the ack.
    func runErrorHandler(_ error: any Error, socket: SocketIOSocket, name: String, arguments: [SocketIOValue], ackID: Int?) async {
        let ack = await self.report(error, context: SocketIOErrorContext(socket: socket, event: name, arguments: arguments))
        self.sendAck(ack, id: ackID, socket: socket)
    }

    /// Answers an event the client asked an ack for (an empty ack if the handler gave none).
    private func sendAck(_ ack: SocketIOAck?, id ackID: Int?, socket: SocketIOSocket) {
        guard let ackID else { return }
        socket.deliver(SocketIOPacketEncoder.encode(.ack(ack?.values ?? [], id: ackID, namespace: socket.namespace)))
    }

    func runDisconnect(_ socket: SocketIOSocket, reason: SocketIODisconnectReason) async {
        await self.handlers(socket.namespace)?.disconnect?(socket, reason)
    }

    /// Routes a handler error to the namespace's error handler, else the default one,
    /// else the log.
    private func report(_ error: any Error, context: SocketIOErrorContext) async -> SocketIOAck? {
        if let handler = self.handlers(context.socket.namespace)?.error {
            return await handler(error, context)
        }
        return await self.reportToDefaultHandler(error, context: context)
    }

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
}

extension SocketIOServer {
    /// The HTTP/WebSocket listener serving this server (a `Service` for a `ServiceGroup`).
    /// - Parameters:
    ///   - router: answers requests outside the Socket.IO path (pages, scripts).
    ///   - eventLoopGroup: the loops that run connections (and, by default, handlers). Size
    ///     it with ``AvailableCores/count`` when the process is pinned to fewer cores than
    ///     the machine has.
    public func httpServer(
        host: String,
        port: Int,
        router: HTTPRequestRouter? = nil,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) -> SocketIOHTTPService {
        SocketIOHTTPService(
            server: self,
            http: EngineIOHTTPServer(
                engine: self.engine,
                address: .init(host: host, port: port),
                eventLoopGroup: eventLoopGroup,
                router: router,
                logger: self.logger
            )
        )
    }
}
