//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import Backplane
import Logging
import NIOCore
@testable import SocketIOCluster
import SocketIOMessageQueue
import SocketIOParser
import Testing

/// The scan of a message's top-level fields, and the node's own messages dropped on it
/// before the full parse.
struct MessageQueueHeaderTests {
    private func scan(_ text: String) -> MessageQueueHeader? {
        MessageQueueHeader.scan(ByteBuffer(string: text))
    }

    @Test func findsTheTopLevelFieldsWhateverComesFirst() {
        #expect(
            scan(#"{"method":"emit","event":"e","data":[{"host_id":"inner","method":"x"},"a\"b"],"host_id":"h","seq":1}"#)
                == MessageQueueHeader(method: "emit", hostID: "h")
        )
        #expect(scan(#" { "host_id" : "h" , "method" : "callback" , "id" : 3 } "#) == MessageQueueHeader(method: "callback", hostID: "h"))
        #expect(
            scan(#"{"method":"response","host_id":"r","request_id":"1","rooms":{"a":1},"to":"o","complete":true}"#)
                == MessageQueueHeader(method: "response", hostID: "r", to: "o")
        )
        #expect(scan(#"{"method":"heartbeat","interval_ms":5000}"#) == MessageQueueHeader(method: "heartbeat"))
        #expect(scan(#"{"host_id":null,"method":"emit","x":[[],{},true,-1.5e3]}"#) == MessageQueueHeader(method: "emit"))
        #expect(scan("{}") == MessageQueueHeader())
        // Every method encoded by this version scans to what decoding reads.
        let messages: [MessageQueueMessage] = [
            .emit(.init(event: "e", arguments: [["host_id": "x"], .binary(ByteBuffer(bytes: [1, 2]))], hostID: "h")),
            .heartbeat(hostID: "h", intervalMilliseconds: 1),
            .callbackMiss(hostID: "o", from: "h", sid: "s", namespace: "/", id: 1),
            .response(.init(hostID: "h", to: "o", requestID: "1", payload: .rooms(["r": 1]))),
        ]
        for message in messages {
            let header = MessageQueueHeader.scan(message.encoded())
            #expect(header?.hostID == message.hostID)
        }
    }

    @Test func givesUpOnWhatItCannotReadPlainly() {
        for text in [
            "", "not json", "[1,2]", #"{"method":"emit""#, #"{"method":"em\u0069t","host_id":"h"}"#, #"{"host_id":"h\u0041"}"#,
            #"{"me\"thod":"emit"}"#, #"{"method" "emit"}"#, #"{"a":[1,2}"#, #"{"a":}"#,
        ] {
            #expect(scan(text) == nil, "\(text)")
        }
    }

    private let me = "0123456789abcdef0123456789abcdef"

    @Test func ownEchoesAreDroppedBeforeTheFullParseAndAnswersToUsGetThrough() async throws {
        let log = CapturedLog()
        let adapter = ClusterAdapter(transport: RecordingTransport(), hostID: me, logger: Logger(label: "test", factory: { _ in log }))
        // Our own messages, malformed past the header: dropped on the header alone, so the
        // full parser (which would log them as garbage) never sees them.
        for method in ["emit", "enter_room", "close_room", "heartbeat", "request", "sockets_join", "server_side_emit", "response"] {
            let invalid = ByteBuffer(string: #"{"method":"\#(method)","host_id":"\#(me)","event":7,"data":{"x":[1,"]"]}}"#)
            #expect(adapter.isSkippable(invalid))
            adapter.handle(invalid)
        }
        // Answers addressed to other nodes: dropped the same way.
        #expect(adapter.isSkippable(ByteBuffer(string: #"{"method":"callback","host_id":"other","sid":"s","id":1,"args":[]}"#)))
        #expect(adapter.isSkippable(ByteBuffer(string: #"{"method":"callback_miss","host_id":"other","from":"x"}"#)))
        #expect(adapter.isSkippable(ByteBuffer(string: #"{"method":"response","host_id":"x","to":"other"}"#)))
        #expect(log.lines.isEmpty)
        // What is addressed to us, or comes from others, is parsed.
        #expect(!adapter.isSkippable(ByteBuffer(string: #"{"method":"callback","host_id":"\#(me)","sid":"s","namespace":"/","id":1,"args":[]}"#)))
        #expect(!adapter.isSkippable(ByteBuffer(string: #"{"method":"callback_miss","host_id":"\#(me)","from":"x"}"#)))
        #expect(!adapter.isSkippable(ByteBuffer(string: #"{"method":"response","host_id":"x","to":"\#(me)"}"#)))
        #expect(!adapter.isSkippable(ByteBuffer(string: #"{"method":"emit","host_id":"other","event":"e","data":[]}"#)))
        #expect(!adapter.isSkippable(ByteBuffer(string: #"{"method":"emit","host_id":"\#(me)\u0020"}"#)))
        #expect(!adapter.isSkippable(ByteBuffer(string: #"{"method":"future_method","host_id":"\#(me)"}"#)))
        adapter.handle(ByteBuffer(string: #"{"method":"emit","host_id":"other","event":7}"#))
        #expect(log.lines.map(\.message) == ["dropped an invalid message-queue message"])
    }
}

/// The hosts heard that never beat, as pure state.
struct ClusterNonMembersTests {
    @Test func hostsAreRememberedForAWhileAndForgottenWhenTheyBeat() {
        let start = ContinuousClock.now
        var strangers = ClusterNonMembers(configuration: .init(memory: .seconds(10), maxHosts: 2))
        #expect(strangers.isEmpty(now: start))
        strangers.heard("py1", now: start)
        strangers.heard("", now: start)
        strangers.heard("py2", now: start + .seconds(5))
        #expect(strangers.hosts(now: start + .seconds(5)) == ["py1", "py2"])
        // Full: a third is not remembered while the others are fresh.
        strangers.heard("py3", now: start + .seconds(6))
        #expect(strangers.hosts(now: start + .seconds(6)) == ["py1", "py2"])
        // py1 is stale at 11 s: forgotten, making room.
        #expect(strangers.hosts(now: start + .seconds(11)) == ["py2"])
        strangers.heard("py3", now: start + .seconds(11))
        #expect(strangers.hosts(now: start + .seconds(11)) == ["py2", "py3"])
        strangers.becameMember("py2")
        #expect(strangers.hosts(now: start + .seconds(11)) == ["py3"])
        #expect(strangers.isEmpty(now: start + .seconds(30)))
    }
}
