//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

/// The Engine.IO v4 packet types. On the wire each is one ASCII digit.
public enum EngineIOPacketType: UInt8, Sendable, Hashable, CaseIterable {
    /// Server → client handshake.
    case open = 0
    /// Either side: the transport can be closed.
    case close = 1
    /// Server → client in v4 (`2probe` from the client during an upgrade).
    case ping = 2
    /// Client → server in v4 (`3probe` from the server during an upgrade).
    case pong = 3
    /// A message, either direction.
    case message = 4
    /// Client → server: completes a polling → WebSocket upgrade.
    case upgrade = 5
    /// Server → client: releases a pending polling GET.
    case noop = 6

    /// The ASCII digit that encodes this type.
    @inlinable
    public var asciiDigit: UInt8 { UInt8(ascii: "0") + self.rawValue }

    /// The type encoded by an ASCII digit, if it is one of `0`…`6`.
    @inlinable
    public init?(asciiDigit: UInt8) {
        guard asciiDigit >= UInt8(ascii: "0") else { return nil }
        self.init(rawValue: asciiDigit &- UInt8(ascii: "0"))
    }
}
