//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

/// Dead-broker detection for an idle subscriber connection, without a receive timeout: a
/// pure state machine (the subscriber thread executes its actions, passing the time).
///
/// A quiet channel is normal, so silence alone proves nothing. After `pingInterval` with
/// nothing heard the subscriber sends `PING` (Redis allows it in subscribed mode and
/// answers `["pong", ""]`); if nothing at all arrives within `pingTimeout` of that, the
/// connection is dead. Anything received (a message or the pong) proves it alive.
public struct SubscriberLiveness: Sendable {
    public struct Configuration: Sendable, Hashable {
        public var pingInterval: Duration
        public var pingTimeout: Duration
        public init(pingInterval: Duration = .seconds(15), pingTimeout: Duration = .seconds(5)) {
            self.pingInterval = pingInterval
            self.pingTimeout = pingTimeout
        }
    }

    public enum Action: Sendable, Hashable {
        /// Wait for data until then (then ask again).
        case wait(until: ContinuousClock.Instant)
        /// Send a PING now (then ask again).
        case sendPing
        /// No answer to the PING in time: drop the connection and reconnect.
        case dead
    }

    public let configuration: Configuration
    private var lastHeard: ContinuousClock.Instant
    private var pingSent: ContinuousClock.Instant?

    public init(configuration: Configuration = Configuration(), now: ContinuousClock.Instant) {
        self.configuration = configuration
        self.lastHeard = now
    }

    /// Something arrived on the connection.
    public mutating func heard(now: ContinuousClock.Instant) {
        self.lastHeard = now
        self.pingSent = nil
    }

    /// What to do next.
    public mutating func next(now: ContinuousClock.Instant) -> Action {
        if let pingSent {
            let deadline = pingSent + self.configuration.pingTimeout
            return now >= deadline ? .dead : .wait(until: deadline)
        }
        let due = self.lastHeard + self.configuration.pingInterval
        guard now >= due else { return .wait(until: due) }
        self.pingSent = now
        return .sendPing
    }
}
