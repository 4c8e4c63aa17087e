//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Kafka
// Compiled only with the Kafka trait (a build without it has no Kafka backplane and
// does not need its C library).
public import Backplane
import CRdKafka
import Foundation
public import Logging
import NIOConcurrencyHelpers
public import NIOCore

/// Kafka as a backplane (librdkafka, Debian's librdkafka-dev): one topic, named after the
/// main channel, as python-socketio's `KafkaManager` does. A message on another channel
/// carries that channel's name as its key; a message without a key is on the main channel
/// (python's, which it publishes without a key). The consumer reads the whole topic and
/// keeps what its subscriptions match, looking at the key before copying anything.
///
/// Every node must see every message, so the consumer assigns itself all partitions of the
/// topic from their ends, read from the brokers before the transport says it is subscribed
/// (no consumer group, no rebalancing), and re-reads the partition count every
/// `metadataRefresh` (partitions added later are assigned from their beginning). A message
/// stamped (by its producer) more than `replayTolerance` before this consumer was assigned
/// is dropped: a subscriber hears only what is published after it subscribes, as on Redis
/// and AMQP, even from a broker whose "latest offset" is short of the end (Tansu 0.6 answers
/// the last batch's first offset + 1, so a new consumer was handed the rest of that batch: a
/// dead node's last heartbeat made it live again for three intervals, and replayed
/// server-side emits ran their handlers twice).
///
/// The producer is idempotent and sends all its messages to one partition (picked from this
/// node's random seed by a partitioner that ignores the key), so one publisher's messages
/// keep their order on every channel. librdkafka's own queue holds messages while
/// brokers are away (`message.timeout.ms=0`: never expire), bounded by `maxQueuedMessages`;
/// it is flushed on shutdown. librdkafka handles are thread-safe; blocking polls run on
/// dedicated threads, never on the event loops or the cooperative pool.
///
/// Failures are loud: a broadcast above `maxMessageBytes` (also the producer's
/// `message.max.bytes`) is refused with a count and a log line; failed deliveries are
/// counted and logged (delivery reports); a fatal producer error, or a consumer that cannot
/// be set up after `maxSetupAttempts` tries (capped backoff between them), makes `run()`
/// throw. A broker that is merely unreachable, or a topic that does not exist yet, is
/// waited for without end (the node is not ready meanwhile).
///
/// `@unchecked Sendable`: the handles are thread-safe librdkafka objects created in `init`
/// and destroyed in `deinit`; `reports` is only accessed with atomic builtins (C shim); the
/// remaining stored properties are immutable or boxed.
public final class KafkaBackplane: BackplaneTransport, @unchecked Sendable {
    public struct Configuration: Sendable {
        public var url: BackplaneURL
        public var channel: String
        public var role: BackplaneRole
        public var maxQueuedMessages: Int
        /// The largest message published or accepted; also `message.max.bytes`. The
        /// brokers' and topic's `max.message.bytes` must be at least this.
        public var maxMessageBytes: Int
        /// Received messages waiting for the cluster manager.
        public var inbox: BackplaneInbox.Limits
        public var initialBackoff: Duration
        public var maxBackoff: Duration
        /// Consumer setup failures (creation, topic, assignment; not an unreachable broker)
        /// in a row before the transport gives up and `run()` throws.
        public var maxSetupAttempts: Int
        /// How often the partition count is read again.
        public var metadataRefresh: Duration
        /// How much older than this consumer's assignment a message may be stamped and still
        /// be delivered: room for the producers' clocks being behind this node's. `nil`
        /// delivers whatever the broker hands over from the assigned offsets.
        public var replayTolerance: Duration?

        public init(
            url: BackplaneURL,
            channel: String = "socketio",
            role: BackplaneRole = .publishAndSubscribe,
            maxQueuedMessages: Int = 100_000,
            maxMessageBytes: Int = BackplaneLimits.defaultMaxMessageBytes,
            inbox: BackplaneInbox.Limits? = nil,
            initialBackoff: Duration = .milliseconds(100),
            maxBackoff: Duration = .seconds(2),
            maxSetupAttempts: Int = 8,
            metadataRefresh: Duration = .seconds(30),
            replayTolerance: Duration? = .seconds(2)
        ) {
            self.url = url
            self.channel = channel
            self.role = role
            self.maxQueuedMessages = maxQueuedMessages
            self.maxMessageBytes = maxMessageBytes
            self.inbox = inbox ?? BackplaneInbox.Limits(maxMessageBytes: maxMessageBytes)
            self.initialBackoff = initialBackoff
            self.maxBackoff = maxBackoff
            self.maxSetupAttempts = maxSetupAttempts
            self.metadataRefresh = metadataRefresh
            self.replayTolerance = replayTolerance
        }
    }

    public let configuration: Configuration
    public let messages: BackplaneInbox
    public var channel: String { self.configuration.channel }
    private let subscriptions: BackplaneSubscriptions
    private let logger: Logger
    private let reporter: BackplaneReporter
    private let producer: OpaquePointer
    private let producerTopic: OpaquePointer
    private let reports: UnsafeMutablePointer<CRdKafka_Reports>
    private let stop = StopSignal()
    private let subscribed = NIOLockedValueBox(false)

    /// - Throws: ``BackplaneURLError`` if librdkafka refuses the configuration.
    public init(configuration: Configuration, logger: Logger) throws(BackplaneURLError) {
        self.configuration = configuration
        self.logger = logger
        self.reporter = BackplaneReporter(kind: "kafka", logger: logger)
        var error = [CChar](repeating: 0, count: 512)
        let bootstrap = configuration.url.hosts.map { "\($0.host):\($0.port)" }.joined(separator: ",")
        let reports = UnsafeMutablePointer<CRdKafka_Reports>.allocate(capacity: 1)
        reports.initialize(to: CRdKafka_Reports(failed: 0, tooLarge: 0, lastError: 0))
        guard
            let producer = CRdKafka_newProducer(
                bootstrap, Int32(configuration.maxQueuedMessages), Int32(configuration.maxMessageBytes), reports, &error, error.count
            )
        else {
            reports.deallocate()
            throw BackplaneURLError("kafka producer: \(cText(error))")
        }
        var generator = SystemRandomNumberGenerator()
        guard let topic = CRdKafka_newPinnedTopic(producer, configuration.channel, generator.next()) else {
            rd_kafka_destroy(producer)
            reports.deallocate()
            throw BackplaneURLError("kafka topic \(configuration.channel): cannot create a handle")
        }
        self.producer = producer
        self.producerTopic = topic
        self.reports = reports
        self.subscriptions = BackplaneSubscriptions(configuration.role.subscribes ? [.channel(configuration.channel)] : [])
        self.messages = BackplaneInbox(limits: configuration.inbox, kind: "kafka", logger: logger)
    }

    deinit {
        rd_kafka_topic_destroy(self.producerTopic)
        rd_kafka_destroy(self.producer)
        // No delivery report can run after rd_kafka_destroy.
        self.reports.deallocate()
    }

    public func publish(_ payload: ByteBuffer, to channel: String) {
        guard payload.readableBytes <= self.configuration.maxMessageBytes else {
            self.reporter.refusedOversized(bytes: payload.readableBytes, limit: self.configuration.maxMessageBytes)
            return
        }
        let produced = payload.withUnsafeReadableBytes { payload in
            if channel == self.configuration.channel {
                return KafkaClient.produce(self.producerTopic, payload: payload, key: nil)
            }
            var key = channel
            return key.withUTF8 { key in KafkaClient.produce(self.producerTopic, payload: payload, key: UnsafeRawBufferPointer(key)) }
        }
        switch produced {
        case .queued:
            return
        case .queueFull:
            self.reporter.outboxFull(total: self.reporter.totals.dropped + 1)
        case .tooLarge:
            self.reporter.refusedOversized(bytes: payload.readableBytes, limit: self.configuration.maxMessageBytes)
        case .failed(let text):
            self.reporter.poison(bytes: payload.readableBytes, attempts: 1, error: BackplaneError(.refused, text))
        }
    }

    public var queuedMessages: Int { Int(rd_kafka_outq_len(self.producer)) }

    public func subscribe(_ subscriptions: [BackplaneSubscription]) {
        // The consumer reads the whole topic already: a new subscription only widens its filter.
        self.subscriptions.add(subscriptions)
    }

    public var isSubscribed: Bool { !self.subscriptions.isEmpty && self.subscribed.withLockedValue { $0 } }

    private var isStopped: Bool { self.stop.isStopped }

    /// Messages dropped so far: outbox full, refused as too large, refused by the broker.
    public var droppedMessages: (dropped: Int, refused: Int, poison: Int) { self.reporter.totals }

    /// Raises a fatal producer error (tests: `run()` must then throw).
    package func raiseFatalErrorForTesting() {
        rd_kafka_test_fatal_error(self.producer, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, "raised by a test")
    }

    public func run() async throws {
        defer { self.messages.finish() }
        let loops: [@Sendable () throws -> Void] = [{ try self.pollerLoop() }, { try self.consumerLoop() }]
        try await BlockingThreads.run(loops) {
            // Deliver what is queued (bounded), then stop the threads.
            _ = rd_kafka_flush(self.producer, 5000)
            self.stop.stop()
        }
    }

    /// Serves delivery reports and producer events; fails on a fatal producer error.
    private func pollerLoop() throws {
        var error = [CChar](repeating: 0, count: 512)
        while !self.isStopped {
            rd_kafka_poll(self.producer, 100)
            var failed: Int64 = 0
            var tooLarge: Int64 = 0
            CRdKafka_takeReports(self.reports, &failed, &tooLarge, &error, error.count)
            if failed > 0 {
                let text = cText(error)
                for _ in 0..<failed {
                    self.reporter.poison(bytes: 0, attempts: 1, error: BackplaneError(.refused, "delivery failed: \(text)"))
                }
            }
            if let text = KafkaClient.fatalError(self.producer) {
                self.logger.error("kafka producer hit a fatal error; the backplane stops", metadata: ["backplane.kind": "kafka", "backplane.error": "\(text)"])
                throw BackplaneError(.fatal, "kafka producer: \(text)")
            }
        }
    }

    @discardableResult
    private func pause(_ duration: Duration) -> Bool {
        self.stop.sleep(duration)
    }

    /// The consumer thread: sets up a consumer and polls; a setup that fails is retried
    /// with capped backoff, and after `maxSetupAttempts` failures in a row (an assignment
    /// that worked resets the count) it gives up. Without subscriptions (an emitter that
    /// asked for none yet) it keeps no consumer.
    private func consumerLoop() throws {
        defer { self.subscribed.withLockedValue { $0 = false } }
        let client = BlockingClient(
            .init(
                name: "kafka consumer",
                initialBackoff: self.configuration.initialBackoff,
                maxBackoff: self.configuration.maxBackoff,
                maxFailures: self.configuration.maxSetupAttempts
            ),
            stop: self.stop,
            logger: self.logger,
            reporter: self.reporter
        )
        try client.run(
            ready: { self.subscriptions.waitForAny(stop: self.stop) },
            connect: { _ in try KafkaConsumer(bootstrap: self.bootstrap, topic: self.configuration.channel, maxMessageBytes: self.configuration.maxMessageBytes) },
            serve: { consumer, healthy in
                defer { self.subscribed.withLockedValue { $0 = false } }
                try self.serve(consumer, onAssigned: healthy)
            }
        )
    }

    private var bootstrap: String { self.configuration.url.hosts.map { "\($0.host):\($0.port)" }.joined(separator: ",") }

    /// One consumer's life: find the partitions, assign, poll until stopped.
    /// - Throws: ``BackplaneError`` for a setup step that failed.
    private func serve(_ handles: KafkaConsumer, onAssigned: () -> Void) throws(BackplaneError) {
        let consumer = handles.consumer
        let topic = handles.topic
        // Find the partitions and their ends: an unreachable broker or a missing topic is
        // waited for.
        var backoff = self.configuration.initialBackoff
        var ends: [Int64] = []
        var reported = false
        while ends.isEmpty {
            let text: String
            switch KafkaClient.partitions(of: topic, on: consumer, timeoutMilliseconds: 2000) {
            case .count(let count):
                switch KafkaClient.endOffsets(consumer, topic: self.configuration.channel, count: count, timeoutMilliseconds: 2000) {
                case .success(let offsets):
                    ends = offsets
                    continue
                case .failure(let error):
                    text = error.message
                }
            case .refused(let text):
                throw BackplaneError(.connection, text)
            case .unavailable(let unavailable):
                text = unavailable
            }
            if !reported {
                self.logger.info("kafka unreachable or topic missing; retrying", metadata: ["backplane.kind": "kafka", "backplane.error": "\(text)"])
                reported = true
            }
            guard self.pause(backoff) else { return }
            backoff = min(backoff * 2, self.configuration.maxBackoff)
        }
        var partitions = ends.count
        // Subscribed once the assignment's positions are known, so that whatever is published
        // after `isSubscribed` turns true is heard (an emitter publishes its request then).
        try KafkaClient.assign(consumer, topic: self.configuration.channel, from: ends)
        var replays = ReplayFilter(assignedAt: Date(), tolerance: self.configuration.replayTolerance)
        self.subscribed.withLockedValue { $0 = true }
        onAssigned()
        if reported { self.logger.info("kafka consumer assigned", metadata: ["backplane.kind": "kafka", "backplane.partitions": "\(partitions)"]) }
        var lastError = ""
        var current = self.subscriptions.snapshot
        var nextRefresh = ContinuousClock.now + self.configuration.metadataRefresh
        while !self.isStopped {
            if self.subscriptions.version != current.version { current = self.subscriptions.snapshot }
            if let message = rd_kafka_consumer_poll(consumer, 250) {
                self.take(message, filter: current, replays: &replays, lastError: &lastError)
                rd_kafka_message_destroy(message)
            }
            if ContinuousClock.now >= nextRefresh {
                nextRefresh = ContinuousClock.now + self.configuration.metadataRefresh
                if case .count(let count) = KafkaClient.partitions(of: topic, on: consumer, timeoutMilliseconds: 2000), count > partitions {
                    try KafkaClient.assignAdded(consumer, topic: self.configuration.channel, count: count, previous: partitions)
                    self.logger.info(
                        "kafka topic has more partitions; assigned",
                        metadata: ["backplane.kind": "kafka", "backplane.partitions": "\(count)"]
                    )
                    partitions = count
                }
            }
        }
    }

    /// Hands one polled message to the inbox if its channel is subscribed; logs an error
    /// event (each kind once in a row).
    private func take(
        _ pointer: UnsafeMutablePointer<rd_kafka_message_t>,
        filter: BackplaneSubscriptions.Snapshot,
        replays: inout ReplayFilter,
        lastError: inout String
    ) {
        let message = pointer.pointee
        if message.err == RD_KAFKA_RESP_ERR_NO_ERROR {
            // -1 when the broker keeps no timestamp: delivered.
            guard replays.admits(timestamp: rd_kafka_message_timestamp(pointer, nil)) else {
                if replays.dropped == 1 {
                    self.logger.info(
                        "kafka broker handed over messages from before this node subscribed; dropped (a broker whose latest offset is short of the end)",
                        metadata: ["backplane.kind": "kafka", "backplane.partition": "\(message.partition)"]
                    )
                }
                return
            }
            let channel: String
            if let key = message.key, message.key_len > 0 {
                channel = String(decoding: UnsafeRawBufferPointer(start: key, count: message.key_len), as: UTF8.self)
            } else {
                channel = self.configuration.channel
            }
            // Filtered before the payload is copied; then copied once, straight out of
            // librdkafka's memory.
            guard filter.matches(channel) else { return }
            let payload = ByteBuffer(bytes: UnsafeRawBufferPointer(start: message.payload, count: message.len))
            self.messages.push(BackplaneMessage(channel: channel, payload: payload))
        } else if message.err != RD_KAFKA_RESP_ERR__PARTITION_EOF {
            // Transient broker errors are reported as events.
            let text = String(cString: rd_kafka_message_errstr(pointer))
            if text != lastError {
                self.logger.info("kafka consumer error; continuing", metadata: ["backplane.kind": "kafka", "backplane.error": "\(text)"])
                lastError = text
            }
        }
    }
}

/// A consumer and its topic handle: the single owner of both, destroyed on deinit.
private final class KafkaConsumer {
    let consumer: OpaquePointer
    let topic: OpaquePointer

    init(bootstrap: String, topic name: String, maxMessageBytes: Int) throws(BackplaneError) {
        var generator = SystemRandomNumberGenerator()
        let group = "swift-socketio.\(String(generator.next() as UInt64, radix: 16))"
        let consumer = try KafkaClient.newConsumer(bootstrap: bootstrap, group: group, maxMessageBytes: maxMessageBytes)
        guard let topic = rd_kafka_topic_new(consumer, name, nil) else {
            rd_kafka_destroy(consumer)
            throw BackplaneError(.connection, "topic handle: cannot create")
        }
        self.consumer = consumer
        self.topic = topic
    }

    deinit {
        rd_kafka_topic_destroy(self.topic)
        rd_kafka_consumer_close(self.consumer)
        rd_kafka_destroy(self.consumer)
    }
}

/// The text of a NUL-terminated C buffer.
private func cText(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

#endif  // Kafka
