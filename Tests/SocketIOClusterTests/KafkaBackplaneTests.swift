//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Kafka
import Backplane
import CRdKafka
import Foundation
@testable import KafkaBackplane
import Logging
import NIOCore
import Testing

/// librdkafka's mock cluster, in this process: a test double for Kafka (no Kafka broker can
/// be installed on these machines), enough to drive the transport's failure paths.
private final class MockKafka {
    let mock: UnsafeMutablePointer<CRdKafka_Mock>

    init() throws {
        self.mock = try #require(CRdKafka_newMock())
    }

    deinit { CRdKafka_destroyMock(self.mock) }

    var url: BackplaneURL {
        get throws { try BackplaneURL("kafka://" + String(cString: CRdKafka_mockBootstrap(self.mock))) }
    }
}

private let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

/// Issue 13, item 8: a Kafka transport that cannot work fails loudly (`run()` throws).
struct KafkaBackplaneTests {
    @Test func aConsumerThatCannotBeSetUpGivesUpAndFailsTheRun() async throws {
        let kafka = try MockKafka()
        #expect(CRdKafka_mockCreateTopic(kafka.mock, "denied", 1) == 0)
        // Every metadata request for the topic is refused (not a transient error).
        CRdKafka_mockTopicError(kafka.mock, "denied", Int32(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED.rawValue))
        let transport = try KafkaBackplane(
            configuration: .init(url: try kafka.url, channel: "denied", initialBackoff: .milliseconds(10), maxBackoff: .milliseconds(50), maxSetupAttempts: 3),
            logger: quiet
        )
        await #expect(throws: BackplaneError.self) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await transport.run() }
                // Bounded: if the transport never gives up, the test fails instead of hanging.
                group.addTask {
                    try await Task.sleep(for: .seconds(60))
                    Issue.record("the consumer never gave up")
                }
                try await group.next()
                group.cancelAll()
            }
        }
        #expect(!transport.isSubscribed)
    }

    @Test func aFatalProducerErrorFailsTheRun() async throws {
        let kafka = try MockKafka()
        #expect(CRdKafka_mockCreateTopic(kafka.mock, "socketio", 1) == 0)
        let transport = try KafkaBackplane(configuration: .init(url: try kafka.url, role: .publishOnly), logger: quiet)
        let failure: Result<Void, any Error>
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await transport.run() }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(100))
                    transport.raiseFatalErrorForTesting()
                    // Bounded: if run() never fails, the test fails instead of hanging.
                    try await Task.sleep(for: .seconds(30))
                    Issue.record("run() did not fail after a fatal producer error")
                }
                try await group.next()
                group.cancelAll()
            }
            failure = .success(())
        } catch {
            failure = .failure(error)
        }
        guard case .failure(let error) = failure, let error = error as? BackplaneError else {
            Issue.record("run() did not fail with a BackplaneError")
            return
        }
        #expect(error.isFatal)
    }

    @Test func assignsPartitionsAndReportsSubscribed() async throws {
        let kafka = try MockKafka()
        #expect(CRdKafka_mockCreateTopic(kafka.mock, "socketio", 2) == 0)
        let transport = try KafkaBackplane(configuration: .init(url: try kafka.url), logger: quiet)
        let run = Task { try await transport.run() }
        defer { run.cancel() }
        for _ in 0..<1000 where !transport.isSubscribed { try await Task.sleep(for: .milliseconds(10)) }
        #expect(transport.isSubscribed)
    }

    /// An emitter publishes its request as soon as its transport says it is subscribed, and the
    /// answers come right back: a consumer assigned at "the end", which librdkafka resolves
    /// later and asynchronously, could start after them (an emitter's `--fetch-rooms` came back
    /// empty). The ends are read before the transport says it is subscribed. The brokers here
    /// refuse the first offset lookups (a leader moving), which widens that window.
    @Test func whatIsPublishedOnceSubscribedIsHeard() async throws {
        let kafka = try MockKafka()
        #expect(CRdKafka_mockCreateTopic(kafka.mock, "socketio", 2) == 0)
        let publisher = try KafkaBackplane(configuration: .init(url: try kafka.url, role: .publishOnly), logger: quiet)
        let publishing = Task { try await publisher.run() }
        defer { publishing.cancel() }
        for index in 0..<20 { publisher.publish(ByteBuffer(string: "before \(index)")) }
        for round in 0..<3 {
            let refusals = [rd_kafka_resp_err_t](repeating: RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, count: 3)
            rd_kafka_mock_push_request_errors_array(kafka.mock.pointee.cluster, 2 /* ListOffsets */, refusals.count, refusals)
            let subscriber = try KafkaBackplane(
                configuration: .init(url: try kafka.url, initialBackoff: .milliseconds(20), maxBackoff: .milliseconds(100)),
                logger: quiet
            )
            let heard = try await withThrowingTaskGroup(of: String?.self) { group in
                group.addTask {
                    try await subscriber.run()
                    return nil
                }
                group.addTask {
                    for _ in 0..<2000 where !subscriber.isSubscribed { try await Task.sleep(for: .milliseconds(5)) }
                    publisher.publish(ByteBuffer(string: "round \(round)"))
                    for await message in subscriber.messages where String(buffer: message.payload).hasPrefix("round") {
                        return String(buffer: message.payload)
                    }
                    return nil
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(10))
                    return "nothing heard"
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                return first
            }
            #expect(heard == "round \(round)")
        }
    }

    @Test func anOversizedBroadcastIsRefusedLoudly() throws {
        let kafka = try MockKafka()
        let transport = try KafkaBackplane(configuration: .init(url: try kafka.url, role: .publishOnly, maxMessageBytes: 1000), logger: quiet)
        transport.publish(ByteBuffer(repeating: UInt8(ascii: "x"), count: 1001))
        #expect(transport.queuedMessages == 0)
        #expect(transport.droppedMessages.refused == 1)
    }
}

/// A consumer that starts at the end of the topic hears only what was published after it,
/// even from a broker that hands over part of its last batch (Tansu 0.6).
struct ReplayFilterTests {
    private let assigned = Date(timeIntervalSince1970: 1_800_000_000)
    private var assignedMillis: Int64 { 1_800_000_000_000 }

    @Test func dropsMessagesStampedBeforeTheAssignmentBeyondTheTolerance() {
        var filter = ReplayFilter(assignedAt: self.assigned, tolerance: .seconds(2))
        let stamps = [self.assignedMillis - 24_000 /* a dead node's last heartbeat */, self.assignedMillis - 2_001]
        #expect(stamps.map { filter.admits(timestamp: $0) } == [false, false])
        #expect(filter.dropped == 2)
    }

    @Test func deliversMessagesWithinTheToleranceAfterOrUnstamped() {
        var filter = ReplayFilter(assignedAt: self.assigned, tolerance: .milliseconds(2_500))
        // A producer clock behind ours; now; later; a broker that keeps no timestamps.
        let stamps = [self.assignedMillis - 2_500, self.assignedMillis, self.assignedMillis + 60_000, -1]
        #expect(stamps.map { filter.admits(timestamp: $0) } == [true, true, true, true])
        #expect(filter.dropped == 0)
    }

    @Test func noToleranceDeliversEverything() {
        var filter = ReplayFilter(assignedAt: self.assigned, tolerance: nil)
        let admitted = filter.admits(timestamp: 0)
        #expect(admitted)
        #expect(filter.dropped == 0)
    }
}

#endif  // Kafka
