//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Kafka
import Backplane
import CRdKafka
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

    @Test func anOversizedBroadcastIsRefusedLoudly() throws {
        let kafka = try MockKafka()
        let transport = try KafkaBackplane(configuration: .init(url: try kafka.url, role: .publishOnly, maxMessageBytes: 1000), logger: quiet)
        transport.publish(ByteBuffer(repeating: UInt8(ascii: "x"), count: 1001))
        #expect(transport.queuedMessages == 0)
        #expect(transport.droppedMessages.refused == 1)
    }
}

#endif  // Kafka
