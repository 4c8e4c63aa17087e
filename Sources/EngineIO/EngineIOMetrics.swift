//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import CoreMetrics
package import Logging
import Metrics
import Synchronization

/// The engine's metrics, created once. Dimensions are bounded (transport, reason, status).
struct EngineIOMetrics: Sendable {
    let activeSessions: Meter
    let opened: [EngineIOTransportKind: Counter]
    let closed: [EngineIOCloseReason: Counter]
    let rejected: Counter
    let upgraded: Counter

    init() {
        self.activeSessions = Meter(label: "engineio.sessions.active")
        self.opened = [
            .polling: Counter(label: "engineio.sessions.opened", dimensions: [("transport", "polling")]),
            .websocket: Counter(label: "engineio.sessions.opened", dimensions: [("transport", "websocket")]),
        ]
        var closed: [EngineIOCloseReason: Counter] = [:]
        for reason in EngineIOCloseReason.all {
            closed[reason] = Counter(label: "engineio.sessions.closed", dimensions: [("reason", reason.description)])
        }
        self.closed = closed
        self.rejected = Counter(label: "engineio.requests.rejected")
        self.upgraded = Counter(label: "engineio.sessions.upgraded")
    }

    func sessionOpened(_ transport: EngineIOTransportKind) {
        self.activeSessions.increment()
        self.opened[transport]?.increment()
    }

    func sessionClosed(_ reason: EngineIOCloseReason) {
        self.activeSessions.decrement()
        self.closed[reason]?.increment()
    }

    /// A polling session moved to WebSocket.
    func sessionUpgraded() {
        self.upgraded.increment()
    }

    func requestRejected() {
        self.rejected.increment()
    }
}

/// One limit of the server (a configuration value) and what happens when it is hit: a
/// counter `<prefix>.limit.hits{limit=<config name>}` and a log line, made once here.
///
/// The log line is written on the 1st, 10th, 100th, 1000th… hit (with the count), so a
/// client that keeps hitting a limit costs a handful of lines, not one per message.
/// `package` so that the Socket.IO layer reports its limits the same way without
/// depending on swift-metrics itself.
package final class LimitReporter: Sendable {
    /// The configuration name of the limit (the metric's `limit` dimension).
    package let name: String
    private let message: Logger.Message
    private let level: Logger.Level
    private let counter: Counter
    private let hits = Atomic<Int>(0)

    /// - Parameters:
    ///   - prefix: the metric's prefix (`engineio`, `socketio`).
    ///   - name: the configuration name of the limit, e.g. `maxSessions`.
    ///   - message: the fixed log message, e.g. "handshake refused: too many sessions".
    ///   - level: the log level (`info`; `debug` for backpressure that ordinary clients meet).
    package init(prefix: String, name: String, message: Logger.Message, level: Logger.Level = .info) {
        self.name = name
        self.message = message
        self.level = level
        self.counter = Counter(label: "\(prefix).limit.hits", dimensions: [("limit", name)])
    }

    /// Counts one hit and logs it if its number is a power of ten.
    package func hit(_ logger: Logger, metadata: Logger.Metadata = [:]) {
        self.counter.increment()
        let count = self.hits.add(1, ordering: .relaxed).newValue
        var power = 1
        while power < count { power *= 10 }
        guard power == count else { return }
        var metadata = metadata
        metadata[EngineIOLoggingKeys.limit] = "\(self.name)"
        metadata[EngineIOLoggingKeys.limitHits] = "\(count)"
        logger.log(level: self.level, self.message, metadata: metadata)
    }

    /// How many times the limit was hit (tests).
    package var hitCount: Int { self.hits.load(ordering: .relaxed) }
}

/// The engine's limits, reported once each (see ``LimitReporter``).
struct EngineIOLimitReporters: Sendable {
    let maxBufferedBytes = LimitReporter(
        prefix: "engineio",
        name: "maxBufferedBytes",
        message: "closing session: outbound buffer full"
    )
    let maxTotalBufferedBytes = LimitReporter(
        prefix: "engineio",
        name: "maxTotalBufferedBytes",
        message: "closing session: the server's outbound buffers are full"
    )
    let maxSessions = LimitReporter(prefix: "engineio", name: "maxSessions", message: "handshake refused: too many sessions")
    let maxHalfOpenSessionsPerAddress = LimitReporter(
        prefix: "engineio",
        name: "maxHalfOpenSessionsPerAddress",
        message: "handshake refused: too many half-open sessions from one address"
    )
    /// NIO's `ChannelOptions.writeBufferWaterMark` (64 KiB high by default): above it the
    /// channel is not writable and a WebSocket stops reading until it is again.
    let webSocketReadPaused = LimitReporter(
        prefix: "engineio",
        name: "writeBufferWaterMark",
        message: "websocket client does not read: reading paused",
        level: .debug
    )
}
