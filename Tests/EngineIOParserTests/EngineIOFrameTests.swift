//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIOParser
import NIOCore
import Testing

/// The WebSocket form a frame carries: the exact RFC 6455 server header, in place when the
/// buffer has headroom, by one copy otherwise.
struct EngineIOFrameTests {
    private func frame(payload count: Int, kind: EngineIOFrame.Kind, headroom: Bool) -> EngineIOFrame {
        var buffer = headroom ? EngineIOFrame.makeBuffer(capacity: count) : ByteBuffer()
        buffer.writeBytes((0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        return EngineIOFrame(kind: kind, framingForWebSocket: &buffer)
    }

    @Test(arguments: [0, 5, 125, 126, 200, 65535, 65536, 70000], [true, false])
    func headerMatchesRFC6455(count: Int, headroom: Bool) throws {
        for kind in [EngineIOFrame.Kind.text, .binary] {
            let frame = self.frame(payload: count, kind: kind, headroom: headroom)
            var message = try #require(frame.webSocketMessage)
            #expect(frame.bytes.readableBytes == count)
            #expect(message.readInteger(as: UInt8.self) == (kind == .text ? 0x81 : 0x82))
            let lengthByte = message.readInteger(as: UInt8.self)
            let length = try #require(lengthByte)
            #expect(length & 0x80 == 0, "server frames are not masked")
            switch count {
            case ..<126:
                #expect(Int(length) == count)
            case ...0xFFFF:
                #expect(length == 126)
                #expect(message.readInteger(as: UInt16.self).map(Int.init) == count)
            default:
                #expect(length == 127)
                #expect(message.readInteger(as: UInt64.self).map(Int.init) == count)
            }
            #expect(message == frame.bytes, "the rest of the message is the frame's bytes")
        }
    }

    @Test func headroomSharesStorage() {
        let frame = self.frame(payload: 40, kind: .text, headroom: true)
        let message = frame.webSocketMessage!
        // One allocation: the message starts right before the payload in the same storage.
        let payloadAddress = frame.bytes.withUnsafeReadableBytes { $0.baseAddress! }
        let messageAddress = message.withUnsafeReadableBytes { $0.baseAddress! }
        #expect(messageAddress + 2 == payloadAddress)
    }

    @Test func changingTheFrameDropsItsWebSocketForm() {
        var frame = self.frame(payload: 10, kind: .text, headroom: true)
        let original = frame
        #expect(frame.webSocketMessage != nil)
        frame.bytes = ByteBuffer(string: "4x")
        #expect(frame.webSocketMessage == nil)
        var binary = original
        binary.kind = .binary
        #expect(binary.webSocketMessage == nil)
        // Equality ignores whether the WebSocket form was built.
        #expect(original == EngineIOFrame(kind: .text, bytes: original.bytes))
    }
}
