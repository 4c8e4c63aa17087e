//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import Synchronization

/// The process-wide outbound byte budget (``EngineIOConfiguration/maxTotalBufferedBytes``):
/// the sum of what sessions hold for clients that do not read, in steps of
/// ``OutboundBudget/quantum``.
///
/// Touched only when a session's backlog crosses a step: a session that keeps up (polling
/// buffer under 64 KiB, a writable WebSocket) never touches it, so the per-message path
/// takes no lock. When the total passes the budget, the session holding the **largest**
/// backlog is dropped (the worst slow reader), not the one whose growth happened to cross
/// the line: that one may be an ordinary client a moment behind.
final class OutboundBudget: Sendable {
    /// The accounting step: backlogs are counted rounded down to a multiple of it.
    static var quantum: Int { 64 * 1024 }
    /// The budget in bytes; 0: off (nothing is counted).
    let limit: Int

    private struct Entry {
        var bytes: Int
        /// Closes the session as a slow reader (hops to its loop; never runs under the lock).
        let drop: @Sendable () -> Void
    }

    private struct State {
        var total = 0
        var nextID: UInt64 = 1
        var entries: [UInt64: Entry] = [:]
    }

    private let state = Mutex(State())

    init(limit: Int) {
        self.limit = limit
    }

    /// The bytes counted now (tests, metrics).
    var totalBytes: Int { self.state.withLock { $0.total } }

    fileprivate func makeID() -> UInt64 {
        self.state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
    }

    /// Sets what account `id` holds (0 removes it). When growth takes the total over the
    /// budget, removes the largest account and returns its `drop`, for the caller to run
    /// after the lock is released.
    fileprivate func set(id: UInt64, bytes: Int, drop: @escaping @Sendable () -> Void) -> (@Sendable () -> Void)? {
        self.state.withLock { state -> (@Sendable () -> Void)? in
            let previous = state.entries[id]?.bytes ?? 0
            state.total += bytes - previous
            if bytes == 0 {
                state.entries[id] = nil
                return nil
            }
            state.entries[id] = Entry(bytes: bytes, drop: drop)
            guard bytes > previous, state.total > self.limit,
                let largest = state.entries.max(by: { $0.value.bytes < $1.value.bytes })
            else { return nil }
            // Removed now, so that it is dropped once and the total reflects it at once;
            // its owner's later `release` finds nothing to return.
            state.entries[largest.key] = nil
            state.total -= largest.value.bytes
            return largest.value.drop
        }
    }
}

/// What one session (or WebSocket connection) has counted against the ``OutboundBudget``.
/// Owned by a loop-confined object; not shared.
struct OutboundBudgetAccount {
    private var counted = 0
    private var id: UInt64 = 0

    /// Counts `buffered` bytes (rounded down to the quantum) instead of the previous amount.
    /// When that takes the process over the budget, the session with the largest backlog
    /// (maybe this one) is dropped through the `drop` it registered, after the budget's lock
    /// is released. `drop` must not close synchronously (it hops to the owner's loop).
    ///
    /// The writers call it on every write while a client lags, so `drop` is an autoclosure:
    /// the closure is built only when the backlog crossed a step, not on every call.
    mutating func update(buffered: Int, budget: OutboundBudget, drop: @autoclosure () -> @Sendable () -> Void) {
        guard budget.limit > 0 else { return }
        let stepped = buffered - buffered % OutboundBudget.quantum
        guard stepped != self.counted else { return }
        if self.id == 0 { self.id = budget.makeID() }
        self.counted = stepped
        budget.set(id: self.id, bytes: stepped, drop: drop())?()
    }

    /// Returns everything counted (the backlog drained or the owner closed).
    mutating func release(budget: OutboundBudget) {
        guard self.counted != 0 else { return }
        _ = budget.set(id: self.id, bytes: 0, drop: {})
        self.counted = 0
    }
}
