//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import DequeModule
import EngineIOParser

/// The lifecycle, outbound gate, mailbox and ack table of one Socket.IO socket, as a pure
/// state machine (style rule 1).
///
/// It decides what the socket does and in which order; it performs no I/O, runs no handler
/// and reads no clock. The socket keeps it in its one lock and carries out the returned
/// actions after releasing the lock (a send, a handler or a callback may re-enter the socket).
///
/// The guarantees it keeps:
/// - Nothing overtakes the CONNECT reply: frames sent before it is out wait behind it, and a
///   DISCONNECT that races the reply goes out after it.
/// - The connect handler runs before any event handler; the disconnecting handler, then the
///   leaving of the rooms, then the disconnect handler run after every earlier event handler
///   (without a disconnecting handler, the rooms are left as the socket ends).
/// - The socket leaves its rooms exactly once, and never joins its namespace after that
///   (a join under way when it ends is left as soon as it is done).
/// - Event handlers run one at a time in arrival order (``HandlerOrder/sequential``), or each
///   on its own run (``HandlerOrder/concurrent``), bounded by `maxQueuedEvents`.
/// - A barrier resumes once everything queued before it has been handled (in concurrent
///   order: once every event before it has started, as their handlers may wait for what
///   comes after), and a barrier queued after the socket ended still waits for the
///   disconnect handler.
/// - At `maxQueuedEvents` held events the connection stops reading; it resumes at half.
///
/// - Parameters:
///   - Event: what a handler run needs for one event (its name, arguments, ack id and
///     handler, or a caught error for the error handler); opaque here.
///   - Reason: why the socket ended, handed back to the disconnecting and disconnect handlers.
///   - Barrier: what ``enqueueBarrier(_:)`` holds until it may go on (a continuation).
///   - Waiter: what waits for one ack from the client (a callback and its timer).
struct SocketIOSocketStateMachine<Event, Reason, Barrier, Waiter> {
    /// How the event handlers of one socket run relative to each other.
    enum HandlerOrder: Sendable, Hashable {
        /// One at a time, in arrival order: Node's behaviour and Flask's default, what most
        /// applications rely on (a `join` handled before the `say` that follows it).
        case sequential
        /// Each event starts its own handler run at once (Flask's `async_handlers=True`), at
        /// most `maxQueuedEvents` at a time (the rest wait in order). The connect handler
        /// still runs before any event, and the disconnecting and disconnect handlers after
        /// every event handler has finished.
        case concurrent
    }

    /// Where the socket is in its life.
    enum Phase: Sendable, Hashable {
        /// The connect handler has not accepted yet: frames wait, events queue behind it.
        case connecting
        /// Accepted: the CONNECT reply went out (or is going out, ahead of everything else).
        case connected
        /// Ended after being connected: earlier events and the disconnecting handler still
        /// run, and the socket keeps its rooms until the disconnecting handler is done.
        case disconnecting
        /// The rooms are left; only the disconnect handler (if it has not run yet) remains.
        case disconnected
    }

    /// A handler run, carried out by a handler task (see ``Action/startDrainTask(_:)``).
    /// When it is done the task calls ``jobFinished()``, which may give it the next one.
    enum Job {
        /// Run the connect handler; it calls ``connectAccepted()`` or
        /// ``connectRefused(notice:)`` before the job ends.
        case runConnectHandler
        /// Run the handler of one event (or the error handler of a failed one).
        case runHandler(Event)
        /// Run the disconnecting handler: the socket still has its rooms.
        case runDisconnectingHandler(Reason)
        /// Run the disconnect handler: the rooms are already left.
        case runDisconnectHandler(Reason)
    }

    /// An effect the socket carries out after releasing its lock, in the order given.
    enum Action {
        /// Hand these frames to the transport now.
        case sendNow([EngineIOFrame])
        /// Start a handler task that runs this job, then asks ``jobFinished()`` for more
        /// until it returns no next job. A task that cannot start (the server is stopping)
        /// is reported with ``drainTaskNotStarted(_:)``.
        case startDrainTask(Job)
        /// Stop reading from the connection: the mailbox reached `maxQueuedEvents`.
        case pauseReading
        /// Read again: the mailbox is down to half of `maxQueuedEvents`, or closed. Every
        /// ``pauseReading`` is matched by exactly one of these.
        case resumeReading
        /// Resume this barrier: everything queued before it has been handled.
        case resumeBarrier(Barrier)
        /// Remove the socket from all its rooms and from the adapter
        /// (`adapter.socketDisconnected`). Returned exactly once per socket, also for one
        /// that never joined (its namespace may have to go).
        case leaveRooms
        /// Fail these ack waiters with "disconnected" (the socket ended), in id order.
        case failAcks([Waiter])
    }

    /// What to do with frames given to ``deliver(_:)``. No payload: the caller sends the
    /// frames it passed, which saves a retain on the hottest path.
    enum DeliverAction: Sendable, Hashable {
        /// Hand the frames to the transport now.
        case sendNow
        /// Nothing: the frames wait behind the CONNECT reply and go out with it.
        case holdBehindConnect
        /// Nothing: the socket ended and the frames are dropped.
        case drop
    }

    /// One step of sending what queued behind the CONNECT reply (``connectReplySent()``).
    enum ConnectReplyAction: Sendable, Hashable {
        /// Hand these frames to the transport, outside the lock (a send may end the session
        /// and so this socket), then call ``connectReplySent()``.
        case sendNow([EngineIOFrame])
        /// Nothing (more) to send.
        case done
    }

    /// What to do with an event read from the client (``receiveEvent(_:inlineEligible:)``).
    enum ReceiveAction {
        /// Run the synchronous handler right here, then call ``inlineRunFinished(failure:)``.
        /// The socket counts it as running, so whatever arrives meanwhile queues behind it.
        case runInline
        /// Nothing: the event waits in the mailbox for a running handler task.
        case queued
        /// The event waits, and the mailbox reached `maxQueuedEvents`: stop reading.
        case queuedAndPauseReading
        /// Start a handler task that runs this job (the event itself).
        case startDrainTask(Job)
        /// Start a handler task for this job, and stop reading (concurrent order only: the
        /// running handlers reached `maxQueuedEvents`).
        case startDrainTaskAndPauseReading(Job)
        /// Nothing: the socket ended (or the server stops); the event is dropped.
        case dropped
    }

    /// What to do with a barrier given to ``enqueueBarrier(_:)``.
    enum BarrierAction {
        /// Resume it now: nothing is queued or running, or nothing will run any more.
        case resumeBarrier(Barrier)
        /// Nothing: it waits in the mailbox and comes back in a ``Action/resumeBarrier(_:)``.
        case queued
    }

    /// What to do with an emit that expects an ack (``reserveAck(_:id:)``).
    enum AckAction {
        /// Send the packet with the ack id (and schedule its timeout, then
        /// ``updateAckWaiter(id:_:)``).
        case send
        /// Do not send: `maxPendingAcks` acks already wait. Fail the waiter with
        /// `tooManyPendingAcks`.
        case failTooManyPendingAcks(Waiter)
        /// Do not send: the socket ended. Fail the waiter with `disconnected`.
        case failDisconnected(Waiter)
    }

    /// What a handler task does after a job (``jobFinished()``).
    struct TaskStep {
        /// Effects to carry out first, in order (usually none: no allocation then).
        var actions: [Action]
        /// The job this same task runs next; `nil`: the task ends.
        var next: Job?
    }

    /// Where frames for the client go.
    fileprivate enum Outbound {
        /// Before the connect handler accepted: frames wait for the CONNECT reply, one
        /// entry per ``deliver(_:)`` (one packet each, which a recovered session needs).
        case holding([[EngineIOFrame]])
        /// The reply is being sent (outside the lock); frames sent meanwhile wait behind it.
        case replying([EngineIOFrame])
        case open
        /// The socket ended while its reply was being sent: these frames (ending with the
        /// DISCONNECT, if the client is told) go out after it, then nothing more.
        case closingAfterReply([EngineIOFrame])
        case closed
    }

    fileprivate enum Mail {
        case event(Event)
        /// The socket ended: the disconnecting handler (when `disconnecting`), the rooms,
        /// the disconnect handler.
        case ending(Reason, disconnecting: Bool)
        case barrier(Barrier)
    }

    /// Whether the socket is in the adapter. It joins in its connect job, after the
    /// middlewares, so it may end before, during or after joining.
    fileprivate enum Membership {
        case notJoined
        /// Being added to the adapter, outside the lock.
        case joining
        /// Ended while joining: the rooms are left once the join is done.
        case leavingAfterJoin
        case joined
        case left
    }

    /// A job that runs alone: no event handler runs beside it.
    fileprivate enum Exclusive {
        case connect
        case disconnecting(Reason)
        case disconnect(Reason)
    }

    let order: HandlerOrder
    /// Held events at which reading pauses (0: no limit). Sequential order counts the events
    /// waiting; concurrent order counts those running too.
    let maxQueuedEvents: Int
    /// Most acks waiting at once (0: no limit).
    let maxPendingAcks: Int

    private(set) var phase: Phase = .connecting
    private var outbound: Outbound = .holding([])
    /// Waiting work, in arrival order.
    private var mailbox = Deque<Mail>()
    /// The connect job is claimed from the start, so that nothing runs before it, even
    /// before ``start()``.
    private var exclusive: Exclusive? = .connect
    /// Event handlers running, inline ones included.
    private(set) var runningEvents = 0
    /// After the disconnect handler, a refusal, or a task that could not start: nothing
    /// queues or runs any more.
    private(set) var isMailboxClosed = false
    /// Whether this socket holds its connection's reading paused.
    private(set) var isReadPaused = false
    private var membership = Membership.notJoined
    private var acks: [Int: Waiter] = [:]

    /// - Parameters:
    ///   - order: how event handlers run relative to each other.
    ///   - maxQueuedEvents: held events at which reading pauses (0: off).
    ///   - maxPendingAcks: most acks waiting at once (0: off).
    init(order: HandlerOrder = .sequential, maxQueuedEvents: Int, maxPendingAcks: Int) {
        self.order = order
        self.maxQueuedEvents = max(0, maxQueuedEvents)
        self.maxPendingAcks = max(0, maxPendingAcks)
    }

    /// Whether the socket counts as connected (``SocketIOSocket/isConnected``): accepted
    /// and not ended. True while its reply is still being sent, as frames sent then are
    /// not lost; false from the moment it ends, as frames sent then are dropped.
    var isConnected: Bool { self.phase == .connected }

    /// Entries waiting in the mailbox (events, barriers, the end).
    var queuedCount: Int { self.mailbox.count }

    /// Acks waiting for the client.
    var pendingAckCount: Int { self.acks.count }

    /// Whether no job runs (tests).
    var isIdle: Bool { self.exclusive == nil && self.runningEvents == 0 }

    // MARK: Connecting

    /// The socket is in its connection's table: its connect job (middlewares, joining the
    /// namespace with ``joinStarted()``, the connect handler) may run. Call once.
    /// - Returns: ``Action/startDrainTask(_:)`` with ``Job/runConnectHandler``, or nothing
    ///   when the socket ended before it started.
    mutating func start() -> Action? {
        guard case .connect? = self.exclusive else { return nil }
        if self.isMailboxClosed {
            self.exclusive = nil
            return nil
        }
        return .startDrainTask(.runConnectHandler)
    }

    /// The connect job is about to add the socket to the adapter (its own room), after the
    /// middlewares accepted it.
    /// - Returns: `false` when the socket ended first: it must not join (its rooms are left
    ///   already), and the connect handler does not run (Node ignores such a socket too).
    mutating func joinStarted() -> Bool {
        guard self.membership == .notJoined, self.phase == .connecting else { return false }
        self.membership = .joining
        return true
    }

    /// The socket is in the adapter (after ``joinStarted()``).
    /// - Returns: ``Action/leaveRooms`` when it ended meanwhile (its leave waited for the
    ///   join): the connect handler does not run then.
    mutating func joinFinished() -> Action? {
        switch self.membership {
        case .joining:
            self.membership = .joined
            return nil
        case .leavingAfterJoin:
            self.membership = .left
            return .leaveRooms
        case .notJoined, .joined, .left:
            assertionFailure("joinFinished() without joinStarted()")
            return nil
        }
    }

    /// The connect handler accepted (or `alwaysConnect` accepts before it runs): the
    /// CONNECT reply goes out first, then the returned frames.
    ///
    /// The caller sends the reply and those frames as one batch (after adding, for a
    /// recovered session, what its client missed), outside the lock: a send may end the
    /// session at once (a full outbound buffer), which ends this socket. Until
    /// ``connectReplySent()`` says `.done`, frames sent meanwhile queue behind that batch.
    /// - Returns: the frames sent before, one entry per ``deliver(_:)``; `nil` when the
    ///   socket is not connecting any more (refused, or ended): send nothing then.
    mutating func connectAccepted() -> [[EngineIOFrame]]? {
        guard self.phase == .connecting, case .holding(let pending) = self.outbound else { return nil }
        self.phase = .connected
        self.outbound = .replying([])
        return pending
    }

    /// The previous batch of the CONNECT reply was handed to the transport.
    /// - Returns: the frames queued meanwhile (send them, then call again), or `.done`:
    ///   frames go out directly from now on, or the socket ended and its last frames are out.
    mutating func connectReplySent() -> ConnectReplyAction {
        switch self.outbound {
        case .replying(let pending):
            if pending.isEmpty {
                self.outbound = .open
                return .done
            }
            self.outbound = .replying([])
            return .sendNow(pending)
        case .closingAfterReply(let pending):
            // The socket ended meanwhile: what was queued, then its DISCONNECT, go last.
            self.outbound = .closed
            return pending.isEmpty ? .done : .sendNow(pending)
        case .holding, .open, .closed:
            return .done
        }
    }

    /// The connect handler refused (or threw): the client gets `notice` (CONNECT_ERROR, or
    /// DISCONNECT when `alwaysConnect` already accepted), queued events are dropped, no
    /// disconnect handler runs (as python-socketio), the rooms are left and acks fail.
    ///
    /// Ignored once the socket ended (the client is gone, or its disconnect handlers are
    /// under way).
    mutating func connectRefused(notice: [EngineIOFrame]) -> [Action] {
        switch self.phase {
        case .disconnecting, .disconnected: return []
        case .connecting, .connected: break
        }
        var actions: [Action] = []
        self.closeOutbound(notice: notice, into: &actions)
        self.phase = .disconnected
        self.leaveRooms(into: &actions)
        self.failAcks(into: &actions)
        self.closeMailbox(into: &actions)
        return actions
    }

    // MARK: Sending

    /// Frames for the client (an emit, an ack, a broadcast).
    mutating func deliver(_ frames: [EngineIOFrame]) -> DeliverAction {
        switch self.outbound {
        case .open:
            return .sendNow
        case .holding(var pending):
            self.outbound = .closed  // drop the enum's reference so the append does not copy
            pending.append(frames)
            self.outbound = .holding(pending)
            return .holdBehindConnect
        case .replying(var pending):
            self.outbound = .closed  // drop the enum's reference so the append does not copy
            pending.append(contentsOf: frames)
            self.outbound = .replying(pending)
            return .holdBehindConnect
        case .closingAfterReply, .closed:
            return .drop
        }
    }

    // MARK: Ending

    /// The socket ends: the client disconnected from the namespace, the connection closed,
    /// or the server disconnects it (then `notice` is the DISCONNECT the client gets).
    ///
    /// A connected socket fails its acks at once, runs the events that arrived before
    /// (drops later ones), then its disconnecting handler (rooms still there), then leaves
    /// its rooms, then runs its disconnect handler. A socket that never connected leaves
    /// its rooms and drops its queue at once, and no handler runs (its connect handler, if
    /// running, finishes).
    ///
    /// - Parameter disconnecting: whether a disconnecting handler runs. Without one the
    ///   rooms are left at once (nobody would see them) and only the disconnect handler runs.
    /// - Returns: `nil` when it had already ended.
    mutating func end(reason: Reason, notice: [EngineIOFrame]?, disconnecting: Bool = true) -> [Action]? {
        switch self.phase {
        case .disconnecting, .disconnected: return nil
        case .connecting, .connected: break
        }
        var actions: [Action] = []
        self.closeOutbound(notice: notice, into: &actions)
        if self.phase == .connecting {
            self.phase = .disconnected
            self.leaveRooms(into: &actions)
            self.failAcks(into: &actions)
            self.closeMailbox(into: &actions)
            return actions
        }
        if self.isMailboxClosed || !disconnecting {
            // The server stops (no handler runs again, but the adapter must forget the
            // socket), or no disconnecting handler needs the rooms.
            self.phase = .disconnected
            self.leaveRooms(into: &actions)
            self.failAcks(into: &actions)
            if self.isMailboxClosed { return actions }
        } else {
            self.phase = .disconnecting
            self.failAcks(into: &actions)
        }
        self.mailbox.append(.ending(reason, disconnecting: disconnecting))
        var next: Job?
        self.dispatch(into: &actions, next: &next, callerIsFree: false)
        return actions
    }

    /// The client stops hearing from this socket: a DISCONNECT to tell it goes out now, or
    /// after the CONNECT reply being sent.
    private mutating func closeOutbound(notice: [EngineIOFrame]?, into actions: inout [Action]) {
        switch self.outbound {
        case .holding, .open:
            self.outbound = .closed
            if let notice { actions.append(.sendNow(notice)) }
        case .replying(var pending):
            self.outbound = .closed  // drop the enum's reference so the append does not copy
            if let notice { pending.append(contentsOf: notice) }
            self.outbound = .closingAfterReply(pending)
        case .closingAfterReply, .closed:
            break
        }
    }

    // MARK: Mailbox

    /// An event read from the client.
    ///
    /// - Parameter inlineEligible: the event's handler is synchronous and may run on the
    ///   caller's thread (handlers on the event loop, the server not stopping). It runs
    ///   inline when nothing of this socket is queued or running that must go first, which
    ///   keeps the order; otherwise the event goes through the mailbox.
    mutating func receiveEvent(_ event: Event, inlineEligible: Bool) -> ReceiveAction {
        guard !self.isMailboxClosed, self.phase == .connecting || self.phase == .connected else { return .dropped }
        let startsNow = self.mailbox.isEmpty && self.mayStartEvent
        if startsNow, inlineEligible, self.inlineStaysUnderLimit {
            self.runningEvents += 1
            return .runInline
        }
        // Holding more can only pause reading, never resume it.
        if startsNow {
            self.runningEvents += 1
            let pause = self.readPauseChange() != nil
            return pause ? .startDrainTaskAndPauseReading(.runHandler(event)) : .startDrainTask(.runHandler(event))
        }
        self.mailbox.append(.event(event))
        return self.readPauseChange() != nil ? .queuedAndPauseReading : .queued
    }

    /// A handler run by ``ReceiveAction/runInline`` returned.
    ///
    /// - Parameter failure: the error handler's run for the error it threw, or `nil`. It
    ///   goes first in the mailbox: events queued meanwhile arrived after the one that failed.
    mutating func inlineRunFinished(failure: Event?) -> [Action] {
        self.runningEvents -= 1
        if let failure, !self.isMailboxClosed {
            self.mailbox.prepend(.event(failure))
        }
        if self.mailbox.isEmpty, !self.isReadPaused { return [] }
        var actions: [Action] = []
        var next: Job?
        self.dispatch(into: &actions, next: &next, callerIsFree: false)
        if let change = self.readPauseChange() { actions.append(change) }
        return actions
    }

    /// A job of a handler task finished (see ``Action/startDrainTask(_:)``).
    /// - Returns: effects to carry out, and the job the same task runs next (`nil`: it ends).
    mutating func jobFinished() -> TaskStep {
        var actions: [Action] = []
        var next: Job?
        switch self.exclusive {
        case nil:
            // Nothing runs beside an exclusive job, so with none this was an event.
            assert(self.runningEvents > 0, "jobFinished() without a running job")
            self.runningEvents -= 1
        case .connect:
            self.exclusive = nil
        case .disconnecting(let reason):
            if self.phase == .disconnecting {
                self.phase = .disconnected
                self.leaveRooms(into: &actions)
            }
            guard !self.isMailboxClosed else {
                self.exclusive = nil
                return TaskStep(actions: actions, next: nil)
            }
            self.exclusive = .disconnect(reason)
            return TaskStep(actions: actions, next: .runDisconnectHandler(reason))
        case .disconnect:
            self.exclusive = nil
            // The socket is done: a barrier queued after its end was waiting for this.
            self.closeMailbox(into: &actions)
            return TaskStep(actions: actions, next: nil)
        }
        self.dispatch(into: &actions, next: &next, callerIsFree: true)
        if let change = self.readPauseChange() { actions.append(change) }
        return TaskStep(actions: actions, next: next)
    }

    /// A handler task for `job` could not start (the server is stopping): no handler of
    /// this socket runs again. Queued events are dropped, barriers resumed, reading
    /// resumed, and an ended socket leaves its rooms.
    mutating func drainTaskNotStarted(_ job: Job) -> [Action] {
        switch job {
        case .runHandler:
            self.runningEvents -= 1
        case .runConnectHandler, .runDisconnectingHandler, .runDisconnectHandler:
            self.exclusive = nil
        }
        var actions: [Action] = []
        self.closeMailbox(into: &actions)
        return actions
    }

    /// Someone waits until everything queued so far has been handled (the test client's
    /// sync point). After the socket ended, that includes its disconnect handler.
    mutating func enqueueBarrier(_ barrier: Barrier) -> BarrierAction {
        if self.isMailboxClosed || (self.barrierMayPass && self.mailbox.isEmpty) {
            return .resumeBarrier(barrier)
        }
        self.mailbox.append(.barrier(barrier))
        return .queued
    }

    /// Whether a barrier at the front of the mailbox is passed: the jobs before it are done
    /// (in concurrent order the events before it only had to start: a handler waiting for
    /// something the barrier's owner does next would never finish otherwise).
    private var barrierMayPass: Bool {
        switch self.order {
        case .sequential: return self.isIdle
        case .concurrent: return self.exclusive == nil
        }
    }

    /// Whether an event at the front of the mailbox may start now.
    private var mayStartEvent: Bool {
        guard self.exclusive == nil else { return false }
        switch self.order {
        case .sequential: return self.runningEvents == 0
        case .concurrent: return self.maxQueuedEvents == 0 || self.runningEvents < self.maxQueuedEvents
        }
    }

    /// An inline run must not be the one that reaches the read limit (concurrent order
    /// counts running events): that case goes through the mailbox, which pauses.
    private var inlineStaysUnderLimit: Bool {
        self.order == .sequential || self.maxQueuedEvents == 0 || self.runningEvents + 1 < self.maxQueuedEvents
    }

    /// Starts whatever the mailbox allows now, in order: barriers once all before them is
    /// done, the end once no handler runs, events as ``order`` allows. The first job goes
    /// to the calling task when it is free; each other one needs a task of its own.
    private mutating func dispatch(into actions: inout [Action], next: inout Job?, callerIsFree: Bool) {
        var callerIsFree = callerIsFree
        func assign(_ job: Job, _ actions: inout [Action], _ next: inout Job?) {
            if callerIsFree {
                next = job
                callerIsFree = false
            } else {
                actions.append(.startDrainTask(job))
            }
        }
        while let mail = self.mailbox.first {
            switch mail {
            case .barrier(let barrier):
                guard self.barrierMayPass else { return }
                self.mailbox.removeFirst()
                actions.append(.resumeBarrier(barrier))
            case .ending(let reason, let disconnecting):
                guard self.isIdle else { return }
                self.mailbox.removeFirst()
                if disconnecting {
                    self.exclusive = .disconnecting(reason)
                    assign(.runDisconnectingHandler(reason), &actions, &next)
                } else {
                    self.exclusive = .disconnect(reason)
                    assign(.runDisconnectHandler(reason), &actions, &next)
                }
                return
            case .event(let event):
                guard self.mayStartEvent else { return }
                self.mailbox.removeFirst()
                self.runningEvents += 1
                assign(.runHandler(event), &actions, &next)
            }
        }
    }

    /// Events held against ``maxQueuedEvents``.
    private var heldEvents: Int {
        switch self.order {
        case .sequential: return self.mailbox.count
        case .concurrent: return self.mailbox.count + self.runningEvents
        }
    }

    /// Pauses reading at the limit and resumes it at half (hysteresis, so that a full
    /// mailbox does not flip the connection at every event).
    private mutating func readPauseChange() -> Action? {
        guard self.maxQueuedEvents > 0, !self.isMailboxClosed else { return nil }
        if !self.isReadPaused, self.heldEvents >= self.maxQueuedEvents {
            self.isReadPaused = true
            return .pauseReading
        }
        if self.isReadPaused, self.heldEvents <= self.maxQueuedEvents / 2 {
            self.isReadPaused = false
            return .resumeReading
        }
        return nil
    }

    /// Nothing queues or runs any more: drops what waits. An ended socket that still holds
    /// its rooms leaves them first, then reading resumes, then barriers go on (last, so that
    /// whoever waited sees the socket settled).
    private mutating func closeMailbox(into actions: inout [Action]) {
        self.isMailboxClosed = true
        let dropped = self.mailbox
        self.mailbox = []
        if self.phase == .disconnecting {
            self.phase = .disconnected
            self.leaveRooms(into: &actions)
        }
        if self.isReadPaused {
            self.isReadPaused = false
            actions.append(.resumeReading)
        }
        for case .barrier(let barrier) in dropped {
            actions.append(.resumeBarrier(barrier))
        }
    }

    /// Leaves the rooms once: now, after a join under way, or not again.
    private mutating func leaveRooms(into actions: inout [Action]) {
        switch self.membership {
        case .notJoined, .joined:
            self.membership = .left
            actions.append(.leaveRooms)
        case .joining:
            self.membership = .leavingAfterJoin
        case .leavingAfterJoin, .left:
            break
        }
    }

    // MARK: Acks

    /// An emit expects an ack: `waiter` waits for ack `id`, unless the socket ended or
    /// `maxPendingAcks` already wait (the packet is then not sent).
    ///
    /// - Parameter id: the packet's ack id, given by the caller: ids are unique across the
    ///   process, so that a broadcast's one packet carries the same id to every recipient.
    mutating func reserveAck(_ waiter: Waiter, id: Int) -> AckAction {
        switch self.phase {
        case .disconnecting, .disconnected: return .failDisconnected(waiter)
        case .connecting, .connected: break
        }
        if self.maxPendingAcks > 0, self.acks.count >= self.maxPendingAcks {
            return .failTooManyPendingAcks(waiter)
        }
        assert(self.acks[id] == nil, "ack id \(id) reserved twice")
        self.acks[id] = waiter
        return .send
    }

    /// Changes a waiting ack's waiter (to store its timer, made outside the lock).
    /// - Returns: `false` when the ack was resolved meanwhile (a client guessing ids, or the
    ///   socket ended): cancel the timer just made.
    mutating func updateAckWaiter(id: Int, _ update: (inout Waiter) -> Void) -> Bool {
        guard self.acks[id] != nil else { return false }
        update(&self.acks[id]!)
        return true
    }

    /// The client answered ack `id`, or its timeout fired: whichever comes first gets the
    /// waiter, the other gets `nil`. Unknown ids are ignored, as Node does.
    mutating func resolveAck(id: Int) -> Waiter? {
        self.acks.removeValue(forKey: id)
    }

    private mutating func failAcks(into actions: inout [Action]) {
        guard !self.acks.isEmpty else { return }
        let waiters = self.acks.sorted { $0.key < $1.key }.map(\.value)
        self.acks = [:]
        actions.append(.failAcks(waiters))
    }
}

extension SocketIOSocketStateMachine: Sendable where Event: Sendable, Reason: Sendable, Barrier: Sendable, Waiter: Sendable {}
extension SocketIOSocketStateMachine.Job: Sendable where Event: Sendable, Reason: Sendable {}
extension SocketIOSocketStateMachine.Job: Equatable where Event: Equatable, Reason: Equatable {}
extension SocketIOSocketStateMachine.Action: Sendable
where Event: Sendable, Reason: Sendable, Barrier: Sendable, Waiter: Sendable {}
extension SocketIOSocketStateMachine.Action: Equatable
where Event: Equatable, Reason: Equatable, Barrier: Equatable, Waiter: Equatable {}
extension SocketIOSocketStateMachine.ReceiveAction: Sendable where Event: Sendable, Reason: Sendable {}
extension SocketIOSocketStateMachine.ReceiveAction: Equatable where Event: Equatable, Reason: Equatable {}
extension SocketIOSocketStateMachine.BarrierAction: Sendable where Barrier: Sendable {}
extension SocketIOSocketStateMachine.BarrierAction: Equatable where Barrier: Equatable {}
extension SocketIOSocketStateMachine.AckAction: Sendable where Waiter: Sendable {}
extension SocketIOSocketStateMachine.AckAction: Equatable where Waiter: Equatable {}
extension SocketIOSocketStateMachine.Outbound: Sendable {}
extension SocketIOSocketStateMachine.Membership: Sendable {}
extension SocketIOSocketStateMachine.Mail: Sendable where Event: Sendable, Reason: Sendable, Barrier: Sendable {}
extension SocketIOSocketStateMachine.Exclusive: Sendable where Reason: Sendable {}
extension SocketIOSocketStateMachine.TaskStep: Sendable
where Event: Sendable, Reason: Sendable, Barrier: Sendable, Waiter: Sendable {}
extension SocketIOSocketStateMachine.TaskStep: Equatable
where Event: Equatable, Reason: Equatable, Barrier: Equatable, Waiter: Equatable {}
