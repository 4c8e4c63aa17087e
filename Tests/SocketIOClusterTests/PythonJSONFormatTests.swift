//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import NIOCore
import SocketIOMessageQueue
import SocketIOParser
import Testing

/// The format seam: the python conformer writes exactly python-socketio's bytes, and a
/// stamped emit is the same bytes as one encoded with its stamp fields set.
struct PythonJSONFormatTests {
    private let host = "9f1c2b7e8d6a4c5b9e0f1a2b3c4d5e6f"
    private let format: any ClusterMessageFormat = PythonJSONFormat()

    @Test func encodesAndDecodesThroughTheProtocol() throws {
        let message = MessageQueueMessage.enterRoom(sid: "s1", room: "r", namespace: "/chat", hostID: host)
        let bytes = format.encode(message)
        #expect(
            String(buffer: bytes)
                == #"{"method":"enter_room","sid":"s1","room":"r","namespace":"/chat","host_id":"9f1c2b7e8d6a4c5b9e0f1a2b3c4d5e6f"}"#
        )
        #expect(try format.decode(bytes) == message)
        #expect(format.channel(for: message, mainChannel: "flask-socketio") == "flask-socketio")
    }

    @Test func stampingEqualsEncodingWithTheStamp() throws {
        let emit = MessageQueueMessage.Emit(event: "e", arguments: [1, "two"], rooms: ["r"], hostID: host)
        var stamped = format.encode(.emit(emit))
        format.stamp(&stamped, sequence: 42, epoch: "00000000deadbeef")
        var withFields = emit
        withFields.sequence = 42
        withFields.epoch = "00000000deadbeef"
        #expect(String(buffer: stamped) == String(buffer: format.encode(.emit(withFields))))
        #expect(try format.decode(stamped) == .emit(withFields))
    }

    @Test func unknownMethodsAreSkippedAndGarbageRefused() throws {
        #expect(try format.decode(ByteBuffer(string: #"{"method":"from_the_future","host_id":"x"}"#)) == nil)
        #expect(throws: MessageQueueDecodingError.self) { try format.decode(ByteBuffer(string: "{not json")) }
    }
}

extension PythonJSONFormatTests {
    @Test func replyChannelsAreNamedOnce() {
        #expect(format.replyChannel(mainChannel: "socketio", hostID: host) == "socketio#\(host)")
    }
}
