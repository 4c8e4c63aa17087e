//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import Foundation

/// A transport's one stop signal, shared by its blocking threads: set once at shutdown; every
/// sleep on it (backoffs, idle waits) and every wait of the ``PublishQueue`` built on it ends
/// at once when it is set.
///
/// `@unchecked Sendable`: `stopped` is read and written with `condition` locked.
public final class StopSignal: @unchecked Sendable {
    /// Also the ``PublishQueue``'s lock, so that one broadcast wakes every waiter.
    let condition = NSCondition()
    private var stopped = false

    public init() {}

    /// Sets the signal and wakes every sleeper.
    public func stop() {
        self.condition.lock()
        self.stopped = true
        self.condition.broadcast()
        self.condition.unlock()
    }

    public var isStopped: Bool {
        self.condition.lock()
        defer { self.condition.unlock() }
        return self.stopped
    }

    /// Sleeps up to `duration`, waking early when stopped; returns `false` when stopped.
    @discardableResult
    public func sleep(_ duration: Duration) -> Bool {
        let deadline = Date(timeIntervalSinceNow: duration.inSeconds)
        self.condition.lock()
        defer { self.condition.unlock() }
        // Other waiters share the condition (the outbox): wake-ups that are not ours are
        // slept through until the deadline.
        while !self.stopped, self.condition.wait(until: deadline) {}
        return !self.stopped
    }

    /// Whether stopped; for callers that already hold `condition`.
    var isStoppedLocked: Bool { self.stopped }
}
