//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIOParser
import NIOCore
import Testing

struct EngineIOPayloadTests {
    @Test func encodesReadmeExamples() {
        let three = EngineIOPayload.encode([.message("hello"), .text(type: .ping), .message("world")])
        #expect(String(buffer: three) == "4hello\u{1e}2\u{1e}4world")
        let mixed = EngineIOPayload.encode([.message("hello"), .binary(ByteBuffer(bytes: [1, 2, 3, 4]))])
        // protocol.md §1.4: 34 68 65 6c 6c 6f 1e 62 41 51 49 44 42 41 3d 3d
        #expect(
            Array(mixed.readableBytesView)
                == [0x34, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x1e, 0x62, 0x41, 0x51, 0x49, 0x44, 0x42, 0x41, 0x3d, 0x3d]
        )
    }

    @Test func encodesSinglePacketWithoutSeparator() {
        #expect(String(buffer: EngineIOPayload.encode([.message("x")])) == "4x")
    }

    @Test func decodesReadmeExamples() throws {
        let packets = try EngineIOPayload.decode(ByteBuffer(string: "4hello\u{1e}bAQIDBA==\u{1e}2\u{1e}4world"))
        #expect(
            packets == [
                .message(.text("hello")), .message(.binary(ByteBuffer(bytes: [1, 2, 3, 4]))),
                .ping(ByteBuffer()), .message(.text("world")),
            ]
        )
    }

    @Test(arguments: ["", "4a\u{1e}", "\u{1e}4a", "4a\u{1e}\u{1e}4b", "zzz", "4ok\u{1e}9", "b@@@"])
    func refusesMalformedPayloads(_ body: String) {
        #expect(throws: EngineIOParserError.self) { try EngineIOPayload.decode(ByteBuffer(string: body)) }
    }

    @Test func refusesTooManyPackets() {
        let body = Array(repeating: "4x", count: 5).joined(separator: "\u{1e}")
        #expect(throws: EngineIOParserError.tooManyPackets) {
            try EngineIOPayload.decode(ByteBuffer(string: body), maxPackets: 4)
        }
        #expect((try? EngineIOPayload.decode(ByteBuffer(string: body), maxPackets: 5))?.count == 5)
    }
}
