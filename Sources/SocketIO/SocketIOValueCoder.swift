//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import Foundation
import NIOCore
public import SocketIOParser

/// Converts between ``SocketIOValue`` and `Codable` types (through JSON text; binary
/// values are not representable in `Codable` payloads).
///
/// A `Date` travels as JavaScript's `JSON.stringify(new Date())` writes it: an ISO-8601 string
/// in UTC with milliseconds, `2026-11-29T18:30:00.123Z` (rounded down to the millisecond, as a
/// JavaScript `Date` holds it). Decoding accepts that form, without fractional seconds too, or
/// with an offset (`+01:00`) instead of `Z`.
public enum SocketIOValueCoder {
    /// Decodes a value as `T`.
    public static func decode<T: Decodable>(_ type: T.Type, from value: SocketIOValue) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = JavaScriptDate.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription: "Expected an ISO-8601 date like 2026-11-29T18:30:00.123Z, got \(text)"
                )
            }
            return date
        }
        return try decoder.decode(T.self, from: Data(value.jsonString.utf8))
    }

    /// Encodes a value of `T`.
    public static func encode<T: Encodable>(_ value: T) throws -> SocketIOValue {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(JavaScriptDate.isoString(date))
        }
        let data = try encoder.encode(value)
        return try JSONParser.parse(ByteBuffer(bytes: data))
    }
}
