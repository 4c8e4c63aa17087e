//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Redis
// Compiled only with the Redis trait (a build without it has no Redis backplane and
// does not need its C library).
import Backplane
import CHiredis
import Glibc
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
        guard let context = redisConnectWithTimeout(host, Int32(port), timeval(milliseconds: connectTimeoutMilliseconds)) else {
            throw RedisError(description: "cannot allocate a redis context")
        }
        if context.pointee.err != 0 {
            let message = Self.errorText(context)
            redisFree(context)
            throw RedisError(description: message)
        }
        self.context = context
        redisEnableKeepAlive(context)
        if let commandTimeoutMilliseconds {
            _ = redisSetTimeout(context, timeval(milliseconds: commandTimeoutMilliseconds))
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
    var fileDescriptor: Int32 { self.context.pointee.fd }

    /// Sends a command (binary-safe arguments) and reads its reply.
    func command(_ arguments: [String]) throws -> RedisReply {
        try self.command(arguments.map { ByteBuffer(string: $0) })
    }

    /// Sends a command with binary-safe arguments and reads its reply.
    func command(_ arguments: [ByteBuffer]) throws -> RedisReply {
        // Copy the arguments into one contiguous array of pointers that live for the call.
        let raw = withArguments(arguments) { argv, lengths in
            redisCommandArgv(self.context, Int32(arguments.count), argv, lengths)
        }
        guard let reply = raw?.assumingMemoryBound(to: redisReply.self) else { throw self.currentError() }
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
        _ = redisSetTimeout(self.context, timeval(tv_sec: 0, tv_usec: 0))
    }

    /// Sends a command without reading its reply (pub/sub mode: replies arrive as pushes).
    func send(_ arguments: [String]) throws {
        let buffers = arguments.map { ByteBuffer(string: $0) }
        let status = withArguments(buffers) { argv, lengths in
            redisAppendCommandArgv(self.context, Int32(buffers.count), argv, lengths)
        }
        guard status == REDIS_OK else { throw self.currentError() }
        var done: Int32 = 0
        while done == 0 {
            guard redisBufferWrite(self.context, &done) == REDIS_OK else { throw self.currentError() }
        }
    }

    /// A reply already read off the socket, if any (no I/O).
    func bufferedReply() throws -> RedisReply? {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReplyFromReader(self.context, &raw) == REDIS_OK else { throw self.currentError() }
        guard let reply = raw?.assumingMemoryBound(to: redisReply.self) else { return nil }
        defer { freeReplyObject(reply) }
        return Self.copy(reply.pointee)
    }

    /// Waits up to `milliseconds` for data (or the connection's end); then reads it into the
    /// reply buffer. Returns whether anything was read.
    /// - Throws: ``RedisError`` when the connection is closed or failed.
    func awaitData(milliseconds: Int) throws -> Bool {
        var readable = pollfd(fd: self.fileDescriptor, events: Int16(POLLIN), revents: 0)
        let ready = poll(&readable, 1, Int32(milliseconds))
        if ready == 0 || (ready < 0 && errno == EINTR) { return false }
        guard ready > 0 else { throw RedisError(description: "poll failed") }
        // Readable, or closed: the read tells which.
        guard redisBufferRead(self.context) == REDIS_OK else { throw self.currentError() }
        return true
    }

    /// Blocks until the next reply (a pub/sub push) arrives.
    func readReply() throws -> RedisReply {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(self.context, &raw) == REDIS_OK, let reply = raw?.assumingMemoryBound(to: redisReply.self) else {
            throw self.currentError()
        }
        defer { freeReplyObject(reply) }
        return Self.copy(reply.pointee)
    }

    private func currentError() -> RedisError {
        RedisError(description: Self.errorText(self.context))
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// Blocks SIGPIPE on the calling thread. hiredis writes with write(2), so a write to a
    /// connection Redis has closed (it closes on an oversized argument) would raise SIGPIPE
    /// and kill the process; blocked on the thread that owns the connection, the write just
    /// fails with EPIPE and the connection is dropped like any other failed one. NIO's own
    /// sockets are unaffected (they never raise it).
    static func blockSIGPIPEOnThisThread() {
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
    }

    /// Wakes a thread blocked reading this socket (shutdown).
    static func shutdown(fileDescriptor: Int32) {
        if fileDescriptor >= 0 { _ = Glibc.shutdown(fileDescriptor, Int32(SHUT_RDWR)) }
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

extension timeval {
    init(milliseconds: Int) {
        self.init(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
    }
}

#endif  // Redis
