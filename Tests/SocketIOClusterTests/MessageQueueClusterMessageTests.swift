//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import NIOCore
import SocketIOMessageQueue
import SocketIOParser
import Testing

/// The cluster-operation extensions of the channel format (cluster-v2 spec §2), byte for byte.
struct MessageQueueClusterMessageTests {
    private let host = "aaaa"
    private let peer = "bbbb"

    private func text(_ message: MessageQueueMessage) -> String { String(buffer: message.encoded()) }

    @Test func encodesRequests() {
        #expect(
            text(.request(.init(hostID: host, requestID: "7", kind: .fetchSockets, rooms: ["r1"], except: ["x"], timeoutMilliseconds: 5000)))
                == #"{"method":"request","host_id":"aaaa","request_id":"7","type":"fetch_sockets","namespace":"/","rooms":["r1"],"except":["x"],"event":null,"data":[],"binary":false,"timeout_ms":5000}"#
        )
        #expect(
            text(.request(.init(hostID: host, requestID: "8", kind: .fetchRooms, namespace: "/chat", timeoutMilliseconds: 100)))
                == #"{"method":"request","host_id":"aaaa","request_id":"8","type":"fetch_rooms","namespace":"/chat","rooms":null,"except":[],"event":null,"data":[],"binary":false,"timeout_ms":100}"#
        )
        #expect(
            text(
                .request(
                    .init(hostID: host, requestID: "9", kind: .broadcastAck, event: "poll", arguments: [1, .binary(ByteBuffer(string: "two"))], timeoutMilliseconds: 2000)
                )
            )
                == #"{"method":"request","host_id":"aaaa","request_id":"9","type":"broadcast_ack","namespace":"/","rooms":null,"except":[],"event":"poll","data":[[1,{"_placeholder":true,"num":0}],"dHdv"],"binary":true,"timeout_ms":2000}"#
        )
    }

    @Test func encodesResponses() {
        let socket = MessageQueueMessage.SocketRecord(id: "s1", namespace: "/", handshake: ["url": "/socket.io/"], rooms: ["s1", "r"], data: ["user": "ann"])
        #expect(
            text(.response(.init(hostID: peer, to: host, requestID: "7", payload: .sockets([socket]))))
                == #"{"method":"response","host_id":"bbbb","to":"aaaa","request_id":"7","type":"fetch_sockets","sockets":[{"id":"s1","namespace":"/","handshake":{"url":"/socket.io/"},"rooms":["s1","r"],"data":{"user":"ann"}}],"binary":false,"complete":true}"#
        )
        #expect(
            text(.response(.init(hostID: peer, to: host, requestID: "8", payload: .rooms(["b": 2, "a": 1]))))
                == #"{"method":"response","host_id":"bbbb","to":"aaaa","request_id":"8","type":"fetch_rooms","rooms":{"a":1,"b":2},"binary":false,"complete":true}"#
        )
        #expect(
            text(.response(.init(hostID: peer, to: host, requestID: "9", payload: .answers([["yes"], [1]]), complete: false)))
                == #"{"method":"response","host_id":"bbbb","to":"aaaa","request_id":"9","type":"broadcast_ack","answers":[["yes"],[1]],"binary":false,"complete":false}"#
        )
        #expect(
            text(.response(.init(hostID: peer, to: host, requestID: "10", payload: .arguments(["ok"]))))
                == #"{"method":"response","host_id":"bbbb","to":"aaaa","request_id":"10","type":"server_side_emit","args":["ok"],"binary":false,"complete":true}"#
        )
    }

    @Test func encodesOperationsAndMisses() {
        #expect(
            text(.sockets(.init(hostID: host, rooms: ["a"], except: ["b"], action: .join(["c", "d"]))))
                == #"{"method":"sockets_join","host_id":"aaaa","namespace":"/","rooms":["a"],"except":["b"],"target_rooms":["c","d"]}"#
        )
        #expect(
            text(.sockets(.init(hostID: host, namespace: "/x", action: .leave(["c"]))))
                == #"{"method":"sockets_leave","host_id":"aaaa","namespace":"/x","rooms":null,"except":[],"target_rooms":["c"]}"#
        )
        #expect(
            text(.sockets(.init(hostID: host, rooms: ["a"], action: .disconnect(close: true))))
                == #"{"method":"disconnect_sockets","host_id":"aaaa","namespace":"/","rooms":["a"],"except":[],"close":true}"#
        )
        #expect(
            text(.serverSideEmit(event: "hello", arguments: ["w", 1], hostID: host))
                == #"{"method":"server_side_emit","host_id":"aaaa","event":"hello","data":["w",1],"binary":false}"#
        )
        #expect(
            text(.callbackMiss(hostID: host, from: peer, sid: "s9", namespace: "/", id: 4))
                == #"{"method":"callback_miss","host_id":"aaaa","from":"bbbb","sid":"s9","namespace":"/","id":4}"#
        )
    }

    @Test func roundTripsEveryClusterMessage() throws {
        let binary = SocketIOValue.binary(ByteBuffer(bytes: [0, 1, 255]))
        let messages: [MessageQueueMessage] = [
            .request(.init(hostID: host, requestID: "1", kind: .fetchSockets, namespace: "/n", rooms: ["a", "b"], except: ["c"], timeoutMilliseconds: 1)),
            .request(.init(hostID: host, requestID: "2", kind: .serverSideEmit, event: "e", arguments: [binary, "x"], timeoutMilliseconds: 10)),
            .response(
                .init(
                    hostID: peer,
                    to: host,
                    requestID: "1",
                    payload: .sockets([.init(id: "s", namespace: "/n", handshake: ["auth": ["k": binary]], rooms: ["s"], data: .null)]),
                    complete: false
                )
            ),
            .response(.init(hostID: peer, to: host, requestID: "3", payload: .rooms(["r": 3]))),
            .response(.init(hostID: peer, to: host, requestID: "4", payload: .answers([[binary], []]))),
            .response(.init(hostID: peer, to: host, requestID: "5", payload: .arguments([binary]))),
            .sockets(.init(hostID: host, namespace: "/n", rooms: nil, except: [], action: .join(["j"]))),
            .sockets(.init(hostID: host, rooms: ["a"], except: ["b"], action: .leave(["j"]))),
            .sockets(.init(hostID: host, action: .disconnect(close: false))),
            .serverSideEmit(event: "e", arguments: [binary], hostID: host),
            .callbackMiss(hostID: host, from: peer, sid: "s", namespace: "/n", id: 12),
        ]
        for message in messages {
            #expect(try MessageQueueMessage.decode(message.encoded()) == message)
        }
    }

    @Test func refusesGarbageAndOversizedClusterMessages() throws {
        // A request type from a future version is ignored, like an unknown method.
        #expect(
            try MessageQueueMessage.decode(ByteBuffer(string: #"{"method":"request","host_id":"h","request_id":"1","type":"future","timeout_ms":1}"#)) == nil
        )
        let tooMany = "[" + (0...MessageQueueMessage.Limits.maxSocketsPerResponse).map { #"{"id":"s\#($0)","rooms":[]}"# }.joined(separator: ",") + "]"
        let garbage = [
            #"{"method":"request","host_id":"h","request_id":"1","type":"fetch_sockets"}"#,
            #"{"method":"request","host_id":"h","request_id":"1","type":"fetch_sockets","timeout_ms":5,"rooms":"r"}"#,
            #"{"method":"response","host_id":"h","to":"o","request_id":"1","type":"fetch_rooms","rooms":{"r":-1}}"#,
            #"{"method":"response","host_id":"h","to":"o","request_id":"1","type":"broadcast_ack","answers":[1]}"#,
            #"{"method":"response","host_id":"h","to":"o","request_id":"1","type":"fetch_sockets","sockets":[{"rooms":[]}]}"#,
            #"{"method":"response","host_id":"h","to":"o","request_id":"1","type":"fetch_sockets","sockets":\#(tooMany)}"#,
            #"{"method":"response","host_id":"h","to":"o","request_id":"1","type":"server_side_emit","args":[["x"],"!!"],"binary":true}"#,
            #"{"method":"sockets_join","host_id":"h","namespace":"/","rooms":null,"except":[]}"#,
            #"{"method":"callback_miss","host_id":"h","from":"f","sid":"s"}"#,
        ]
        for text in garbage {
            #expect(throws: MessageQueueDecodingError.self) { try MessageQueueMessage.decode(ByteBuffer(string: text)) }
        }
    }
}
