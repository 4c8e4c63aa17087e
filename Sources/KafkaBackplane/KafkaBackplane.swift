//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import Backplane
import CRdKafka
import CoreMetrics
import Foundation
public import Logging
import Metrics
import NIOConcurrencyHelpers
public import NIOCore

/// Kafka as a backplane (librdkafka, Debian's librdkafka-dev): topic = channel, as
/// python-socketio's `KafkaManager` does.
///
/// Every node must see every message, so the consumer assigns itself all partitions of the
/// topic from the latest offset (no consumer group, no rebalancing). The producer is
/// idempotent and keyed with this node's id, so one publisher's messages keep their order
/// in one partition. librdkafka's own queue holds messages while brokers are away
/// (`message.timeout.ms=0`: never expire), bounded by `maxQueuedMessages`; it is flushed on
/// shutdown. librdkafka handles are thread-safe; blocking polls run on dedicated threads,
/// never on the event loops or the cooperative pool.
///
/// `@unchecked Sendable`: the handles are thread-safe librdkafka objects created in `init`
/// and destroyed in `deinit`; the remaining stored properties are immutable or boxed.
public final class KafkaBackplane: BackplaneTransport, @unchecked Sendable {
    public struct Configuration: Sendable {
        public var url: BackplaneURL
        public var channel: String
        public var maxQueuedMessages: Int
        public var initialBackoff: Duration
        public var maxBackoff: Duration

        public init(
            url: BackplaneURL,
            channel: String = "socketio",
            maxQueuedMessages: Int = 100_000,
            initialBackoff: Duration = .milliseconds(100),
            maxBackoff: Duration = .seconds(2)
        ) {
            self.url = url
            self.channel = channel
            self.maxQueuedMessages = maxQueuedMessages
            self.initialBackoff = initialBackoff
            self.maxBackoff = maxBackoff
        }
    }

    public let configuration: Configuration
    public let messages: AsyncStream<ByteBuffer>
    private let continuation: AsyncStream<ByteBuffer>.Continuation
    private let logger: Logger
    private let producer: OpaquePointer
    private let producerTopic: OpaquePointer
    private let key: ByteBuffer
    private let stopped = NIOLockedValueBox(false)
    private let dropped = NIOLockedValueBox(0)
    private let droppedCounter = Counter(label: "backplane.publish.dropped", dimensions: [("kind", "kafka")])

    /// - Throws: ``BackplaneURLError`` if librdkafka refuses the configuration.
    public init(configuration: Configuration, logger: Logger) throws(BackplaneURLError) {
        self.configuration = configuration
        self.logger = logger
        var error = [CChar](repeating: 0, count: 512)
        let bootstrap = configuration.url.hosts.map { "\($0.host):\($0.port)" }.joined(separator: ",")
        guard let producer = CRdKafka_newProducer(bootstrap, Int32(configuration.maxQueuedMessages), &error, error.count) else {
            throw BackplaneURLError("kafka producer: \(cText(error))")
        }
        guard let topic = rd_kafka_topic_new(producer, configuration.channel, nil) else {
            rd_kafka_destroy(producer)
            throw BackplaneURLError("kafka topic \(configuration.channel): cannot create a handle")
        }
        self.producer = producer
        self.producerTopic = topic
        var generator = SystemRandomNumberGenerator()
        self.key = ByteBuffer(string: String(generator.next() as UInt64, radix: 16))
        (self.messages, self.continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
    }

    deinit {
        rd_kafka_topic_destroy(self.producerTopic)
        rd_kafka_destroy(self.producer)
    }

    public func publish(_ message: ByteBuffer) {
        var error = [CChar](repeating: 0, count: 256)
        let status = message.withUnsafeReadableBytes { payload in
            self.key.withUnsafeReadableBytes { key in
                CRdKafka_produce(self.producerTopic, payload.baseAddress, payload.count, key.baseAddress, key.count, &error, error.count)
            }
        }
        guard status != 0 else { return }
        self.droppedCounter.increment()
        let count = self.dropped.withLockedValue { count -> Int in
            count += 1
            return count
        }
        if count == 1 || count % 1000 == 0 {
            self.logger.warning(
                "kafka producer refused a message",
                metadata: ["backplane.kind": "kafka", "backplane.error": "\(cText(error))", "backplane.dropped": "\(count)"]
            )
        }
    }

    public var queuedMessages: Int { Int(rd_kafka_outq_len(self.producer)) }

    private var isStopped: Bool { self.stopped.withLockedValue { $0 } }

    public func run() async throws {
        let poller: @Sendable () -> Void = {
            // Serves delivery reports and producer events.
            while !self.isStopped { rd_kafka_poll(self.producer, 100) }
        }
        await BlockingThreads.run([poller, { self.consumerLoop() }]) {
            // Deliver what is queued (bounded), then stop the threads.
            _ = rd_kafka_flush(self.producer, 5000)
            self.stopped.withLockedValue { $0 = true }
        }
        self.continuation.finish()
    }

    private func pause(_ duration: Duration) -> Bool {
        let deadline = ContinuousClock.now + duration
        while ContinuousClock.now < deadline {
            if self.isStopped { return false }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return !self.isStopped
    }

    /// The consumer thread: assigns every partition from the end, then polls.
    private func consumerLoop() {
        var error = [CChar](repeating: 0, count: 512)
        let bootstrap = self.configuration.url.hosts.map { "\($0.host):\($0.port)" }.joined(separator: ",")
        var generator = SystemRandomNumberGenerator()
        let group = "swift-socketio.\(String(generator.next() as UInt64, radix: 16))"
        guard let consumer = CRdKafka_newConsumer(bootstrap, group, &error, error.count) else {
            self.logger.error("kafka consumer cannot be created", metadata: ["backplane.kind": "kafka", "backplane.error": "\(cText(error))"])
            return
        }
        defer {
            rd_kafka_consumer_close(consumer)
            rd_kafka_destroy(consumer)
        }
        guard let topic = rd_kafka_topic_new(consumer, self.configuration.channel, nil) else { return }
        // Find the partitions (retrying with capped backoff while brokers are away).
        var backoff = self.configuration.initialBackoff
        var partitions = -1
        var reported = false
        while partitions < 0 {
            partitions = Int(CRdKafka_partitionCount(consumer, topic, 2000, &error, error.count))
            if partitions > 0 { break }
            if !reported {
                self.logger.info("kafka unreachable or topic missing; retrying", metadata: ["backplane.kind": "kafka", "backplane.error": "\(cText(error))"])
                reported = true
            }
            guard self.pause(backoff) else {
                rd_kafka_topic_destroy(topic)
                return
            }
            backoff = min(backoff * 2, self.configuration.maxBackoff)
        }
        rd_kafka_topic_destroy(topic)
        guard CRdKafka_assignFromEnd(consumer, self.configuration.channel, Int32(partitions), &error, error.count) == 0 else {
            self.logger.error("kafka assignment failed", metadata: ["backplane.kind": "kafka", "backplane.error": "\(cText(error))"])
            return
        }
        if reported { self.logger.info("kafka consumer assigned", metadata: ["backplane.kind": "kafka", "backplane.partitions": "\(partitions)"]) }
        var lastError = ""
        while !self.isStopped {
            var message = CRdKafka_Message(bytes: nil, length: 0)
            switch CRdKafka_poll(consumer, 250, &message, &error, error.count) {
            case 1:
                // Copy out of C memory, free it at once.
                let payload = ByteBuffer(bytes: UnsafeRawBufferPointer(start: message.bytes, count: message.length))
                CRdKafka_free(&message)
                self.continuation.yield(payload)
            case -1:
                // Transient broker errors are reported as events; log each kind once.
                let text = cText(error)
                if text != lastError {
                    self.logger.info("kafka consumer error; continuing", metadata: ["backplane.kind": "kafka", "backplane.error": "\(text)"])
                    lastError = text
                }
            default:
                break
            }
        }
    }
}

/// The text of a NUL-terminated C buffer.
private func cText(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
