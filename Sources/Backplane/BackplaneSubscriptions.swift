//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import NIOConcurrencyHelpers

/// A transport's subscriptions, shared by the caller (`subscribe`) and the receiving thread.
/// The set only grows; every change bumps `version`, so that the receiving thread notices
/// it (and the broker confirms it) without comparing sets.
public final class BackplaneSubscriptions: Sendable {
    public struct Snapshot: Sendable, Hashable {
        /// In the order they were first added, without repeats.
        public var subscriptions: [BackplaneSubscription]
        public var version: Int

        /// Whether a message on `channel` belongs to one of the subscriptions.
        public func matches(_ channel: String) -> Bool {
            self.subscriptions.contains { $0.matches(channel) }
        }

        public var channels: [String] {
            self.subscriptions.compactMap { if case .channel(let name) = $0 { name } else { nil } }
        }

        public var patterns: [String] {
            self.subscriptions.compactMap { if case .pattern(let glob) = $0 { glob } else { nil } }
        }
    }

    private struct State {
        var wanted: Snapshot
        /// The version the broker confirmed on the live connection; 0: none (connecting,
        /// reconnecting, or stopped).
        var confirmed = 0
    }

    private let state: NIOLockedValueBox<State>

    public init(_ initial: [BackplaneSubscription] = []) {
        var unique: [BackplaneSubscription] = []
        for subscription in initial where !unique.contains(subscription) { unique.append(subscription) }
        self.state = NIOLockedValueBox(State(wanted: Snapshot(subscriptions: unique, version: unique.isEmpty ? 0 : 1)))
    }

    /// Adds subscriptions; returns whether the set changed.
    @discardableResult
    public func add(_ subscriptions: [BackplaneSubscription]) -> Bool {
        self.state.withLockedValue { state in
            let before = state.wanted.subscriptions.count
            for subscription in subscriptions where !state.wanted.subscriptions.contains(subscription) {
                state.wanted.subscriptions.append(subscription)
            }
            guard state.wanted.subscriptions.count != before else { return false }
            state.wanted.version += 1
            return true
        }
    }

    public var snapshot: Snapshot { self.state.withLockedValue { $0.wanted } }
    public var version: Int { self.state.withLockedValue { $0.wanted.version } }
    public var isEmpty: Bool { self.state.withLockedValue { $0.wanted.subscriptions.isEmpty } }

    /// The receiving thread: the broker confirmed the subscriptions of `version` on the
    /// live connection.
    public func confirm(_ version: Int) {
        self.state.withLockedValue { $0.confirmed = version }
    }

    /// The receiving thread: the connection is gone; nothing is confirmed until the next.
    public func unconfirm() {
        self.state.withLockedValue { $0.confirmed = 0 }
    }

    /// Whether every subscription added so far is confirmed (a transport's `isSubscribed`).
    public var isConfirmed: Bool {
        self.state.withLockedValue { $0.confirmed > 0 && $0.confirmed == $0.wanted.version }
    }

    /// A receiving thread's `ready` for ``BlockingClient``: whether there is anything to
    /// subscribe to. While the set is empty (an emitter that asked for nothing yet) it
    /// waits a moment, interruptibly, and says no, so that no connection is kept for nothing.
    public func waitForAny(stop: StopSignal) -> Bool {
        if stop.isStopped { return false }
        guard self.isEmpty else { return true }
        stop.sleep(.milliseconds(100))
        return false
    }
}
