//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import Backplane
import CoreMetrics
public import Logging
import Metrics
import NIOConcurrencyHelpers
public import NIOCore

/// RabbitMQ as a backplane (rabbitmq-c, Debian's librabbitmq-dev), with the topology of
/// python-socketio's `KombuManager`: a fanout exchange named after the channel
/// (durable=false, auto_delete=false) and one queue per node bound to it (durable, with
/// kombu's `x-expires` of 300 s, consumed with manual acks, so that what it holds survives a
/// connection loss or a broker restart);
/// bodies are UTF-8 JSON published as `text/plain`, as kombu does.
///
/// A publisher and a consumer connection, each confined to its own thread, each dropped at
/// its first error and reconnected with capped backoff (redeclare, rebind). Publishes wait in
/// a bounded outbox while RabbitMQ is away and are confirmed by the broker (publisher
/// confirms) before they leave the outbox, so nothing is lost on the publishing side. After
/// an outage the publisher waits `resubscribeWait` before flushing, giving the other nodes
/// (which retry on the same capped schedule) time to redeclare their queues.
public final class AMQPBackplane: BackplaneTransport {
    public struct Configuration: Sendable {
        public var url: BackplaneURL
        public var channel: String
        public var maxQueuedMessages: Int
        public var heartbeat: Duration
        public var connectTimeout: Duration
        public var initialBackoff: Duration
        public var maxBackoff: Duration
        public var resubscribeWait: Duration
        /// How long the node's queue outlives a lost consumer (kombu's `x-expires`).
        public var queueExpiry: Duration

        public init(
            url: BackplaneURL,
            channel: String = "socketio",
            maxQueuedMessages: Int = 100_000,
            heartbeat: Duration = .seconds(10),
            connectTimeout: Duration = .seconds(2),
            initialBackoff: Duration = .milliseconds(100),
            maxBackoff: Duration = .seconds(2),
            resubscribeWait: Duration = .milliseconds(2500),
            queueExpiry: Duration = .seconds(300)
        ) {
            self.url = url
            self.channel = channel
            self.maxQueuedMessages = maxQueuedMessages
            self.heartbeat = heartbeat
            self.connectTimeout = connectTimeout
            self.initialBackoff = initialBackoff
            self.maxBackoff = maxBackoff
            self.resubscribeWait = resubscribeWait
            self.queueExpiry = queueExpiry
        }
    }

    public let configuration: Configuration
    public let messages: AsyncStream<ByteBuffer>
    private let continuation: AsyncStream<ByteBuffer>.Continuation
    private let outbox: PublishQueue
    private let logger: Logger
    /// This node's queue: the same name across reconnects.
    private let queueName: String
    private let droppedCounter = Counter(label: "backplane.publish.dropped", dimensions: [("kind", "amqp")])
    private let reconnectCounter = Counter(label: "backplane.reconnects", dimensions: [("kind", "amqp")])

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.outbox = PublishQueue(capacity: configuration.maxQueuedMessages)
        (self.messages, self.continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
        var generator = SystemRandomNumberGenerator()
        self.queueName = "swift-socketio.\(String(generator.next() as UInt64, radix: 16))\(String(generator.next() as UInt64, radix: 16))"
    }

    public func publish(_ message: ByteBuffer) {
        guard let dropped = self.outbox.push(message) else { return }
        self.droppedCounter.increment()
        if dropped == 1 || dropped % 1000 == 0 {
            self.logger.warning("amqp outbox full: message dropped", metadata: ["backplane.kind": "amqp", "backplane.dropped": "\(dropped)"])
        }
    }

    public var queuedMessages: Int { self.outbox.count }

    public func run() async throws {
        await BlockingThreads.run([{ self.publisherLoop() }, { self.consumerLoop() }]) {
            self.outbox.stop()
        }
        self.continuation.finish()
    }

    private func connect() throws -> AMQPConnection {
        let url = self.configuration.url
        return try AMQPConnection(
            host: url.host,
            port: url.port,
            vhost: url.path.isEmpty ? "/" : url.path,
            user: url.user ?? "guest",
            password: url.password ?? "guest",
            heartbeatSeconds: Int(self.configuration.heartbeat.components.seconds),
            timeoutMilliseconds: Int(self.configuration.connectTimeout.inMilliseconds)
        )
    }

    private func publisherLoop() {
        var connection: AMQPConnection?
        var backoff = self.configuration.initialBackoff
        var outage = false
        while let batch = self.outbox.peek(limit: 64) {
            if connection == nil {
                do {
                    let fresh = try self.connect()
                    try fresh.declareFanout(self.configuration.channel)
                    try fresh.confirmSelect()
                    connection = fresh
                } catch {
                    if !outage {
                        self.logger.info("amqp publisher cannot connect; retrying", metadata: ["backplane.kind": "amqp", "backplane.error": "\(error)"])
                    }
                    outage = true
                    guard self.outbox.pause(seconds: backoff.inSeconds) else { break }
                    backoff = min(backoff * 2, self.configuration.maxBackoff)
                    continue
                }
                backoff = self.configuration.initialBackoff
                if outage {
                    self.logger.info("amqp publisher reconnected", metadata: ["backplane.kind": "amqp"])
                    self.reconnectCounter.increment()
                    _ = self.outbox.pause(seconds: self.configuration.resubscribeWait.inSeconds)
                    outage = false
                }
            }
            do {
                for message in batch {
                    try connection!.publish(message, exchange: self.configuration.channel, timeoutMilliseconds: 5000)
                    self.outbox.removeFirst(1)
                }
            } catch {
                self.logger.info("amqp publisher lost its connection; retrying", metadata: ["backplane.kind": "amqp", "backplane.error": "\(error)"])
                connection = nil
                outage = true
            }
        }
    }

    private func consumerLoop() {
        var backoff = self.configuration.initialBackoff
        var outage = false
        while !self.outbox.isStopped {
            let connection: AMQPConnection
            do {
                connection = try self.connect()
                try connection.declareFanout(self.configuration.channel)
                try connection.subscribe(
                    queue: self.queueName,
                    exchange: self.configuration.channel,
                    expiresMilliseconds: Int(self.configuration.queueExpiry.inMilliseconds)
                )
            } catch {
                if !outage {
                    self.logger.info("amqp consumer cannot connect; retrying", metadata: ["backplane.kind": "amqp", "backplane.error": "\(error)"])
                }
                outage = true
                guard self.outbox.pause(seconds: backoff.inSeconds) else { break }
                backoff = min(backoff * 2, self.configuration.maxBackoff)
                continue
            }
            if outage { self.logger.info("amqp consumer resubscribed", metadata: ["backplane.kind": "amqp"]) }
            outage = false
            backoff = self.configuration.initialBackoff
            do {
                // Short waits so that shutdown is noticed; heartbeats are handled inside.
                while !self.outbox.isStopped {
                    if let message = try connection.receive(timeoutMilliseconds: 250) {
                        self.continuation.yield(message.body)
                        // Acked once handed over: what was in flight when a connection or
                        // the broker went away is redelivered (and repeats are dropped by
                        // the cluster's per-publisher sequence numbers).
                        try connection.ack(message.deliveryTag)
                    }
                }
            } catch {
                if self.outbox.isStopped { break }
                self.logger.info("amqp consumer lost its connection; retrying", metadata: ["backplane.kind": "amqp", "backplane.error": "\(error)"])
                outage = true
            }
        }
    }
}
