//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIOParser
import NIOCore
import Testing

struct Base64Tests {
    // RFC 4648 §10 test vectors.
    static let vectors: [(String, String)] = [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
    ]

    @Test(arguments: Self.vectors.map { [$0.0, $0.1] })
    func encodesRFCVectors(_ pair: [String]) {
        #expect(Base64.encodeToString(Array(pair[0].utf8)) == pair[1])
    }

    @Test(arguments: Self.vectors.map { [$0.0, $0.1] })
    func decodesRFCVectors(_ pair: [String]) throws {
        let decoded = try #require(Base64.decode(pair[1]))
        #expect(String(buffer: decoded) == pair[0])
    }

    @Test func decodesWithoutPadding() throws {
        #expect(try #require(Base64.decode("Zm9vYg")).readableBytesView.elementsEqual("foob".utf8))
    }

    @Test func roundTripsEveryByteValueAndLength() throws {
        for length in 0..<70 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 200) }
            let text = Base64.encodeToString(bytes)
            #expect(text.utf8.count == Base64.encodedLength(length))
            let decoded = try #require(Base64.decode(text))
            #expect(Array(decoded.readableBytesView) == bytes)
        }
    }

    @Test(arguments: ["!!!!", "Z", "Zm9v\n", "Zm9vYg===", "Zm 9"])
    func refusesInvalidText(_ text: String) {
        #expect(Base64.decode(text) == nil)
    }
}
