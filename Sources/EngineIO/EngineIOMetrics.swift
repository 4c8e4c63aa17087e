//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import CoreMetrics
import Metrics

/// The engine's metrics, created once. Dimensions are bounded (transport, reason, status).
struct EngineIOMetrics: Sendable {
    let activeSessions: Meter
    let opened: [EngineIOTransportKind: Counter]
    let closed: [EngineIOCloseReason: Counter]
    let rejected: Counter

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
    }

    func sessionOpened(_ transport: EngineIOTransportKind) {
        self.activeSessions.increment()
        self.opened[transport]?.increment()
    }

    func sessionClosed(_ reason: EngineIOCloseReason) {
        self.activeSessions.decrement()
        self.closed[reason]?.increment()
    }

    func requestRejected() {
        self.rejected.increment()
    }
}
