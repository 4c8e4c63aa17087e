//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import CoreMetrics
public import Logging
import Metrics
import NIOConcurrencyHelpers

/// The log lines and metrics every transport reports the same way, so that operators see
/// one vocabulary whatever the broker. Metrics carry only the broker kind as a dimension.
///
/// - `backplane.publish.dropped`: the outbox was full (count or bytes).
/// - `backplane.publish.refused`: a message larger than `maxMessageBytes` was refused
///   before it reached the broker.
/// - `backplane.publish.poison`: the broker refused a message (error reply, nack) or it
///   failed `maxAttempts` times; it was dropped so that the ones behind it could go.
/// - `backplane.reconnects`: connections made again after a failure.
///
/// Each of these costs one log line, within a ``LogBudget`` (a flood costs a few lines
/// and a count of what was left out).
public final class BackplaneReporter: Sendable {
    public let kind: String
    public let logger: Logger
    private let budget = NIOLockedValueBox(LogBudget())
    private let droppedByKind: Counter
    private let refusedByKind: Counter
    private let poisonByKind: Counter
    private let reconnectsByKind: Counter
    private let counts = NIOLockedValueBox((dropped: 0, refused: 0, poison: 0))

    public init(kind: String, logger: Logger) {
        self.kind = kind
        self.logger = logger
        self.droppedByKind = Counter(label: "backplane.publish.dropped", dimensions: [("kind", kind)])
        self.refusedByKind = Counter(label: "backplane.publish.refused", dimensions: [("kind", kind)])
        self.poisonByKind = Counter(label: "backplane.publish.poison", dimensions: [("kind", kind)])
        self.reconnectsByKind = Counter(label: "backplane.reconnects", dimensions: [("kind", kind)])
    }

    /// Messages dropped so far: outbox full, refused as too large, poison.
    public var totals: (dropped: Int, refused: Int, poison: Int) { self.counts.withLockedValue { $0 } }

    private func line(_ level: Logger.Level, _ message: Logger.Message, _ metadata: Logger.Metadata) {
        let (allowed, suppressed) = self.budget.withLockedValue { $0.take(now: .now) }
        guard allowed else { return }
        var metadata = metadata
        metadata["backplane.kind"] = "\(self.kind)"
        if suppressed > 0 { metadata["backplane.suppressed"] = "\(suppressed)" }
        self.logger.log(level: level, message, metadata: metadata)
    }

    /// The outbox was full.
    public func outboxFull(total: Int) {
        self.droppedByKind.increment()
        self.counts.withLockedValue { $0.dropped += 1 }
        self.line(.warning, "backplane outbox full: message dropped", ["backplane.dropped": "\(total)"])
    }

    /// A message larger than the limit was refused before publishing.
    public func refusedOversized(bytes: Int, limit: Int) {
        self.refusedByKind.increment()
        self.counts.withLockedValue { $0.refused += 1 }
        self.line(
            .warning,
            "backplane message too large: not published (remote nodes miss this broadcast)",
            ["backplane.message.bytes": "\(bytes)", "backplane.limit": "\(limit)"]
        )
    }

    /// A message was dropped as poison.
    public func poison(bytes: Int, attempts: Int, error: BackplaneError) {
        self.poisonByKind.increment()
        self.counts.withLockedValue { $0.poison += 1 }
        self.line(
            .warning,
            "backplane message refused by the broker: dropped",
            ["backplane.message.bytes": "\(bytes)", "backplane.attempts": "\(attempts)", "backplane.error": "\(error)"]
        )
    }

    /// A connection was made again after a failure.
    public func reconnected(_ what: Logger.Message) {
        self.reconnectsByKind.increment()
        self.logger.info(what, metadata: ["backplane.kind": "\(self.kind)"])
    }
}
