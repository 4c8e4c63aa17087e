//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import Backplane
import NIOCore
import SocketIOMessageQueue
import SocketIOParser
import Testing

/// The python-socketio wire format, field for field (protocol.md §4.1).
struct MessageQueueMessageTests {
    private let host = "9f1c2b7e8d6a4c5b9e0f1a2b3c4d5e6f"

    @Test func encodesEmitLikePython() throws {
        let plain = MessageQueueMessage.emit(.init(event: "foo", arguments: ["bar"], hostID: host))
        #expect(
            String(buffer: plain.encoded())
                == #"{"method":"emit","event":"foo","data":["bar"],"binary":false,"namespace":"/","room":null,"skip_sid":null,"callback":null,"host_id":"9f1c2b7e8d6a4c5b9e0f1a2b3c4d5e6f"}"#
        )
        let binary = MessageQueueMessage.emit(
            .init(
                event: "foo",
                arguments: [1, .binary(ByteBuffer(string: "two")), "three"],
                rooms: ["abc"],
                skip: ["s1", "s2"],
                callback: .init(sid: "abc", namespace: "/", id: 1),
                hostID: host
            )
        )
        #expect(
            String(buffer: binary.encoded())
                == #"{"method":"emit","event":"foo","data":[[1,{"_placeholder":true,"num":0},"three"],"dHdv"],"binary":true,"namespace":"/","room":"abc","skip_sid":["s1","s2"],"callback":["abc","/",1],"host_id":"9f1c2b7e8d6a4c5b9e0f1a2b3c4d5e6f"}"#
        )
    }

    @Test func roundTripsEveryMethod() throws {
        let messages: [MessageQueueMessage] = [
            .emit(.init(event: "e", arguments: [], namespace: "/chat", rooms: ["a", "b"], hostID: host)),
            .emit(.init(event: "e", arguments: [["k": .binary(ByteBuffer(bytes: [0, 255]))]], hostID: host)),
            .disconnect(sid: "s", namespace: "/", hostID: host),
            .enterRoom(sid: "s", room: "r", namespace: "/x", hostID: host),
            .leaveRoom(sid: "s", room: "r", namespace: "/", hostID: host),
            .closeRoom(room: "r", namespace: "/", hostID: host),
            .callback(hostID: host, sid: "s", namespace: "/", id: 3, arguments: ["ok", 1]),
            .heartbeat(hostID: host, intervalMilliseconds: 5000),
            .goodbye(hostID: host),
        ]
        for message in messages {
            #expect(try MessageQueueMessage.decode(message.encoded()) == message)
        }
    }

    @Test func encodesMembershipMessages() {
        #expect(
            String(buffer: MessageQueueMessage.heartbeat(hostID: host, intervalMilliseconds: 5000).encoded())
                == #"{"method":"heartbeat","host_id":"9f1c2b7e8d6a4c5b9e0f1a2b3c4d5e6f","interval_ms":5000}"#
        )
        #expect(
            String(buffer: MessageQueueMessage.goodbye(hostID: host).encoded()) == #"{"method":"goodbye","host_id":"9f1c2b7e8d6a4c5b9e0f1a2b3c4d5e6f"}"#
        )
        for garbage in [#"{"method":"heartbeat","host_id":"h"}"#, #"{"method":"heartbeat","host_id":"h","interval_ms":0}"#, #"{"method":"goodbye"}"#] {
            #expect(throws: MessageQueueDecodingError.self) { try MessageQueueMessage.decode(ByteBuffer(string: garbage)) }
        }
    }

    @Test func decodesPythonSpacing() throws {
        let text = #"{"method": "enter_room", "sid": "abc", "room": "lobby", "namespace": "/", "host_id": "h"}"#
        #expect(try MessageQueueMessage.decode(ByteBuffer(string: text)) == .enterRoom(sid: "abc", room: "lobby", namespace: "/", hostID: "h"))
    }

    @Test func unknownMethodsAreIgnoredAndGarbageRefused() throws {
        #expect(try MessageQueueMessage.decode(ByteBuffer(string: #"{"method":"future","host_id":"h"}"#)) == nil)
        for garbage in ["", "x", "[]", #"{"method":1}"#, #"{"method":"emit","data":[]}"#, #"{"method":"callback","host_id":"h","sid":"s"}"#] {
            #expect(throws: MessageQueueDecodingError.self) { try MessageQueueMessage.decode(ByteBuffer(string: garbage)) }
        }
    }

    @Test func hostIDsLookLikePythons() {
        let id = HostID.make()
        #expect(id.count == 32)
        #expect(id.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(HostID.make() != id)
    }

    @Test func urlsParseOrFailClearly() throws {
        let redis = try BackplaneURL("redis://:s3cret@127.0.0.1:6390/2")
        #expect(redis.scheme == .redis && redis.host == "127.0.0.1" && redis.port == 6390 && redis.path == "2" && redis.password == "s3cret")
        #expect(redis.description == "redis://:***@127.0.0.1:6390/2")
        #expect(try BackplaneURL("redis://localhost").port == 6379)
        let amqp = try BackplaneURL("amqp://guest:guest@localhost/%2f")
        #expect(amqp.user == "guest" && amqp.path == "/" && amqp.port == 5672)
        #expect(try BackplaneURL("kafka://a:9092,b:9093").hosts.map(\.port) == [9092, 9093])
        for bad in ["localhost:6379", "http://x", "redis://", "redis://h:99999", "redis://h/db", "amqp://a,b"] {
            #expect(throws: BackplaneURLError.self) { try BackplaneURL(bad) }
        }
    }

    /// Reliability review F19: a URL that does not parse is quoted in the error, which ends
    /// up in logs and on a terminal: never with its password.
    @Test func errorsAboutAURLNeverShowItsPassword() {
        let bad = [
            "redis://:s3cret@h:99999", "amqp://user:s3cret@a,b/vhost", "redis://:s3cret@h/db",
            "amqp://user:s3cret@", "redis:s3cret@h:6379", "redis://u:s3c@ret@h:0", "redis://:s3c/ret@h:6379/0",
        ]
        for text in bad {
            do {
                _ = try BackplaneURL(text)
                Issue.record("\(text) parsed")
            } catch {
                #expect(!error.description.contains("s3c"), "\(error.description)")
                #expect(error.description.contains("***"), "\(error.description)")
            }
        }
        #expect(BackplaneURL.redacted("amqp://user:s3cret@host:5672/v") == "amqp://user:***@host:5672/v")
        #expect(BackplaneURL.redacted("redis://host:6379/0") == "redis://host:6379/0")
        #expect(BackplaneURL.redacted("redis://user@host") == "redis://user@host")
    }
}

struct StampTests {
    @Test func stampIsAppendedAfterHostIDAndRoundTrips() throws {
        let message = MessageQueueMessage.emit(.init(event: "e", arguments: [], hostID: "h", sequence: 7, epoch: "0123456789abcdef"))
        #expect(String(buffer: message.encoded()).hasSuffix(#""host_id":"h","seq":7,"epoch":"0123456789abcdef"}"#))
        #expect(try MessageQueueMessage.decode(message.encoded()) == message)
    }

    @Test func publisherStampsLikeEncodingWithTheFields() async throws {
        let bus = InMemoryBackplaneBus()
        let transport = bus.makeTransport()
        let publisher = MessageQueuePublisher(transport: transport, hostID: "h")
        var iterator = transport.messages.makeAsyncIterator()
        publisher.publish(.emit(.init(event: "e", arguments: ["x"], hostID: "h", sequence: 99)))
        publisher.publish(.emit(.init(event: "e", arguments: [.binary(ByteBuffer(bytes: [1]))], hostID: "h")))
        let first = await iterator.next()?.payload
        let second = try #require(await iterator.next()?.payload)
        #expect(first == MessageQueueMessage.emit(.init(event: "e", arguments: ["x"], hostID: "h", sequence: 1, epoch: publisher.epoch)).encoded())
        #expect(
            try MessageQueueMessage.decode(second)
                == .emit(.init(event: "e", arguments: [.binary(ByteBuffer(bytes: [1]))], hostID: "h", sequence: 2, epoch: publisher.epoch))
        )
        #expect(publisher.epoch.count == 16)
    }

    @Test func placeholdersMustBeEachAttachmentExactlyOnce() throws {
        func emit(_ data: String) -> ByteBuffer {
            ByteBuffer(string: #"{"method":"emit","event":"e","binary":true,"host_id":"x","data":"# + data + "}")
        }
        let one = #"{"_placeholder":true,"num":0}"#
        let two = #"{"_placeholder":true,"num":1}"#
        #expect(try MessageQueueMessage.decode(emit("[[\(one),{\"k\":\(two)}],\"AQ==\",\"Ag==\"]")) != nil)
        for bad in [
            "[[\(one),\(one)],\"AQ==\"]",  // one attachment referenced twice
            "[[\(one)],\"AQ==\",\"Ag==\"]",  // an attachment never referenced
            "[[\(two)],\"AQ==\"]",  // out of range
            "[[{\"_placeholder\":true}],\"AQ==\"]",  // no number
        ] {
            #expect(throws: MessageQueueDecodingError.self) { try MessageQueueMessage.decode(emit(bad)) }
        }
    }
}
