//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import NIOCore

/// A pub/sub channel that moves bytes between cluster nodes (Redis, AMQP, Kafka, or the
/// in-memory bus). It knows nothing of Socket.IO.
///
/// Implementations are long-running: `run()` connects, reconnects with capped backoff and
/// returns on cancellation or graceful shutdown. Messages published while the broker is
/// away wait in a bounded queue and go out, in order, once it is back. `run()` throws when
/// the transport can no longer work (a client thread that gave up, a fatal broker error),
/// so that the service, and the worker, fail loudly rather than stay deaf.
public protocol BackplaneTransport: Sendable {
    /// Publishes one message on the channel. Never blocks on the network; cheap enough to
    /// call under a lock (the cluster stamps sequence numbers and publishes under one lock,
    /// so that a publisher's messages leave in the order they were numbered).
    func publish(_ message: ByteBuffer)
    /// Every message received on the channel (including this node's own, if the broker
    /// echoes them), in order, bounded in count and bytes (see ``BackplaneInbox``). One
    /// consumer. A write-only transport never yields anything.
    var messages: BackplaneInbox { get }
    /// Connects and serves until cancelled.
    /// - Throws: ``BackplaneError`` when the transport gave up (it never throws for a broker
    ///   that is merely away: that is retried forever).
    func run() async throws
    /// Messages accepted by `publish` and not yet handed to the broker.
    var queuedMessages: Int { get }
    /// Whether the subscription is confirmed now (Redis `SUBSCRIBE` reply, AMQP queue bound
    /// and consuming, Kafka partitions assigned); `false` while connecting or reconnecting,
    /// and always for a write-only transport. Readiness probes report it.
    var isSubscribed: Bool { get }
}

/// What a transport does with the channel: a server node publishes and subscribes; an
/// emitter (python-socketio's `write_only`) only publishes, and so keeps no subscription
/// (no Redis subscriber, no AMQP queue, no Kafka consumer).
public enum BackplaneRole: Sendable, Hashable {
    case publishAndSubscribe
    case publishOnly

    public var subscribes: Bool { self == .publishAndSubscribe }
}
