//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import Backplane
import CHiredis
import CoreMetrics
import Metrics
public import Logging
import NIOConcurrencyHelpers
public import NIOCore

/// Redis pub/sub as a backplane (hiredis, Debian's libhiredis-dev): `PUBLISH`/`SUBSCRIBE`
/// on one channel, as python-socketio's `RedisManager` does.
///
/// Two connections, each confined to its own thread: hiredis contexts are not thread-safe
/// and cannot be reused after an error, so each thread owns its connection, drops it at the
/// first error and reconnects with capped exponential backoff (resubscribing). Publishes
/// made while Redis is away wait in a bounded queue. After an outage the publisher waits
/// until as many subscribers as before are back (`PUBSUB NUMSUB`, bounded wait), so that
/// what was held is not published into the void while the other nodes resubscribe.
public final class RedisBackplane: BackplaneTransport {
    public struct Configuration: Sendable {
        public var url: BackplaneURL
        public var channel: String
        /// Messages held while Redis is away; more are dropped (and counted, and logged).
        public var maxQueuedMessages: Int
        public var connectTimeout: Duration
        public var initialBackoff: Duration
        public var maxBackoff: Duration
        /// How long, after an outage, the publisher waits for subscribers to come back.
        public var resubscribeWait: Duration

        public init(
            url: BackplaneURL,
            channel: String = "socketio",
            maxQueuedMessages: Int = 100_000,
            connectTimeout: Duration = .seconds(1),
            initialBackoff: Duration = .milliseconds(100),
            maxBackoff: Duration = .seconds(2),
            resubscribeWait: Duration = .seconds(10)
        ) {
            self.url = url
            self.channel = channel
            self.maxQueuedMessages = maxQueuedMessages
            self.connectTimeout = connectTimeout
            self.initialBackoff = initialBackoff
            self.maxBackoff = maxBackoff
            self.resubscribeWait = resubscribeWait
        }
    }

    public let configuration: Configuration
    public let messages: AsyncStream<ByteBuffer>
    private let continuation: AsyncStream<ByteBuffer>.Continuation
    private let outbox: PublishQueue
    private let logger: Logger
    /// The subscriber's socket, so that shutdown can wake its blocking read.
    private let subscriberFD = NIOLockedValueBox<Int32>(-1)
    private let droppedCounter = Counter(label: "backplane.publish.dropped", dimensions: [("kind", "redis")])
    private let reconnectCounter = Counter(label: "backplane.reconnects", dimensions: [("kind", "redis")])

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.outbox = PublishQueue(capacity: configuration.maxQueuedMessages)
        (self.messages, self.continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
    }

    public func publish(_ message: ByteBuffer) {
        guard let dropped = self.outbox.push(message) else { return }
        self.droppedCounter.increment()
        if dropped == 1 || dropped % 1000 == 0 {
            self.logger.warning(
                "redis outbox full: message dropped",
                metadata: ["backplane.kind": "redis", "backplane.dropped": "\(dropped)"]
            )
        }
    }

    /// Messages waiting to be published (for tests and health checks).
    public var queuedMessages: Int { self.outbox.count }

    public func run() async throws {
        await BlockingThreads.run([{ self.publisherLoop() }, { self.subscriberLoop() }]) {
            self.outbox.stop()
            // Wakes the subscriber blocked in a read.
            CHiredis_shutdownFD(self.subscriberFD.withLockedValue { $0 })
        }
        self.continuation.finish()
    }

    // MARK: Threads

    private func connect() throws -> RedisConnection {
        let url = self.configuration.url
        return try RedisConnection(
            host: url.host,
            port: url.port,
            password: url.password,
            connectTimeoutMilliseconds: Int(self.configuration.connectTimeout.inMilliseconds),
            commandTimeoutMilliseconds: 5000
        )
    }

    private func nextBackoff(_ backoff: Duration) -> Duration {
        min(backoff * 2, self.configuration.maxBackoff)
    }

    /// The publisher thread: owns the publishing connection.
    private func publisherLoop() {
        var connection: RedisConnection?
        var backoff = self.configuration.initialBackoff
        var outage = false
        var knownSubscribers = 0
        let channel = ByteBuffer(string: self.configuration.channel)
        while let batch = self.outbox.peek(limit: 64) {
            if connection == nil {
                do {
                    connection = try self.connect()
                } catch {
                    if !outage {
                        self.logger.info("redis publisher cannot connect; retrying", metadata: ["backplane.kind": "redis", "backplane.error": "\(error)"])
                    }
                    outage = true
                    guard self.outbox.pause(seconds: backoff.inSeconds) else { break }
                    backoff = self.nextBackoff(backoff)
                    continue
                }
                backoff = self.configuration.initialBackoff
                if outage {
                    self.logger.info("redis publisher reconnected", metadata: ["backplane.kind": "redis"])
                    self.reconnectCounter.increment()
                    self.waitForSubscribers(knownSubscribers, on: connection!)
                    outage = false
                }
            }
            do {
                var published = 0
                for message in batch {
                    let reply = try connection!.command([ByteBuffer(string: "PUBLISH"), channel, message])
                    guard case .integer(let receivers) = reply else {
                        throw RedisError(description: "unexpected PUBLISH reply \(reply)")
                    }
                    knownSubscribers = receivers
                    published += 1
                    self.outbox.removeFirst(1)
                }
                _ = published
            } catch {
                self.logger.info("redis publisher lost its connection; retrying", metadata: ["backplane.kind": "redis", "backplane.error": "\(error)"])
                connection = nil
                outage = true
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
            guard self.outbox.pause(seconds: 0.05) else { return }
        }
    }

    /// The subscriber thread: owns the subscribing connection.
    private func subscriberLoop() {
        var backoff = self.configuration.initialBackoff
        var outage = false
        while !self.outbox.isStopped {
            let connection: RedisConnection
            do {
                connection = try self.connect()
                let reply = try connection.command(["SUBSCRIBE", self.configuration.channel])
                guard case .array(let parts) = reply, parts.first?.text == "subscribe" else {
                    throw RedisError(description: "unexpected SUBSCRIBE reply \(reply)")
                }
            } catch {
                if !outage {
                    self.logger.info("redis subscriber cannot connect; retrying", metadata: ["backplane.kind": "redis", "backplane.error": "\(error)"])
                }
                outage = true
                guard self.outbox.pause(seconds: backoff.inSeconds) else { break }
                backoff = self.nextBackoff(backoff)
                continue
            }
            if outage { self.logger.info("redis subscriber resubscribed", metadata: ["backplane.kind": "redis"]) }
            outage = false
            backoff = self.configuration.initialBackoff
            self.subscriberFD.withLockedValue { $0 = connection.fileDescriptor }
            if self.outbox.isStopped { break }
            do {
                while true {
                    // Blocks until a push arrives; shutdown wakes it by closing the socket.
                    let reply = try connection.readReply()
                    guard case .array(let parts) = reply, parts.count == 3, parts[0].text == "message",
                        case .string(let payload) = parts[2]
                    else { continue }
                    self.continuation.yield(payload)
                }
            } catch {
                self.subscriberFD.withLockedValue { $0 = -1 }
                if self.outbox.isStopped { break }
                self.logger.info("redis subscriber lost its connection; retrying", metadata: ["backplane.kind": "redis", "backplane.error": "\(error)"])
                outage = true
            }
        }
    }
}
