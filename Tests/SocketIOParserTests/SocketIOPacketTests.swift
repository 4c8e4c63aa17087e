//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIOParser
import NIOCore
import SocketIOParser
import Testing

/// The byte examples of socket.io-protocol's Readme (protocol.md §2.3), both ways.
struct SocketIOPacketTests {
    private func wire(_ packet: SocketIOPacket) -> [String] {
        SocketIOPacketEncoder.encode(packet).map { frame in
            switch frame.kind {
            case .text: return String(buffer: frame.bytes)
            case .binary: return "<" + frame.bytes.readableBytesView.map { String($0) }.joined(separator: " ") + ">"
            }
        }
    }

    private func decode(_ messages: [EngineIOMessage]) throws -> SocketIOPacket? {
        var decoder = SocketIOPacketDecoder()
        var result: SocketIOPacket?
        for message in messages { result = try decoder.decode(message) }
        return result
    }

    private func decode(_ text: String) throws -> SocketIOPacket? {
        try decode([.text(text)])
    }

    @Test func encodesEveryPacketType() {
        #expect(wire(SocketIOPacket(type: .connect, data: ["sid": "abc"])) == [#"40{"sid":"abc"}"#])
        #expect(wire(SocketIOPacket(type: .connect, namespace: "/admin", data: ["sid": "x"])) == [#"40/admin,{"sid":"x"}"#])
        #expect(wire(SocketIOPacket(type: .disconnect)) == ["41"])
        #expect(wire(SocketIOPacket(type: .disconnect, namespace: "/admin")) == ["41/admin,"])
        #expect(wire(.event("hello", ["world"])) == [#"42["hello","world"]"#])
        #expect(wire(.event("bar", [], namespace: "/admin")) == [#"42/admin,["bar"]"#])
        #expect(wire(.ack(["bar"], id: 12)) == [#"4312["bar"]"#])
        #expect(wire(.ack(["bar"], id: 13, namespace: "/admin")) == [#"43/admin,13["bar"]"#])
        #expect(wire(SocketIOPacket(type: .connectError, data: ["message": "Not authorized"])) == [#"44{"message":"Not authorized"}"#])
        #expect(
            wire(SocketIOPacket(type: .connectError, namespace: "/random", data: ["message": "Invalid namespace"]))
                == [#"44/random,{"message":"Invalid namespace"}"#]
        )
    }

    @Test func encodesBinaryEventsAndAcksWithAttachments() {
        let data = ByteBuffer(bytes: [1, 2, 3, 4])
        #expect(wire(.event("upload", [.binary(data)])) == [#"451-["upload",{"_placeholder":true,"num":0}]"#, "<1 2 3 4>"])
        #expect(wire(.ack(["bar", .binary(data)], id: 15)) == [#"461-15["bar",{"_placeholder":true,"num":0}]"#, "<1 2 3 4>"])
        let nested: SocketIOValue = ["a": .binary(ByteBuffer(bytes: [1, 2])), "b": [.binary(ByteBuffer(bytes: [3, 4])), 5]]
        #expect(
            wire(.event("baz", [nested], namespace: "/admin"))
                == [
                    #"452-/admin,["baz",{"a":{"_placeholder":true,"num":0},"b":[{"_placeholder":true,"num":1},5]}]"#,
                    "<1 2>", "<3 4>",
                ]
        )
    }

    @Test func decodesTheReadmeExamples() throws {
        #expect(try decode("0") == SocketIOPacket(type: .connect))
        #expect(try decode(#"0{"token":"123"}"#) == SocketIOPacket(type: .connect, data: ["token": "123"]))
        #expect(try decode(#"0/admin,{"token":"123"}"#) == SocketIOPacket(type: .connect, namespace: "/admin", data: ["token": "123"]))
        // The namespace may run to the end of the message, without a comma.
        #expect(try decode("0/custom") == SocketIOPacket(type: .connect, namespace: "/custom"))
        #expect(try decode("0/custom,") == SocketIOPacket(type: .connect, namespace: "/custom"))
        #expect(try decode(#"2["hello","world"]"#) == .event("hello", ["world"]))
        #expect(try decode(#"212["foo"]"#) == .event("foo", [], ackID: 12))
        #expect(try decode(#"3/admin,13["bar"]"#) == .ack(["bar"], id: 13, namespace: "/admin"))
        #expect(try decode("1/admin,") == SocketIOPacket(type: .disconnect, namespace: "/admin"))
    }

    @Test func reassemblesAttachments() throws {
        let packet = try decode([
            .text(#"52-/admin,["baz",{"_placeholder":true,"num":1},{"n":[{"_placeholder":true,"num":0}]}]"#),
            .binary(ByteBuffer(bytes: [1, 2])), .binary(ByteBuffer(bytes: [3, 4])),
        ])
        #expect(packet?.type == .binaryEvent)
        #expect(packet?.namespace == "/admin")
        #expect(packet?.data == ["baz", .binary(ByteBuffer(bytes: [3, 4])), ["n": [.binary(ByteBuffer(bytes: [1, 2]))]]])
    }

    @Test func waitsForEveryAttachment() throws {
        var decoder = SocketIOPacketDecoder()
        #expect(try decoder.decode(.text(#"61-15["bar",{"_placeholder":true,"num":0}]"#)) == nil)
        let packet = try decoder.decode(.binary(ByteBuffer(bytes: [9])))
        #expect(packet == SocketIOPacket(type: .binaryAck, ackID: 15, data: ["bar", .binary(ByteBuffer(bytes: [9]))]))
        // Back to idle: a plain event decodes at once.
        #expect(try decoder.decode(.text(#"2["x"]"#)) == .event("x", []))
    }

    @Test(arguments: [
        "abc",  // unknown type
        "9",  // unknown type
        "2{}",  // payload not an array
        #"2abc["x"]"#,  // ack id not numeric → payload not JSON
        "2[]",  // empty event
        "2[null]",  // name neither string nor number
        #"2["connect"]"#, #"2["disconnect"]"#,  // reserved names
        "3[1]",  // ack without id
        "1[]",  // disconnect with payload
        "0[]",  // connect payload not an object
        "4",  // connect_error without payload
        "5x-[]", "5-[]", "511-[\"a\"]",  // bad attachment counts (max 10)
        #"2["unterminated"#,
        #"21234567890123456["x"]"#,  // ack id too long
    ])
    func refusesMalformedPackets(_ text: String) {
        #expect(throws: SocketIOParserError.self) { try decode(text) }
    }

    @Test func refusesOutOfOrderMessages() throws {
        var decoder = SocketIOPacketDecoder()
        #expect(throws: SocketIOParserError.unexpectedBinary) { try decoder.decode(.binary(ByteBuffer(bytes: [1]))) }
        var waiting = SocketIOPacketDecoder()
        _ = try waiting.decode(.text(#"51-["a",{"_placeholder":true,"num":0}]"#))
        #expect(throws: SocketIOParserError.unexpectedText) { try waiting.decode(.text(#"2["b"]"#)) }
        var bad = SocketIOPacketDecoder()
        _ = try bad.decode(.text(#"51-["a",{"_placeholder":true,"num":3}]"#))
        #expect(throws: SocketIOParserError.illegalAttachments) { try bad.decode(.binary(ByteBuffer(bytes: [1]))) }
    }

    @Test func boundsAttachmentSize() throws {
        var decoder = SocketIOPacketDecoder(maxAttachments: 10, maxAttachmentBytes: 4)
        _ = try decoder.decode(.text(#"52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#))
        _ = try decoder.decode(.binary(ByteBuffer(bytes: [1, 2, 3])))
        #expect(throws: SocketIOParserError.attachmentsTooLarge) { try decoder.decode(.binary(ByteBuffer(bytes: [4, 5]))) }
    }

    @Test func stripsQueryFromNamespace() throws {
        #expect(try decode("0/admin?token=1,")?.namespace == "/admin")
    }

    // MARK: Placeholders name each attachment exactly once (issue 13, item 2)

    @Test(arguments: [
        // One attachment named twice: each reference would become its own copy on re-emit.
        (#"51-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}]"#, 1),
        // An attachment no placeholder names.
        (#"52-["a",{"_placeholder":true,"num":0}]"#, 2),
        // Out of range.
        (#"51-["a",{"_placeholder":true,"num":1}]"#, 1),
    ])
    func refusesPlaceholdersThatDoNotNameEachAttachmentOnce(_ text: String, attachments: Int) throws {
        var decoder = SocketIOPacketDecoder()
        #expect(try decoder.decode(.text(text)) == nil)
        #expect(throws: SocketIOParserError.illegalAttachments) {
            for n in 0..<attachments {
                _ = try decoder.decode(.binary(ByteBuffer(bytes: [UInt8(n)])))
            }
        }
    }

    @Test func acceptsPlaceholdersInAnyOrderEachOnce() throws {
        let packet = try decode([
            .text(#"52-["a",{"x":{"_placeholder":true,"num":1}},{"_placeholder":true,"num":0}]"#),
            .binary(ByteBuffer(bytes: [0])), .binary(ByteBuffer(bytes: [1])),
        ])
        #expect(packet?.data == ["a", ["x": .binary(ByteBuffer(bytes: [1]))], .binary(ByteBuffer(bytes: [0]))])
    }

    /// The rule is in `reconstruct` itself, which the backplane decoder calls too.
    @Test func reconstructRefusesDuplicatesForEveryCaller() {
        let placeholder: SocketIOValue = ["_placeholder": true, "num": 0]
        #expect(throws: SocketIOParserError.illegalAttachments) {
            try SocketIOPacketEncoder.reconstruct([placeholder, placeholder], attachments: [ByteBuffer(bytes: [1])])
        }
        #expect(throws: SocketIOParserError.illegalAttachments) {
            try SocketIOPacketEncoder.reconstruct([placeholder], attachments: [ByteBuffer(bytes: [1]), ByteBuffer(bytes: [2])])
        }
    }

    /// The used-attachment set is a bit mask up to 64 attachments and an array beyond
    /// (review finding 5): both accept each number once, in any order, and refuse repeats.
    @Test(arguments: [1, 2, 64, 65, 70])
    func reconstructTracksEveryAttachmentCount(count: Int) throws {
        let attachments = (0..<count).map { ByteBuffer(bytes: [UInt8($0)]) }
        let placeholders: [SocketIOValue] = (0..<count).reversed().map { ["_placeholder": true, "num": .int($0)] }
        let value = try SocketIOPacketEncoder.reconstruct(.array(placeholders), attachments: attachments)
        #expect(value == .array(attachments.reversed().map { .binary($0) }))
        let last: SocketIOValue = ["_placeholder": true, "num": .int(count - 1)]
        #expect(throws: SocketIOParserError.illegalAttachments) {
            try SocketIOPacketEncoder.reconstruct(.array(placeholders.dropFirst() + [last, last]), attachments: attachments)
        }
    }

    /// One attachment (the common case) is framed without the sharing table, the same as
    /// before: one text frame, one binary frame.
    @Test func oneAttachmentIsFramedAlone() {
        let frames = SocketIOPacketEncoder.encode(.event("e", [.binary(ByteBuffer(bytes: [1, 2]))]))
        #expect(frames.count == 2)
        #expect(String(buffer: frames[0].bytes) == #"451-["e",{"_placeholder":true,"num":0}]"#)
        #expect(frames[1].kind == .binary)
        #expect(Array(buffer: frames[1].bytes) == [1, 2])
    }

    /// A buffer an application puts in several places of one packet is framed once: every
    /// place shares the one WebSocket form.
    @Test func aBufferInSeveralPlacesIsFramedOnce() throws {
        let shared = ByteBuffer(repeating: 7, count: 4096)
        let frames = SocketIOPacketEncoder.encode(.event("e", [.binary(shared), .binary(shared), .binary(ByteBuffer(bytes: [1]))]))
        #expect(frames.count == 4)
        func address(_ frame: EngineIOFrame) throws -> UInt {
            try #require(frame.webSocketMessage).withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        }
        #expect(try address(frames[1]) == address(frames[2]))
        #expect(try address(frames[1]) != address(frames[3]))
        #expect(frames[1].bytes == shared && frames[3].bytes == ByteBuffer(bytes: [1]))
    }
}
