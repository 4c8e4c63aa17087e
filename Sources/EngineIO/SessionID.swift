//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIOParser
import NIOCore

/// Random ids in the reference format: 15 random bytes in base64 with `+`→`-` and `/`→`_`,
/// 20 characters (Node `base64id`). Used for Engine.IO session ids and Socket.IO socket ids.
public enum SessionID {
    /// A new random id.
    public static func make() -> String {
        // Two 64-bit draws, not fifteen one-byte ones: each draw is a `getrandom` system
        // call, and a connection storm makes two ids per client.
        var generator = SystemRandomNumberGenerator()
        let words = (generator.next() as UInt64, generator.next() as UInt64)
        let bytes = withUnsafeBytes(of: words) { Array($0.prefix(15)) }
        var buffer = ByteBuffer()
        Base64.encode(bytes, into: &buffer)
        let urlSafe = buffer.readableBytesView.map { byte -> UInt8 in
            switch byte {
            case UInt8(ascii: "+"): return UInt8(ascii: "-")
            case UInt8(ascii: "/"): return UInt8(ascii: "_")
            default: return byte
            }
        }
        return String(decoding: urlSafe, as: UTF8.self)
    }
}
