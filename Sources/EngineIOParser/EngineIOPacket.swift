//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//
//
// Engine.IO v4 packet encoding (engine.io-protocol README, "Packet encoding"):
//
//   text packet      <type digit>[<UTF-8 data>]          e.g. `4hello`, `2`, `3probe`
//   binary message   raw bytes in a WebSocket binary frame (no type byte in v4)
//                    or `b<base64>` in text contexts (polling payloads, `b64=1` clients)
//
//===----------------------------------------------------------------------===//

public import NIOCore

/// A message carried by Engine.IO: UTF-8 text or binary.
public enum EngineIOMessage: Sendable, Hashable {
    /// UTF-8 text, without the `4` type digit.
    case text(ByteBuffer)
    /// Binary data.
    case binary(ByteBuffer)

    /// A text message from a Swift string.
    public static func text(_ string: String) -> EngineIOMessage { .text(ByteBuffer(string: string)) }
}

/// One decoded Engine.IO v4 packet.
public enum EngineIOPacket: Sendable, Hashable {
    /// The handshake; the data is the JSON object.
    case open(ByteBuffer)
    case close
    /// A ping, with optional data (`probe` during an upgrade).
    case ping(ByteBuffer)
    /// A pong, with optional data (`probe` during an upgrade).
    case pong(ByteBuffer)
    case message(EngineIOMessage)
    case upgrade
    case noop

    /// The packet type.
    public var type: EngineIOPacketType {
        switch self {
        case .open: return .open
        case .close: return .close
        case .ping: return .ping
        case .pong: return .pong
        case .message: return .message
        case .upgrade: return .upgrade
        case .noop: return .noop
        }
    }

    /// Decodes one text packet (a WebSocket text frame, or one record of a polling payload).
    ///
    /// A record that starts with `b` is a base64 binary message.
    /// - Throws: ``EngineIOParserError`` when the bytes are not a packet.
    public static func decode(text bytes: ByteBuffer) throws(EngineIOParserError) -> EngineIOPacket {
        guard let first = bytes.getInteger(at: bytes.readerIndex, as: UInt8.self) else {
            throw .emptyPacket
        }
        let data = bytes.getSlice(at: bytes.readerIndex + 1, length: bytes.readableBytes - 1) ?? ByteBuffer()
        if first == UInt8(ascii: "b") {
            guard let decoded = data.withUnsafeReadableBytes({ Base64.decode($0) }) else {
                throw .invalidBase64
            }
            return .message(.binary(decoded))
        }
        guard let type = EngineIOPacketType(asciiDigit: first) else {
            throw .unknownPacketType(first)
        }
        guard data.withUnsafeReadableBytes({ UTF8Validation.isValid($0) }) else {
            throw .invalidUTF8
        }
        switch type {
        case .open: return .open(data)
        case .close: return .close
        case .ping: return .ping(data)
        case .pong: return .pong(data)
        case .message: return .message(.text(data))
        case .upgrade: return .upgrade
        case .noop: return .noop
        }
    }

    /// The encoded form of this packet, ready for a transport.
    public var frame: EngineIOFrame {
        switch self {
        case .open(let data): return .text(type: .open, data: data)
        case .close: return .text(type: .close)
        case .ping(let data): return .text(type: .ping, data: data)
        case .pong(let data): return .text(type: .pong, data: data)
        case .message(.text(let data)): return .text(type: .message, data: data)
        case .message(.binary(let data)): return .binary(data)
        case .upgrade: return .text(type: .upgrade)
        case .noop: return .text(type: .noop)
        }
    }
}
