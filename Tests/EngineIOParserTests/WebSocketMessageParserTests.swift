//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIOParser
import NIOCore
import Testing

/// Client frames byte by byte (RFC 6455 §5.2), as the server reads them.
struct WebSocketMessageParserTests {
    typealias Event = WebSocketMessageParser.Event

    /// A masked client frame.
    private func frame(
        _ opcode: UInt8,
        _ payload: [UInt8],
        fin: Bool = true,
        key: [UInt8] = [0x37, 0xFA, 0x21, 0x3D],
        rsv: UInt8 = 0,
        masked: Bool = true
    ) -> [UInt8] {
        var bytes: [UInt8] = [(fin ? 0x80 : 0) | rsv | opcode]
        let maskBit: UInt8 = masked ? 0x80 : 0
        if payload.count < 126 {
            bytes.append(maskBit | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            bytes.append(maskBit | 126)
            bytes += [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            bytes.append(maskBit | 127)
            bytes += (0..<8).reversed().map { UInt8((payload.count >> ($0 * 8)) & 0xFF) }
        }
        guard masked else { return bytes + payload }
        bytes += key
        return bytes + payload.enumerated().map { $0.element ^ key[$0.offset % 4] }
    }

    private func events(_ chunks: [[UInt8]], max: Int = 1 << 20) -> [Event] {
        var parser = WebSocketMessageParser(maxMessageSize: max)
        var events: [Event] = []
        for chunk in chunks {
            parser.append(ByteBuffer(bytes: chunk))
            while let event = parser.next() { events.append(event) }
        }
        return events
    }

    private func text(_ string: String) -> Event { .text(ByteBuffer(string: string)) }

    @Test func rfcExampleMaskedHello() {
        // RFC 6455 §5.7: a single-frame masked text message "Hello".
        let bytes: [UInt8] = [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]
        #expect(self.events([bytes]) == [self.text("Hello")])
    }

    @Test func severalFramesInOneReadAndOneFrameOverManyReads() {
        let both = self.frame(0x1, Array("4hi".utf8)) + self.frame(0x2, [1, 2, 3])
        #expect(self.events([both]) == [self.text("4hi"), .binary(ByteBuffer(bytes: [1, 2, 3]))])
        // Byte by byte: nothing until the last byte of each frame.
        #expect(self.events(both.map { [$0] }) == [self.text("4hi"), .binary(ByteBuffer(bytes: [1, 2, 3]))])
    }

    @Test func unmaskingCoversEveryLengthAndOffset() {
        for count in [0, 1, 3, 7, 8, 9, 15, 16, 17, 125] {
            let payload = (0..<count).map { UInt8(truncatingIfNeeded: $0 * 7 + 1) }
            #expect(self.events([self.frame(0x2, payload)]) == [.binary(ByteBuffer(bytes: payload))])
        }
    }

    @Test func sixteenAndSixtyFourBitLengths() {
        let medium = [UInt8](repeating: 0x61, count: 300)
        let large = [UInt8](repeating: 0x62, count: 70_000)
        #expect(self.events([self.frame(0x1, medium)]) == [.text(ByteBuffer(bytes: medium))])
        #expect(self.events([self.frame(0x2, large)]) == [.binary(ByteBuffer(bytes: large))])
    }

    @Test func fragmentsAreReassembledAroundControlFrames() {
        let chunks = [
            self.frame(0x1, Array("4he".utf8), fin: false),
            self.frame(0x9, Array("p".utf8)),
            self.frame(0x0, Array("ll".utf8), fin: false),
            self.frame(0xA, []),
            self.frame(0x0, Array("o".utf8)),
        ]
        #expect(self.events(chunks) == [.ping(ByteBuffer(string: "p")), .pong, self.text("4hello")])
    }

    @Test func closeCarriesItsPayload() {
        #expect(self.events([self.frame(0x8, [0x03, 0xE8, 0x62, 0x79, 0x65])]) == [.close(ByteBuffer(bytes: [0x03, 0xE8, 0x62, 0x79, 0x65]))])
    }

    @Test(arguments: [
        ("unmasked frame", [0x81, 0x02, 0x34, 0x32] as [UInt8]),
        ("reserved bit", [0xC1, 0x80, 0, 0, 0, 0]),
        ("reserved data opcode", [0x83, 0x80, 0, 0, 0, 0]),
        ("reserved control opcode", [0x8B, 0x80, 0, 0, 0, 0]),
        ("fragmented ping", [0x09, 0x80, 0, 0, 0, 0]),
        ("continuation without a start", [0x80, 0x80, 0, 0, 0, 0]),
        ("64-bit length with its top bit set", [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0]),
    ])
    func protocolErrorsAre1002(_ name: String, _ bytes: [UInt8]) {
        #expect(self.events([bytes, self.frame(0x1, [0x34])]) == [.protocolError(closeCode: 1002)], "\(name)")
    }

    @Test func longControlFrameIs1002() {
        #expect(self.events([self.frame(0x9, [UInt8](repeating: 0, count: 126))]) == [.protocolError(closeCode: 1002)])
    }

    @Test func newMessageInsideAFragmentedOneIs1002() {
        let chunks = [self.frame(0x1, [0x34], fin: false), self.frame(0x1, [0x34])]
        #expect(self.events(chunks) == [.protocolError(closeCode: 1002)])
    }

    @Test func tooBigFramesAndMessagesAre1009() {
        // The frame's header is enough: the payload is not waited for.
        #expect(self.events([Array(self.frame(0x2, [UInt8](repeating: 0, count: 2000)).prefix(8))], max: 1000) == [.protocolError(closeCode: 1009)])
        #expect(self.events([[0x82, 0xFF, 0, 0, 0, 1, 0, 0, 0, 0]], max: 1000) == [.protocolError(closeCode: 1009)])
        // Fragments that are each small but too big together.
        let chunks = [self.frame(0x2, [UInt8](repeating: 1, count: 600), fin: false), self.frame(0x0, [UInt8](repeating: 2, count: 600))]
        #expect(self.events(chunks, max: 1000) == [.protocolError(closeCode: 1009)])
        // Exactly the limit passes.
        #expect(self.events([self.frame(0x2, [UInt8](repeating: 3, count: 1000))], max: 1000).count == 1)
    }

    @Test func nothingAfterAnError() {
        var parser = WebSocketMessageParser(maxMessageSize: 100)
        parser.append(ByteBuffer(bytes: [0x81, 0x01, 0x34]))  // unmasked
        #expect(parser.next() == .protocolError(closeCode: 1002))
        parser.append(ByteBuffer(bytes: self.frame(0x1, [0x34])))
        #expect(parser.next() == nil)
    }
}
