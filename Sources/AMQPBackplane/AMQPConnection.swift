//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if AMQP
import CRabbitMQ
import Glibc
import NIOCore

/// Why an AMQP operation failed.
struct AMQPError: Error, CustomStringConvertible {
    let description: String
}

/// One rabbitmq-c connection with channel 1 open: the single owner of its handle.
///
/// rabbitmq-c connections are not thread-safe, so each is used by one thread only; after an
/// error it is dropped (destroyed without a goodbye) and a new one is made. Only the login
/// (variadic `amqp_login`) and the decoding of an RPC failure are in C (CRabbitMQ).
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
        if !self.failed {
            // Best effort: the broker may already be gone.
            _ = amqp_channel_close(self.handle, 1, AMQP_REPLY_SUCCESS)
            _ = amqp_connection_close(self.handle, AMQP_REPLY_SUCCESS)
        }
        amqp_destroy_connection(self.handle)
    }

    /// Checks the reply of the RPC just made; a failure marks the connection failed.
    private func checkReply(_ what: String) throws {
        var error = [CChar](repeating: 0, count: 512)
        if CRabbitMQ_check(amqp_get_rpc_reply(self.handle), what, &error, error.count) != 0 {
            throw self.fail(cText(error))
        }
    }

    private func checkStatus(_ status: Int32, _ what: String) throws {
        if status != AMQP_STATUS_OK.rawValue { throw self.fail("\(what): \(String(cString: amqp_error_string2(status)))") }
    }

    private func fail(_ text: String) -> AMQPError {
        self.failed = true
        return AMQPError(description: text)
    }

    /// Declares an exchange as kombu does for python-socketio's fanout one (durable=false,
    /// auto_delete=false), or RabbitMQ refuses with PRECONDITION_FAILED: "fanout" for the
    /// main channel, "topic" for the others.
    func declareExchange(_ exchange: String, type: String) throws {
        withBytes(exchange, type) { _ = amqp_exchange_declare(self.handle, 1, $0[0], $0[1], 0, 0, 0, 0, amqp_empty_table) }
        try self.checkReply("exchange.declare")
    }

    /// Declares this node's queue (durable, so that what it holds survives a broker restart;
    /// x-expires like kombu's; bounded by x-max-length, oldest dropped first, and by a
    /// message TTL, so that an abandoned queue stops growing).
    func declareQueue(_ queue: String, expiresMilliseconds: Int, maxLength: Int, messageTTLMilliseconds: Int) throws {
        func entry(_ key: StaticString, _ value: Int) -> amqp_table_entry_t {
            var entry = amqp_table_entry_t()
            entry.key = staticBytes(key)
            entry.value.kind = UInt8(AMQP_FIELD_KIND_I32.rawValue)
            entry.value.value.i32 = Int32(clamping: value)
            return entry
        }
        var entries = [entry("x-expires", expiresMilliseconds), entry("x-max-length", maxLength), entry("x-message-ttl", messageTTLMilliseconds)]
        entries.withUnsafeMutableBufferPointer { entries in
            let arguments = amqp_table_t(num_entries: Int32(entries.count), entries: entries.baseAddress)
            withBytes(queue) { _ = amqp_queue_declare(self.handle, 1, $0[0], 0, 1, 0, 0, arguments) }
        }
        try self.checkReply("queue.declare")
    }

    func bind(queue: String, exchange: String, routingKey: String) throws {
        withBytes(queue, exchange, routingKey) { _ = amqp_queue_bind(self.handle, 1, $0[0], $0[1], $0[2], amqp_empty_table) }
        try self.checkReply("queue.bind")
    }

    /// Consumes the queue with manual acks (prefetch 1000).
    func consume(queue: String) throws {
        _ = amqp_basic_qos(self.handle, 1, 0, 1000, 0)
        try self.checkReply("basic.qos")
        withBytes(queue) { _ = amqp_basic_consume(self.handle, 1, $0[0], amqp_empty_bytes, 0, 0, 0, amqp_empty_table) }
        try self.checkReply("basic.consume")
    }

    /// Turns on publisher confirms.
    func confirmSelect() throws {
        _ = amqp_confirm_select(self.handle, 1)
        try self.checkReply("confirm.select")
    }

    /// Acknowledges a delivery once it has been handed over.
    func ack(_ deliveryTag: UInt64) throws {
        try self.checkStatus(amqp_basic_ack(self.handle, 1, deliveryTag, 0), "basic.ack")
    }

    /// Publishes one message (text/plain UTF-8, as kombu does for python-socketio,
    /// persistent) without waiting for its confirm (see ``pollConfirm(timeoutMilliseconds:)``).
    func publish(_ body: ByteBuffer, exchange: String, routingKey: String) throws {
        var properties = amqp_basic_properties_t()
        properties._flags = amqp_flags_t(AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_CONTENT_ENCODING_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG)
        properties.content_type = staticBytes("text/plain")
        properties.content_encoding = staticBytes("utf-8")
        properties.delivery_mode = 2
        // No copies: every argument points into memory that lives for the call.
        var exchange = exchange
        var routingKey = routingKey
        let status = exchange.withUTF8 { exchange in
            routingKey.withUTF8 { routingKey in
                body.withUnsafeReadableBytes { bytes in
                    amqp_basic_publish(
                        self.handle, 1, amqpBytes(UnsafeRawBufferPointer(exchange)), amqpBytes(UnsafeRawBufferPointer(routingKey)), 0, 0,
                        &properties, amqpBytes(bytes)
                    )
                }
            }
        }
        try self.checkStatus(status, "basic.publish")
    }

    /// A publisher confirm.
    struct Confirm {
        var acknowledged: Bool
        var tag: UInt64
        var multiple: Bool
    }

    /// Waits up to the timeout (0: just look) for one frame on a publishing connection;
    /// `nil` if no confirm came. While waiting, rabbitmq-c sends our heartbeat when it is due
    /// and fails when the broker's are missing, so calling this regularly keeps an idle
    /// publisher's connection alive.
    func pollConfirm(timeoutMilliseconds: Int) throws -> Confirm? {
        var frame = amqp_frame_t()
        var timeout = timeval(tv_sec: timeoutMilliseconds / 1000, tv_usec: (timeoutMilliseconds % 1000) * 1000)
        amqp_maybe_release_buffers(self.handle)
        let status = amqp_simple_wait_frame_noblock(self.handle, &frame, &timeout)
        if status == AMQP_STATUS_TIMEOUT.rawValue { return nil }
        try self.checkStatus(status, "connection")
        guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { return nil }
        let method = frame.payload.method
        switch method.id {
        case AMQP_BASIC_ACK_METHOD:
            let ack = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            return Confirm(acknowledged: true, tag: ack.delivery_tag, multiple: ack.multiple != 0)
        case AMQP_BASIC_NACK_METHOD:
            let nack = method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            return Confirm(acknowledged: false, tag: nack.delivery_tag, multiple: nack.multiple != 0)
        case AMQP_CHANNEL_CLOSE_METHOD:
            let close = method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            throw self.fail("server closed the channel: \(close.reply_code) \(text(close.reply_text))")
        case AMQP_CONNECTION_CLOSE_METHOD:
            let close = method.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            throw self.fail("server closed the connection: \(close.reply_code) \(text(close.reply_text))")
        default:
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
        var envelope = amqp_envelope_t()
        var timeout = timeval(tv_sec: timeoutMilliseconds / 1000, tv_usec: (timeoutMilliseconds % 1000) * 1000)
        amqp_maybe_release_buffers(self.handle)
        let reply = amqp_consume_message(self.handle, &envelope, &timeout, 0)
        if reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION {
            if reply.library_error == AMQP_STATUS_TIMEOUT.rawValue { return nil }
            if reply.library_error == AMQP_STATUS_UNEXPECTED_STATE.rawValue {
                // A frame that is not a delivery (e.g. basic.cancel from a deleted queue):
                // read and judge it.
                var frame = amqp_frame_t()
                guard amqp_simple_wait_frame(self.handle, &frame) == AMQP_STATUS_OK.rawValue else { throw self.fail("connection lost") }
                let closing = [AMQP_CHANNEL_CLOSE_METHOD, AMQP_CONNECTION_CLOSE_METHOD, AMQP_BASIC_CANCEL_METHOD]
                if frame.frame_type == UInt8(AMQP_FRAME_METHOD), closing.contains(frame.payload.method.id) {
                    throw self.fail("broker closed the consumer")
                }
                return nil
            }
        }
        var error = [CChar](repeating: 0, count: 512)
        if CRabbitMQ_check(reply, "basic.consume", &error, error.count) != 0 { throw self.fail(cText(error)) }
        // The body is copied once, straight out of rabbitmq-c's memory, which is freed at once.
        defer { amqp_destroy_envelope(&envelope) }
        return Delivery(
            body: ByteBuffer(bytes: UnsafeRawBufferPointer(start: envelope.message.body.bytes, count: envelope.message.body.len)),
            exchange: text(envelope.exchange),
            routingKey: text(envelope.routing_key),
            deliveryTag: envelope.delivery_tag
        )
    }
}

/// AMQP bytes pointing into `buffer` (valid while it is).
private func amqpBytes(_ buffer: UnsafeRawBufferPointer) -> amqp_bytes_t {
    amqp_bytes_t(len: buffer.count, bytes: UnsafeMutableRawPointer(mutating: buffer.baseAddress))
}

/// AMQP bytes of a static string (valid for ever).
private func staticBytes(_ text: StaticString) -> amqp_bytes_t {
    amqp_bytes_t(len: text.utf8CodeUnitCount, bytes: UnsafeMutableRawPointer(mutating: text.utf8Start))
}

/// Calls `body` with AMQP bytes of copies of `strings` that live for the call (rabbitmq-c
/// keeps the pointers, not the bytes, until the call returns).
private func withBytes<Result>(_ strings: String..., body: ([amqp_bytes_t]) -> Result) -> Result {
    let copies = strings.map { strdup($0)! }
    defer { for copy in copies { free(copy) } }
    return body(copies.map { amqp_bytes_t(len: strlen($0), bytes: UnsafeMutableRawPointer($0)) })
}

/// The text of AMQP bytes.
private func text(_ bytes: amqp_bytes_t) -> String {
    String(decoding: UnsafeRawBufferPointer(start: bytes.bytes, count: bytes.len), as: UTF8.self)
}

/// The text of a NUL-terminated C buffer.
private func cText(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

#endif  // AMQP
