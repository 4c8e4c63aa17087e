//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import Foundation
import NIOCore
public import SocketIOParser

/// Converts between ``SocketIOValue`` and `Codable` types (through JSON text; binary
/// values are not representable in `Codable` payloads).
public enum SocketIOValueCoder {
    /// Decodes a value as `T`.
    public static func decode<T: Decodable>(_ type: T.Type, from value: SocketIOValue) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(value.jsonString.utf8))
    }

    /// Encodes a value of `T`.
    public static func encode<T: Encodable>(_ value: T) throws -> SocketIOValue {
        let data = try JSONEncoder().encode(value)
        return try JSONParser.parse(ByteBuffer(bytes: data))
    }
}
