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
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: 15)
        for index in 0..<15 { bytes[index] = generator.next() }
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
