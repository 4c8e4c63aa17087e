//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import NIOCore
import OrderedCollections

/// Writes compact JSON exactly as JavaScript's `JSON.stringify` does (no spaces, only the
/// required escapes, integers without a fraction), straight into a `ByteBuffer`.
public enum JSONWriter {
    /// Appends the JSON text of `value`. Binary values become `null` (the packet encoder
    /// replaces them with placeholders before writing).
    public static func write(_ value: SocketIOValue, into buffer: inout ByteBuffer) {
        switch value {
        case .null, .binary:
            buffer.writeStaticString("null")
        case .bool(let flag):
            buffer.writeStaticString(flag ? "true" : "false")
        case .int(let number):
            buffer.writeString(String(number))
        case .double(let number):
            writeNumber(number, into: &buffer)
        case .string(let string):
            writeString(string, into: &buffer)
        case .array(let values):
            buffer.writeInteger(UInt8(ascii: "["))
            var first = true
            for element in values {
                if !first { buffer.writeInteger(UInt8(ascii: ",")) }
                first = false
                write(element, into: &buffer)
            }
            buffer.writeInteger(UInt8(ascii: "]"))
        case .object(let object):
            buffer.writeInteger(UInt8(ascii: "{"))
            var first = true
            for (key, element) in object {
                if !first { buffer.writeInteger(UInt8(ascii: ",")) }
                first = false
                writeString(key, into: &buffer)
                buffer.writeInteger(UInt8(ascii: ":"))
                write(element, into: &buffer)
            }
            buffer.writeInteger(UInt8(ascii: "}"))
        }
    }

    /// A number as JavaScript prints it: `2` not `2.0`, `1e-7` not `1e-07`; non-finite → `null`.
    static func writeNumber(_ number: Double, into buffer: inout ByteBuffer) {
        guard number.isFinite else {
            buffer.writeStaticString("null")
            return
        }
        if number.rounded() == number, abs(number) < 1e21 {
            if number == 0 {
                buffer.writeInteger(UInt8(ascii: "0"))
            } else if abs(number) < 9.0e18 {
                buffer.writeString(String(Int64(number)))
            } else {
                // Integral but beyond Int64: Swift prints e.g. 1e+20 where JS prints digits.
                buffer.writeString(integralDigits(number))
            }
            return
        }
        var text = "\(number)"
        // Swift writes exponents as e-07 / e+21; JavaScript as e-7 / e+21.
        if let e = text.firstIndex(of: "e") {
            let mantissa = text[..<e]
            var exponent = text[text.index(after: e)...]
            var sign = "+"
            if exponent.first == "-" || exponent.first == "+" {
                sign = String(exponent.first!)
                exponent = exponent.dropFirst()
            }
            let digits = exponent.drop(while: { $0 == "0" })
            text = "\(mantissa)e\(sign)\(digits.isEmpty ? "0" : String(digits))"
        }
        buffer.writeString(text)
    }

    private static func integralDigits(_ number: Double) -> String {
        // Exact integer digits of a large integral double.
        var digits: [UInt8] = []
        var value = abs(number)
        while value >= 1 {
            let remainder = value.truncatingRemainder(dividingBy: 10)
            digits.append(UInt8(ascii: "0") + UInt8(remainder))
            value = (value - remainder) / 10
        }
        return (number < 0 ? "-" : "") + String(decoding: digits.reversed(), as: UTF8.self)
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// A JSON string literal with JSON.stringify's escapes.
    public static func writeString(_ string: String, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "\""))
        var utf8 = string.utf8
        let needsEscape = utf8.withContiguousStorageIfAvailable { bytes in
            bytes.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
        }
        if needsEscape == false {
            buffer.writeString(string)
        } else {
            if needsEscape == nil {
                var copy = string
                copy.makeContiguousUTF8()
                utf8 = copy.utf8
            }
            for byte in utf8 {
                switch byte {
                case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case 0x08: buffer.writeStaticString("\\b")
                case 0x0C: buffer.writeStaticString("\\f")
                case 0x0A: buffer.writeStaticString("\\n")
                case 0x0D: buffer.writeStaticString("\\r")
                case 0x09: buffer.writeStaticString("\\t")
                case 0..<0x20:
                    buffer.writeStaticString("\\u00")
                    buffer.writeInteger(hex[Int(byte >> 4)])
                    buffer.writeInteger(hex[Int(byte & 0x0F)])
                default:
                    buffer.writeInteger(byte)
                }
            }
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }
}
