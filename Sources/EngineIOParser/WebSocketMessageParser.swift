//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import NIOCore

/// Reads the WebSocket messages a client sends (RFC 6455 §5) from the bytes of the
/// connection: frames are unmasked, fragments reassembled, control frames reported.
///
/// A pure state machine: ``append(_:)`` takes bytes as they are read, ``next()`` returns one
/// event at a time (`nil` until a whole frame is there). It stands in for NIO's frame decoder
/// and aggregator on the server's hot path: one handler instead of three, no frame struct
/// per message, and a read that holds whole frames is parsed in place.
///
/// Refused, with the close code RFC 6455 §7.4.1 gives: unmasked client frames, reserved bits
/// (no extension is negotiated), reserved opcodes, fragmented or long control frames, a
/// continuation without a start, a new message inside a fragmented one, a 64-bit length with
/// its top bit set (1002); a frame or a reassembled message over `maxMessageSize` (1009).
/// After an error the parser returns nothing more.
public struct WebSocketMessageParser {
    /// What the client sent.
    public enum Event: Equatable {
        /// A complete text message (the payload, unmasked; UTF-8 is checked by the reader).
        case text(ByteBuffer)
        /// A complete binary message.
        case binary(ByteBuffer)
        /// A ping; the answer is a pong with the same payload.
        case ping(ByteBuffer)
        /// A pong (unsolicited ones are allowed and ignored).
        case pong
        /// A close frame and its payload (status code and reason).
        case close(ByteBuffer)
        /// The client broke the protocol: answer with a close frame carrying this code and
        /// close the connection.
        case protocolError(closeCode: UInt16)
    }

    /// RFC 6455 close code: protocol error.
    public static let protocolErrorCode: UInt16 = 1002
    /// RFC 6455 close code: message too big.
    public static let messageTooBigCode: UInt16 = 1009

    /// The largest frame, and the largest reassembled message, accepted.
    public let maxMessageSize: Int
    /// Bytes read and not yet parsed (a partial frame), or `nil`.
    private var unread: ByteBuffer?
    /// The opcode and payload so far of a fragmented message.
    private var fragments: (opcode: UInt8, payload: ByteBuffer)?
    private var failed = false

    public init(maxMessageSize: Int) {
        self.maxMessageSize = maxMessageSize
    }

    /// Adds bytes read from the connection.
    public mutating func append(_ bytes: ByteBuffer) {
        // After an error the connection is closing: nothing more is parsed, so nothing is kept.
        guard !self.failed else { return }
        if var unread = self.unread, unread.readableBytes > 0 {
            self.unread = nil  // keep the storage unique while appending
            unread.writeImmutableBuffer(bytes)
            self.unread = unread
        } else {
            // The common case: the read starts at a frame boundary and is parsed in place.
            self.unread = bytes
        }
    }

    /// The next event, or `nil` when the bytes so far hold no further whole frame.
    public mutating func next() -> Event? {
        while !self.failed, var buffer = self.unread {
            self.unread = nil
            let result = self.parseFrame(&buffer)
            // Drops the read buffer once it is consumed (NIO can then reuse it for the next
            // read), and whatever follows an error.
            self.unread = buffer.readableBytes > 0 && !self.failed ? buffer : nil
            switch result {
            case .needMoreBytes:
                return nil
            case .event(let event):
                return event
            case .continue:
                continue
            }
        }
        return nil
    }

    private enum FrameResult {
        case needMoreBytes
        case event(Event)
        /// A fragment was stored; parse on.
        case `continue`
    }

    private mutating func parseFrame(_ buffer: inout ByteBuffer) -> FrameResult {
        let start = buffer.readerIndex
        guard let first = buffer.getInteger(at: start, as: UInt8.self),
            let second = buffer.getInteger(at: start + 1, as: UInt8.self)
        else { return .needMoreBytes }
        let fin = first & 0x80 != 0
        let opcode = first & 0x0F
        guard first & 0x70 == 0, second & 0x80 != 0 else { return self.fail(Self.protocolErrorCode) }
        var headerLength = 2
        var length = Int(second & 0x7F)
        if length == 126 {
            guard let extended = buffer.getInteger(at: start + 2, as: UInt16.self) else { return .needMoreBytes }
            length = Int(extended)
            headerLength = 4
        } else if length == 127 {
            guard let extended = buffer.getInteger(at: start + 2, as: UInt64.self) else { return .needMoreBytes }
            guard extended & (1 << 63) == 0 else { return self.fail(Self.protocolErrorCode) }
            guard extended <= UInt64(self.maxMessageSize) else { return self.fail(Self.messageTooBigCode) }
            length = Int(extended)
            headerLength = 10
        }
        let isControl = opcode & 0x08 != 0
        if isControl {
            guard fin, length <= 125, opcode <= 0xA else { return self.fail(Self.protocolErrorCode) }
        } else {
            guard opcode <= 0x2 else { return self.fail(Self.protocolErrorCode) }
            guard length <= self.maxMessageSize else { return self.fail(Self.messageTooBigCode) }
        }
        guard let key = buffer.getInteger(at: start + headerLength, as: UInt32.self) else { return .needMoreBytes }
        guard buffer.readableBytes >= headerLength + 4 + length else { return .needMoreBytes }
        buffer.moveReaderIndex(forwardBy: headerLength + 4)
        var payload = Self.unmask(buffer.readSlice(length: length)!, key: key)

        switch opcode {
        case 0x8:
            return .event(.close(payload))
        case 0x9:
            return .event(.ping(payload))
        case 0xA:
            return .event(.pong)
        case 0x0:
            guard var fragmented = self.fragments else { return self.fail(Self.protocolErrorCode) }
            self.fragments = nil
            guard fragmented.payload.readableBytes + length <= self.maxMessageSize else {
                return self.fail(Self.messageTooBigCode)
            }
            fragmented.payload.writeBuffer(&payload)
            guard fin else {
                self.fragments = fragmented
                return .continue
            }
            return .event(fragmented.opcode == 0x1 ? .text(fragmented.payload) : .binary(fragmented.payload))
        default:
            guard self.fragments == nil else { return self.fail(Self.protocolErrorCode) }
            guard fin else {
                self.fragments = (opcode, payload)
                return .continue
            }
            return .event(opcode == 0x1 ? .text(payload) : .binary(payload))
        }
    }

    private mutating func fail(_ code: UInt16) -> FrameResult {
        self.failed = true
        self.fragments = nil
        return .event(.protocolError(closeCode: code))
    }

    /// XORs the payload with the masking key, eight bytes at a time, into a buffer of its own
    /// (the payload shares storage with the read buffer, which NIO reuses).
    private static func unmask(_ payload: ByteBuffer, key: UInt32) -> ByteBuffer {
        var result = ByteBuffer()
        let count = payload.readableBytes
        guard count > 0 else { return result }
        result.reserveCapacity(count)
        // The key as it lies in memory, repeated: byte i of the payload is XORed with byte
        // i % 4 of the key as sent (big-endian on the wire).
        let keyBytes = key.bigEndian
        let wide = UInt64(keyBytes) | (UInt64(keyBytes) << 32)
        payload.withUnsafeReadableBytes { source in
            _ = result.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { target in
                var index = 0
                while index + 8 <= count {
                    let word = source.loadUnaligned(fromByteOffset: index, as: UInt64.self) ^ wide
                    target.storeBytes(of: word, toByteOffset: index, as: UInt64.self)
                    index += 8
                }
                withUnsafeBytes(of: keyBytes) { keyBuffer in
                    while index < count {
                        target[index] = source[index] ^ keyBuffer[index & 3]
                        index += 1
                    }
                }
                return count
            }
        }
        return result
    }
}
