//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import NIOCore

/// An Engine.IO packet already encoded for the wire: the unit that transports write.
///
/// A broadcast encodes its packet into one `EngineIOFrame` and hands the same frame to
/// every recipient. `ByteBuffer` is copy-on-write, so no recipient copies the bytes.
public struct EngineIOFrame: Sendable, Hashable {
    /// Whether the frame is text (type digit + UTF-8 data) or a binary message.
    public enum Kind: Sendable, Hashable {
        /// `bytes` holds `<type digit><data>`.
        case text
        /// `bytes` holds the raw binary message (type `message` implied, as in v4).
        case binary
    }

    public var kind: Kind
    /// The encoded bytes (see ``Kind``).
    public var bytes: ByteBuffer

    /// Creates a frame from already encoded bytes.
    @inlinable
    public init(kind: Kind, bytes: ByteBuffer) {
        self.kind = kind
        self.bytes = bytes
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
