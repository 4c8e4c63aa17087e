//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIO
import NIOCore
import Testing

struct HeartbeatTests {
    private let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    @Test func pingsAfterIntervalAndTimesOutAfterTimeout() {
        var heartbeat = Heartbeat(now: start, interval: .milliseconds(300), timeout: .milliseconds(200))
        #expect(heartbeat.deadline == start + .milliseconds(300))
        #expect(heartbeat.timerFired(now: start + .milliseconds(299)) == .wait)
        #expect(heartbeat.timerFired(now: start + .milliseconds(300)) == .sendPing)
        #expect(heartbeat.deadline == start + .milliseconds(500))
        #expect(heartbeat.timerFired(now: start + .milliseconds(499)) == .wait)
        #expect(heartbeat.timerFired(now: start + .milliseconds(500)) == .timedOut)
    }

    @Test func nextPingIsAnIntervalAfterThePong() {
        var heartbeat = Heartbeat(now: start, interval: .milliseconds(300), timeout: .milliseconds(200))
        _ = heartbeat.timerFired(now: start + .milliseconds(300))
        heartbeat.pongReceived(now: start + .milliseconds(350))
        #expect(heartbeat.deadline == start + .milliseconds(650))
        // A timer armed for the old timeout fires early and finds nothing due.
        #expect(heartbeat.timerFired(now: start + .milliseconds(500)) == .wait)
        #expect(heartbeat.timerFired(now: start + .milliseconds(650)) == .sendPing)
    }

    @Test func unsolicitedPongChangesNothing() {
        var heartbeat = Heartbeat(now: start, interval: .milliseconds(300), timeout: .milliseconds(200))
        heartbeat.pongReceived(now: start + .milliseconds(100))
        #expect(heartbeat.deadline == start + .milliseconds(300))
    }
}
