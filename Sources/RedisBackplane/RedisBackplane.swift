//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Redis
// Compiled only with the Redis trait (a build without it has no Redis backplane and
// does not need its C library).
public import Backplane
import CHiredis
public import Logging
import NIOConcurrencyHelpers
public import NIOCore

/// Redis pub/sub as a backplane (hiredis, Debian's libhiredis-dev): `PUBLISH`, and
/// `SUBSCRIBE`/`PSUBSCRIBE`, the main channel exactly as python-socketio's `RedisManager`
/// uses it; other channels are plain Redis channels beside it.
///
/// Two connections, each confined to its own thread: hiredis contexts are not thread-safe
/// and cannot be reused after an error, so each thread owns its connection, drops it at the
/// first error and reconnects with capped exponential backoff (resubscribing).
///
/// - Publisher: publishes wait in a bounded outbox (count and bytes) while Redis is away.
///   A message Redis refuses (an error reply such as `NOPERM`) is dropped at once; one during
///   which the connection breaks (Redis closes it on an oversized argument) is dropped after
///   `retry.maxAttempts` tries (``PublishRetryPolicy``); every failure is followed by a
///   backoff. After an outage the publisher waits until as many subscribers as before are
///   back (`PUBSUB NUMSUB`, bounded wait).
/// - Subscriber: no receive timeout (a quiet channel is normal); a dead broker is detected
///   by `PING` in subscribed mode with its own deadline (``SubscriberLiveness``).
/// - Publish-only (emitters): no subscriber connection at all.
public final class RedisBackplane: BackplaneTransport {
    public struct Configuration: Sendable {
        public var url: BackplaneURL
        public var channel: String
        public var role: BackplaneRole
        /// Messages held while Redis is away; more are dropped (and counted, and logged).
        public var maxQueuedMessages: Int
        /// Bytes held while Redis is away.
        public var maxQueuedBytes: Int
        /// The largest message published or accepted (``BackplaneLimits``).
        public var maxMessageBytes: Int
        /// Received messages waiting for the cluster manager.
        public var inbox: BackplaneInbox.Limits
        public var connectTimeout: Duration
        /// The publisher's wait for a reply (the subscriber has none).
        public var commandTimeout: Duration
        /// Backoff and poison-message attempts.
        public var retry: PublishRetryPolicy.Configuration
        /// How the subscriber checks an idle connection.
        public var liveness: SubscriberLiveness.Configuration
        /// How long, after an outage, the publisher waits for subscribers to come back.
        public var resubscribeWait: Duration
        /// `PUBLISH` commands written before their replies are read, at most.
        public var publishBatch: Int

        public init(
            url: BackplaneURL,
            channel: String = "socketio",
            role: BackplaneRole = .publishAndSubscribe,
            maxQueuedMessages: Int = 100_000,
            maxQueuedBytes: Int = 64 << 20,
            maxMessageBytes: Int = BackplaneLimits.defaultMaxMessageBytes,
            inbox: BackplaneInbox.Limits? = nil,
            connectTimeout: Duration = .seconds(1),
            commandTimeout: Duration = .seconds(5),
            retry: PublishRetryPolicy.Configuration = .init(),
            liveness: SubscriberLiveness.Configuration = .init(),
            resubscribeWait: Duration = .seconds(10),
            publishBatch: Int = 256
        ) {
            self.url = url
            self.channel = channel
            self.role = role
            self.maxQueuedMessages = maxQueuedMessages
            self.maxQueuedBytes = maxQueuedBytes
            self.maxMessageBytes = maxMessageBytes
            self.inbox = inbox ?? BackplaneInbox.Limits(maxMessageBytes: maxMessageBytes)
            self.connectTimeout = connectTimeout
            self.commandTimeout = commandTimeout
            self.retry = retry
            self.liveness = liveness
            self.resubscribeWait = resubscribeWait
            self.publishBatch = max(1, publishBatch)
        }
    }

    public let configuration: Configuration
    public let messages: BackplaneInbox
    public var channel: String { self.configuration.channel }
    private let subscriptions: BackplaneSubscriptions
    private let stop = StopSignal()
    private let outbox: PublishQueue
    private let logger: Logger
    private let reporter: BackplaneReporter
    /// The subscriber's socket, so that shutdown can wake its blocking wait.
    private let subscriberFD = NIOLockedValueBox<Int32>(-1)

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.reporter = BackplaneReporter(kind: "redis", logger: logger)
        self.outbox = PublishQueue(capacity: configuration.maxQueuedMessages, maxBytes: configuration.maxQueuedBytes, stop: self.stop)
        self.messages = BackplaneInbox(limits: configuration.inbox, kind: "redis", logger: logger)
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

    /// Messages waiting to be published (for tests and health checks).
    public var queuedMessages: Int { self.outbox.count }

    /// Messages dropped so far: outbox full, refused as too large, refused by the broker.
    public var droppedMessages: (dropped: Int, refused: Int, poison: Int) { self.reporter.totals }

    public var isSubscribed: Bool { self.subscriptions.isConfirmed }

    public func run() async throws {
        defer { self.messages.finish() }
        let loops: [@Sendable () throws -> Void] = [{ try self.publisherLoop() }, { try self.subscriberLoop() }]
        try await BlockingThreads.run(loops) {
            self.stop.stop()
            // Wakes the subscriber waiting for data. Under the lock: the subscriber clears the
            // number under it before its connection closes, so a number read here is still
            // that connection's and not a reused descriptor of some other socket.
            self.subscriberFD.withLockedValue { RedisConnection.shutdown(fileDescriptor: $0) }
        }
    }

    // MARK: Threads

    private func connect(commandTimeout: Duration?) throws -> RedisConnection {
        let url = self.configuration.url
        return try RedisConnection(
            host: url.host,
            port: url.port,
            password: url.password,
            connectTimeoutMilliseconds: Int(self.configuration.connectTimeout.inMilliseconds),
            commandTimeoutMilliseconds: commandTimeout.map { Int($0.inMilliseconds) }
        )
    }

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
        RedisConnection.blockSIGPIPEOnThisThread()
        var policy = PublishRetryPolicy(configuration: self.configuration.retry)
        var knownSubscribers = 0
        // After a failure, one message at a time, so that the next failure is blamed on
        // the right message (a batch cannot tell which of its messages broke the link).
        var probing = false
        try self.client("redis publisher").run(
            ready: { self.outbox.waitForMessages(timeout: .seconds(1)) },
            connect: { afterOutage in
                let connection = try self.connect(commandTimeout: self.configuration.commandTimeout)
                if afterOutage { self.waitForSubscribers(knownSubscribers, on: connection) }
                return connection
            },
            serve: { connection, healthy in
                while let batch = self.outbox.peek(limit: probing ? 1 : self.configuration.publishBatch) {
                    do {
                        try self.publish(batch, on: connection, policy: &policy, knownSubscribers: &knownSubscribers)
                        probing = false
                        healthy()
                    } catch {
                        probing = true
                        throw error
                    }
                }
            }
        )
    }

    /// Pipelines one batch: every `PUBLISH` is appended, then the replies are read in order,
    /// each retiring its message from the outbox (a refused one is dropped and reported).
    /// - Throws: ``BlockingClient/RetryAfter`` when the connection failed; the message at
    ///   the head is dropped as poison after the retry policy's attempts.
    private func publish(
        _ batch: [BackplaneMessage],
        on connection: RedisConnection,
        policy: inout PublishRetryPolicy,
        knownSubscribers: inout Int
    ) throws {
        func failed(_ failure: BackplaneError, head: BackplaneMessage) throws {
            let decision = policy.publishFailed(failure)
            if decision.dropHead {
                self.outbox.removeFirst(1)
                self.reporter.poison(bytes: head.payload.readableBytes, attempts: decision.attempts, error: failure)
            }
            if decision.reconnect { throw BlockingClient.RetryAfter(decision.wait, cause: failure) }
        }
        do {
            for message in batch { try connection.appendPublish(message) }
        } catch {
            try failed(BackplaneError(.connection, "\(error)"), head: batch[0])
            return
        }
        for message in batch {
            let reply: RedisReply
            do {
                reply = try connection.readReply()
            } catch {
                try failed(BackplaneError(.connection, "\(error)"), head: message)
                return
            }
            switch reply {
            case .integer(let receivers):
                if message.channel == self.configuration.channel { knownSubscribers = receivers }
                self.outbox.removeFirst(1)
                policy.published()
            case .error(let text):
                // Redis refused this message (NOPERM, a size limit…); the link is fine.
                try failed(BackplaneError(.refused, text), head: message)
            default:
                try failed(BackplaneError(.connection, "unexpected PUBLISH reply \(reply)"), head: message)
                return
            }
        }
    }

    /// Waits (bounded) until `PUBSUB NUMSUB` is back to what it was before the outage.
    private func waitForSubscribers(_ expected: Int, on connection: RedisConnection) {
        guard expected > 0 else { return }
        let deadline = ContinuousClock.now + self.configuration.resubscribeWait
        while ContinuousClock.now < deadline {
            guard case .array(let parts)? = try? connection.command(["PUBSUB", "NUMSUB", self.configuration.channel]),
                parts.count == 2, case .integer(let count) = parts[1]
            else { return }
            if count >= expected { return }
            guard self.stop.sleep(.milliseconds(50)) else { return }
        }
    }

    /// The subscriber thread: owns the subscribing connection. Without subscriptions (an
    /// emitter that asked for none yet) it keeps no connection.
    private func subscriberLoop() throws {
        RedisConnection.blockSIGPIPEOnThisThread()
        defer { self.subscriptions.unconfirm() }
        try self.client("redis subscriber").run(
            ready: { self.subscriptions.waitForAny(stop: self.stop) },
            connect: { _ in
                let wanted = self.subscriptions.snapshot
                // Connecting, AUTH and the subscriptions are bounded by the command timeout...
                let connection = try self.connect(commandTimeout: self.configuration.commandTimeout)
                try self.sendSubscriptions(wanted, on: connection)
                for _ in wanted.subscriptions {
                    let reply = try connection.readReply()
                    guard case .array(let parts) = reply, let kind = parts.first?.text, kind == "subscribe" || kind == "psubscribe" else {
                        throw RedisError(description: "unexpected SUBSCRIBE reply \(reply)")
                    }
                }
                // ...waiting for pushes is not: a quiet channel is normal.
                connection.clearTimeout()
                return (connection, wanted)
            },
            serve: { subscribed, healthy in
                let (connection, wanted) = subscribed
                self.subscriptions.confirm(wanted.version)
                self.subscriberFD.withLockedValue { $0 = connection.fileDescriptor }
                defer {
                    self.subscriptions.unconfirm()
                    self.subscriberFD.withLockedValue { $0 = -1 }
                }
                healthy()
                try self.listen(on: connection, subscribed: wanted)
            }
        )
    }

    /// Sends `SUBSCRIBE` for the channels and `PSUBSCRIBE` for the patterns (no reply read:
    /// the confirmations arrive as pushes, one per name).
    private func sendSubscriptions(_ snapshot: BackplaneSubscriptions.Snapshot, on connection: RedisConnection) throws {
        let channels = snapshot.channels
        let patterns = snapshot.patterns
        if !channels.isEmpty { try connection.send(["SUBSCRIBE"] + channels) }
        if !patterns.isEmpty { try connection.send(["PSUBSCRIBE"] + patterns.map(redisGlob)) }
    }

    /// Reads pushes until the connection fails, PING goes unanswered, or shutdown; sends new
    /// subscriptions as they are added.
    private func listen(on connection: RedisConnection, subscribed initial: BackplaneSubscriptions.Snapshot) throws {
        var liveness = SubscriberLiveness(configuration: self.configuration.liveness, now: .now)
        var current = initial
        // The version whose confirmations are awaited, and how many subscriptions it has.
        var pending: (version: Int, count: Int)?
        while !self.stop.isStopped {
            if self.subscriptions.version != current.version {
                // Redis answers a repeated SUBSCRIBE with a confirmation and nothing else:
                // sending the whole set again is simpler than a difference, and harmless.
                current = self.subscriptions.snapshot
                try self.sendSubscriptions(current, on: connection)
                pending = (current.version, current.subscriptions.count)
            }
            while let reply = try connection.bufferedReply() {
                liveness.heard(now: .now)
                guard case .array(let parts) = reply, let kind = parts.first?.text else { continue }
                switch kind {
                case "message":
                    guard parts.count == 3, let channel = parts[1].text, case .string(let payload) = parts[2] else { continue }
                    self.messages.push(BackplaneMessage(channel: channel, payload: payload))
                case "pmessage":
                    // Redis pushes a message once per matching subscription: keep the exact
                    // channel's copy, else the first matching pattern's.
                    guard parts.count == 4, let pattern = parts[1].text, let channel = parts[2].text, case .string(let payload) = parts[3],
                        !current.channels.contains(channel),
                        current.patterns.first(where: { BackplaneSubscription.pattern($0).matches(channel) }).map(redisGlob) == pattern
                    else { continue }
                    self.messages.push(BackplaneMessage(channel: channel, payload: payload))
                case "subscribe", "psubscribe":
                    // parts[2] is how many subscriptions the connection has now.
                    if let awaited = pending, parts.count == 3, case .integer(let count) = parts[2], count >= awaited.count {
                        self.subscriptions.confirm(awaited.version)
                        pending = nil
                    }
                default:
                    continue  // the pong
                }
            }
            switch liveness.next(now: .now) {
            case .sendPing:
                try connection.send(["PING"])
            case .dead:
                throw RedisError(description: "no answer to PING within \(self.configuration.liveness.pingTimeout)")
            case .wait(let until):
                // Short slices, so that shutdown and new subscriptions are noticed soon.
                let milliseconds = max(1, min(100, Int((until - .now).inMilliseconds)))
                _ = try connection.awaitData(milliseconds: milliseconds)
            }
        }
    }
}

/// A glob as Redis reads it: only `*` and `?` are special in ``BackplaneSubscription``, so
/// Redis's other specials (brackets and the backslash) are escaped.
private func redisGlob(_ glob: String) -> String {
    var escaped = ""
    for character in glob {
        if character == "[" || character == "]" || character == "\\" { escaped.append("\\") }
        escaped.append(character)
    }
    return escaped
}

#endif  // Redis
