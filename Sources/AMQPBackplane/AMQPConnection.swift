//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import CRabbitMQ
import NIOCore

/// Why an AMQP operation failed.
struct AMQPError: Error, CustomStringConvertible {
    let description: String
}

/// One rabbitmq-c connection with channel 1 open: the single owner of its handle.
///
/// rabbitmq-c connections are not thread-safe, so each is used by one thread only; after an
/// error it is dropped (destroyed without a goodbye) and a new one is made.
final class AMQPConnection {
    private let handle: amqp_connection_state_t
    private var failed = false

    init(host: String, port: Int, vhost: String, user: String, password: String, heartbeatSeconds: Int, timeoutMilliseconds: Int) throws {
        var error = [CChar](repeating: 0, count: 512)
        let handle = CRabbitMQ_connect(host, Int32(port), vhost, user, password, Int32(heartbeatSeconds), timeoutMilliseconds, &error, error.count)
        guard let handle else { throw AMQPError(description: cText(error)) }
        self.handle = handle
    }

    deinit {
        if self.failed { CRabbitMQ_destroy(self.handle) } else { CRabbitMQ_close(self.handle) }
    }

    private func check(_ status: Int32, _ error: [CChar]) throws {
        if status != 0 {
            self.failed = true
            throw AMQPError(description: cText(error))
        }
    }

    /// Declares an exchange: "fanout" for the main channel (kombu's), "topic" for the others.
    func declareExchange(_ exchange: String, type: String) throws {
        var error = [CChar](repeating: 0, count: 512)
        try self.check(CRabbitMQ_declareExchange(self.handle, exchange, type, &error, error.count), error)
    }

    func declareQueue(_ queue: String, expiresMilliseconds: Int, maxLength: Int, messageTTLMilliseconds: Int) throws {
        var error = [CChar](repeating: 0, count: 512)
        try self.check(
            CRabbitMQ_declareQueue(self.handle, queue, Int32(expiresMilliseconds), Int32(maxLength), Int32(messageTTLMilliseconds), &error, error.count),
            error
        )
    }

    func bind(queue: String, exchange: String, routingKey: String) throws {
        var error = [CChar](repeating: 0, count: 512)
        try self.check(CRabbitMQ_bind(self.handle, queue, exchange, routingKey, &error, error.count), error)
    }

    func consume(queue: String) throws {
        var error = [CChar](repeating: 0, count: 512)
        try self.check(CRabbitMQ_consume(self.handle, queue, &error, error.count), error)
    }

    func confirmSelect() throws {
        var error = [CChar](repeating: 0, count: 512)
        try self.check(CRabbitMQ_confirmSelect(self.handle, &error, error.count), error)
    }

    /// Acknowledges a delivery.
    func ack(_ deliveryTag: UInt64) throws {
        var error = [CChar](repeating: 0, count: 512)
        try self.check(CRabbitMQ_ack(self.handle, deliveryTag, &error, error.count), error)
    }

    /// Publishes without waiting for the confirm (see ``pollConfirm(timeoutMilliseconds:)``).
    func publish(_ body: ByteBuffer, exchange: String, routingKey: String) throws {
        var error = [CChar](repeating: 0, count: 512)
        let status = body.withUnsafeReadableBytes { bytes in
            CRabbitMQ_publishAsync(self.handle, exchange, routingKey, bytes.baseAddress, bytes.count, &error, error.count)
        }
        try self.check(status, error)
    }

    /// A publisher confirm.
    struct Confirm {
        var acknowledged: Bool
        var tag: UInt64
        var multiple: Bool
    }

    /// Waits up to the timeout for a confirm, servicing heartbeats; `nil` if none came.
    func pollConfirm(timeoutMilliseconds: Int) throws -> Confirm? {
        var error = [CChar](repeating: 0, count: 512)
        var confirm = CRabbitMQ_Confirm(kind: 0, tag: 0, multiple: 0)
        let status = CRabbitMQ_pollConfirm(self.handle, timeoutMilliseconds, &confirm, &error, error.count)
        switch status {
        case 1: return Confirm(acknowledged: confirm.kind == 1, tag: confirm.tag, multiple: confirm.multiple != 0)
        case 0: return nil
        default:
            try self.check(status, error)
            return nil
        }
    }

    /// One delivery: its body, where it was published, and the tag to ack.
    struct Delivery {
        var body: ByteBuffer
        var exchange: String
        var routingKey: String
        var deliveryTag: UInt64
    }

    /// Waits up to the timeout for one message; `nil` on timeout. Ack it with ``ack(_:)``
    /// once it has been handed over.
    func receive(timeoutMilliseconds: Int) throws -> Delivery? {
        var error = [CChar](repeating: 0, count: 512)
        var envelope = amqp_envelope_t()
        let status = CRabbitMQ_receive(self.handle, timeoutMilliseconds, &envelope, &error, error.count)
        switch status {
        case 1:
            // The body is copied once, straight out of rabbitmq-c's memory, which is freed at once.
            defer { amqp_destroy_envelope(&envelope) }
            return Delivery(
                body: ByteBuffer(bytes: UnsafeRawBufferPointer(start: envelope.message.body.bytes, count: envelope.message.body.len)),
                exchange: text(envelope.exchange),
                routingKey: text(envelope.routing_key),
                deliveryTag: envelope.delivery_tag
            )
        case 0:
            return nil
        default:
            try self.check(status, error)
            return nil
        }
    }
}

/// The text of AMQP bytes.
private func text(_ bytes: amqp_bytes_t) -> String {
    String(decoding: UnsafeRawBufferPointer(start: bytes.bytes, count: bytes.len), as: UTF8.self)
}

/// The text of a NUL-terminated C buffer.
private func cText(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
