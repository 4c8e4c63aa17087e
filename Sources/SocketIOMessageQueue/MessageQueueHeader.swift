//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import NIOCore

/// The top-level `method`, `host_id` and `to` fields of a channel message, found by a scan
/// of its bytes that builds no value tree: enough for a node to drop its own echoed
/// messages, and answers addressed to other nodes, before parsing them in full (every node
/// receives every message on the channel, its own included).
///
/// The scan gives up (`nil`) on anything unusual (not an object, an escape in a key or in
/// one of these fields, truncated JSON): the caller then parses the message in full, which
/// decides. It never decides that a message is valid.
public struct MessageQueueHeader: Sendable, Hashable {
    /// The `method` field, if it is a plain string.
    public var method: String?
    /// The `host_id` field, if it is a plain string.
    public var hostID: String?
    /// The `to` field (responses), if it is a plain string.
    public var to: String?

    /// A header with these fields.
    public init(method: String? = nil, hostID: String? = nil, to: String? = nil) {
        self.method = method
        self.hostID = hostID
        self.to = to
    }

    /// Scans the top level of a JSON object for the fields.
    public static func scan(_ bytes: ByteBuffer) -> MessageQueueHeader? {
        bytes.withUnsafeReadableBytes { buffer in
            var scanner = Scanner(bytes: buffer)
            return scanner.header()
        }
    }

    private struct Scanner {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        private static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")

        mutating func header() -> MessageQueueHeader? {
            var header = MessageQueueHeader()
            self.skipSpace()
            guard self.take(UInt8(ascii: "{")) else { return nil }
            self.skipSpace()
            if self.take(UInt8(ascii: "}")) { return header }
            while true {
                self.skipSpace()
                guard let key = self.plainString() else { return nil }
                self.skipSpace()
                guard self.take(UInt8(ascii: ":")) else { return nil }
                self.skipSpace()
                let field: WritableKeyPath<MessageQueueHeader, String?>?
                switch key {
                case "method": field = \.method
                case "host_id": field = \.hostID
                case "to": field = \.to
                default: field = nil
                }
                if let field, self.peek() == Self.quote {
                    guard let value = self.plainString() else { return nil }
                    header[keyPath: field] = value
                    if header.method != nil, header.hostID != nil, header.method != "response" || header.to != nil {
                        return header
                    }
                } else {
                    guard self.skipValue() else { return nil }
                }
                self.skipSpace()
                if self.take(UInt8(ascii: ",")) { continue }
                guard self.take(UInt8(ascii: "}")) else { return nil }
                return header
            }
        }

        private func peek() -> UInt8? { self.index < self.bytes.count ? self.bytes[self.index] : nil }

        private mutating func take(_ byte: UInt8) -> Bool {
            guard self.peek() == byte else { return false }
            self.index += 1
            return true
        }

        private mutating func skipSpace() {
            while let byte = self.peek(), byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { self.index += 1 }
        }

        /// A string without escapes (`nil` for one with escapes, or no string).
        private mutating func plainString() -> String? {
            guard self.take(Self.quote) else { return nil }
            let start = self.index
            while let byte = self.peek() {
                if byte == Self.quote {
                    let text = String(decoding: UnsafeRawBufferPointer(rebasing: self.bytes[start..<self.index]), as: UTF8.self)
                    self.index += 1
                    return text
                }
                if byte == Self.backslash { return nil }
                self.index += 1
            }
            return nil
        }

        /// Skips a string whose first quote is current, escapes included.
        private mutating func skipString() -> Bool {
            self.index += 1
            while let byte = self.peek() {
                self.index += 1
                if byte == Self.quote { return true }
                if byte == Self.backslash { self.index += 1 }
            }
            return false
        }

        /// Skips one value: a string, a nested object or list (brackets counted, strings
        /// skipped), or a number or literal.
        private mutating func skipValue() -> Bool {
            guard let first = self.peek() else { return false }
            if first == Self.quote { return self.skipString() }
            if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
                var depth = 0
                while let byte = self.peek() {
                    switch byte {
                    case Self.quote:
                        guard self.skipString() else { return false }
                        continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["):
                        depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        if depth == 0 {
                            self.index += 1
                            return true
                        }
                    default:
                        break
                    }
                    self.index += 1
                }
                return false
            }
            let start = self.index
            while let byte = self.peek(), byte != UInt8(ascii: ","), byte != UInt8(ascii: "}"), byte != UInt8(ascii: "]"),
                byte != 0x20, byte != 0x09, byte != 0x0A, byte != 0x0D
            {
                self.index += 1
            }
            return self.index > start
        }
    }
}
