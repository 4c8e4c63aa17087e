//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if AMQP
// Compiled only with the AMQP trait (a build without it has no AMQP backplane and
// does not need its C library).
public import Backplane
public import Logging
import NIOConcurrencyHelpers
public import NIOCore

/// RabbitMQ as a backplane (rabbitmq-c, Debian's librabbitmq-dev), with the topology of
/// python-socketio's `KombuManager`: a fanout exchange named after the channel
/// (durable=false, auto_delete=false) and one queue per node bound to it (durable, with
/// kombu's `x-expires` of 300 s, plus `x-max-length` and `x-message-ttl` so that a queue
/// whose node died stops growing; consumed with manual acks, so that what it holds survives
/// a connection loss or a broker restart); bodies are UTF-8 JSON published as
/// `text/plain`, as kombu does. That fanout exchange is the main channel; every other
/// channel goes through one topic exchange, `<channel>.cluster`, with the channel's name as
/// the routing key (python peers never see it). The node's one queue is bound to the fanout
/// exchange for the main channel and to the topic exchange once per other subscribed channel;
/// a pattern binds `#` and is filtered in process.
///
/// A publisher and a consumer connection, each confined to its own thread, each dropped at
/// its first error and reconnected with capped backoff (redeclare, rebind).
///
/// - Publisher: publishes wait in a bounded outbox (count and bytes) while RabbitMQ is away
///   and leave it only once confirmed (publisher confirms, pipelined: up to `confirmWindow`
///   in flight, see ``ConfirmWindow``). A nacked message is dropped (counted, logged); after
///   a connection or channel failure the publisher probes with one message in flight, and a
///   message that fails `retry.maxAttempts` times that way is dropped as poison. The idle
///   publisher services heartbeats: it waits for new messages in slices and lets rabbitmq-c
///   send its heartbeat between them (`amqp_simple_wait_frame_noblock`), so the broker
///   never drops it for missed heartbeats and a dead broker is noticed while idle (rather
///   than at the next publish, as a heartbeat of 0 would). After an outage it waits
///   `resubscribeWait` before flushing, giving the other nodes time to rebind.
/// - Publish-only (emitters): no consumer, no queue, until `subscribe` is called.
public final class AMQPBackplane: BackplaneTransport {
    public struct Configuration: Sendable {
        public var url: BackplaneURL
        public var channel: String
        public var role: BackplaneRole
        public var maxQueuedMessages: Int
        public var maxQueuedBytes: Int
        /// The largest message published or accepted (``BackplaneLimits``).
        public var maxMessageBytes: Int
        /// Received messages waiting for the cluster manager.
        public var inbox: BackplaneInbox.Limits
        public var heartbeat: Duration
        public var connectTimeout: Duration
        /// Messages published and not yet confirmed, at most.
        public var confirmWindow: Int
        /// How long a confirm may take before the connection is deemed dead.
        public var confirmTimeout: Duration
        /// Backoff and poison-message attempts.
        public var retry: PublishRetryPolicy.Configuration
        public var resubscribeWait: Duration
        /// How long the node's queue outlives a lost consumer (kombu's `x-expires`).
        public var queueExpiry: Duration
        /// Messages the node's queue holds at most (`x-max-length`; the oldest go first).
        public var queueMaxLength: Int
        /// How long a message may wait in the node's queue (`x-message-ttl`).
        public var queueMessageTTL: Duration

        public init(
            url: BackplaneURL,
            channel: String = "socketio",
            role: BackplaneRole = .publishAndSubscribe,
            maxQueuedMessages: Int = 100_000,
            maxQueuedBytes: Int = 64 << 20,
            maxMessageBytes: Int = BackplaneLimits.defaultMaxMessageBytes,
            inbox: BackplaneInbox.Limits? = nil,
            heartbeat: Duration = .seconds(10),
            connectTimeout: Duration = .seconds(2),
            confirmWindow: Int = 256,
            confirmTimeout: Duration = .seconds(5),
            retry: PublishRetryPolicy.Configuration = .init(),
            resubscribeWait: Duration = .milliseconds(2500),
            queueExpiry: Duration = .seconds(300),
            queueMaxLength: Int = 10_000,
            queueMessageTTL: Duration = .seconds(60)
        ) {
            self.url = url
            self.channel = channel
            self.role = role
            self.maxQueuedMessages = maxQueuedMessages
            self.maxQueuedBytes = maxQueuedBytes
            self.maxMessageBytes = maxMessageBytes
            self.inbox = inbox ?? BackplaneInbox.Limits(maxMessageBytes: maxMessageBytes)
            self.heartbeat = heartbeat
            self.connectTimeout = connectTimeout
            self.confirmWindow = confirmWindow
            self.confirmTimeout = confirmTimeout
            self.retry = retry
            self.resubscribeWait = resubscribeWait
            self.queueExpiry = queueExpiry
            self.queueMaxLength = queueMaxLength
            self.queueMessageTTL = queueMessageTTL
        }
    }

    public let configuration: Configuration
    public let messages: BackplaneInbox
    public var channel: String { self.configuration.channel }
    /// The topic exchange of the channels other than the main one.
    private var topicExchange: String { self.configuration.channel + ".cluster" }
    private let subscriptions: BackplaneSubscriptions
    private let stop = StopSignal()
    private let outbox: PublishQueue
    private let logger: Logger
    private let reporter: BackplaneReporter
    /// This node's queue: the same name across reconnects.
    private let queueName: String

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.reporter = BackplaneReporter(kind: "amqp", logger: logger)
        self.outbox = PublishQueue(capacity: configuration.maxQueuedMessages, maxBytes: configuration.maxQueuedBytes, stop: self.stop)
        self.messages = BackplaneInbox(limits: configuration.inbox, kind: "amqp", logger: logger)
        var generator = SystemRandomNumberGenerator()
        self.queueName = "swift-socketio.\(String(generator.next() as UInt64, radix: 16))\(String(generator.next() as UInt64, radix: 16))"
        self.subscriptions = BackplaneSubscriptions(configuration.role.subscribes ? [.channel(configuration.channel)] : [])
    }

    public func publish(_ payload: ByteBuffer, to channel: String) {
        guard payload.readableBytes <= self.configuration.maxMessageBytes else {
            self.reporter.refusedOversized(bytes: payload.readableBytes, limit: self.configuration.maxMessageBytes)
            return
        }
        guard let dropped = self.outbox.push(BackplaneMessage(channel: channel, payload: payload)) else { return }
        self.reporter.outboxFull(total: dropped)
    }

    public func subscribe(_ subscriptions: [BackplaneSubscription]) {
        self.subscriptions.add(subscriptions)
    }

    public var queuedMessages: Int { self.outbox.count }

    /// Messages dropped so far: outbox full, refused as too large, refused by the broker.
    public var droppedMessages: (dropped: Int, refused: Int, poison: Int) { self.reporter.totals }

    public var isSubscribed: Bool { self.subscriptions.isConfirmed }

    public func run() async throws {
        defer { self.messages.finish() }
        let loops: [@Sendable () throws -> Void] = [{ try self.publisherLoop() }, { try self.consumerLoop() }]
        try await BlockingThreads.run(loops) {
            self.stop.stop()
        }
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

    // MARK: Publisher

    private func client(_ name: String) -> BlockingClient {
        BlockingClient(
            .init(name: name, initialBackoff: self.configuration.retry.initialBackoff, maxBackoff: self.configuration.retry.maxBackoff),
            stop: self.stop,
            logger: self.logger,
            reporter: self.reporter
        )
    }

    /// The publisher thread: owns the publishing connection, made when there is something
    /// to publish.
    private func publisherLoop() throws {
        var window = ConfirmWindow(limit: self.configuration.confirmWindow)
        var policy = PublishRetryPolicy(configuration: self.configuration.retry)
        // After a failure, one message in flight, so that the next failure is blamed on the
        // right message.
        var probing = false
        // Idle waits are sliced so that heartbeats go out well within the broker's limit.
        let idleSlice = Duration.seconds(max(0.05, min(1.0, self.configuration.heartbeat.inSeconds / 4)))
        try self.client("amqp publisher").run(
            ready: { self.outbox.waitForMessages(timeout: idleSlice) },
            connect: { afterOutage in
                let fresh = try self.connect()
                try fresh.declareExchange(self.configuration.channel, type: "fanout")
                // Publishing to an exchange that does not exist closes the channel.
                try fresh.declareExchange(self.topicExchange, type: "topic")
                try fresh.confirmSelect()
                // Give the other nodes time to rebind before flushing what waited.
                if afterOutage { self.stop.sleep(self.configuration.resubscribeWait) }
                return fresh
            },
            serve: { link, healthy in
                window.reset()
                do {
                    try self.publish(on: link, window: &window, policy: &policy, probing: &probing, idleSlice: idleSlice, healthy: healthy)
                } catch {
                    // With several messages in flight the failure cannot be blamed on one of
                    // them: back off and probe with one. While probing, it counts against the head.
                    let failure = BackplaneError(.connection, "\(error)")
                    var wait = policy.connectFailed()
                    if probing, window.inFlight > 0 {
                        let decision = policy.publishFailed(failure)
                        if decision.dropHead {
                            let head = self.outbox.peek(from: 0, limit: 1, timeout: 0)?.first
                            self.outbox.removeFirst(1)
                            self.reporter.poison(bytes: head?.payload.readableBytes ?? 0, attempts: decision.attempts, error: failure)
                        }
                        wait = decision.wait
                    }
                    probing = true
                    throw BlockingClient.RetryAfter(wait, cause: failure)
                }
            }
        )
    }

    /// Publishes on one connection until stopped (with a bounded last chance for what is
    /// queued) or until it fails: sends what the confirm window allows, reads every confirm
    /// that has arrived, retires settled messages from the outbox in order.
    private func publish(
        on link: AMQPConnection,
        window: inout ConfirmWindow,
        policy: inout PublishRetryPolicy,
        probing: inout Bool,
        idleSlice: Duration,
        healthy: () -> Void
    ) throws {
        let exchange = self.configuration.channel
        let topicExchange = self.topicExchange
        var oldestSent: ContinuousClock.Instant?
        var stoppedAt: ContinuousClock.Instant?
        while true {
            if self.stop.isStopped {
                // Shutdown: what is queued gets a bounded last chance.
                let now = ContinuousClock.now
                if stoppedAt == nil { stoppedAt = now }
                if self.outbox.count == 0 || now - stoppedAt! > self.configuration.confirmTimeout { return }
            }
            // Send what the window allows (waiting a slice when idle).
            let room = window.room(probing: probing)
            var sentNow = 0
            if room > 0 {
                let timeout = window.inFlight > 0 ? 0 : idleSlice.inSeconds
                let batch = self.outbox.peek(from: window.inFlight, limit: room, timeout: timeout) ?? []
                for message in batch {
                    if message.channel == exchange {
                        try link.publish(message.payload, exchange: exchange, routingKey: "")
                    } else {
                        try link.publish(message.payload, exchange: topicExchange, routingKey: message.channel)
                    }
                    _ = window.sent()
                    if oldestSent == nil { oldestSent = .now }
                    sentNow += 1
                }
            }
            // Read every confirm that has arrived (the broker acks in batches, `multiple`);
            // heartbeats are serviced here too (also when idle).
            var wait = window.inFlight > 0 && sentNow == 0 ? 10 : 0
            while let confirm = try link.pollConfirm(timeoutMilliseconds: wait) {
                window.settle(tag: confirm.tag, multiple: confirm.multiple, acknowledged: confirm.acknowledged)
                wait = 0
            }
            let retired = window.retire()
            if !retired.isEmpty {
                if retired.contains(false) {
                    let messages = self.outbox.peek(from: 0, limit: retired.count, timeout: 0) ?? []
                    for (index, acknowledged) in retired.enumerated() where !acknowledged {
                        let nack = BackplaneError(.refused, "broker refused the message (nack)")
                        let decision = policy.publishFailed(nack)
                        self.reporter.poison(
                            bytes: index < messages.count ? messages[index].payload.readableBytes : 0,
                            attempts: decision.attempts,
                            error: nack
                        )
                    }
                }
                self.outbox.removeFirst(retired.count)
                if retired.contains(true) {
                    policy.published()
                    probing = false
                    healthy()
                }
                oldestSent = window.inFlight > 0 ? .now : nil
            }
            if let oldest = oldestSent, ContinuousClock.now - oldest > self.configuration.confirmTimeout {
                throw AMQPError(description: "no publisher confirm within \(self.configuration.confirmTimeout)")
            }
        }
    }

    // MARK: Consumer

    /// Binds this node's queue for the subscriptions: the fanout exchange when the main
    /// channel is wanted, the topic exchange per other channel, `#` for any pattern (bindings
    /// already there are no-ops).
    private func bind(_ snapshot: BackplaneSubscriptions.Snapshot, on connection: AMQPConnection) throws {
        let main = self.configuration.channel
        if snapshot.matches(main) {
            try connection.bind(queue: self.queueName, exchange: main, routingKey: "")
        }
        let others = snapshot.patterns.isEmpty ? snapshot.channels.filter { $0 != main } : ["#"]
        for key in others {
            try connection.bind(queue: self.queueName, exchange: self.topicExchange, routingKey: key)
        }
    }

    /// The consumer thread: owns the consuming connection. Without subscriptions (an emitter
    /// that asked for none yet) it keeps no connection and no queue.
    private func consumerLoop() throws {
        defer { self.subscriptions.unconfirm() }
        try self.client("amqp consumer").run(
            ready: { self.subscriptions.waitForAny(stop: self.stop) },
            connect: { _ in
                let wanted = self.subscriptions.snapshot
                let connection = try self.connect()
                try connection.declareExchange(self.configuration.channel, type: "fanout")
                try connection.declareExchange(self.topicExchange, type: "topic")
                try connection.declareQueue(
                    self.queueName,
                    expiresMilliseconds: Int(self.configuration.queueExpiry.inMilliseconds),
                    maxLength: self.configuration.queueMaxLength,
                    messageTTLMilliseconds: Int(self.configuration.queueMessageTTL.inMilliseconds)
                )
                try self.bind(wanted, on: connection)
                try connection.consume(queue: self.queueName)
                return (connection, wanted)
            },
            serve: { consuming, healthy in
                let (connection, wanted) = consuming
                // Bound and consuming: the subscription is confirmed.
                self.subscriptions.confirm(wanted.version)
                defer { self.subscriptions.unconfirm() }
                healthy()
                try self.consume(on: connection, subscribed: wanted)
            }
        )
    }

    /// Hands deliveries to the inbox until stopped or the connection fails; binds new
    /// subscriptions as they are added.
    private func consume(on connection: AMQPConnection, subscribed: BackplaneSubscriptions.Snapshot) throws {
        var current = subscribed
        // Short waits so that shutdown and new subscriptions are noticed; heartbeats are
        // handled inside.
        while !self.stop.isStopped {
            if self.subscriptions.version != current.version {
                // Bindings belong to the queue, not to a connection: a short-lived one adds
                // them while this one keeps consuming (an RPC here could interleave with
                // deliveries).
                current = self.subscriptions.snapshot
                let binder = try self.connect()
                try self.bind(current, on: binder)
                self.subscriptions.confirm(current.version)
            }
            guard let delivery = try connection.receive(timeoutMilliseconds: 100) else { continue }
            let channel = delivery.exchange == self.configuration.channel ? delivery.exchange : delivery.routingKey
            // A full inbox drops (and counts) the message: the ack below keeps the broker
            // from redelivering what the node cannot take.
            if current.matches(channel) {
                self.messages.push(BackplaneMessage(channel: channel, payload: delivery.body))
            }
            // Acked once handed over: what was in flight when a connection or the broker
            // went away is redelivered (and repeats are dropped by the cluster's
            // per-publisher sequence numbers).
            try connection.ack(delivery.deliveryTag)
        }
    }
}

#endif  // AMQP
