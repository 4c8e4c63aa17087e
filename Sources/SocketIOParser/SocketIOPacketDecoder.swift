//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import EngineIOParser
public import NIOCore

/// Decodes the Engine.IO messages of one connection into Socket.IO packets.
///
/// A state machine: a BINARY_EVENT/BINARY_ACK waits for its attachments, which must be the
/// next binary messages (socket.io-parser `Decoder.add`). The rules follow Node's decoder;
/// every error means the connection must be closed.
public struct SocketIOPacketDecoder: Sendable {
    private enum State: Sendable {
        case idle
        case awaitingAttachments(SocketIOPacket, expected: Int, received: [ByteBuffer], bytes: Int)
    }

    private var state: State = .idle
    /// Most attachments one packet may announce (Node `maxAttachments`, default 10).
    public let maxAttachments: Int
    /// Most bytes all attachments of one packet may hold.
    public let maxAttachmentBytes: Int

    public init(maxAttachments: Int = 10, maxAttachmentBytes: Int = 1_000_000) {
        self.maxAttachments = maxAttachments
        self.maxAttachmentBytes = maxAttachmentBytes
    }

    /// Feeds one Engine.IO message.
    /// - Returns: a complete packet, or `nil` while attachments are outstanding.
    public mutating func decode(_ message: EngineIOMessage) throws(SocketIOParserError) -> SocketIOPacket? {
        switch (message, self.state) {
        case (.text(let text), .idle):
            let (packet, attachments) = try Self.decodeText(text, maxAttachments: self.maxAttachments)
            if attachments == 0 {
                return try Self.finish(packet, attachments: [])
            }
            self.state = .awaitingAttachments(packet, expected: attachments, received: [], bytes: 0)
            return nil
        case (.text, .awaitingAttachments):
            throw .unexpectedText
        case (.binary, .idle):
            throw .unexpectedBinary
        case (.binary(let data), .awaitingAttachments(let packet, let expected, var received, let bytes)):
            let total = bytes + data.readableBytes
            guard total <= self.maxAttachmentBytes else { throw .attachmentsTooLarge }
            self.state = .idle
            received.append(data)
            if received.count == expected {
                return try Self.finish(packet, attachments: received)
            }
            self.state = .awaitingAttachments(packet, expected: expected, received: received, bytes: total)
            return nil
        }
    }

    private static func finish(_ packet: SocketIOPacket, attachments: [ByteBuffer]) throws(SocketIOParserError) -> SocketIOPacket {
        guard !attachments.isEmpty, let data = packet.data else { return packet }
        var packet = packet
        packet.data = try SocketIOPacketEncoder.reconstruct(data, attachments: attachments)
        return packet
    }

    /// Parses the text form of a packet (without the Engine.IO `4`), as Node's
    /// `Decoder.decodeString` does, and validates its payload.
    public static func decodeText(_ text: ByteBuffer, maxAttachments: Int = 10) throws(SocketIOParserError) -> (SocketIOPacket, attachments: Int) {
        let bytes = text.readableBytesView
        var index = bytes.startIndex
        guard index < bytes.endIndex, let type = SocketIOPacketType(rawValue: bytes[index] &- UInt8(ascii: "0")) else {
            throw .unknownPacketType
        }
        index += 1

        var attachments = 0
        if type == .binaryEvent || type == .binaryAck {
            let start = index
            while index < bytes.endIndex, bytes[index] != UInt8(ascii: "-") {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]), index - start < 10 else {
                    throw .illegalAttachments
                }
                attachments = attachments * 10 + Int(bytes[index] - UInt8(ascii: "0"))
                index += 1
            }
            guard index < bytes.endIndex, index > start, attachments <= maxAttachments else { throw .illegalAttachments }
            index += 1  // the "-"
        }

        var namespace = "/"
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: "/") {
            let start = index
            while index < bytes.endIndex, bytes[index] != UInt8(ascii: ",") { index += 1 }
            var name = String(decoding: bytes[start..<index], as: UTF8.self)
            // v4 clients put an auth query in the namespace; python-socketio strips it too.
            if let mark = name.firstIndex(of: "?") { name = String(name[..<mark]) }
            namespace = name
            if index < bytes.endIndex { index += 1 }  // the ","
        }

        var ackID: Int?
        let idStart = index
        while index < bytes.endIndex, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            guard index - idStart < 15 else { throw .invalidAckID }
            ackID = (ackID ?? 0) * 10 + Int(bytes[index] - UInt8(ascii: "0"))
            index += 1
        }

        var data: SocketIOValue?
        if index < bytes.endIndex {
            let json = text.getSlice(at: text.readerIndex + (index - bytes.startIndex), length: bytes.endIndex - index)!
            do {
                data = try JSONParser.parse(json)
            } catch {
                throw .invalidPayload
            }
        }

        let packet = SocketIOPacket(type: type, namespace: namespace, ackID: ackID, data: data)
        try Self.validate(packet)
        return (packet, attachments)
    }

    /// Node `Decoder.isPayloadValid`, plus the ack id an ACK needs.
    private static func validate(_ packet: SocketIOPacket) throws(SocketIOParserError) {
        switch packet.type {
        case .connect:
            if let data = packet.data, data.objectValue == nil { throw .invalidPayload }
        case .disconnect:
            if packet.data != nil { throw .invalidPayload }
        case .connectError:
            guard let data = packet.data, data.stringValue != nil || data.objectValue != nil else { throw .invalidPayload }
        case .event, .binaryEvent:
            guard let array = packet.data?.arrayValue, let name = array.first else { throw .invalidPayload }
            switch name {
            case .string(let string):
                if socketIOReservedEvents.contains(string) { throw .reservedEventName(string) }
            case .int, .double:
                break
            default:
                throw .invalidPayload
            }
        case .ack, .binaryAck:
            guard packet.data?.arrayValue != nil else { throw .invalidPayload }
            guard packet.ackID != nil else { throw .invalidAckID }
        }
    }
}
