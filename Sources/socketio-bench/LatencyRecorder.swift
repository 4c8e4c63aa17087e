//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import NIOCore
import SocketIOParser

/// Latency samples in nanoseconds; percentiles are exact (sorted), which is cheap at the
/// sample counts of a bench run and avoids a histogram's bucketing error at sub-ms values.
struct LatencyRecorder {
    private(set) var samples: [UInt64] = []

    init(capacity: Int = 0) {
        self.samples.reserveCapacity(capacity)
    }

    mutating func record(_ nanoseconds: UInt64) {
        self.samples.append(nanoseconds)
    }

    var count: Int { self.samples.count }

    /// p50/p90/p99/max in milliseconds, as a JSON object.
    func summary() -> SocketIOValue {
        guard !self.samples.isEmpty else { return ["p50": nil, "p90": nil, "p99": nil, "max": nil] }
        let sorted = self.samples.sorted()
        func at(_ quantile: Double) -> SocketIOValue {
            let rank = min(sorted.count - 1, max(0, Int((quantile * Double(sorted.count)).rounded(.up)) - 1))
            return .double(Self.milliseconds(sorted[rank]))
        }
        return ["p50": at(0.50), "p90": at(0.90), "p99": at(0.99), "max": .double(Self.milliseconds(sorted.last!))]
    }

    /// Rounded to the microsecond, which is the clock's useful resolution here.
    static func milliseconds(_ nanoseconds: UInt64) -> Double {
        (Double(nanoseconds) / 1000).rounded() / 1000
    }
}

/// The monotonic clock of the generator, in nanoseconds.
@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    NIODeadline.now().uptimeNanoseconds
}
