//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

/// A token bucket for log lines about things outsiders can cause (garbage on the channel,
/// forged or oversized messages, a full inbox): each costs one line, up to a burst, then
/// one per `interval`; what was left out is counted and reported on the next line. Pure:
/// the caller passes the time.
public struct LogBudget: Sendable {
    public let burst: Int
    public let interval: Duration
    private var tokens: Int
    private var refilled: ContinuousClock.Instant?
    private var suppressed = 0

    public init(burst: Int = 20, interval: Duration = .seconds(1)) {
        self.burst = max(1, burst)
        self.interval = interval
        self.tokens = self.burst
    }

    /// Whether a line may be written now; if so, how many were left out since the last one.
    public mutating func take(now: ContinuousClock.Instant) -> (allowed: Bool, suppressed: Int) {
        if let refilled {
            let earned = Int((now - refilled) / self.interval)
            if earned > 0 {
                self.tokens = min(self.burst, self.tokens + earned)
                self.refilled = refilled + self.interval * earned
            }
        } else {
            self.refilled = now
        }
        guard self.tokens > 0 else {
            self.suppressed += 1
            return (false, 0)
        }
        self.tokens -= 1
        defer { self.suppressed = 0 }
        return (true, self.suppressed)
    }
}
