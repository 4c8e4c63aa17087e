//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import DequeModule
public import EngineIOParser
public import NIOCore

/// The transport-level state of one Engine.IO v4 session, as a pure state machine.
///
/// It decides everything the protocol decides (engine.io-protocol README; Node
/// `packages/engine.io/lib/socket.ts` and `transports/polling.ts`): which pending GET gets
/// which frames, the upgrade handshake, heartbeats, and how each kind of close is told to
/// the client. It performs no I/O and reads no clock: `Poll` is a handle on a pending
/// polling GET and `Socket` a handle on a WebSocket; the session executes the actions.
///
/// `Socket` handles are told apart by identity: `===` for a class; the session's
/// `any EngineIOWebSocketWriter` (a class-bound existential, which is not a class type and
/// so cannot satisfy an `AnyObject` constraint) passes its own `===`, a pointer comparison.
public struct EngineIOSessionStateMachine<Poll, Socket> {
    /// Where the session's outbound frames go.
    enum Transport {
        /// Long-polling. `pendingGet` is the GET the server is holding.
        case polling(pendingGet: Poll?)
        /// Long-polling, with a WebSocket being probed (`2probe`/`3probe`, then `5`).
        case upgrading(pendingGet: Poll?, probe: Socket, deadline: NIODeadline)
        /// Upgraded, or a WebSocket-only session.
        case websocket(Socket)
        /// Server-initiated close over polling: the buffer (ending with `1`, except on
        /// shutdown) waits for the next GET until the deadline, then the session closes
        /// with `reason`.
        case closing(deadline: NIODeadline, reason: EngineIOCloseReason)
        case closed
    }

    /// An effect the session must carry out, in order.
    public enum Action {
        /// Answer a pending GET with `200` and these frames as a payload.
        case respond(Poll, [EngineIOFrame])
        /// Answer a request with an HTTP error.
        case reject(Poll, EngineIORequestError)
        /// Write these frames to a WebSocket and flush.
        case write(Socket, [EngineIOFrame])
        /// Close a WebSocket (after writing anything queued before).
        case closeSocket(Socket)
        /// Close a WebSocket as "going away" (1001), after writing anything queued before:
        /// the server is stopping (see ``close(reason:now:)``).
        case goAway(Socket)
        /// Hand a message to the application.
        case deliver(EngineIOMessage)
        /// Start the upgrade check: call ``upgradeCheckFired()`` every `interval` until
        /// ``stopUpgradeCheck``. At most one is running per session.
        case startUpgradeCheck(interval: TimeAmount)
        /// Stop the upgrade check (the upgrade completed or failed, or the session closed).
        case stopUpgradeCheck
        /// The session moved to its WebSocket: its transport is `websocket` from now on.
        case upgraded(Socket)
        /// The session is over: tell the application and forget the session.
        case closed(EngineIOCloseReason)
    }

    /// How a frame handed to ``send(_:)`` leaves.
    public enum SendAction {
        case respond(Poll, [EngineIOFrame])
        case write(Socket, [EngineIOFrame])
        /// Buffered until the next GET (or the end of an upgrade).
        case buffered
        /// The outbound buffer passed its limit: the session closed.
        case overflow([Action])
        /// The session is closed; the frames are dropped.
        case dropped
    }

    private(set) var transport: Transport
    /// Frames waiting for a GET. A ring buffer: a poll takes its batch from the front in
    /// O(batch), however many small frames wait behind it. A `Deque`, not NIO's
    /// `CircularBuffer`: an empty `Deque` allocates nothing, while a `CircularBuffer` allocates
    /// room for 16 frames up front (about 1 KB on every session, WebSocket ones included).
    private(set) var buffer = Deque<EngineIOFrame>()
    /// Bytes of the frames waiting in the buffer.
    private(set) var bufferedBytes = 0
    private(set) var heartbeat: Heartbeat
    /// Whether the upgrade check is running: from the probe (`2probe`) until the session
    /// leaves `upgrading`. Only ever `true` while upgrading.
    public private(set) var isUpgradeCheckRunning = false
    let upgradeTimeout: TimeAmount
    let upgradeCheckInterval: TimeAmount
    let closeTimeout: TimeAmount
    /// How long a polling session closed by a shutdown waits for the GETs that take what was
    /// buffered for it (a live client sends its next GET at once).
    let drainTimeout: TimeAmount
    let maxBufferedBytes: Int
    let maxPacketsPerPoll: Int
    /// Whether two socket handles are the same WebSocket (reference identity). A generic
    /// `as AnyObject` comparison would cost two runtime casts per inbound message.
    private let isSameSocket: (Socket, Socket) -> Bool

    /// Starts a session whose open packet goes out at `now`.
    ///
    /// - Parameters:
    ///   - webSocket: the WebSocket of a WebSocket-only session; `nil` for a polling handshake.
    public init(
        now: NIODeadline,
        webSocket: Socket?,
        pingInterval: TimeAmount,
        pingTimeout: TimeAmount,
        upgradeTimeout: TimeAmount = .seconds(10),
        upgradeCheckInterval: TimeAmount = .milliseconds(100),
        closeTimeout: TimeAmount = .seconds(30),
        drainTimeout: TimeAmount = .seconds(5),
        maxBufferedBytes: Int = 16 * 1024 * 1024,
        maxPacketsPerPoll: Int = .max
    ) where Socket: AnyObject {
        self.init(
            now: now,
            webSocket: webSocket,
            pingInterval: pingInterval,
            pingTimeout: pingTimeout,
            upgradeTimeout: upgradeTimeout,
            upgradeCheckInterval: upgradeCheckInterval,
            closeTimeout: closeTimeout,
            drainTimeout: drainTimeout,
            maxBufferedBytes: maxBufferedBytes,
            maxPacketsPerPoll: maxPacketsPerPoll,
            isSameSocket: { $0 === $1 }
        )
    }

    /// Starts a session whose open packet goes out at `now`, for socket handles that are not
    /// a class type (a class-bound existential).
    ///
    /// - Parameters:
    ///   - webSocket: the WebSocket of a WebSocket-only session; `nil` for a polling handshake.
    ///   - isSameSocket: whether two handles are the same WebSocket (their `===`).
    public init(
        now: NIODeadline,
        webSocket: Socket?,
        pingInterval: TimeAmount,
        pingTimeout: TimeAmount,
        upgradeTimeout: TimeAmount = .seconds(10),
        upgradeCheckInterval: TimeAmount = .milliseconds(100),
        closeTimeout: TimeAmount = .seconds(30),
        drainTimeout: TimeAmount = .seconds(5),
        maxBufferedBytes: Int = 16 * 1024 * 1024,
        maxPacketsPerPoll: Int = .max,
        isSameSocket: @escaping (Socket, Socket) -> Bool
    ) {
        self.isSameSocket = isSameSocket
        self.transport = webSocket.map { .websocket($0) } ?? .polling(pendingGet: nil)
        self.heartbeat = Heartbeat(now: now, interval: pingInterval, timeout: pingTimeout)
        self.upgradeTimeout = upgradeTimeout
        self.upgradeCheckInterval = max(upgradeCheckInterval, .milliseconds(1))
        self.closeTimeout = closeTimeout
        self.drainTimeout = drainTimeout
        self.maxBufferedBytes = maxBufferedBytes
        self.maxPacketsPerPoll = max(1, maxPacketsPerPoll)
    }

    /// Whether the session has ended.
    public var isClosed: Bool {
        if case .closed = self.transport { return true }
        return false
    }

    /// Whether the session's frames travel over a WebSocket.
    public var isWebSocket: Bool {
        if case .websocket = self.transport { return true }
        return false
    }

    /// Whether a frame sent now would leave at once instead of waiting in the buffer
    /// (Node's `transport.writable`): a polling GET is waiting for it, or the session
    /// travels over a WebSocket (whose own backpressure the session checks).
    public var sendsImmediately: Bool {
        switch self.transport {
        case .polling(let pendingGet), .upgrading(let pendingGet, _, _): return pendingGet != nil
        case .websocket: return true
        case .closing, .closed: return false
        }
    }

    /// The session's active WebSocket, if it travels over one.
    public var activeWebSocket: Socket? {
        if case .websocket(let socket) = self.transport { return socket }
        return nil
    }

    /// Whether `socket` is the session's active WebSocket.
    public func isActiveWebSocket(_ socket: Socket) -> Bool {
        if case .websocket(let active) = self.transport { return self.isSameSocket(active, socket) }
        return false
    }

    /// The next moment ``timerFired(now:)`` must run.
    public var nextDeadline: NIODeadline? {
        switch self.transport {
        case .closed: return nil
        case .closing(let deadline, _): return deadline
        case .upgrading(_, _, let deadline): return min(deadline, self.heartbeat.deadline)
        case .polling, .websocket: return self.heartbeat.deadline
        }
    }

    // MARK: Outbound

    /// The application (or the heartbeat) sends frames.
    public mutating func send(_ frames: [EngineIOFrame]) -> SendAction {
        switch self.transport {
        case .websocket(let socket):
            return .write(socket, frames)
        case .polling(.some(let poll)):
            self.transport = .polling(pendingGet: nil)
            self.append(frames)
            return .respond(poll, self.takePollBatch())
        case .upgrading(.some(let poll), let probe, let deadline):
            // Until the upgrade completes, polling is the session's transport and a pending
            // GET carries frames (Node flushes to it while it is writable): the CONNECT
            // reply to a client that just probed leaves now, not after the upgrade.
            self.transport = .upgrading(pendingGet: nil, probe: probe, deadline: deadline)
            self.append(frames)
            return .respond(poll, self.takePollBatch())
        case .polling(.none), .upgrading(.none, _, _):
            // Without a GET, frames wait for the next one or, once upgraded, the WebSocket.
            self.append(frames)
            if self.bufferedBytes > self.maxBufferedBytes {
                return .overflow(self.close(reason: .transportError))
            }
            return .buffered
        case .closing, .closed:
            return .dropped
        }
    }

    private mutating func append(_ frames: [EngineIOFrame]) {
        for frame in frames {
            self.bufferedBytes += frame.payloadLength
            self.buffer.append(frame)
        }
    }

    /// The frames for one polling response: at most `maxPacketsPerPoll`, the rest waits for
    /// the next GET (python-engineio's client refuses payloads of more than 16 packets).
    private mutating func takePollBatch() -> [EngineIOFrame] {
        guard self.buffer.count > self.maxPacketsPerPoll else { return self.takeBuffer() }
        var batch: [EngineIOFrame] = []
        batch.reserveCapacity(self.maxPacketsPerPoll)
        for _ in 0..<self.maxPacketsPerPoll {
            let frame = self.buffer.removeFirst()
            self.bufferedBytes -= frame.payloadLength
            batch.append(frame)
        }
        return batch
    }

    private mutating func takeBuffer(appending frames: [EngineIOFrame] = []) -> [EngineIOFrame] {
        if self.buffer.isEmpty { return frames }
        var all = Array(self.buffer)
        all.append(contentsOf: frames)
        self.buffer.removeAll()
        self.bufferedBytes = 0
        return all
    }

    // MARK: Polling

    /// A polling GET arrived for this session.
    public mutating func pollReceived(_ poll: Poll) -> [Action] {
        switch self.transport {
        case .polling(.none):
            if self.buffer.isEmpty {
                self.transport = .polling(pendingGet: poll)
                return []
            }
            return [.respond(poll, self.takePollBatch())]
        case .polling(.some(let pending)):
            // Only one GET may be in flight (README "HTTP long-polling"): refuse the new one
            // and close the session, which answers the pending GET with `1`.
            self.transport = .polling(pendingGet: nil)
            self.buffer.removeAll()
            self.bufferedBytes = 0
            self.transport = .closed
            return [.reject(poll, .badRequest), .respond(pending, [.text(type: .close)]), .closed(.transportError)]
        case .upgrading(.some(let pending), let probe, let deadline):
            // Two GETs during an upgrade: the client is moving to the WebSocket, so both are
            // released with a noop rather than closing the session.
            self.transport = .upgrading(pendingGet: nil, probe: probe, deadline: deadline)
            return [.respond(pending, [.text(type: .noop)]), .respond(poll, [.text(type: .noop)])]
        case .upgrading(.none, let probe, let deadline):
            // Polling is still the transport: the GET takes what waits, or is held. Once
            // the client has probed, the upgrade check releases it with a noop.
            if self.buffer.isEmpty {
                self.transport = .upgrading(pendingGet: poll, probe: probe, deadline: deadline)
                return []
            }
            return [.respond(poll, self.takePollBatch())]
        case .websocket:
            // Polling after the upgrade: transport mismatch (Node `verify()`, code 3).
            return [.reject(poll, .badRequest)]
        case .closing(_, let reason) where reason == .serverShuttingDown:
            // Shutdown: the GETs take what was buffered, in batches a client accepts, with
            // no `1`; the session closes once nothing is left.
            let batch = self.takePollBatch()
            guard self.buffer.isEmpty else { return [.respond(poll, batch)] }
            self.transport = .closed
            return [.respond(poll, batch.isEmpty ? [.text(type: .noop)] : batch), .closed(reason)]
        case .closing(_, let reason):
            // The buffer already ends with the `1` queued by `close`.
            self.transport = .closed
            return [.respond(poll, self.takeBuffer()), .closed(reason)]
        case .closed:
            return [.reject(poll, .unknownSessionID)]
        }
    }

    /// The connection of the pending GET went away before it was answered.
    ///
    /// Node closes the session ("poll connection closed prematurely"): a polling client
    /// without its GET can no longer be reached.
    public mutating func pollAbandoned(where isPoll: (Poll) -> Bool) -> [Action] {
        switch self.transport {
        case .polling(.some(let pending)) where isPoll(pending):
            self.transport = .polling(pendingGet: nil)
            return self.close(reason: .transportClose)
        case .upgrading(.some(let pending), let probe, let deadline) where isPoll(pending):
            // During an upgrade the GET is expected to go away.
            self.transport = .upgrading(pendingGet: nil, probe: probe, deadline: deadline)
            return []
        default:
            return []
        }
    }

    /// Packets arrived in a polling POST (or on the active WebSocket).
    public mutating func packetsReceived(_ packets: [EngineIOPacket], now: NIODeadline) -> [Action] {
        var actions: [Action] = []
        for packet in packets {
            actions.append(contentsOf: self.packetReceived(packet, now: now))
            if self.isClosed { break }
        }
        return actions
    }

    /// One packet arrived from the client on its active transport.
    public mutating func packetReceived(_ packet: EngineIOPacket, now: NIODeadline) -> [Action] {
        switch self.transport {
        case .closed, .closing:
            // Once the server closed the session, nothing the client sends counts any more
            // (no new namespace sockets on a connection closed for a parse error).
            return []
        default:
            break
        }
        switch packet {
        case .message(let message):
            return [.deliver(message)]
        case .pong:
            self.heartbeat.pongReceived(now: now)
            return []
        case .close:
            // The client closes: over polling the pending GET is answered with `6`
            // (Node `polling.ts onClose`; the conformance suite expects it).
            var actions: [Action] = []
            switch self.transport {
            case .polling(.some(let pending)), .upgrading(.some(let pending), _, _):
                actions.append(.respond(pending, [.text(type: .noop)]))
            default: break
            }
            if case .upgrading(_, let probe, _) = self.transport { actions.append(.closeSocket(probe)) }
            if case .websocket(let socket) = self.transport { actions.append(.closeSocket(socket)) }
            self.stopUpgradeCheck(&actions)
            self.transport = .closed
            self.buffer.removeAll()
            self.bufferedBytes = 0
            actions.append(.closed(.transportClose))
            return actions
        case .ping, .open, .noop, .upgrade:
            // A v4 client never sends `2` outside a probe ("invalid heartbeat direction"),
            // nor open/noop; `5` belongs on the probing WebSocket only.
            return self.close(reason: .parseError)
        }
    }

    // MARK: WebSocket

    /// A WebSocket arrived for this (polling) session: start probing it.
    ///
    /// - Returns: `false` when the session cannot upgrade now (already upgrading or
    ///   upgraded, or closing): the caller closes that WebSocket at once, as Node does.
    public mutating func upgradeRequested(probe: Socket, now: NIODeadline) -> Bool {
        guard case .polling(let pending) = self.transport else { return false }
        self.transport = .upgrading(pendingGet: pending, probe: probe, deadline: now + self.upgradeTimeout)
        return true
    }

    /// A packet arrived on a WebSocket of this session (the probe or the active one).
    public mutating func webSocketPacketReceived(_ packet: EngineIOPacket, from socket: Socket, now: NIODeadline) -> [Action] {
        switch self.transport {
        case .websocket(let active) where self.isSameSocket(active, socket):
            return self.packetReceived(packet, now: now)
        case .upgrading(let pending, let probe, _) where self.isSameSocket(probe, socket):
            switch packet {
            case .ping(let data) where data.readableBytesView.elementsEqual("probe".utf8):
                // Answer the probe. The pending GET stays: what the application sends next
                // (the CONNECT reply) may still leave on it. The upgrade check releases it
                // within `upgradeCheckInterval` if nothing does, so that the client, which
                // pauses polling until its GET returns, can send `5` (Node `_maybeUpgrade`).
                var actions: [Action] = [.write(probe, [.text(type: .pong, data: data)])]
                if !self.isUpgradeCheckRunning {
                    self.isUpgradeCheckRunning = true
                    actions.append(.startUpgradeCheck(interval: self.upgradeCheckInterval))
                }
                return actions
            case .upgrade:
                var actions: [Action] = []
                self.stopUpgradeCheck(&actions)
                if let pending { actions.append(.respond(pending, [.text(type: .noop)])) }
                self.transport = .websocket(probe)
                actions.append(.upgraded(probe))
                let buffered = self.takeBuffer()
                if !buffered.isEmpty { actions.append(.write(probe, buffered)) }
                return actions
            default:
                // Anything else on a probe: drop the probe, keep polling (Node `_maybeUpgrade`).
                var actions: [Action] = []
                self.stopUpgradeCheck(&actions)
                self.transport = .polling(pendingGet: pending)
                actions.append(.closeSocket(probe))
                return actions
            }
        default:
            // A frame from a WebSocket this session no longer uses.
            return [.closeSocket(socket)]
        }
    }

    /// A WebSocket of this session closed (or failed).
    public mutating func webSocketClosed(_ socket: Socket, reason: EngineIOCloseReason) -> [Action] {
        switch self.transport {
        case .websocket(let active) where self.isSameSocket(active, socket):
            self.transport = .closed
            return [.closed(reason)]
        case .upgrading(let pending, let probe, _) where self.isSameSocket(probe, socket):
            var actions: [Action] = []
            self.stopUpgradeCheck(&actions)
            self.transport = .polling(pendingGet: pending)
            return actions
        default:
            return []
        }
    }

    /// The WebSocket of this session delivered bytes that are not Engine.IO.
    public mutating func webSocketParseError(from socket: Socket) -> [Action] {
        switch self.transport {
        case .websocket(let active) where self.isSameSocket(active, socket):
            return self.close(reason: .parseError)
        case .upgrading(let pending, let probe, _) where self.isSameSocket(probe, socket):
            var actions: [Action] = []
            self.stopUpgradeCheck(&actions)
            self.transport = .polling(pendingGet: pending)
            actions.append(.closeSocket(probe))
            return actions
        default:
            return [.closeSocket(socket)]
        }
    }

    /// The upgrade check: while the client probes, a GET still pending gets a noop (Node
    /// writes one when the polling transport is writable), so that the client, which holds
    /// its upgrade until its poll returns, never waits for a heartbeat. A GET answered
    /// with a frame since needs nothing; the check runs on until the upgrade ends.
    public mutating func upgradeCheckFired() -> [Action] {
        guard self.isUpgradeCheckRunning, case .upgrading(let pending, let probe, let deadline) = self.transport else {
            // A check the machine no longer wants (it should have been stopped): stop it.
            self.isUpgradeCheckRunning = false
            return [.stopUpgradeCheck]
        }
        guard let pending else { return [] }
        self.transport = .upgrading(pendingGet: nil, probe: probe, deadline: deadline)
        return [.respond(pending, [.text(type: .noop)])]
    }

    /// Stops the upgrade check if it runs: called on every way out of `upgrading`.
    private mutating func stopUpgradeCheck(_ actions: inout [Action]) {
        guard self.isUpgradeCheckRunning else { return }
        self.isUpgradeCheckRunning = false
        actions.append(.stopUpgradeCheck)
    }

    // MARK: Time and close

    /// The session timer fired.
    public mutating func timerFired(now: NIODeadline) -> [Action] {
        var actions: [Action] = []
        switch self.transport {
        case .closed:
            return []
        case .closing(let deadline, let reason):
            if now >= deadline {
                self.transport = .closed
                self.buffer.removeAll()
                self.bufferedBytes = 0
                return [.closed(reason)]
            }
            return []
        case .upgrading(let pending, let probe, let deadline) where now >= deadline:
            // The client did not finish the upgrade in time.
            self.stopUpgradeCheck(&actions)
            self.transport = .polling(pendingGet: pending)
            actions.append(.closeSocket(probe))
        default:
            break
        }
        switch self.heartbeat.timerFired(now: now) {
        case .wait:
            return actions
        case .timedOut:
            return actions + self.close(reason: .pingTimeout)
        case .sendPing:
            switch self.send([.text(type: .ping)]) {
            case .respond(let poll, let frames): actions.append(.respond(poll, frames))
            case .write(let socket, let frames): actions.append(.write(socket, frames))
            case .overflow(let more): actions.append(contentsOf: more)
            case .buffered, .dropped: break
            }
            return actions
        }
    }

    /// Closes the session from the server side.
    ///
    /// Over WebSocket the client gets `1` and the socket closes. Over polling the pending GET
    /// gets the buffered frames and `1`; with no GET pending, `1` waits for the next GET
    /// until `closeTimeout` (Node `polling.ts doClose`).
    ///
    /// ``EngineIOCloseReason/serverShuttingDown`` closes differently: see ``shutDown(reason:now:)``.
    public mutating func close(reason: EngineIOCloseReason, now: NIODeadline? = nil) -> [Action] {
        if reason == .serverShuttingDown { return self.shutDown(reason: reason, now: now) }
        switch self.transport {
        case .closed, .closing:
            return []
        case .websocket(let socket):
            self.transport = .closed
            return [.write(socket, [.text(type: .close)]), .closeSocket(socket), .closed(reason)]
        case .polling(let pending), .upgrading(let pending, _, _):
            var actions: [Action] = []
            self.stopUpgradeCheck(&actions)
            if case .upgrading(_, let probe, _) = self.transport { actions.append(.closeSocket(probe)) }
            if let pending {
                actions.append(.respond(pending, self.takeBuffer(appending: [.text(type: .close)])))
                self.transport = .closed
                actions.append(.closed(reason))
            } else if reason == .forcedClose, let now {
                self.buffer.append(.text(type: .close))
                self.transport = .closing(deadline: now + self.closeTimeout, reason: reason)
            } else {
                self.transport = .closed
                self.buffer.removeAll()
                self.bufferedBytes = 0
                actions.append(.closed(reason))
            }
            return actions
        }
    }

    /// Ends the session because the server stops, so that the client takes it for a lost
    /// transport and reconnects (to another node behind a load balancer).
    ///
    /// No `1` goes out: python-engineio's client takes a `1` for a server disconnect and
    /// python-socketio then does not reconnect, while both it and socket.io-client reconnect
    /// after a transport that fails. So a WebSocket gets what was written before and a close
    /// frame 1001 (going away). Over polling the pending GET gets a noop (a pending GET means
    /// nothing is buffered); with no GET pending, buffered frames wait for the client's next
    /// GETs until `drainTimeout`, then the session closes. Either way the client's next
    /// request finds the session gone (400, or a refused connection once the listener is
    /// closed): a transport error.
    mutating func shutDown(reason: EngineIOCloseReason, now: NIODeadline?) -> [Action] {
        var actions: [Action] = []
        switch self.transport {
        case .closed:
            return []
        case .closing(let deadline, let closingReason):
            // Closing already (its `1` waits for a GET): no longer than a drain.
            if let now { self.transport = .closing(deadline: min(deadline, now + self.drainTimeout), reason: closingReason) }
            return []
        case .websocket(let socket):
            actions.append(.goAway(socket))
        case .polling(let pending), .upgrading(let pending, _, _):
            self.stopUpgradeCheck(&actions)
            if case .upgrading(_, let probe, _) = self.transport { actions.append(.goAway(probe)) }
            if let pending {
                actions.append(.respond(pending, [.text(type: .noop)]))
            } else if !self.buffer.isEmpty, let now {
                self.transport = .closing(deadline: now + self.drainTimeout, reason: reason)
                return actions
            }
        }
        self.transport = .closed
        self.buffer.removeAll()
        self.bufferedBytes = 0
        actions.append(.closed(reason))
        return actions
    }
}
