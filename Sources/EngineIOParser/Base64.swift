//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import NIOCore

/// Standard base64 (RFC 4648 §4, with padding), as Engine.IO uses for binary
/// messages in text contexts (`b<base64>`) and python-socketio for attachments.
///
/// Written over bytes so that no `Data`/`String` round trip sits on the hot path.
public enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Decoding table: 0xFF marks a byte outside the alphabet.
    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    /// The number of characters `encode` writes for `count` bytes.
    @inlinable
    public static func encodedLength(_ count: Int) -> Int { ((count + 2) / 3) * 4 }

    /// Appends the base64 text of `bytes` to `buffer`.
    public static func encode<Bytes: Collection>(_ bytes: Bytes, into buffer: inout ByteBuffer) where Bytes.Element == UInt8 {
        let alphabet = self.alphabet
        let outLength = encodedLength(bytes.count)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: outLength) { out in
            var o = 0
            var iterator = bytes.makeIterator()
            while let b0 = iterator.next() {
                let b1 = iterator.next()
                let b2 = iterator.next()
                out[o] = alphabet[Int(b0 >> 2)]
                out[o + 1] = alphabet[Int(((b0 & 0x03) << 4) | ((b1 ?? 0) >> 4))]
                if let b1 {
                    out[o + 2] = alphabet[Int(((b1 & 0x0F) << 2) | ((b2 ?? 0) >> 6))]
                } else {
                    out[o + 2] = UInt8(ascii: "=")
                }
                if let b2 {
                    out[o + 3] = alphabet[Int(b2 & 0x3F)]
                } else {
                    out[o + 3] = UInt8(ascii: "=")
                }
                o += 4
            }
            return o
        }
    }

    /// The base64 text of `bytes` as a `String`.
    public static func encodeToString<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var buffer = ByteBuffer()
        encode(bytes, into: &buffer)
        return String(buffer: buffer)
    }

    /// Decodes base64 text (padding optional, no whitespace) into a new buffer.
    ///
    /// - Returns: `nil` when the text is not valid base64.
    public static func decode<Text: Collection>(_ text: Text) -> ByteBuffer? where Text.Element == UInt8 {
        var count = text.count
        guard count > 0 else { return ByteBuffer() }
        // Strip up to two padding characters.
        var trimmed = Array(text)
        while count > 0, trimmed[count - 1] == UInt8(ascii: "=") { count -= 1 }
        guard trimmed.count - count <= 2, count % 4 != 1 else { return nil }
        if trimmed.count != count { trimmed.removeLast(trimmed.count - count) }
        let table = self.decodeTable
        var out = ByteBuffer()
        out.reserveCapacity(count * 3 / 4)
        var ok = true
        out.writeWithUnsafeMutableBytes(minimumWritableBytes: count * 3 / 4 + 3) { dst in
            var o = 0
            var i = 0
            while i < count {
                let c0 = table[Int(trimmed[i])]
                let c1 = i + 1 < count ? table[Int(trimmed[i + 1])] : 0
                let c2 = i + 2 < count ? table[Int(trimmed[i + 2])] : 0
                let c3 = i + 3 < count ? table[Int(trimmed[i + 3])] : 0
                // Valid sextets are < 64; the 0xFF marker of an invalid byte has the high bits set.
                if (c0 | c1 | c2 | c3) & 0xC0 != 0 {
                    ok = false
                    return 0
                }
                dst[o] = (c0 << 2) | (c1 >> 4)
                o += 1
                if i + 2 < count {
                    dst[o] = (c1 << 4) | (c2 >> 2)
                    o += 1
                }
                if i + 3 < count {
                    dst[o] = (c2 << 6) | c3
                    o += 1
                }
                i += 4
            }
            return o
        }
        return ok ? out : nil
    }

    /// Decodes base64 text held in a `String`.
    public static func decode(_ string: String) -> ByteBuffer? { decode(string.utf8) }
}
