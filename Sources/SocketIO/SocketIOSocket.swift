//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIO
public import EngineIOParser
import Logging
import NIOConcurrencyHelpers
import OrderedCollections
public import NIOCore
public import SocketIOParser
import Synchronization

/// One client's connection to one namespace: what a handler receives.
///
/// Handlers of one socket run one at a time, in arrival order. Events wait in the socket's
/// mailbox; a handler task runs only while the mailbox has work (one per socket at most, on
/// the connection's event loop by default), so an idle socket holds no task.
/// Sending never blocks: packets are encoded and handed to the transport.
public final class SocketIOSocket: Sendable {
    /// The socket id (a new random id per namespace connection, never the Engine.IO sid).
    public let id: String
    /// The namespace's name, e.g. `/` or `/chat`.
    public let namespace: String
    /// The namespace object (Node `socket.nsp`).
    public let nsp: SocketIONamespace
    /// What the client sent on connect: auth, query, headers, cookies, address.
    public let handshake: SocketIOHandshake
    /// Per-connection storage that handlers read and change (Flask's `session`, Node's
    /// `socket.data`).
    public let session: SocketIOSessionStorage
    /// A value that travels with the socket in `fetchSockets()` results, also to other
    /// nodes (Node's `socket.data`); `.null` until set.
    public var data: SocketIOValue {
        get { self.dataBox.withLockedValue { $0 } }
        set { self.dataBox.withLockedValue { $0 = newValue } }
    }
    private let dataBox = NIOLockedValueBox<SocketIOValue>(.null)
    /// Whether this socket is a session that came back (connection state recovery): same
    /// id, rooms and ``session``, and the packets it missed were sent after the CONNECT
    /// reply (Node `socket.recovered`).
    public var recovered: Bool { self.recovery != nil }
    /// The private id a client presents to recover this session (the CONNECT reply's
    /// `pid`); `nil` when connection state recovery is off.
    let privateID: String?
    /// Whether middlewares are skipped for this socket (a recovered session, with
    /// ``SocketIOConnectionStateRecovery/skipMiddlewares``).
    var skipsMiddlewares: Bool {
        self.recovery != nil && self.server.configuration.connectionStateRecovery?.skipMiddlewares == true
    }
    /// The session this socket took over (connection state recovery): its rooms, joined
    /// again when the socket joins its namespace, and the events its client missed, sent
    /// right after the CONNECT reply.
    let recovery: SocketIORecoveredSession?

    let transport: any SocketIOTransport
    let server: SocketIOServer
    /// The connection this socket belongs to; touched on the transport's loop only.
    let client: NIOLoopBound<SocketIOClientConnection>
    /// Where the handler task runs: the connection's loop, or `nil` for the global executor.
    /// Looked up once here, not on every burst of events.
    let handlerExecutor: EventLoopTaskExecutor?
    /// Lifecycle, outbound gate, mailbox and acks: every decision is the machine's, and the
    /// methods below only carry out what it returns, outside the lock.
    /// The socket's lifecycle, mailbox and acks (one lock around the pure machine);
    /// internal for the socket's extensions in other files only.
    let state: NIOLockedValueBox<StateMachine>
    /// What ``use(_:)`` added: run on every incoming event, in order.
    private let packetMiddlewares = NIOLockedValueBox<[SocketIOPacketMiddleware]>([])
    /// Whether ``use(_:)`` added any: read without the lock on every event, so that a socket
    /// without packet middlewares (most) pays no lock for them.
    private let hasPacketMiddlewares = Atomic<Bool>(false)

    typealias StateMachine = SocketIOSocketStateMachine<SocketEvent, SocketIODisconnectReason, CheckedContinuation<Void, Never>, AckWaiter>

    /// What one handler run needs (the machine's `Event`).
    enum SocketEvent: Sendable {
        /// An event and its handler, looked up once as it was read (`nil`: none).
        case event(name: String, arguments: [SocketIOValue], ack: SocketIOAckResponder, handler: SocketIOStoredEventHandler?)
        /// A synchronous handler threw: the error handler runs (it may suspend).
        case failed(any Error, name: String, arguments: [SocketIOValue], ack: SocketIOAckResponder)
    }

    struct AckWaiter: Sendable {
        let callback: @Sendable (Result<[SocketIOValue], SocketIOAckError>) -> Void
        /// Set once scheduled, which happens outside the lock.
        var timeout: Scheduled<Void>?
    }

    init(
        id: String,
        namespace: SocketIONamespace,
        handshake: SocketIOHandshake,
        client: SocketIOClientConnection,
        server: SocketIOServer,
        session: SocketIOSessionStorage = SocketIOSessionStorage(),
        privateID: String? = nil,
        recovery: SocketIORecoveredSession? = nil
    ) {
        self.recovery = recovery
        self.privateID = privateID
        self.id = id
        self.client = NIOLoopBound(client, eventLoop: client.transport.eventLoop)
        self.transport = client.transport
        self.namespace = namespace.name
        self.nsp = namespace
        self.session = session
        self.handshake = handshake
        self.server = server
        self.handlerExecutor = server.handlerExecutor(for: client.transport.eventLoop)
        let configuration = server.configuration
        self.state = NIOLockedValueBox(
            StateMachine(
                order: configuration.concurrentHandlers ? .concurrent : .sequential,
                maxQueuedEvents: configuration.maxQueuedEvents,
                maxPendingAcks: configuration.maxPendingAcks
            )
        )
    }

    /// The event loop of this client's connection (where its handlers run by default).
    public var eventLoop: any EventLoop { self.transport.eventLoop }

    /// Whether the socket is connected (the connect handler accepted it and it has not left).
    public var isConnected: Bool {
        self.state.withLockedValue { $0.isConnected }
    }

    // MARK: Sending

    /// Hands encoded frames to the client, or queues them behind the CONNECT reply.
    public func deliver(_ frames: [EngineIOFrame]) {
        self.deliver(frames, volatile: false)
    }

    /// Hands encoded frames to the client; a volatile message is dropped instead of queued
    /// when the transport cannot take it now (or the CONNECT reply is not out yet).
    func deliver(_ frames: [EngineIOFrame], volatile: Bool) {
        if volatile, !self.transport.isWritable { return }
        let action = self.state.withLockedValue { $0.deliver(frames) }
        if action == .sendNow { self.transport.send(frames) }
    }

    // MARK: Rooms

    /// Joins a room of this namespace.
    public func join(_ room: String) {
        self.server.adapter.joinLocal(sid: self.id, rooms: [room], namespace: self.namespace)
    }

    /// Leaves a room of this namespace.
    public func leave(_ room: String) {
        self.server.adapter.leaveLocal(sid: self.id, rooms: [room], namespace: self.namespace)
    }

    /// The rooms this socket is in (including the one named after its id).
    public var rooms: [String] {
        self.server.adapter.rooms(sid: self.id, namespace: self.namespace)
    }

    /// The adapter refused a join of this socket (``SocketIOConfiguration/maxRoomsPerSocket``
    /// or ``SocketIOConfiguration/maxRoomNameBytes``).
    func roomLimitReached(_ limit: InMemoryAdapter.RoomLimit) {
        let reporter: LimitReporter
        switch limit {
        case .roomsPerSocket: reporter = self.server.limits.maxRoomsPerSocket
        case .nameBytes: reporter = self.server.limits.maxRoomNameBytes
        }
        reporter.hit(self.server.logger, metadata: [SocketIOLoggingKeys.namespace: "\(self.namespace)"])
    }

    /// The socket joins its namespace: it is in the room of its id (and, recovered, in the
    /// rooms of its session), reachable by broadcasts (after the middlewares, before the
    /// connect handler).
    /// - Returns: `false` when the socket ended before or while joining: it is not (or no
    ///   longer) in the namespace, and its connect handler must not run.
    func joinNamespace() -> Bool {
        guard self.state.withLockedValue({ $0.joinStarted() }) else { return false }
        self.server.adapter.socketConnected(self)
        if let recovery = self.recovery {
            self.server.adapter.joinLocal(sid: self.id, rooms: recovery.rooms, namespace: self.namespace)
        }
        // An end that came meanwhile left the rooms to us: leaving before the join was
        // done could have run first and left the socket in the adapter for good.
        guard let leave = self.state.withLockedValue({ $0.joinFinished() }) else { return true }
        self.perform(leave)
        return false
    }

    /// The socket leaves its namespace and every room; an empty child namespace goes (see
    /// ``SocketIOConfiguration/cleanupEmptyChildNamespaces``).
    private func leaveNamespace() {
        self.server.adapter.socketDisconnected(self)
        if let parent = self.nsp.parent, self.server.configuration.cleanupEmptyChildNamespaces,
            self.server.adapter.socketCount(namespace: self.namespace) == 0
        {
            parent.remove(self.nsp)
        }
    }

    // MARK: Lifecycle

    /// Disconnects this socket from its namespace; the connection stays, unless `close`
    /// (Node `socket.disconnect(true)`), which closes it with every namespace on it.
    public func disconnect(close: Bool = false) {
        if close {
            // Node `client._disconnect()`: every namespace of the connection is told
            // DISCONNECT (so the client does not reconnect, and no session is kept for
            // recovery), then the transport closes.
            let client = self.client
            self.transport.eventLoop.execute { client.value.closeFromServer() }
            return
        }
        guard self.end(reason: .serverNamespaceDisconnect, notifyClient: true) else { return }
        self.forget()
    }

    /// Adds a middleware that every incoming event passes, in order, before its handler
    /// (Node `socket.use`). One that throws drops the event: the error goes to the error
    /// handler, whose answer (if any) is the event's acknowledgement. Middlewares run
    /// where the handler would (inline for synchronous handlers) and must not block.
    public func use(_ middleware: @escaping SocketIOPacketMiddleware) {
        self.packetMiddlewares.withLockedValue { $0.append(middleware) }
        self.hasPacketMiddlewares.store(true, ordering: .releasing)
    }

    /// Runs the packet middlewares of an event.
    func runPacketMiddlewares(_ name: String, _ arguments: [SocketIOValue]) throws {
        guard self.hasPacketMiddlewares.load(ordering: .acquiring) else { return }
        let middlewares = self.packetMiddlewares.withLockedValue { $0 }
        for middleware in middlewares { try middleware(self, name, arguments) }
    }

    /// Removes this socket from its connection's table (on the connection's loop).
    private func forget() {
        let client = self.client
        self.transport.eventLoop.execute { [namespace = self.namespace, id = self.id] in
            client.value.socketRemoved(namespace: namespace, id: id)
        }
    }

    /// Starts the socket once it is in its connection's table: its connect job runs
    /// (middlewares, joining the namespace, the connect handler), before any event.
    func start() {
        guard let action = self.state.withLockedValue({ $0.start() }) else { return }
        self.perform(action)
    }

    /// The connect handler accepted: CONNECT goes out, then everything queued meanwhile.
    ///
    /// Sent outside the lock: a send may end the session at once (a full outbound buffer),
    /// which ends this socket and takes its lock. Nothing overtakes the reply all the same:
    /// until the machine says `.done`, packets emitted meanwhile queue behind it and are
    /// sent here, in order.
    func markConnected() {
        var data: SocketIOValue = ["sid": .string(self.id)]
        if let privateID = self.privateID { data = ["sid": .string(self.id), "pid": .string(privateID)] }
        let reply = SocketIOPacketEncoder.encode(SocketIOPacket(type: .connect, namespace: self.namespace, data: data))
        guard let pending = self.state.withLockedValue({ $0.connectAccepted() }) else { return }
        let batch: [EngineIOFrame]
        if let recovery = self.recovery {
            // Back in its rooms, a recovered socket asks (outside the lock: the store has
            // its own) what its client missed: sent after the reply, then the live packets
            // queued meanwhile that are not among it.
            let replay = recovery.missedFrames(dedupingAgainst: pending)
            batch = reply + replay.missed + replay.pending.joined()
        } else {
            batch = reply + pending.joined()
        }
        var step = StateMachine.ConnectReplyAction.sendNow(batch)
        while case .sendNow(let frames) = step {
            self.transport.send(frames)
            step = self.state.withLockedValue { $0.connectReplySent() }
        }
    }

    /// The connect handler (or a middleware) refused: CONNECT_ERROR (or DISCONNECT after
    /// `alwaysConnect`). Nothing is sent when the socket ended meanwhile.
    func refuse(_ refusal: ConnectionRefused, alreadyConnected: Bool) {
        let packet: SocketIOPacket
        if alreadyConnected {
            packet = SocketIOPacket(type: .disconnect, namespace: self.namespace)
        } else {
            var error: SocketIOValue = ["message": .string(refusal.message)]
            if let data = refusal.data, case .object(var object) = error {
                object["data"] = data
                error = .object(object)
            }
            packet = SocketIOPacket(type: .connectError, namespace: self.namespace, data: error)
        }
        let notice = SocketIOPacketEncoder.encode(packet)
        let actions = self.state.withLockedValue { $0.connectRefused(notice: notice) }
        self.perform(actions)
        self.forget()
    }

    /// Ends the socket: fails pending acks, queues the disconnect handlers behind the
    /// events that came before, and leaves the rooms (after the `disconnecting` handler, if
    /// there is one; at once otherwise).
    /// - Returns: `false` if it had already ended.
    @discardableResult
    func end(reason: SocketIODisconnectReason, notifyClient: Bool) -> Bool {
        let notice = notifyClient
            ? SocketIOPacketEncoder.encode(SocketIOPacket(type: .disconnect, namespace: self.namespace)) : nil
        let disconnecting = self.nsp.handlers.read { $0.disconnecting != nil }
        let actions = self.state.withLockedValue { $0.end(reason: reason, notice: notice, disconnecting: disconnecting) }
        guard let actions else { return false }
        self.perform(actions)
        return true
    }

    /// Waits until every event queued so far has been handled (with
    /// ``SocketIOConfiguration/concurrentHandlers``: has started).
    package func waitUntilIdle() async {
        await withCheckedContinuation { continuation in
            let action = self.state.withLockedValue { $0.enqueueBarrier(continuation) }
            if case .resumeBarrier(let barrier) = action { barrier.resume() }
        }
    }

    /// Whether this socket holds its connection's reading paused (tests).
    var isHoldingReads: Bool { self.state.withLockedValue { $0.isReadPaused } }

    // MARK: Mailbox

    /// An event read from the client, on the connection's loop. A synchronous handler runs
    /// right here when the machine allows it (nothing of this socket is queued or running
    /// that must go first, so the order holds); anything else goes through the mailbox.
    func receiveEvent(name: String, arguments: [SocketIOValue], ackID: Int?) {
        let handler = self.nsp.handlers.eventHandler(name)
        let ack = SocketIOAckResponder.make(socket: self, id: ackID)
        var inline: (@Sendable (SocketIOSocket, String, [SocketIOValue], SocketIOAckResponder) throws -> Void)?
        if self.handlerExecutor != nil, case .sync(let body)? = handler, !self.server.isStopping {
            inline = body
        }
        let action = self.state.withLockedValue { state in
            state.receiveEvent(.event(name: name, arguments: arguments, ack: ack, handler: handler), inlineEligible: inline != nil)
        }
        switch action {
        case .runInline:
            var error: (any Error)?
            do {
                try self.runPacketMiddlewares(name, arguments)
                if let inline { error = self.server.runInline(inline, socket: self, name: name, arguments: arguments, ack: ack) }
            } catch let refused {
                error = refused
            }
            let failure = error.map { SocketEvent.failed($0, name: name, arguments: arguments, ack: ack) }
            let actions = self.state.withLockedValue { $0.inlineRunFinished(failure: failure) }
            if !actions.isEmpty { self.perform(actions) }
        case .queued, .dropped:
            break
        case .queuedAndPauseReading:
            self.pauseReading()
        case .startDrainTask(let job):
            self.startTask(job)
        case .startDrainTaskAndPauseReading(let job):
            self.pauseReading()
            self.startTask(job)
        }
    }

    /// Runs jobs until the machine has none left for this task: the handler task's body.
    func runJobs(from first: StateMachine.Job) async {
        var job = first
        while true {
            await self.run(job)
            let step = self.state.withLockedValue { $0.jobFinished() }
            if !step.actions.isEmpty { self.perform(step.actions) }
            guard let next = step.next else { return }
            job = next
        }
    }

    private func run(_ job: StateMachine.Job) async {
        switch job {
        case .runConnectHandler:
            await self.server.runConnect(self)
        case .runHandler(.event(let name, let arguments, let ack, let handler)):
            await self.handle(name: name, arguments: arguments, ack: ack, handler: handler)
        case .runHandler(.failed(let error, let name, let arguments, let ack)):
            await self.server.runErrorHandler(error, socket: self, name: name, arguments: arguments, ack: ack)
        case .runDisconnectingHandler(let reason):
            await self.server.runDisconnecting(self, reason: reason)
        case .runDisconnectHandler(let reason):
            await self.server.runDisconnect(self, reason: reason)
        }
    }

    /// One event: packet middlewares, then its handler; errors go to the error handler.
    private func handle(name: String, arguments: [SocketIOValue], ack: SocketIOAckResponder, handler: SocketIOStoredEventHandler?) async {
        do {
            try self.runPacketMiddlewares(name, arguments)
        } catch {
            await self.server.runErrorHandler(error, socket: self, name: name, arguments: arguments, ack: ack)
            return
        }
        await self.server.runEvent(self, name: name, arguments: arguments, ack: ack, handler: handler)
    }

    // MARK: Carrying out the machine's actions

    private func perform(_ actions: [StateMachine.Action]) {
        for action in actions { self.perform(action) }
    }

    private func perform(_ action: StateMachine.Action) {
        switch action {
        case .sendNow(let frames):
            self.transport.send(frames)
        case .startDrainTask(let job):
            self.startTask(job)
        case .pauseReading:
            self.pauseReading()
        case .resumeReading:
            self.transport.resumeReading()
        case .resumeBarrier(let barrier):
            barrier.resume()
        case .leaveRooms:
            self.leaveNamespace()
        case .failAcks(let waiters):
            for waiter in waiters { waiter.timeout?.cancel() }
            // Ack callbacks run on the connection's loop (the API promises it); the socket
            // may end elsewhere (a handler on the global executor, `disconnect()` from any task).
            self.onLoop {
                for waiter in waiters { waiter.callback(.failure(.disconnected)) }
            }
        }
    }

    /// Starts a handler task for `job`; when none can start (the server is stopping), no
    /// handler of this socket runs again.
    private func startTask(_ job: StateMachine.Job) {
        guard !self.server.runHandlerTask(for: self, job) else { return }
        let actions = self.state.withLockedValue { $0.drainTaskNotStarted(job) }
        self.perform(actions)
    }

    /// The mailbox reached ``SocketIOConfiguration/maxQueuedEvents``: stop reading
    /// (backpressure, nothing is dropped) until the machine resumes it.
    private func pauseReading() {
        self.server.limits.maxQueuedEvents.hit(self.server.logger, metadata: [SocketIOLoggingKeys.namespace: "\(self.namespace)"])
        self.transport.pauseReading()
    }

    /// Runs `body` on the connection's loop: at once when already there, else after a hop.
    func onLoop(_ body: @escaping @Sendable () -> Void) {
        let loop = self.transport.eventLoop
        if loop.inEventLoop {
            body()
        } else {
            loop.execute(body)
        }
    }
}
