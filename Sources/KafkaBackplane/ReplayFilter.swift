//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Kafka
import Backplane
import Foundation

/// Which messages a consumer that started at the end of the topic delivers: those stamped
/// no more than `tolerance` before it was assigned (or not stamped at all). A pure value,
/// owned by the consumer thread.
///
/// Kafka timestamps are the producer's wall clock (CreateTime) or the broker's
/// (LogAppendTime), so the tolerance is room for clocks that are behind this node's.
struct ReplayFilter {
    /// Milliseconds since 1970; messages stamped earlier are dropped. `nil`: none are.
    let cutoff: Int64?
    /// How many messages were dropped so far.
    private(set) var dropped = 0

    init(assignedAt: Date, tolerance: Duration?) {
        self.cutoff = tolerance.map { Int64(assignedAt.timeIntervalSince1970 * 1000) - $0.inMilliseconds }
    }

    /// Whether a message stamped `timestamp` (milliseconds since 1970, -1 when the broker
    /// kept none) is delivered; counts the ones that are not.
    mutating func admits(timestamp: Int64) -> Bool {
        guard let cutoff = self.cutoff, timestamp >= 0, timestamp < cutoff else { return true }
        self.dropped += 1
        return false
    }
}

#endif  // Kafka
