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
/// away wait in a bounded queue and go out, in order, once it is back.
public protocol BackplaneTransport: Sendable {
    /// Publishes one message on the channel. Never blocks on the network.
    func publish(_ message: ByteBuffer)
    /// Every message received on the channel (including this node's own, if the broker
    /// echoes them), in order. One consumer.
    var messages: AsyncStream<ByteBuffer> { get }
    /// Connects and serves until cancelled.
    func run() async throws
    /// Messages accepted by `publish` and not yet handed to the broker.
    var queuedMessages: Int { get }
}
