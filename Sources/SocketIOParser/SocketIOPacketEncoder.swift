//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import EngineIOParser
public import NIOCore
import OrderedCollections

/// Encodes Socket.IO packets into Engine.IO frames, once: a broadcast hands the same
/// frames to every recipient.
public enum SocketIOPacketEncoder {
    /// The Engine.IO frames of a packet: one text message, then one binary message per
    /// attachment (binary values are replaced by `{"_placeholder":true,"num":n}`, numbered
    /// depth-first as `socket.io-parser`'s `deconstructPacket` does).
    public static func encode(_ packet: SocketIOPacket) -> [EngineIOFrame] {
        var attachments: [ByteBuffer] = []
        var data = packet.data
        var type = packet.type
        if let value = data, value.containsBinary {
            data = deconstruct(value, into: &attachments)
            if type == .event { type = .binaryEvent }
            if type == .ack { type = .binaryAck }
        }
        // Headroom in front, so that the WebSocket header is written in place: a broadcast
        // then writes one ready buffer to every WebSocket recipient.
        var text = EngineIOFrame.makeBuffer(capacity: 64)
        text.writeInteger(EngineIOPacketType.message.asciiDigit)
        text.writeInteger(UInt8(ascii: "0") + type.rawValue)
        if type == .binaryEvent || type == .binaryAck {
            text.writeString(String(attachments.count))
            text.writeInteger(UInt8(ascii: "-"))
        }
        if packet.namespace != "/" {
            text.writeString(packet.namespace)
            text.writeInteger(UInt8(ascii: ","))
        }
        if let ackID = packet.ackID {
            text.writeString(String(ackID))
        }
        if let data {
            JSONWriter.write(data, into: &text)
        }
        var frames = [EngineIOFrame(kind: .text, framingForWebSocket: &text)]
        if attachments.count == 1 {
            // The common case: nothing to share, no table.
            frames.append(EngineIOFrame.framedBinary(attachments[0]))
            return frames
        }
        frames.reserveCapacity(1 + attachments.count)
        // An application may put one buffer in several places of a packet: its WebSocket
        // form is built (one copy) once and shared by every place, as Node's `ws` writes one
        // `Buffer` several times.
        var framed: [AttachmentIdentity: EngineIOFrame] = [:]
        for attachment in attachments {
            let identity = AttachmentIdentity(attachment)
            if let frame = framed[identity] {
                frames.append(frame)
                continue
            }
            let frame = EngineIOFrame.framedBinary(attachment)
            framed[identity] = frame
            frames.append(frame)
        }
        return frames
    }

    /// Replaces binary values by placeholders, collecting them in order.
    public static func deconstruct(_ value: SocketIOValue, into attachments: inout [ByteBuffer]) -> SocketIOValue {
        switch value {
        case .binary(let buffer):
            let placeholder: SocketIOValue = ["_placeholder": true, "num": .int(attachments.count)]
            attachments.append(buffer)
            return placeholder
        case .array(let values) where value.containsBinary:
            return .array(values.map { deconstruct($0, into: &attachments) })
        case .object(let object) where value.containsBinary:
            var result = OrderedDictionary<String, SocketIOValue>()
            result.reserveCapacity(object.count)
            for (key, element) in object { result[key] = deconstruct(element, into: &attachments) }
            return .object(result)
        default:
            return value
        }
    }

    /// Puts attachments back in place of their placeholders.
    ///
    /// The placeholders must number the attachments exactly: every `num` in
    /// `0..<attachments.count` once, none twice, none missing. That is what every encoder
    /// produces (socket.io-parser's `deconstructPacket`, python-socketio's packet, ours),
    /// and it keeps the decoded value no larger than what arrived: a packet that names one
    /// attachment many times would otherwise make every re-emit hold (and frame) one copy
    /// per reference. Inbound client packets and backplane messages both come through here.
    /// - Throws: ``SocketIOParserError/illegalAttachments`` for a `num` out of range, used
    ///   twice, or an attachment no placeholder names.
    public static func reconstruct(_ value: SocketIOValue, attachments: [ByteBuffer]) throws(SocketIOParserError) -> SocketIOValue {
        var used = UsedAttachments(count: attachments.count)
        var remaining = attachments.count
        let result = try reconstruct(value, attachments: attachments, used: &used, remaining: &remaining)
        guard remaining == 0 else { throw .illegalAttachments }
        return result
    }

    private static func reconstruct(
        _ value: SocketIOValue,
        attachments: [ByteBuffer],
        used: inout UsedAttachments,
        remaining: inout Int
    ) throws(SocketIOParserError) -> SocketIOValue {
        switch value {
        case .object(let object):
            if object["_placeholder"] == .bool(true) {
                guard let number = object["num"]?.intValue, attachments.indices.contains(number),
                    used.insert(number)
                else {
                    throw .illegalAttachments
                }
                remaining -= 1
                return .binary(attachments[number])
            }
            var result = OrderedDictionary<String, SocketIOValue>()
            result.reserveCapacity(object.count)
            for (key, element) in object {
                result[key] = try reconstruct(element, attachments: attachments, used: &used, remaining: &remaining)
            }
            return .object(result)
        case .array(let values):
            var result: [SocketIOValue] = []
            result.reserveCapacity(values.count)
            for element in values {
                result.append(try reconstruct(element, attachments: attachments, used: &used, remaining: &remaining))
            }
            return .array(result)
        default:
            return value
        }
    }
}

/// Which attachments a placeholder named already: a bit mask for up to 64 (no allocation
/// per decode; `maxAttachments` is 10 by default), an array beyond.
private struct UsedAttachments {
    private var mask: UInt64 = 0
    private var large: [Bool]

    init(count: Int) {
        self.large = count > 64 ? [Bool](repeating: false, count: count) : []
    }

    /// Marks `number` (in range) used. - Returns: `false` if it was used already.
    mutating func insert(_ number: Int) -> Bool {
        if self.large.isEmpty {
            let bit: UInt64 = 1 << UInt64(number)
            guard self.mask & bit == 0 else { return false }
            self.mask |= bit
            return true
        }
        guard !self.large[number] else { return false }
        self.large[number] = true
        return true
    }
}

/// The bytes a buffer shows, by address: two buffers with the same identity show the same
/// bytes (the same storage, the same readable range).
private struct AttachmentIdentity: Hashable {
    let address: UInt
    let count: Int

    init(_ buffer: ByteBuffer) {
        self.address = buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        self.count = buffer.readableBytes
    }
}
