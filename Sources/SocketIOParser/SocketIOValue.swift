//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import NIOCore
public import OrderedCollections

/// A JSON value that may also hold binary data: the arguments of Socket.IO events and acks.
///
/// Objects keep their key order, so that what we encode is byte for byte what
/// `JSON.stringify` would write. Integers and floating-point numbers stay distinct.
public enum SocketIOValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case binary(ByteBuffer)
    case array([SocketIOValue])
    case object(OrderedDictionary<String, SocketIOValue>)

    /// The member of an object, or `nil`.
    public subscript(key: String) -> SocketIOValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    /// The element of an array, or `nil`.
    public subscript(index: Int) -> SocketIOValue? {
        if case .array(let array) = self, array.indices.contains(index) { return array[index] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var intValue: Int? {
        switch self {
        case .int(let value): return value
        case .double(let value) where value.rounded() == value && abs(value) < 9.0e15: return Int(value)
        default: return nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .double(let value): return value
        default: return nil
        }
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var arrayValue: [SocketIOValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public var objectValue: OrderedDictionary<String, SocketIOValue>? {
        if case .object(let value) = self { return value }
        return nil
    }

    public var binaryValue: ByteBuffer? {
        if case .binary(let value) = self { return value }
        return nil
    }

    public var isNull: Bool { self == .null }

    /// Whether binary data appears anywhere inside.
    public var containsBinary: Bool {
        switch self {
        case .binary: return true
        case .array(let values): return values.contains { $0.containsBinary }
        case .object(let object): return object.values.contains { $0.containsBinary }
        default: return false
        }
    }
}

extension SocketIOValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: SocketIOValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, SocketIOValue)...) {
        var object = OrderedDictionary<String, SocketIOValue>()
        for (key, value) in elements { object[key] = value }
        self = .object(object)
    }
}

extension SocketIOValue: CustomStringConvertible {
    /// The JSON text (binary shown as `<N bytes>`).
    public var description: String {
        if self.containsBinary {
            switch self {
            case .binary(let buffer): return "<\(buffer.readableBytes) bytes>"
            case .array(let values): return "[" + values.map(\.description).joined(separator: ",") + "]"
            case .object(let object):
                return "{" + object.map { "\(SocketIOValue.string($0.key).jsonString):\($0.value.description)" }.joined(separator: ",") + "}"
            default: break
            }
        }
        return self.jsonString
    }

    /// The compact JSON text of a value without binary (binary becomes `null`).
    public var jsonString: String {
        var buffer = ByteBuffer()
        JSONWriter.write(self, into: &buffer)
        return String(buffer: buffer)
    }
}
