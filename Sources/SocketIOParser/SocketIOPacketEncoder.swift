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
        for attachment in attachments {
            frames.append(.framedBinary(attachment))
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
    /// - Throws: ``SocketIOParserError/illegalAttachments`` for a `num` out of range.
    public static func reconstruct(_ value: SocketIOValue, attachments: [ByteBuffer]) throws(SocketIOParserError) -> SocketIOValue {
        switch value {
        case .object(let object):
            if object["_placeholder"] == .bool(true) {
                guard let number = object["num"]?.intValue, attachments.indices.contains(number) else {
                    throw .illegalAttachments
                }
                return .binary(attachments[number])
            }
            var result = OrderedDictionary<String, SocketIOValue>()
            result.reserveCapacity(object.count)
            for (key, element) in object { result[key] = try reconstruct(element, attachments: attachments) }
            return .object(result)
        case .array(let values):
            var result: [SocketIOValue] = []
            result.reserveCapacity(values.count)
            for element in values { result.append(try reconstruct(element, attachments: attachments)) }
            return .array(result)
        default:
            return value
        }
    }
}
