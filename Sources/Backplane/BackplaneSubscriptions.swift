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

    private let state: NIOLockedValueBox<Snapshot>

    public init(_ initial: [BackplaneSubscription] = []) {
        var unique: [BackplaneSubscription] = []
        for subscription in initial where !unique.contains(subscription) { unique.append(subscription) }
        self.state = NIOLockedValueBox(Snapshot(subscriptions: unique, version: unique.isEmpty ? 0 : 1))
    }

    /// Adds subscriptions; returns whether the set changed.
    @discardableResult
    public func add(_ subscriptions: [BackplaneSubscription]) -> Bool {
        self.state.withLockedValue { state in
            let before = state.subscriptions.count
            for subscription in subscriptions where !state.subscriptions.contains(subscription) {
                state.subscriptions.append(subscription)
            }
            guard state.subscriptions.count != before else { return false }
            state.version += 1
            return true
        }
    }

    public var snapshot: Snapshot { self.state.withLockedValue { $0 } }
    public var version: Int { self.state.withLockedValue { $0.version } }
    public var isEmpty: Bool { self.state.withLockedValue { $0.subscriptions.isEmpty } }
}
