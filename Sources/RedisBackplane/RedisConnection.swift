//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Redis
// Compiled only with the Redis trait (a build without it has no Redis backplane and
// does not need its C library).
import Backplane
import CHiredis
import NIOCore

/// A reply, copied out of hiredis memory (which is freed at once).
enum RedisReply: Sendable, Equatable {
    case string(ByteBuffer)
    case array([RedisReply])
    case integer(Int)
    case null
    case status(String)
    case error(String)

    var text: String? {
        switch self {
        case .string(let buffer): return String(buffer: buffer)
        case .status(let text): return text
        default: return nil
        }
    }
}

/// Why a Redis operation failed.
struct RedisError: Error, CustomStringConvertible {
    let description: String
}

/// One blocking hiredis connection: the single owner of its `redisContext`, freed on
/// deinit. hiredis contexts are not thread-safe and cannot be reused after an error, so a
/// connection is used by one thread only and dropped at its first error.
final class RedisConnection {
    private let context: UnsafeMutablePointer<redisContext>

    /// Connects (and authenticates when a password is given).
    /// - Throws: ``RedisError`` naming the cause (refused, timeout, bad password).
    init(host: String, port: Int, password: String?, connectTimeoutMilliseconds: Int, commandTimeoutMilliseconds: Int?) throws {
        guard let context = CHiredis_connect(host, Int32(port), connectTimeoutMilliseconds) else {
            throw RedisError(description: "cannot allocate a redis context")
        }
        if CHiredis_contextError(context) != 0 {
            let message = String(cString: CHiredis_contextErrorString(context))
            redisFree(context)
            throw RedisError(description: message)
        }
        self.context = context
        redisEnableKeepAlive(context)
        if let commandTimeoutMilliseconds {
            _ = CHiredis_setTimeout(context, commandTimeoutMilliseconds)
        }
        if let password {
            let reply = try self.command(["AUTH", password])
            if case .error(let message) = reply { throw RedisError(description: "AUTH failed: \(message)") }
        }
    }

    deinit {
        redisFree(self.context)
    }

    /// The socket, for waking a blocked reader from another thread at shutdown.
    var fileDescriptor: Int32 { CHiredis_contextFD(self.context) }

    /// Sends a command (binary-safe arguments) and reads its reply.
    func command(_ arguments: [String]) throws -> RedisReply {
        try self.command(arguments.map { ByteBuffer(string: $0) })
    }

    /// Sends a command with binary-safe arguments and reads its reply.
    func command(_ arguments: [ByteBuffer]) throws -> RedisReply {
        // Copy the arguments into one contiguous array of pointers that live for the call.
        let reply: UnsafeMutablePointer<redisReply>? = withArguments(arguments) { argv, lengths in
            CHiredis_command(self.context, Int32(arguments.count), argv, lengths)
        }
        guard let reply else { throw self.currentError() }
        defer { freeReplyObject(reply) }
        return Self.copy(reply.pointee)
    }

    /// Appends `PUBLISH channel payload` to the output buffer, without I/O: a batch is
    /// appended, then ``readReply()`` (which first writes what is buffered) reads the
    /// replies in order. The arguments point straight into the message's storage.
    func appendPublish(_ message: BackplaneMessage) throws {
        var channel = message.channel
        let status = channel.withUTF8 { channel in
            message.payload.withUnsafeReadableBytes { payload in
                withUnsafeTemporaryAllocation(of: UnsafePointer<CChar>?.self, capacity: 3) { argv in
                    withUnsafeTemporaryAllocation(of: Int.self, capacity: 3) { lengths in
                        let command: StaticString = "PUBLISH"
                        argv[0] = UnsafeRawPointer(command.utf8Start).assumingMemoryBound(to: CChar.self)
                        lengths[0] = command.utf8CodeUnitCount
                        argv[1] = UnsafeRawPointer(channel.baseAddress)?.assumingMemoryBound(to: CChar.self)
                        lengths[1] = channel.count
                        argv[2] = payload.baseAddress?.assumingMemoryBound(to: CChar.self)
                        lengths[2] = payload.count
                        return redisAppendCommandArgv(self.context, 3, argv.baseAddress, lengths.baseAddress)
                    }
                }
            }
        }
        guard status == REDIS_OK else { throw self.currentError() }
    }

    /// Removes the socket's receive and send timeouts (a subscriber waits for pushes as
    /// long as the channel is quiet; its liveness is checked with PING instead).
    func clearTimeout() {
        _ = CHiredis_setTimeout(self.context, 0)
    }

    /// Sends a command without reading its reply (pub/sub mode: replies arrive as pushes).
    func send(_ arguments: [String]) throws {
        let buffers = arguments.map { ByteBuffer(string: $0) }
        let status = withArguments(buffers) { argv, lengths in
            CHiredis_send(self.context, Int32(buffers.count), argv, lengths)
        }
        guard status == REDIS_OK else { throw self.currentError() }
    }

    /// A reply already read off the socket, if any (no I/O).
    func bufferedReply() throws -> RedisReply? {
        var reply: UnsafeMutablePointer<redisReply>?
        guard CHiredis_bufferedReply(self.context, &reply) == REDIS_OK else { throw self.currentError() }
        guard let reply else { return nil }
        defer { freeReplyObject(reply) }
        return Self.copy(reply.pointee)
    }

    /// Waits up to `milliseconds` for data (or the connection's end); then reads it into the
    /// reply buffer. Returns whether anything was read.
    /// - Throws: ``RedisError`` when the connection is closed or failed.
    func awaitData(milliseconds: Int) throws -> Bool {
        switch CHiredis_waitReadable(self.fileDescriptor, Int32(milliseconds)) {
        case 0:
            return false
        case 1:
            guard CHiredis_read(self.context) == REDIS_OK else { throw self.currentError() }
            return true
        default:
            throw RedisError(description: "poll failed")
        }
    }

    /// Blocks until the next reply (a pub/sub push) arrives.
    func readReply() throws -> RedisReply {
        var reply: UnsafeMutablePointer<redisReply>?
        guard CHiredis_getReply(self.context, &reply) == REDIS_OK, let reply else { throw self.currentError() }
        defer { freeReplyObject(reply) }
        return Self.copy(reply.pointee)
    }

    private func currentError() -> RedisError {
        RedisError(description: String(cString: CHiredis_contextErrorString(self.context)))
    }

    /// Copies a reply tree into Swift values (hiredis memory is freed right after).
    private static func copy(_ reply: redisReply) -> RedisReply {
        switch reply.type {
        case REDIS_REPLY_STRING:
            return .string(ByteBuffer(bytes: UnsafeRawBufferPointer(start: reply.str, count: Int(reply.len))))
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: UnsafeRawBufferPointer(start: reply.str, count: Int(reply.len)), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: UnsafeRawBufferPointer(start: reply.str, count: Int(reply.len)), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(Int(reply.integer))
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            elements.reserveCapacity(Int(reply.elements))
            for index in 0..<Int(reply.elements) {
                if let element = reply.element[index] { elements.append(copy(element.pointee)) }
            }
            return .array(elements)
        default:
            return .null
        }
    }
}

/// Calls `body` with C argv/argvlen arrays pointing into copies of `arguments`.
private func withArguments<Result>(
    _ arguments: [ByteBuffer],
    _ body: (UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafeMutablePointer<Int>) -> Result
) -> Result {
    let total = arguments.reduce(0) { $0 + $1.readableBytes }
    let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(total, 1), alignment: 1)
    defer { storage.deallocate() }
    let argv = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: arguments.count)
    defer { argv.deallocate() }
    let lengths = UnsafeMutablePointer<Int>.allocate(capacity: arguments.count)
    defer { lengths.deallocate() }
    var offset = 0
    for (index, argument) in arguments.enumerated() {
        let count = argument.readableBytes
        argument.withUnsafeReadableBytes { bytes in
            if count > 0 { UnsafeMutableRawBufferPointer(rebasing: storage[offset..<(offset + count)]).copyMemory(from: bytes) }
        }
        argv[index] = UnsafePointer(storage.baseAddress!.advanced(by: offset).assumingMemoryBound(to: CChar.self))
        lengths[index] = count
        offset += count
    }
    return body(argv, lengths)
}

#endif  // Redis
