//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import Backplane
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// The transports' pure state machines and bounded buffers (issue 13, items 6–8).
struct BackplaneStateTests {
    // MARK: Item 6: idle subscriber liveness

    @Test func aQuietChannelIsPingedNotDropped() {
        let start = ContinuousClock.now
        var liveness = SubscriberLiveness(configuration: .init(pingInterval: .seconds(15), pingTimeout: .seconds(5)), now: start)
        #expect(liveness.next(now: start) == .wait(until: start + .seconds(15)))
        // 30 s of silence with PONGs answered: never dead.
        #expect(liveness.next(now: start + .seconds(15)) == .sendPing)
        #expect(liveness.next(now: start + .seconds(16)) == .wait(until: start + .seconds(20)))
        liveness.heard(now: start + .seconds(16))
        #expect(liveness.next(now: start + .seconds(30)) == .wait(until: start + .seconds(31)))
        #expect(liveness.next(now: start + .seconds(31)) == .sendPing)
        liveness.heard(now: start + .milliseconds(31_200))
        #expect(liveness.next(now: start + .seconds(32)) == .wait(until: start + .milliseconds(46_200)))
    }

    @Test func anUnansweredPingMeansADeadBroker() {
        let start = ContinuousClock.now
        var liveness = SubscriberLiveness(configuration: .init(pingInterval: .seconds(10), pingTimeout: .seconds(3)), now: start)
        #expect(liveness.next(now: start + .seconds(10)) == .sendPing)
        #expect(liveness.next(now: start + .seconds(12.9)) == .wait(until: start + .seconds(13)))
        #expect(liveness.next(now: start + .seconds(13)) == .dead)
    }

    // MARK: Item 7: poison messages and backoff

    @Test func aRefusedMessageIsDroppedAtOnce() {
        var policy = PublishRetryPolicy()
        let decision = policy.publishFailed(BackplaneError(.refused, "NOPERM"))
        #expect(decision.dropHead && !decision.reconnect)
    }

    @Test func aMessageThatBreaksTheConnectionIsDroppedAfterBoundedTriesWithBackoff() {
        var policy = PublishRetryPolicy(configuration: .init(initialBackoff: .milliseconds(100), maxBackoff: .milliseconds(300), maxAttempts: 3))
        let lost = BackplaneError(.connection, "connection reset")
        let first = policy.publishFailed(lost)
        let second = policy.publishFailed(lost)
        let third = policy.publishFailed(lost)
        #expect([first.dropHead, second.dropHead, third.dropHead] == [false, false, true])
        #expect([first.reconnect, second.reconnect, third.reconnect] == [true, true, true])
        // Never a tight loop: every failure waits, the wait grows and is capped.
        #expect([first.wait, second.wait, third.wait] == [.milliseconds(100), .milliseconds(200), .milliseconds(300)])
        // Connect failures wait too and never blame the message.
        #expect(policy.connectFailed() == .milliseconds(300))
        #expect(policy.headAttempts == 0)
        policy.published()
        #expect(policy.backoff == .milliseconds(100))
    }

    @Test func anOutageDoesNotMakePoisonOfTheHead() {
        var policy = PublishRetryPolicy(configuration: .init(maxAttempts: 2))
        #expect(!policy.publishFailed(BackplaneError(.connection, "reset")).dropHead)
        for _ in 0..<20 { _ = policy.connectFailed() }  // the broker is away for a while
        policy.published()  // back: the head went through
        #expect(!policy.publishFailed(BackplaneError(.connection, "reset")).dropHead)
    }

    @Test func errorsAreClassified() {
        #expect(BackplaneError(.connection, "x").isRetriable && !BackplaneError(.connection, "x").isFatal)
        #expect(!BackplaneError(.refused, "x").isRetriable && !BackplaneError(.refused, "x").isFatal)
        #expect(BackplaneError(.fatal, "x").isFatal)
    }

    // MARK: Item 7: bounded buffers

    @Test func theInboxIsBoundedByCountBytesAndMessageSize() async {
        let inbox = BackplaneInbox(limits: .init(maxMessages: 3, maxBytes: 10, maxMessageBytes: 6))
        #expect(inbox.push(message("1234567")) == .oversized)
        #expect(inbox.push(message("1234")) == .enqueued)
        #expect(inbox.push(message("1234")) == .enqueued)
        #expect(inbox.push(message("1234")) == .dropped(total: 2))  // 12 bytes > 10
        #expect(inbox.push(message("1")) == .enqueued)
        #expect(inbox.push(message("1")) == .dropped(total: 3))  // 4 messages > 3
        var iterator = inbox.makeAsyncIterator()
        #expect(await iterator.next() == message("1234"))
        // Consumed: room again.
        #expect(inbox.push(message("12")) == .enqueued)
        #expect(inbox.count == 3)
        #expect(inbox.dropped == 3)
    }

    @Test func theOutboxIsBoundedByBytesAsWellAsCount() {
        let outbox = PublishQueue(capacity: 100, maxBytes: 10)
        #expect(outbox.push(message("123456")) == nil)
        #expect(outbox.push(message("123456")) == 1)
        #expect(outbox.push(message("1234")) == nil)
        #expect(outbox.byteCount == 10)
        outbox.removeFirst(1)
        #expect(outbox.byteCount == 4)
        #expect(outbox.peek(from: 1, limit: 5, timeout: 0) == [])
        #expect(outbox.peek(from: 0, limit: 5, timeout: 0) == [message("1234")])
        outbox.stop()
        #expect(outbox.peek(from: 1, limit: 5, timeout: 1) == nil)
    }

    @Test func logLinesAboutOutsidersAreBudgeted() {
        let start = ContinuousClock.now
        var budget = LogBudget(burst: 2, interval: .seconds(1))
        #expect(budget.take(now: start) == (true, 0))
        #expect(budget.take(now: start) == (true, 0))
        #expect(budget.take(now: start) == (false, 0))
        #expect(budget.take(now: start) == (false, 0))
        #expect(budget.take(now: start + .seconds(1)) == (true, 2))
    }

    // MARK: Item 8: pipelined confirms

    @Test func confirmsRetireInOrderAndNacksAreReported() {
        var window = ConfirmWindow(limit: 4)
        #expect(window.room(probing: false) == 4 && window.room(probing: true) == 1)
        #expect((0..<4).map { _ in window.sent() } == [1, 2, 3, 4])
        #expect(window.room(probing: false) == 0)
        window.settle(tag: 2, multiple: false, acknowledged: true)
        #expect(window.retire() == [])  // 1 is not settled: nothing leaves out of order
        window.settle(tag: 3, multiple: false, acknowledged: false)
        window.settle(tag: 1, multiple: false, acknowledged: true)
        #expect(window.retire() == [true, true, false])
        #expect(window.firstTag == 4 && window.inFlight == 1)
        #expect(window.sent() == 5)
        window.settle(tag: 5, multiple: true, acknowledged: true)
        #expect(window.retire() == [true, true])
        window.settle(tag: 99, multiple: true, acknowledged: true)  // unknown: ignored
        #expect(window.inFlight == 0)
        window.reset()
        #expect(window.sent() == 1)
    }

    // MARK: Item 8: dead threads fail the service

    @Test func aLoopThatThrowsFailsTheRun() async {
        await #expect(throws: BackplaneError.self) {
            try await BlockingThreads.run([{ throw BackplaneError(.fatal, "gave up") }, { Thread.sleep(forTimeInterval: 0.05) }]) {}
        }
    }

    @Test func aLoopThatEndsEarlyFailsTheRun() async {
        let stop = NIOLockedValueBox(false)
        await #expect(throws: BackplaneError.self) {
            try await BlockingThreads.run([
                {},
                {
                    while !stop.withLockedValue({ $0 }) { Thread.sleep(forTimeInterval: 0.01) }
                },
            ]) { stop.withLockedValue { $0 = true } }
        }
    }

    @Test func cancellationStopsTheLoopsCleanly() async throws {
        let stop = NIOLockedValueBox(false)
        let task = Task {
            try await BlockingThreads.run([
                {
                    while !stop.withLockedValue({ $0 }) { Thread.sleep(forTimeInterval: 0.01) }
                }
            ]) { stop.withLockedValue { $0 = true } }
        }
        try await Task.sleep(for: .milliseconds(50))
        task.cancel()
        try await task.value
    }
}

/// A message of `text` on the main channel.
private func message(_ text: String, on channel: String = "socketio") -> BackplaneMessage {
    BackplaneMessage(channel: channel, payload: ByteBuffer(string: text))
}
