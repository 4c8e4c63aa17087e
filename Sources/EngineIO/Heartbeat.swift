//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import NIOCore

/// The Engine.IO v4 server-side heartbeat (engine.io-protocol README, "Heartbeat").
///
/// `pingInterval` after the open (or after the last pong) the server sends `2`; if no `3`
/// arrives within `pingTimeout` the session is closed with reason "ping timeout". The next
/// ping is due `pingInterval` after the pong, not after the previous ping (Node `socket.ts`
/// `schedulePing`). Pure: the caller passes the current time and executes the result.
public struct Heartbeat: Sendable, Hashable {
    enum State: Sendable, Hashable {
        case waitingToPing(due: NIODeadline)
        case awaitingPong(timeout: NIODeadline)
    }

    /// What the caller must do after the timer fired.
    public enum TimerAction: Sendable, Hashable {
        /// Send a ping now; the pong is due by the deadline.
        case sendPing
        /// No pong arrived in time: close the session.
        case timedOut
        /// Nothing is due yet.
        case wait
    }

    let interval: TimeAmount
    let timeout: TimeAmount
    private(set) var state: State

    /// Starts the heartbeat at `now` (the moment the open packet is sent).
    public init(now: NIODeadline, interval: TimeAmount, timeout: TimeAmount) {
        self.interval = interval
        self.timeout = timeout
        self.state = .waitingToPing(due: now + interval)
    }

    /// When the caller must call ``timerFired(now:)`` next.
    public var deadline: NIODeadline {
        switch self.state {
        case .waitingToPing(let due): return due
        case .awaitingPong(let timeout): return timeout
        }
    }

    /// The timer fired (it may fire early or late; the state decides what is due).
    public mutating func timerFired(now: NIODeadline) -> TimerAction {
        switch self.state {
        case .waitingToPing(let due):
            guard now >= due else { return .wait }
            self.state = .awaitingPong(timeout: now + self.timeout)
            return .sendPing
        case .awaitingPong(let timeout):
            guard now >= timeout else { return .wait }
            return .timedOut
        }
    }

    /// A pong arrived. A pong that was not asked for is accepted and changes nothing
    /// (the JS client never sends one unprompted, but a late one is harmless).
    public mutating func pongReceived(now: NIODeadline) {
        if case .awaitingPong = self.state {
            self.state = .waitingToPing(due: now + self.interval)
        }
    }
}
