//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIO
public import EngineIOParser
import Logging
import NIOConcurrencyHelpers
public import NIOCore
public import SocketIOParser
import OrderedCollections
import DequeModule

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
    /// Whether this socket is a session that came back (connection state recovery): same
    /// id, rooms and ``session``, and the packets it missed were sent after the CONNECT
    /// reply (Node `socket.recovered`).
    public let recovered: Bool
    /// The private id a client presents to recover this session (the CONNECT reply's
    /// `pid`); `nil` when connection state recovery is off.
    let privateID: String?
    /// Whether middlewares are skipped for this socket (a recovered session, with
    /// ``SocketIOConnectionStateRecovery/skipMiddlewares``).
    let skipsMiddlewares: Bool
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
    private let state: NIOLockedValueBox<State>
    /// Handlers running at once (``SocketIOConfiguration/concurrentHandlers`` only).
    private let concurrent = NIOLockedValueBox(ConcurrentHandlers())
    /// What ``use(_:)`` added: run on every incoming event, in order.
    private let packetMiddlewares = NIOLockedValueBox<[SocketIOPacketMiddleware]>([])

    enum Phase {
        /// The connect handler runs; packets for the client wait behind the CONNECT reply.
        case connecting(pending: [[EngineIOFrame]])
        /// The connect handler accepted and the CONNECT reply is being sent (outside the
        /// lock); packets emitted meanwhile still wait behind it.
        case sendingConnectReply(pending: [[EngineIOFrame]])
        /// The socket ended while its CONNECT reply was being sent: `pending` (ending with
        /// the DISCONNECT, if the client is told) goes out after the reply, then the phase
        /// is `.disconnected`. Nothing new is queued.
        case endingAfterConnectReply(pending: [[EngineIOFrame]])
        case connected
        case disconnected
    }

    struct AckWaiter {
        let callback: @Sendable (Result<[SocketIOValue], SocketIOAckError>) -> Void
        /// Set once scheduled, which happens outside the lock.
        var timeout: Scheduled<Void>?
    }

    struct State {
        var phase: Phase = .connecting(pending: [])
        var acks: [Int: AckWaiter] = [:]
        /// Events waiting for the handlers, in arrival order.
        var mailbox = Deque<SocketEvent>()
        /// Whether a handler task is draining the mailbox.
        var draining = false
        /// After the disconnect handler (or a refusal): events are dropped.
        var mailboxClosed = false
        /// The mailbox reached ``SocketIOConfiguration/maxQueuedEvents`` and the connection
        /// stopped reading; it resumes when the mailbox is down to half of it.
        var readPaused = false
    }

    struct ConcurrentHandlers {
        var running = 0
        /// Reading stopped at ``SocketIOConfiguration/maxQueuedEvents`` running handlers.
        var readPaused = false
        /// The disconnect waits for these to finish.
        var idle: [CheckedContinuation<Void, Never>] = []
    }

    enum SocketEvent: Sendable {
        case connect
        /// An event and its handler, looked up once as it was read (`nil`: none).
        case event(name: String, arguments: [SocketIOValue], ack: SocketIOAckResponder, handler: SocketIOStoredEventHandler?)
        /// A synchronous handler threw: the error handler runs (it may suspend).
        case failed(any Error, name: String, arguments: [SocketIOValue], ack: SocketIOAckResponder)
        /// The socket ended; `leaveAfterDisconnecting`: it is still in its rooms until the
        /// `disconnecting` handler has run.
        case disconnect(SocketIODisconnectReason, leaveAfterDisconnecting: Bool)
        /// Resumes once every earlier event has been handled (the test client's sync point).
        case barrier(CheckedContinuation<Void, Never>)
    }

    init(
        id: String,
        namespace: SocketIONamespace,
        handshake: SocketIOHandshake,
        client: SocketIOClientConnection,
        server: SocketIOServer,
        session: SocketIOSessionStorage = SocketIOSessionStorage(),
        skipsMiddlewares: Bool = false,
        privateID: String? = nil,
        recovered: Bool = false,
        recovery: SocketIORecoveredSession? = nil
    ) {
        self.recovery = recovery
        self.privateID = privateID
        self.recovered = recovered
        self.id = id
        self.client = NIOLoopBound(client, eventLoop: client.transport.eventLoop)
        self.transport = client.transport
        self.namespace = namespace.name
        self.nsp = namespace
        self.session = session
        self.skipsMiddlewares = skipsMiddlewares
        self.handshake = handshake
        self.server = server
        self.handlerExecutor = server.handlerExecutor(for: client.transport.eventLoop)
        self.state = NIOLockedValueBox(State())
    }

    /// The event loop of this client's connection (where its handlers run by default).
    public var eventLoop: any EventLoop { self.transport.eventLoop }

    /// Whether the socket is connected (the connect handler accepted it and it has not left).
    public var isConnected: Bool {
        self.state.withLockedValue { state in
            switch state.phase {
            case .connected, .sendingConnectReply: return true
            case .connecting, .endingAfterConnectReply, .disconnected: return false
            }
        }
    }

    /// Registers the waiter of an ack id before the packet carrying it goes out; `timeout`
    /// `nil` arms no timer (a broadcast with acks has one timer for all recipients).
    /// - Returns: `false` when the packet must not be sent: `callback` then has (or will
    ///   have, on the connection's loop) its error.
    func expectAck(id: Int, timeout: Duration?, callback: @escaping @Sendable (Result<[SocketIOValue], SocketIOAckError>) -> Void) -> Bool {
        enum Reservation {
            case reserved
            case disconnected
            case full
        }
        let limit = self.server.configuration.maxPendingAcks
        let reservation = self.state.withLockedValue { state -> Reservation in
            switch state.phase {
            case .disconnected, .endingAfterConnectReply: return .disconnected
            case .connecting, .sendingConnectReply, .connected: break
            }
            if limit > 0, state.acks.count >= limit { return .full }
            state.acks[id] = AckWaiter(callback: callback, timeout: nil)
            return .reserved
        }
        switch reservation {
        case .disconnected:
            self.onLoop { callback(.failure(.disconnected)) }
            return false
        case .full:
            self.server.limits.maxPendingAcks.hit(self.server.logger, metadata: [SocketIOLoggingKeys.namespace: "\(self.namespace)"])
            self.onLoop { callback(.failure(.tooManyPendingAcks)) }
            return false
        case .reserved:
            break
        }
        guard let timeout else { return true }
        // Scheduled outside the lock (no call out while holding it); an answer that came
        // first (a client guessing ids) already removed the waiter, and the timer goes.
        let timer = self.transport.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            self.resolveAck(id: id, with: .failure(.timeout))
        }
        let stored = self.state.withLockedValue { state -> Bool in
            guard state.acks[id] != nil else { return false }
            state.acks[id]?.timeout = timer
            return true
        }
        if !stored { timer.cancel() }
        return true
    }

    /// The number of emits waiting for this client's ack (tests).
    var pendingAckCount: Int { self.state.withLockedValue { $0.acks.count } }

    /// Runs the waiter of an ack id (client ack, timeout or disconnect). Unknown ids are
    /// ignored, as Node does.
    func resolveAck(id: Int, with result: Result<[SocketIOValue], SocketIOAckError>) {
        let waiter = self.state.withLockedValue { $0.acks.removeValue(forKey: id) }
        guard let waiter else { return }
        waiter.timeout?.cancel()
        waiter.callback(result)
    }

    /// Hands encoded frames to the client, or queues them behind the CONNECT reply.
    public func deliver(_ frames: [EngineIOFrame]) {
        self.deliver(frames, volatile: false)
    }

    /// Hands encoded frames to the client; a volatile message is dropped instead of queued
    /// when the transport cannot take it now (or the CONNECT reply is not out yet).
    func deliver(_ frames: [EngineIOFrame], volatile: Bool) {
        if volatile, !self.transport.isWritable { return }
        let send = self.state.withLockedValue { state -> Bool in
            switch state.phase {
            case .connected:
                return true
            case .connecting(var pending):
                state.phase = .connected  // drop the reference so the append does not copy
                pending.append(frames)
                state.phase = .connecting(pending: pending)
                return false
            case .sendingConnectReply(var pending):
                state.phase = .connected  // drop the reference so the append does not copy
                pending.append(frames)
                state.phase = .sendingConnectReply(pending: pending)
                return false
            case .endingAfterConnectReply, .disconnected:
                return false
            }
        }
        if send { self.transport.send(frames) }
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

    // MARK: Lifecycle

    /// Disconnects this socket from its namespace; the connection stays, unless `close`
    /// (Node `socket.disconnect(true)`), which closes it with every namespace on it.
    public func disconnect(close: Bool = false) {
        if close {
            // The engine's close ends every socket of the connection (reason: forced close).
            self.transport.close()
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
    }

    /// Runs the packet middlewares of an event.
    func runPacketMiddlewares(_ name: String, _ arguments: [SocketIOValue]) throws {
        let middlewares = self.packetMiddlewares.withLockedValue { $0 }
        for middleware in middlewares { try middleware(self, name, arguments) }
    }

    /// The socket joins its namespace: it is in the room of its id, reachable by
    /// broadcasts (after the middlewares, before the connect handler).
    func joinNamespace() {
        self.server.adapter.socketConnected(self)
        if let recovery = self.recovery {
            self.server.adapter.joinLocal(sid: self.id, rooms: recovery.rooms, namespace: self.namespace)
        }
    }

    /// The socket leaves its namespace and every room; an empty child namespace goes (see
    /// ``SocketIOConfiguration/cleanupEmptyChildNamespaces``).
    func leaveNamespace() {
        self.server.adapter.socketDisconnected(self)
        if let parent = self.nsp.parent, self.server.configuration.cleanupEmptyChildNamespaces,
            self.server.adapter.socketCount(namespace: self.namespace) == 0
        {
            parent.remove(self.nsp)
        }
    }

    /// Removes this socket from its connection's table (on the connection's loop).
    private func forget() {
        let client = self.client
        self.transport.eventLoop.execute { [namespace = self.namespace, id = self.id] in
            client.value.socketRemoved(namespace: namespace, id: id)
        }
    }

    /// The connect handler accepted: CONNECT goes out, then everything queued meanwhile.
    ///
    /// Sent outside the lock: a send may end the session at once (a full outbound buffer),
    /// which ends this socket and takes its lock. Nothing overtakes the reply all the same:
    /// until the phase is `.connected`, packets emitted meanwhile queue behind it and are
    /// sent here, in order.
    func markConnected() {
        var data: SocketIOValue = ["sid": .string(self.id)]
        if let privateID = self.privateID { data = ["sid": .string(self.id), "pid": .string(privateID)] }
        let reply = SocketIOPacketEncoder.encode(SocketIOPacket(type: .connect, namespace: self.namespace, data: data))
        var batch = self.state.withLockedValue { state -> [[EngineIOFrame]]? in
            guard case .connecting(let pending) = state.phase else { return nil }
            state.phase = .sendingConnectReply(pending: [])
            return pending
        }.map { pending -> [EngineIOFrame] in
            guard let recovery = self.recovery else { return reply + pending.flatMap { $0 } }
            // Back in its rooms, a recovered socket asks (outside the lock: the store has
            // its own) what its client missed: sent after the reply, then the live packets
            // queued meanwhile that are not among it.
            let replay = recovery.missedFrames(dedupingAgainst: pending)
            return reply + replay.missed + replay.pending.flatMap { $0 }
        }
        while let frames = batch {
            self.transport.send(frames)
            batch = self.state.withLockedValue { state -> [EngineIOFrame]? in
                switch state.phase {
                case .sendingConnectReply(let pending):
                    if pending.isEmpty {
                        state.phase = .connected
                        return nil
                    }
                    state.phase = .sendingConnectReply(pending: [])
                    return pending.flatMap { $0 }
                case .endingAfterConnectReply(let pending):
                    // `end()` ran meanwhile: what was queued, then its DISCONNECT, go last.
                    state.phase = .disconnected
                    return pending.isEmpty ? nil : pending.flatMap { $0 }
                case .connecting, .connected, .disconnected:
                    return nil
                }
            }
        }
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

    /// The connect handler refused: CONNECT_ERROR (or DISCONNECT after `alwaysConnect`).
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
        self.state.withLockedValue { $0.phase = .disconnected }
        self.transport.send(SocketIOPacketEncoder.encode(packet))
        self.leaveNamespace()
        self.failPendingAcks()
        self.closeMailbox()
        self.forget()
    }

    /// Ends the socket: leaves all rooms, fails pending acks, queues the disconnect event.
    /// - Returns: `false` if it had already ended.
    @discardableResult
    func end(reason: SocketIODisconnectReason, notifyClient: Bool) -> Bool {
        let disconnect = notifyClient
            ? SocketIOPacketEncoder.encode(SocketIOPacket(type: .disconnect, namespace: self.namespace)) : nil
        // `nil`: ended already. `sendDisconnect`: false when `markConnected` sends it after
        // the CONNECT reply it is still sending (so the DISCONNECT cannot overtake it).
        let ended = self.state.withLockedValue { state -> (wasConnected: Bool, sendDisconnect: Bool)? in
            switch state.phase {
            case .disconnected, .endingAfterConnectReply: return nil
            case .connected:
                state.phase = .disconnected
                return (true, true)
            case .sendingConnectReply(var pending):
                state.phase = .disconnected  // drop the reference so the append does not copy
                if let disconnect { pending.append(disconnect) }
                state.phase = .endingAfterConnectReply(pending: pending)
                return (true, false)
            case .connecting:
                state.phase = .disconnected
                return (false, true)
            }
        }
        guard let (wasConnected, sendDisconnect) = ended else { return false }
        if sendDisconnect, let disconnect {
            self.transport.send(disconnect)
        }
        // With a `disconnecting` handler the socket keeps its rooms until it has run.
        let leaveAfterDisconnecting = wasConnected && self.nsp.handlers.read { $0.disconnecting != nil }
        if !leaveAfterDisconnecting { self.leaveNamespace() }
        self.failPendingAcks()
        if wasConnected {
            // The mailbox closes once the disconnect handler has run, so that a barrier
            // queued meanwhile still waits for it.
            self.enqueue(.disconnect(reason, leaveAfterDisconnecting: leaveAfterDisconnecting))
        } else {
            self.closeMailbox()
        }
        return true
    }

    private func failPendingAcks() {
        let waiters = self.state.withLockedValue { state -> [AckWaiter] in
            let waiters = Array(state.acks.values)
            state.acks = [:]
            return waiters
        }
        guard !waiters.isEmpty else { return }
        for waiter in waiters { waiter.timeout?.cancel() }
        // Ack callbacks run on the connection's loop (the API promises it); `end()` may run
        // elsewhere (a handler on the global executor, `disconnect()` from any task).
        self.onLoop {
            for waiter in waiters { waiter.callback(.failure(.disconnected)) }
        }
    }

    /// Runs `body` on the connection's loop: at once when already there, else after a hop.
    private func onLoop(_ body: @escaping @Sendable () -> Void) {
        let loop = self.transport.eventLoop
        if loop.inEventLoop {
            body()
        } else {
            loop.execute(body)
        }
    }

    /// Waits until every event queued so far has been handled.
    package func waitUntilIdle() async {
        await withCheckedContinuation { continuation in
            self.enqueue(.barrier(continuation))
        }
    }

    // MARK: Mailbox

    /// An event read from the client, on the connection's loop. A synchronous handler runs
    /// right here when nothing of this socket is queued or running (so the order holds);
    /// anything else goes through the mailbox.
    func receiveEvent(name: String, arguments: [SocketIOValue], ackID: Int?) {
        let handler = self.nsp.handlers.eventHandler(name)
        let ack = SocketIOAckResponder.make(socket: self, id: ackID)
        guard self.handlerExecutor != nil, case .sync(let inline)? = handler, !self.server.isStopping,
            !self.server.configuration.concurrentHandlers
        else {
            self.enqueue(.event(name: name, arguments: arguments, ack: ack, handler: handler))
            return
        }
        // Claimed like a handler task would be, so that whatever arrives meanwhile (a
        // disconnect from another thread) queues behind this call.
        let claimed = self.state.withLockedValue { state -> Bool in
            guard !state.draining, !state.mailboxClosed, state.mailbox.isEmpty else { return false }
            state.draining = true
            return true
        }
        guard claimed else {
            self.enqueue(.event(name: name, arguments: arguments, ack: ack, handler: handler))
            return
        }
        var error: (any Error)?
        do {
            try self.runPacketMiddlewares(name, arguments)
            error = self.server.runInline(inline, socket: self, name: name, arguments: arguments, ack: ack)
        } catch let refused {
            error = refused
        }
        let startTask = self.state.withLockedValue { state -> Bool in
            if let error {
                // The error handler goes first: events queued meanwhile arrived later.
                state.mailbox.prepend(.failed(error, name: name, arguments: arguments, ack: ack))
            }
            if state.mailbox.isEmpty {
                state.draining = false
                return false
            }
            return true
        }
        if startTask, !self.server.runHandlerTask(for: self) {
            self.closeMailbox()
        }
    }

    /// Queues an event for the handlers and starts a handler task if none is draining.
    ///
    /// At ``SocketIOConfiguration/maxQueuedEvents`` waiting events the connection stops
    /// reading (backpressure, nothing is dropped); ``drainMailbox()`` resumes it.
    func enqueue(_ event: SocketEvent) {
        let limit = self.server.configuration.maxQueuedEvents
        var pause = false
        let start = self.state.withLockedValue { state -> Bool? in
            guard !state.mailboxClosed else { return nil }
            state.mailbox.append(event)
            if limit > 0, !state.readPaused, state.mailbox.count >= limit {
                state.readPaused = true
                pause = true
            }
            if state.draining { return false }
            state.draining = true
            return true
        }
        if pause {
            self.server.limits.maxQueuedEvents.hit(self.server.logger, metadata: [SocketIOLoggingKeys.namespace: "\(self.namespace)"])
            self.transport.pauseReading()
        }
        switch start {
        case nil:
            // Closed: nothing will run any more, so a barrier is already passed.
            if case .barrier(let continuation) = event { continuation.resume() }
        case true?:
            if !self.server.runHandlerTask(for: self) {
                // The server is stopping: no handler runs again.
                self.closeMailbox()
            }
        case false?:
            break
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

    /// Starts one event's handler on a task of its own (Flask's `async_handlers`): the
    /// socket's handlers overlap. At ``SocketIOConfiguration/maxQueuedEvents`` running
    /// handlers the connection stops reading until half of them have finished.
    private func runConcurrently(name: String, arguments: [SocketIOValue], ack: SocketIOAckResponder, handler: SocketIOStoredEventHandler?) {
        let limit = self.server.configuration.maxQueuedEvents
        let pause = self.concurrent.withLockedValue { state -> Bool in
            state.running += 1
            guard limit > 0, !state.readPaused, state.running >= limit else { return false }
            state.readPaused = true
            return true
        }
        if pause {
            self.server.limits.maxQueuedEvents.hit(self.server.logger, metadata: [SocketIOLoggingKeys.namespace: "\(self.namespace)"])
            self.transport.pauseReading()
        }
        let started = self.server.track(on: self.handlerExecutor) {
            await self.handle(name: name, arguments: arguments, ack: ack, handler: handler)
            self.concurrentHandlerFinished()
        }
        if !started { self.concurrentHandlerFinished() }
    }

    private func concurrentHandlerFinished() {
        let resumeAt = self.server.configuration.maxQueuedEvents / 2
        let (resume, idle) = self.concurrent.withLockedValue { state -> (Bool, [CheckedContinuation<Void, Never>]) in
            state.running -= 1
            var resume = false
            if state.readPaused, state.running <= resumeAt {
                state.readPaused = false
                resume = true
            }
            guard state.running == 0 else { return (resume, []) }
            defer { state.idle = [] }
            return (resume, state.idle)
        }
        if resume { self.transport.resumeReading() }
        for continuation in idle { continuation.resume() }
    }

    /// Returns once no concurrent handler runs (the disconnect handler runs last).
    private func waitForConcurrentHandlers() async {
        guard self.server.configuration.concurrentHandlers else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let running = self.concurrent.withLockedValue { state -> Bool in
                guard state.running > 0 else { return false }
                state.idle.append(continuation)
                return true
            }
            if !running { continuation.resume() }
        }
    }

    /// Drops queued events (resuming barriers) and refuses new ones.
    private func closeMailbox() {
        var resume = false
        let dropped = self.state.withLockedValue { state -> Deque<SocketEvent> in
            state.mailboxClosed = true
            let dropped = state.mailbox
            state.mailbox = []
            resume = state.readPaused
            state.readPaused = false
            return dropped
        }
        if resume { self.transport.resumeReading() }
        for case .barrier(let continuation) in dropped { continuation.resume() }
    }

    /// Whether this socket holds its connection's reading paused (tests).
    var isHoldingReads: Bool { self.state.withLockedValue { $0.readPaused } }

    /// Runs queued events in order until the mailbox is empty: the handler task's body.
    func drainMailbox() async {
        let resumeAt = self.server.configuration.maxQueuedEvents / 2
        while true {
            var resume = false
            let next = self.state.withLockedValue { state -> SocketEvent? in
                if let event = state.mailbox.popFirst() {
                    if state.readPaused, state.mailbox.count <= resumeAt {
                        state.readPaused = false
                        resume = true
                    }
                    return event
                }
                state.draining = false
                return nil
            }
            if resume { self.transport.resumeReading() }
            guard let next else { return }
            switch next {
            case .connect:
                await self.server.runConnect(self)
            case .event(let name, let arguments, let ack, let handler):
                if self.server.configuration.concurrentHandlers {
                    self.runConcurrently(name: name, arguments: arguments, ack: ack, handler: handler)
                } else {
                    await self.handle(name: name, arguments: arguments, ack: ack, handler: handler)
                }
            case .failed(let error, let name, let arguments, let ack):
                await self.server.runErrorHandler(error, socket: self, name: name, arguments: arguments, ack: ack)
            case .disconnect(let reason, let leaveAfterDisconnecting):
                await self.waitForConcurrentHandlers()
                await self.server.runDisconnect(self, reason: reason, leaveAfterDisconnecting: leaveAfterDisconnecting)
                self.closeMailbox()
            case .barrier(let continuation):
                continuation.resume()
            }
        }
    }
}

/// Per-connection storage (Flask's `session`), safe from any task.
public final class SocketIOSessionStorage: Sendable {
    private let values = NIOLockedValueBox<[String: any Sendable]>([:])

    init() {}

    /// Reads or writes one value.
    public subscript(key: String) -> (any Sendable)? {
        get { self.values.withLockedValue { $0[key] } }
        set { self.values.withLockedValue { $0[key] = newValue } }
    }

    /// Reads a value of a given type.
    public func get<Value: Sendable>(_ key: String, as type: Value.Type = Value.self) -> Value? {
        self.values.withLockedValue { $0[key] as? Value }
    }

    /// Changes the storage atomically.
    public func update<Result>(_ body: (inout [String: any Sendable]) throws -> Result) rethrows -> Result {
        try self.values.withLockedValue(body)
    }
}
