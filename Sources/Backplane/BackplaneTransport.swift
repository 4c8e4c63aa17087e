//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import NIOCore

/// A pub/sub link that moves bytes between cluster nodes on named channels (Redis, AMQP,
/// Kafka, or the in-memory bus). It knows nothing of Socket.IO.
///
/// Every transport has a main ``channel`` (python-socketio's `socketio`, Flask-SocketIO's
/// `flask-socketio`): the one python peers share. Other channels (a node's reply channel,
/// say) travel beside it on the same broker, in a way python peers never see.
///
/// Implementations are long-running: `run()` connects, reconnects with capped backoff and
/// returns on cancellation or graceful shutdown. Messages published while the broker is
/// away wait in a bounded queue and go out, in order, once it is back. `run()` throws when
/// the transport can no longer work (a client thread that gave up, a fatal broker error),
/// so that the service, and the worker, fail loudly rather than stay deaf.
public protocol BackplaneTransport: Sendable {
    /// The main channel (python-socketio's `socketio` / `flask-socketio`).
    var channel: String { get }
    /// Publishes bytes on a named channel. Never blocks on the network; cheap enough to
    /// call under a lock (the cluster stamps sequence numbers and publishes under one lock,
    /// so that a publisher's messages leave in the order they were numbered: per publisher,
    /// order holds across channels too).
    func publish(_ payload: ByteBuffer, to channel: String)
    /// Adds subscriptions (before or during `run()`); the full set is subscribed again on
    /// every reconnect. A `.publishAndSubscribe` transport is subscribed to ``channel``
    /// from the start; a `.publishOnly` one to nothing until this is called (an emitter
    /// subscribes only to its reply channel). ``isSubscribed`` turns false until the broker
    /// confirmed the new set.
    func subscribe(_ subscriptions: [BackplaneSubscription])
    /// Every message received on a subscribed channel (including this node's own, if the
    /// broker echoes them), in order per publisher, bounded in count and bytes (see
    /// ``BackplaneInbox``). One consumer. A transport with no subscription yields nothing.
    var messages: BackplaneInbox { get }
    /// Connects and serves until cancelled.
    /// - Throws: ``BackplaneError`` when the transport gave up (it never throws for a broker
    ///   that is merely away: that is retried forever).
    func run() async throws
    /// Messages accepted by `publish` and not yet handed to the broker.
    var queuedMessages: Int { get }
    /// Whether every subscription is confirmed now (Redis `SUBSCRIBE` replies, AMQP queue
    /// bound and consuming, Kafka partitions assigned); `false` while connecting or
    /// reconnecting, and for a transport without subscriptions. Readiness probes report it.
    var isSubscribed: Bool { get }
}

extension BackplaneTransport {
    /// Publishes bytes on the main channel.
    public func publish(_ payload: ByteBuffer) {
        self.publish(payload, to: self.channel)
    }
}

/// One message as received: the channel it came on and its bytes.
public struct BackplaneMessage: Sendable, Hashable {
    public var channel: String
    public var payload: ByteBuffer

    public init(channel: String, payload: ByteBuffer) {
        self.channel = channel
        self.payload = payload
    }
}

/// What a transport listens to: one channel, or every channel whose name matches a glob
/// (`*`: any run of characters, `?`: exactly one; nothing else is special, so that every
/// broker, and the in-process filter, agree on what matches).
public enum BackplaneSubscription: Sendable, Hashable {
    case channel(String)
    case pattern(String)

    /// Whether a message on `channel` belongs to this subscription.
    public func matches(_ channel: String) -> Bool {
        switch self {
        case .channel(let name): return name == channel
        case .pattern(let glob): return Self.glob(Array(glob.utf8), matches: Array(channel.utf8))
        }
    }

    /// Iterative glob matching with one backtracking point (the last `*`): linear in
    /// practice, never exponential.
    private static func glob(_ pattern: [UInt8], matches text: [UInt8]) -> Bool {
        var p = 0
        var t = 0
        var star: Int?
        var resume = 0
        while t < text.count {
            if p < pattern.count, pattern[p] == UInt8(ascii: "?") || (pattern[p] != UInt8(ascii: "*") && pattern[p] == text[t]) {
                p += 1
                t += 1
            } else if p < pattern.count, pattern[p] == UInt8(ascii: "*") {
                star = p
                p += 1
                resume = t
            } else if let star {
                p = star + 1
                resume += 1
                t = resume
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }
}

/// What a transport does with the channel: a server node publishes and subscribes; an
/// emitter (python-socketio's `write_only`) only publishes, and so keeps no subscription
/// (no Redis subscriber, no AMQP queue, no Kafka consumer) until it asks for one.
public enum BackplaneRole: Sendable, Hashable {
    case publishAndSubscribe
    case publishOnly

    public var subscribes: Bool { self == .publishAndSubscribe }
}
