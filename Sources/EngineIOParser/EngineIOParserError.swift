//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

/// Why bytes could not be decoded as Engine.IO.
///
/// A struct over a private enum so that cases can be added without breaking users.
public struct EngineIOParserError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Hashable {
        case emptyPacket
        case unknownPacketType(UInt8)
        case invalidBase64
        case tooManyPackets
        case invalidUTF8
    }

    private let code: Code

    /// A packet (or polling record) with no bytes.
    public static let emptyPacket = EngineIOParserError(code: .emptyPacket)
    /// The first byte is neither a packet type digit nor `b`.
    public static func unknownPacketType(_ byte: UInt8) -> EngineIOParserError {
        EngineIOParserError(code: .unknownPacketType(byte))
    }
    /// A `b…` record whose data is not base64.
    public static let invalidBase64 = EngineIOParserError(code: .invalidBase64)
    /// A polling payload with more packets than allowed.
    public static let tooManyPackets = EngineIOParserError(code: .tooManyPackets)
    /// Text that is not well-formed UTF-8.
    public static let invalidUTF8 = EngineIOParserError(code: .invalidUTF8)

    public var description: String {
        switch self.code {
        case .emptyPacket: return "empty packet"
        case .unknownPacketType(let byte): return "unknown packet type 0x\(String(byte, radix: 16))"
        case .invalidBase64: return "invalid base64 in binary packet"
        case .tooManyPackets: return "too many packets in payload"
        case .invalidUTF8: return "text is not valid UTF-8"
        }
    }
}
