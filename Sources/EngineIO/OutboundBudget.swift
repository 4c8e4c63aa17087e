//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import Synchronization

/// The process-wide outbound byte budget (``EngineIOConfiguration/maxTotalBufferedBytes``):
/// the sum of what sessions hold for clients that do not read, in steps of
/// ``OutboundBudget/quantum``.
///
/// One atomic, touched only when a session's buffer crosses a step: a session that keeps
/// up (polling buffer under 64 KiB, a writable WebSocket) never touches it, so the
/// per-message path has no lock and no shared write.
final class OutboundBudget: Sendable {
    /// The accounting step: buffers are counted rounded down to a multiple of it.
    static var quantum: Int { 64 * 1024 }
    /// The budget in bytes; 0: off (nothing is counted).
    let limit: Int
    private let total = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// The bytes counted now (tests, metrics).
    var totalBytes: Int { self.total.load(ordering: .relaxed) }

    /// Adds `delta` (negative to release). - Returns: the new total.
    fileprivate func add(_ delta: Int) -> Int {
        self.total.add(delta, ordering: .relaxed).newValue
    }
}

/// What one session (or WebSocket connection) has counted against the ``OutboundBudget``.
/// Owned by a loop-confined object; not shared.
struct OutboundBudgetAccount {
    private var counted = 0

    /// Counts `buffered` bytes (rounded down to the quantum) instead of the previous amount.
    /// - Returns: `true` when this growth takes the total over the budget: the caller closes
    ///   itself as a slow reader (the one that pushed the process over).
    mutating func update(buffered: Int, budget: OutboundBudget) -> Bool {
        guard budget.limit > 0 else { return false }
        let stepped = buffered - buffered % OutboundBudget.quantum
        guard stepped != self.counted else { return false }
        let delta = stepped - self.counted
        self.counted = stepped
        let total = budget.add(delta)
        return delta > 0 && total > budget.limit
    }

    /// Returns everything counted (the buffer drained or the owner closed).
    mutating func release(budget: OutboundBudget) {
        guard self.counted != 0 else { return }
        _ = budget.add(-self.counted)
        self.counted = 0
    }
}
