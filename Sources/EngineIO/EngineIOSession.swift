//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import EngineIOParser
import Logging
public import NIOCore
import Synchronization

/// One Engine.IO session: a client reachable over polling, WebSocket, or both in turn.
///
/// The session belongs to the event loop of the connection that opened it. Its protocol
/// decisions live in ``EngineIOSessionStateMachine``; this class executes them.
///
/// `@unchecked Sendable`: every mutable property is read and written on `eventLoop` only
/// (each entry point hops there first; internal ones assert it), which is the isolation NIO
/// gives a `ChannelHandler`. The `let` properties are immutable and Sendable (`upgraded`
/// is an atomic, read from any thread).
public final class EngineIOSession: @unchecked Sendable {
    typealias StateMachine = EngineIOSessionStateMachine<PollResponder, any EngineIOWebSocketWriter>

    /// The session id (secret: the Socket.IO layer never reveals it to other clients).
    public let id: String
    /// The handshake request.
    public let request: EngineIORequest
    /// The loop that owns this session.
    public let eventLoop: any EventLoop
    /// Whether the client accepts binary frames (`false` for `b64=1` clients).
    public let supportsBinary: Bool
    /// The transport of the handshake.
    public let handshakeTransport: EngineIOTransportKind

    let server: EngineIOServer
    private var machine: StateMachine
    private var handler: (any EngineIOSessionHandler)?
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    /// The upgrade check while a client probes (``EngineIOConfiguration/upgradeCheckInterval``):
    /// at most one, started and stopped by the state machine's actions.
    private var upgradeCheck: RepeatedTask?
    /// Whether the session moved to a WebSocket (set once, on the loop; read anywhere).
    private let upgraded = Atomic<Bool>(false)
    private var postsInFlight = 0
    /// The client address while this polling session is half-open (no message from the
    /// client yet): it counts against ``EngineIOConfiguration/maxHalfOpenSessionsPerAddress``.
    var halfOpenAddress: String?
    /// ``pauseReading()`` calls minus ``resumeReading()`` calls, in the order they reached
    /// the loop. Signed on purpose: callers on other threads hop here independently, so a
    /// resume can arrive before the pause it matches (the count dips below zero and that
    /// pause brings it back). Reading is paused while it is above zero.
    private var readPauses = 0
    /// The answer of a POST that arrived while reading was paused: given on resume, so that
    /// the polling client sends nothing more until then (one POST in flight at a time).
    private var deferredPostAnswer: PollResponder?
    /// Answers ``deferredPostAnswer`` with `ok` after ``postAnswerHold`` even if reading is
    /// still paused.
    private var deferredPostTimer: Scheduled<Void>?
    /// What this session's buffer counts against ``EngineIOConfiguration/maxTotalBufferedBytes``.
    private var budgetAccount = OutboundBudgetAccount()

    init(
        id: String,
        request: EngineIORequest,
        eventLoop: any EventLoop,
        server: EngineIOServer,
        webSocket: (any EngineIOWebSocketWriter)?
    ) {
        self.id = id
        self.request = request
        self.eventLoop = eventLoop
        self.server = server
        self.supportsBinary = request.query["b64"] == nil
        self.handshakeTransport = webSocket == nil ? .polling : .websocket
        let configuration = server.configuration
        self.machine = StateMachine(
            now: eventLoop.now,
            webSocket: webSocket,
            pingInterval: configuration.pingInterval,
            pingTimeout: configuration.pingTimeout,
            upgradeTimeout: configuration.upgradeTimeout,
            upgradeCheckInterval: configuration.upgradeCheckInterval,
            maxBufferedBytes: configuration.maxBufferedBytes,
            maxPacketsPerPoll: configuration.maxPacketsPerPollResponse,
            isSameSocket: { $0 === $1 }
        )
    }

    // MARK: Public API (any thread)

    /// The transport the session uses now: the handshake's, then `websocket` once a polling
    /// session has upgraded. Safe from any thread.
    public var transport: EngineIOTransportKind {
        self.upgraded.load(ordering: .relaxed) ? .websocket : self.handshakeTransport
    }

    /// The name of the transport the session uses now, `"polling"` or `"websocket"` (Node
    /// `socket.conn.transport.name`, Flask-SocketIO `transport(sid)`). Safe from any thread.
    public var transportName: String { self.transport.rawValue }

    /// Whether a message sent now leaves without waiting in a buffer: a polling GET is
    /// pending, or the WebSocket's channel is writable (Node's `transport.writable`, which
    /// volatile messages check). Read on the session's loop; elsewhere it answers `true`
    /// (the state is the loop's).
    public var isWritable: Bool {
        guard self.eventLoop.inEventLoop else { return true }
        guard self.machine.sendsImmediately else { return false }
        return self.machine.activeWebSocket?.isWritable ?? true
    }

    /// Sends frames to the client, in order. Safe from any thread.
    public func send(_ frames: [EngineIOFrame]) {
        if self.eventLoop.inEventLoop {
            self.sendOnLoop(frames)
        } else {
            self.eventLoop.execute { self.sendOnLoop(frames) }
        }
    }

    /// Sends one frame to the client. Safe from any thread.
    public func send(_ frame: EngineIOFrame) {
        self.send([frame])
    }

    /// Sends a message to the client. Safe from any thread.
    public func send(_ message: EngineIOMessage) {
        self.send(EngineIOPacket.message(message).frame)
    }

    /// Sends frames; the caller must be on `eventLoop` (the fast path for broadcasts that
    /// already grouped recipients by loop).
    public func sendOnLoop(_ frames: [EngineIOFrame]) {
        self.eventLoop.assertInEventLoop()
        switch self.machine.send(frames) {
        case .write(let socket, let frames): socket.write(frames)
        case .respond(let poll, let frames): poll.respond(frames)
        case .overflow(let actions):
            self.server.limits.maxBufferedBytes.hit(self.server.logger)
            // The close runs after this call returns, never inside it: a sender may hold
            // its own lock or be in the middle of handling a message, and the close calls
            // back into the application (`sessionDidClose`). The state machine is closed
            // already, so nothing is sent or delivered meanwhile.
            let actions = NIOLoopBound(actions, eventLoop: self.eventLoop)
            self.eventLoop.execute { self.perform(actions.value) }
        case .buffered:
            self.accountBuffer()
        case .dropped:
            break
        }
    }

    /// Counts the buffer against the process-wide budget (only when it crosses a 64 KiB
    /// step). When the total passes the budget, the session with the largest backlog (this
    /// one or another) closes as a slow reader on its own loop, after the current call
    /// returns (as at ``EngineIOConfiguration/maxBufferedBytes``).
    private func accountBuffer() {
        self.budgetAccount.update(
            buffered: self.machine.bufferedBytes,
            budget: self.server.outboundBudget,
            drop: { [self] in self.eventLoop.execute { self.dropForBudget() } }
        )
    }

    /// Closes this session: its backlog was the largest when the process passed
    /// ``EngineIOConfiguration/maxTotalBufferedBytes``. On the loop.
    private func dropForBudget() {
        self.server.limits.maxTotalBufferedBytes.hit(self.server.logger, metadata: [EngineIOLoggingKeys.sid: "\(self.id)"])
        self.perform(self.machine.close(reason: .transportError, now: self.eventLoop.now))
    }

    // MARK: Backpressure

    /// Stops reading from the client until a matching ``resumeReading()``: the application
    /// cannot keep up (a full mailbox). Calls nest, and each call must be matched by exactly
    /// one resume; the two may reach the loop in either order (a resume that overtakes its
    /// pause cancels it, so reading is never left withheld). Over WebSocket the connection stops
    /// reading, so the client's bytes wait in the kernel and TCP flow control holds the
    /// client back; over polling the answer to the current POST waits, and a polling client
    /// sends its next POST only after that answer. That answer waits at most
    /// ``postAnswerHold`` (`min(pingTimeout / 2, 5 s)`), then is `ok` anyway: a proxy's read
    /// timeout (nginx `proxy_read_timeout`) and the client's POST timeout would otherwise
    /// count the held request as a failure, and the client could not send its pong. So
    /// over polling the pause bounds the rate, not the amount: while the application stays
    /// behind, each hold lets one more POST (at most `maxHttpBufferSize`) through.
    /// Safe from any thread.
    public func pauseReading() {
        self.onLoop { session in
            session.readPauses += 1
            if session.readPauses == 1 { session.applyReadPause() }
        }
    }

    /// Resumes reading after ``pauseReading()`` (or cancels the matching pause that has not
    /// reached the loop yet). Safe from any thread.
    public func resumeReading() {
        self.onLoop { session in
            session.readPauses -= 1
            // Only the step from paused (1) to reading (0) does anything; a resume that
            // overtook its pause leaves the count below zero and reading on.
            guard session.readPauses == 0 else { return }
            session.applyReadPause()
            session.answerDeferredPost()
        }
    }

    /// The longest a POST answer is held for backpressure: half the ping timeout (so a
    /// polling client's pong, sent in its next POST, is still on time), at most 5 s (well
    /// under common proxy and client timeouts).
    var postAnswerHold: TimeAmount {
        min(.nanoseconds(self.server.configuration.pingTimeout.nanoseconds / 2), .seconds(5))
    }

    /// Holds the answer of a POST that arrived while reading is paused, for at most
    /// ``postAnswerHold``.
    private func deferPostAnswer(_ responder: PollResponder) {
        self.answerDeferredPost()
        self.deferredPostAnswer = responder
        self.deferredPostTimer = self.eventLoop.scheduleTask(in: self.postAnswerHold) {
            self.deferredPostTimer = nil
            guard self.deferredPostAnswer === responder else { return }
            self.server.logger.debug(
                "POST answer held for backpressure past its limit: answered",
                metadata: [EngineIOLoggingKeys.sid: "\(self.id)"]
            )
            self.answerDeferredPost()
        }
    }

    /// Gives the held POST answer (if any) now.
    private func answerDeferredPost() {
        self.deferredPostTimer?.cancel()
        self.deferredPostTimer = nil
        if let responder = self.deferredPostAnswer {
            self.deferredPostAnswer = nil
            responder.respondOK()
        }
    }

    /// Tells the active WebSocket (if any) whether to read.
    private func applyReadPause() {
        if let socket = self.machine.activeWebSocket {
            socket.setReadingPaused(self.readPauses > 0)
        }
    }

    /// Closes the session from the server side. Safe from any thread.
    public func close() {
        self.close(reason: .forcedClose)
    }

    // MARK: Engine entry points

    package func close(reason: EngineIOCloseReason) {
        self.onLoop { $0.perform($0.machine.close(reason: reason, now: $0.eventLoop.now)) }
    }

    /// Starts the session: queues the open packet and tells the application.
    func start(openPacket: EngineIOFrame) {
        self.eventLoop.assertInEventLoop()
        self.sendOnLoop([openPacket])
        self.handler = self.server.delegate.sessionOpened(self)
        self.armTimer()
    }

    package func pollReceived(_ poll: PollResponder) {
        self.onLoop { $0.perform($0.machine.pollReceived(poll)) }
    }

    package func pollAbandoned(_ poll: PollResponder) {
        self.onLoop { $0.perform($0.machine.pollAbandoned(where: { $0 === poll })) }
    }

    package func postStarted() {
        self.onLoop { session in
            session.postsInFlight += 1
            if session.postsInFlight > 1 || session.deferredPostAnswer != nil {
                // Only one POST may be in flight (README "HTTP long-polling"); one whose
                // answer is held back for backpressure is still in flight for the client.
                session.server.logger.debug("overlapping POST", metadata: [EngineIOLoggingKeys.sid: "\(session.id)"])
                session.perform(session.machine.close(reason: .transportError))
            }
        }
    }

    /// What a polling POST delivered.
    package enum PostResult {
        case packets([EngineIOPacket])
        /// The body is not an Engine.IO payload.
        case invalid
        /// The request went away or was refused before its end (413).
        case aborted
    }

    /// A POST finished. The answer waits for the session's verdict: `ok`, or 400 when the
    /// session has moved to WebSocket (Node: transport mismatch) or the body is invalid.
    package func postFinished(_ result: PostResult, responder: PollResponder?) {
        self.onLoop { session in
            session.postsInFlight -= 1
            if session.machine.isClosed {
                responder?.reject(.unknownSessionID)
                return
            }
            if session.machine.isWebSocket {
                responder?.reject(.badRequest)
                return
            }
            switch result {
            case .packets(let packets):
                if session.readPauses > 0, let responder {
                    // Backpressure: the client waits for this answer before its next POST.
                    session.deferPostAnswer(responder)
                } else {
                    responder?.respondOK()
                }
                session.perform(session.machine.packetsReceived(packets, now: session.eventLoop.now))
            case .invalid:
                responder?.reject(.badRequest)
                session.perform(session.machine.close(reason: .parseError))
            case .aborted:
                break
            }
        }
    }

    package func upgradeRequested(_ socket: any EngineIOWebSocketWriter) {
        self.onLoop { session in
            if !session.machine.upgradeRequested(probe: socket, now: session.eventLoop.now) {
                socket.close()
            }
            session.armTimer()
        }
    }

    package func webSocketReceived(_ packet: EngineIOPacket, from socket: any EngineIOWebSocketWriter) {
        if self.eventLoop.inEventLoop {
            self.webSocketReceivedOnLoop(packet, from: socket)
        } else {
            self.eventLoop.execute { self.webSocketReceivedOnLoop(packet, from: socket) }
        }
    }

    private func webSocketReceivedOnLoop(_ packet: EngineIOPacket, from socket: any EngineIOWebSocketWriter) {
        // The hot path: a message on the active WebSocket goes straight to the handler.
        if case .message(let message) = packet, self.machine.isActiveWebSocket(socket) {
            if let address = self.halfOpenAddress { self.established(address) }
            self.handler?.sessionDidReceive(message)
            return
        }
        self.perform(self.machine.webSocketPacketReceived(packet, from: socket, now: self.eventLoop.now))
        // An upgrade may just have made `socket` the active transport: it inherits the pause.
        if self.readPauses > 0, self.machine.isActiveWebSocket(socket) {
            socket.setReadingPaused(true)
        }
    }

    /// The client sent its first message: the session is no longer half-open.
    private func established(_ address: String) {
        self.halfOpenAddress = nil
        self.server.releaseHalfOpen(address)
    }

    package func webSocketParseError(from socket: any EngineIOWebSocketWriter) {
        self.onLoop { $0.perform($0.machine.webSocketParseError(from: socket)) }
    }

    package func webSocketClosed(_ socket: any EngineIOWebSocketWriter, reason: EngineIOCloseReason) {
        self.onLoop { $0.perform($0.machine.webSocketClosed(socket, reason: reason)) }
    }

    // MARK: Execution

    private func onLoop(_ body: @escaping @Sendable (EngineIOSession) -> Void) {
        if self.eventLoop.inEventLoop {
            body(self)
        } else {
            self.eventLoop.execute { body(self) }
        }
    }

    private func perform(_ actions: [StateMachine.Action]) {
        for action in actions {
            switch action {
            case .respond(let poll, let frames):
                poll.respond(frames)
            case .reject(let poll, let error):
                poll.reject(error)
            case .write(let socket, let frames):
                socket.write(frames)
            case .closeSocket(let socket):
                socket.close()
            case .goAway(let socket):
                socket.goAway()
            case .startUpgradeCheck(let interval):
                self.startUpgradeCheck(every: interval)
            case .stopUpgradeCheck:
                self.stopUpgradeCheck()
            case .upgraded:
                self.upgraded.store(true, ordering: .relaxed)
                self.server.metrics.sessionUpgraded()
            case .deliver(let message):
                if let address = self.halfOpenAddress { self.established(address) }
                self.handler?.sessionDidReceive(message)
            case .closed(let reason):
                self.finish(reason: reason)
                return
            }
        }
        self.accountBuffer()
        self.armTimer()
    }

    private func finish(reason: EngineIOCloseReason) {
        self.timer?.cancel()
        self.timer = nil
        self.timerDeadline = nil
        // The machine stops the check before it closes; this only makes sure of it.
        self.stopUpgradeCheck()
        if let address = self.halfOpenAddress { self.established(address) }
        self.budgetAccount.release(budget: self.server.outboundBudget)
        self.answerDeferredPost()
        self.server.sessionClosed(self, reason: reason)
        let handler = self.handler
        self.handler = nil
        handler?.sessionDidClose(reason: reason)
    }

    /// Starts the upgrade check, replacing any running one (there is never more than one).
    private func startUpgradeCheck(every interval: TimeAmount) {
        self.upgradeCheck?.cancel()
        // A strong capture, as for `timer`: the machine stops the check when the upgrade
        // ends, and `finish()` when the session does.
        self.upgradeCheck = self.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            self.perform(self.machine.upgradeCheckFired())
        }
    }

    private func stopUpgradeCheck() {
        self.upgradeCheck?.cancel()
        self.upgradeCheck = nil
    }

    /// Keeps one timer armed at the earliest deadline. A later deadline does not re-arm:
    /// the timer fires early, the state machine sees nothing due, and the timer is re-armed
    /// then (cheaper than cancelling on every pong).
    private func armTimer() {
        guard let deadline = self.machine.nextDeadline else { return }
        if let current = self.timerDeadline, current <= deadline { return }
        self.timer?.cancel()
        self.timerDeadline = deadline
        // A strong capture: `finish()` cancels the timer, which ends the cycle. (A weak
        // reference would give every session a side table and slow each of its retains.)
        self.timer = self.eventLoop.scheduleTask(deadline: deadline) {
            self.timer = nil
            self.timerDeadline = nil
            self.perform(self.machine.timerFired(now: self.eventLoop.now))
        }
    }
}

/// The transport an Engine.IO session uses.
public enum EngineIOTransportKind: String, Sendable, Hashable {
    case polling
    case websocket
}
