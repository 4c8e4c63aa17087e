//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//
//
// Socket.IO v5 packet encoding (socket.io-protocol Readme, "Packet encoding"):
//
//   <type digit>[<attachments>"-"][<namespace>","][<ack id>][<JSON payload>]
//
// carried in one Engine.IO message (hence the leading `4` on the wire), followed for
// BINARY_EVENT/BINARY_ACK by one Engine.IO binary message per attachment:
//
//   42["hello","world"]   4212["foo"]   43/admin,13["bar"]
//   451-["upload",{"_placeholder":true,"num":0}]  + <01 02 03 04>
//
//===----------------------------------------------------------------------===//

import NIOCore

/// Socket.IO v5 packet types.
public enum SocketIOPacketType: UInt8, Sendable, Hashable {
    case connect = 0
    case disconnect = 1
    case event = 2
    case ack = 3
    case connectError = 4
    case binaryEvent = 5
    case binaryAck = 6
}

/// One Socket.IO packet, with binary values in place (attachments reassembled).
public struct SocketIOPacket: Sendable, Hashable {
    /// The type. ``SocketIOPacketEncoder`` turns `event`/`ack` with binary data into the
    /// binary variants by itself; the decoder reports the binary variants as sent.
    public var type: SocketIOPacketType
    /// The namespace, `/` by default.
    public var namespace: String
    /// The acknowledgement id, if the sender expects (or this is) an ack.
    public var ackID: Int?
    /// The payload (`[event, args...]` for events, `[args...]` for acks, an object for
    /// CONNECT/CONNECT_ERROR, nothing for DISCONNECT).
    public var data: SocketIOValue?

    public init(type: SocketIOPacketType, namespace: String = "/", ackID: Int? = nil, data: SocketIOValue? = nil) {
        self.type = type
        self.namespace = namespace
        self.ackID = ackID
        self.data = data
    }

    /// An EVENT `[name, args...]`.
    public static func event(_ name: String, _ arguments: [SocketIOValue], namespace: String = "/", ackID: Int? = nil) -> SocketIOPacket {
        SocketIOPacket(type: .event, namespace: namespace, ackID: ackID, data: .array([.string(name)] + arguments))
    }

    /// An ACK `[args...]`.
    public static func ack(_ arguments: [SocketIOValue], id: Int, namespace: String = "/") -> SocketIOPacket {
        SocketIOPacket(type: .ack, namespace: namespace, ackID: id, data: .array(arguments))
    }

    /// Whether this is an EVENT or BINARY_EVENT.
    public var isEvent: Bool { self.type == .event || self.type == .binaryEvent }
    /// Whether this is an ACK or BINARY_ACK.
    public var isAck: Bool { self.type == .ack || self.type == .binaryAck }
}

/// Why a message is not a valid Socket.IO packet.
public struct SocketIOParserError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Hashable {
        case unknownPacketType
        case illegalAttachments
        case invalidNamespace
        case invalidAckID
        case invalidPayload
        case reservedEventName(String)
        case unexpectedBinary
        case unexpectedText
        case attachmentsTooLarge
    }

    private let code: Code

    public static let unknownPacketType = Self(code: .unknownPacketType)
    public static let illegalAttachments = Self(code: .illegalAttachments)
    public static let invalidNamespace = Self(code: .invalidNamespace)
    public static let invalidAckID = Self(code: .invalidAckID)
    public static let invalidPayload = Self(code: .invalidPayload)
    public static func reservedEventName(_ name: String) -> Self { Self(code: .reservedEventName(name)) }
    /// A binary message arrived while no attachment was expected.
    public static let unexpectedBinary = Self(code: .unexpectedBinary)
    /// A text message arrived while attachments were expected.
    public static let unexpectedText = Self(code: .unexpectedText)
    public static let attachmentsTooLarge = Self(code: .attachmentsTooLarge)

    public var description: String {
        switch self.code {
        case .unknownPacketType: return "unknown packet type"
        case .illegalAttachments: return "illegal attachments"
        case .invalidNamespace: return "invalid namespace"
        case .invalidAckID: return "invalid ack id"
        case .invalidPayload: return "invalid payload"
        case .reservedEventName(let name): return "reserved event name \"\(name)\""
        case .unexpectedBinary: return "unexpected binary message"
        case .unexpectedText: return "text message while waiting for attachments"
        case .attachmentsTooLarge: return "attachments too large"
        }
    }
}

/// Event names an incoming EVENT may not use (socket.io-parser `RESERVED_EVENTS`).
public let socketIOReservedEvents: Set<String> = [
    "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
]
