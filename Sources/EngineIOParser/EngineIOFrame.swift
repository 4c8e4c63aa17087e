//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import NIOCore

/// An Engine.IO packet already encoded for the wire: the unit that transports write.
///
/// A broadcast encodes its packet into one `EngineIOFrame` and hands the same frame to
/// every recipient. `ByteBuffer` is copy-on-write, so no recipient copies the bytes. A frame
/// made with ``init(kind:framingForWebSocket:)`` also carries its complete WebSocket form,
/// built once in the same storage, which WebSocket connections write as is.
public struct EngineIOFrame: Sendable, Hashable {
    /// Whether the frame is text (type digit + UTF-8 data) or a binary message.
    public enum Kind: Sendable, Hashable {
        /// `bytes` holds `<type digit><data>`.
        case text
        /// `bytes` holds the raw binary message (type `message` implied, as in v4).
        case binary
    }

    public var kind: Kind {
        didSet { self.webSocketMessage = nil }
    }
    /// The encoded bytes (see ``Kind``).
    public var bytes: ByteBuffer {
        didSet { self.webSocketMessage = nil }
    }
    /// The frame as one unmasked, unfragmented server-to-client WebSocket message (RFC 6455
    /// §5.2 header + ``bytes``; binary frames as a binary message), when it was built;
    /// changing ``kind`` or ``bytes`` drops it.
    public private(set) var webSocketMessage: ByteBuffer?

    /// Whether the transport may compress this frame (Socket.IO's `compress(false)` clears
    /// it). A long-polling response is compressed when any frame it carries allows it, as
    /// Node's engine does.
    public var compress = true

    /// Bytes to leave free in front of a frame's bytes so that
    /// ``init(kind:framingForWebSocket:)`` can write the WebSocket header in place.
    public static let webSocketHeadroom = 10

    /// Creates a frame from already encoded bytes.
    public init(kind: Kind, bytes: ByteBuffer) {
        self.kind = kind
        self.bytes = bytes
        self.webSocketMessage = nil
    }

    /// Creates a frame and its WebSocket form. When `buffer` has ``webSocketHeadroom`` bytes
    /// in front of its readable bytes (see ``makeBuffer(capacity:)``) the header is written
    /// there and both forms share one storage; otherwise the WebSocket form is one copy.
    public init(kind: Kind, framingForWebSocket buffer: inout ByteBuffer) {
        self.kind = kind
        let length = buffer.readableBytes
        let opcode: UInt8 = kind == .text ? 0x1 : 0x2
        let headerLength = Self.webSocketHeaderLength(payload: length)
        if buffer.readerIndex >= headerLength {
            let payloadStart = buffer.readerIndex
            buffer.moveReaderIndex(to: payloadStart - headerLength)
            Self.setWebSocketHeader(opcode: opcode, payload: length, in: &buffer, at: buffer.readerIndex)
            var payload = buffer
            payload.moveReaderIndex(to: payloadStart)
            self.bytes = payload
            self.webSocketMessage = buffer
        } else {
            var message = ByteBuffer()
            message.reserveCapacity(headerLength + length)
            message.moveWriterIndex(forwardBy: headerLength)
            Self.setWebSocketHeader(opcode: opcode, payload: length, in: &message, at: 0)
            var payload = buffer
            message.writeBuffer(&payload)
            self.bytes = buffer
            self.webSocketMessage = message
        }
    }

    /// An empty buffer with ``webSocketHeadroom`` reserved in front, to encode a frame into.
    public static func makeBuffer(capacity: Int) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(capacity + Self.webSocketHeadroom)
        buffer.moveWriterIndex(forwardBy: Self.webSocketHeadroom)
        buffer.moveReaderIndex(forwardBy: Self.webSocketHeadroom)
        return buffer
    }

    static func webSocketHeaderLength(payload: Int) -> Int {
        payload < 126 ? 2 : (payload <= 0xFFFF ? 4 : 10)
    }

    private static func setWebSocketHeader(opcode: UInt8, payload: Int, in buffer: inout ByteBuffer, at index: Int) {
        buffer.setInteger(0x80 | opcode, at: index)
        if payload < 126 {
            buffer.setInteger(UInt8(payload), at: index + 1)
        } else if payload <= 0xFFFF {
            buffer.setInteger(UInt8(126), at: index + 1)
            buffer.setInteger(UInt16(payload), at: index + 2)
        } else {
            buffer.setInteger(UInt8(127), at: index + 1)
            buffer.setInteger(UInt64(payload), at: index + 2)
        }
    }

    // Equality and hashing look at the frame, not at whether its WebSocket form was built.
    public static func == (lhs: EngineIOFrame, rhs: EngineIOFrame) -> Bool {
        lhs.kind == rhs.kind && lhs.bytes == rhs.bytes
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.kind)
        hasher.combine(self.bytes)
    }

    /// A text frame: the type digit followed by `data`.
    public static func text(type: EngineIOPacketType, data: ByteBuffer? = nil) -> EngineIOFrame {
        var bytes = ByteBuffer()
        bytes.reserveCapacity(1 + (data?.readableBytes ?? 0))
        bytes.writeInteger(type.asciiDigit)
        if var data { bytes.writeBuffer(&data) }
        return EngineIOFrame(kind: .text, bytes: bytes)
    }

    /// A text message frame (`4<text>`).
    public static func message(_ text: String) -> EngineIOFrame {
        var bytes = ByteBuffer()
        bytes.reserveCapacity(1 + text.utf8.count)
        bytes.writeInteger(EngineIOPacketType.message.asciiDigit)
        bytes.writeString(text)
        return EngineIOFrame(kind: .text, bytes: bytes)
    }

    /// A binary message frame.
    public static func binary(_ data: ByteBuffer) -> EngineIOFrame {
        EngineIOFrame(kind: .binary, bytes: data)
    }

    /// A binary message frame with its WebSocket form (one copy of `data`, made once).
    public static func framedBinary(_ data: ByteBuffer) -> EngineIOFrame {
        var data = data
        return EngineIOFrame(kind: .binary, framingForWebSocket: &data)
    }

    /// The number of bytes this frame adds to a polling payload (without separator).
    public var payloadLength: Int {
        switch self.kind {
        case .text: return self.bytes.readableBytes
        case .binary: return 1 + Base64.encodedLength(self.bytes.readableBytes)
        }
    }

    /// Writes the text form (`<digit><data>` or `b<base64>`) to `buffer`.
    public func writeText(into buffer: inout ByteBuffer) {
        switch self.kind {
        case .text:
            var bytes = self.bytes
            buffer.writeBuffer(&bytes)
        case .binary:
            buffer.writeInteger(UInt8(ascii: "b"))
            self.bytes.withUnsafeReadableBytes { Base64.encode($0, into: &buffer) }
        }
    }
}
