//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import Backplane
import NIOCore
import SocketIOEmitter
import SocketIOMessageQueue
import SocketIOParser
import Testing

/// What the emitter's cluster operations publish, message for message (the servers' side of
/// these messages is tested with the cluster adapter; the real brokers in
/// Tests/Interop/test_cluster_ops.py).
struct EmitterClusterOperationsTests {
    /// Every message the emitter published, decoded, in order.
    private func published(by body: (SocketIOEmitter) -> Void) async throws -> [MessageQueueMessage] {
        let bus = InMemoryBackplaneBus()
        let recorder = bus.makeTransport()
        let emitter = SocketIOEmitter(transport: bus.makeTransport(role: .publishOnly), hostID: "e1")
        body(emitter)
        let count = recorder.messages.count
        var messages: [MessageQueueMessage] = []
        for await bytes in recorder.messages {
            messages.append(try #require(try MessageQueueMessage.decode(bytes)))
            if messages.count == count { break }
        }
        return messages
    }

    @Test func socketsJoinAndLeaveAddressRoomsAndExceptions() async throws {
        let messages = try await published { emitter in
            emitter.of("/chat").to("a", "b").except("c").socketsJoin("x", "y")
            emitter.socketsLeave("z")
        }
        #expect(
            messages == [
                .sockets(.init(hostID: "e1", namespace: "/chat", rooms: ["a", "b"], except: ["c"], action: .join(["x", "y"]))),
                .sockets(.init(hostID: "e1", namespace: "/", rooms: nil, except: [], action: .leave(["z"]))),
            ]
        )
    }

    @Test func disconnectSocketsWithAndWithoutClose() async throws {
        let messages = try await published { emitter in
            emitter.to("r").disconnectSockets()
            emitter.disconnectSockets(close: true)
        }
        #expect(
            messages == [
                .sockets(.init(hostID: "e1", rooms: ["r"], action: .disconnect(close: false))),
                .sockets(.init(hostID: "e1", action: .disconnect(close: true))),
            ]
        )
    }

    @Test func serverSideEmitCarriesBinaryArguments() async throws {
        let messages = try await published { emitter in
            emitter.serverSideEmit("refresh", ["n": 1], .binary(ByteBuffer(bytes: [0, 1, 2])))
        }
        #expect(messages == [.serverSideEmit(event: "refresh", arguments: [["n": 1], .binary(ByteBuffer(bytes: [0, 1, 2]))], hostID: "e1")])
    }
}
