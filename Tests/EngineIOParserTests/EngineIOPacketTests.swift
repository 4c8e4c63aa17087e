//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIOParser
import NIOCore
import Testing

struct EngineIOPacketTests {
    private func decode(_ text: String) throws -> EngineIOPacket {
        try EngineIOPacket.decode(text: ByteBuffer(string: text))
    }

    private func text(_ frame: EngineIOFrame) -> String {
        var buffer = ByteBuffer()
        frame.writeText(into: &buffer)
        return String(buffer: buffer)
    }

    @Test func decodesEveryPacketType() throws {
        #expect(try decode("0{\"sid\":\"x\"}") == .open(ByteBuffer(string: "{\"sid\":\"x\"}")))
        #expect(try decode("1") == .close)
        #expect(try decode("2") == .ping(ByteBuffer()))
        #expect(try decode("2probe") == .ping(ByteBuffer(string: "probe")))
        #expect(try decode("3probe") == .pong(ByteBuffer(string: "probe")))
        #expect(try decode("4hello") == .message(.text("hello")))
        #expect(try decode("4") == .message(.text("")))
        #expect(try decode("5") == .upgrade)
        #expect(try decode("6") == .noop)
    }

    @Test func decodesBase64BinaryMessage() throws {
        #expect(try decode("bAQIDBA==") == .message(.binary(ByteBuffer(bytes: [1, 2, 3, 4]))))
        #expect(try decode("b") == .message(.binary(ByteBuffer())))
    }

    @Test func decodesUTF8Text() throws {
        #expect(try decode("4héllo ☃ 😀") == .message(.text("héllo ☃ 😀")))
    }

    @Test func refusesMalformedPackets() {
        #expect(throws: EngineIOParserError.emptyPacket) { try decode("") }
        #expect(throws: EngineIOParserError.unknownPacketType(UInt8(ascii: "7"))) { try decode("7") }
        #expect(throws: EngineIOParserError.unknownPacketType(UInt8(ascii: "a"))) { try decode("abc") }
        #expect(throws: EngineIOParserError.invalidBase64) { try decode("b!!!") }
    }

    @Test func encodesExactBytes() {
        #expect(text(EngineIOPacket.message(.text("hello")).frame) == "4hello")
        #expect(text(EngineIOPacket.ping(ByteBuffer(string: "probe")).frame) == "2probe")
        #expect(text(EngineIOPacket.pong(ByteBuffer(string: "probe")).frame) == "3probe")
        #expect(text(EngineIOPacket.noop.frame) == "6")
        #expect(text(EngineIOPacket.close.frame) == "1")
        #expect(text(EngineIOPacket.message(.binary(ByteBuffer(bytes: [1, 2, 3, 4]))).frame) == "bAQIDBA==")
        #expect(text(.message("héllo")) == "4héllo")
    }

    @Test func binaryFrameCarriesRawBytesWithoutTypeByte() {
        let frame = EngineIOPacket.message(.binary(ByteBuffer(bytes: [1, 2, 3, 4]))).frame
        #expect(frame.kind == .binary)
        #expect(Array(frame.bytes.readableBytesView) == [1, 2, 3, 4])
    }
}

struct UTF8ValidationTests {
    @Test(arguments: [
        [0x34, 0xFF, 0xFE], [0x34, 0xC3, 0x28], [0x34, 0xED, 0xA0, 0x80], [0x34, 0xC0, 0xAF],
        [0x34, 0xF4, 0x90, 0x80, 0x80], [0x34, 0xE2, 0x82], [0x34, 0x80],
    ] as [[UInt8]])
    func refusesIllFormedText(_ bytes: [UInt8]) {
        #expect(throws: EngineIOParserError.invalidUTF8) { try EngineIOPacket.decode(text: ByteBuffer(bytes: bytes)) }
    }

    @Test func acceptsWellFormedText() throws {
        let text = "4" + String(repeating: "ascii ", count: 5) + "é☃😀\u{10FFFF}\u{0}"
        #expect(try EngineIOPacket.decode(text: ByteBuffer(string: text)) == .message(.text(String(text.dropFirst()))))
    }
}
