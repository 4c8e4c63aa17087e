//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import Backplane
import NIOConcurrencyHelpers
import NIOCore
@testable import SocketIOEmitter
import SocketIOMessageQueue
import SocketIOParser
import Testing

/// What the emitter's cluster operations publish, message for message, and how it gathers
/// the nodes' responses to its requests (the servers' side is tested with the cluster
/// adapter; the real brokers in Tests/Interop/test_cluster_ops.py).
struct EmitterClusterOperationsTests {
    /// Every message the emitter published, decoded, with its channel.
    private func published(by body: (SocketIOEmitter) -> Void) throws -> [BackplaneMessage] {
        let bus = InMemoryBackplaneBus(recording: true)
        let emitter = SocketIOEmitter(transport: bus.makeTransport(role: .publishOnly), hostID: "e1")
        body(emitter)
        return bus.recordedMessages
    }

    private func decoded(_ messages: [BackplaneMessage]) throws -> [MessageQueueMessage] {
        try messages.map { message in try #require(try MessageQueueMessage.decode(message.payload)) }
    }

    @Test func socketsJoinAndLeaveAddressRoomsAndExceptions() throws {
        let messages = try published { emitter in
            emitter.of("/chat").to("a", "b").except("c").socketsJoin("x", "y")
            emitter.socketsLeave("z")
        }
        #expect(messages.map(\.channel) == ["socketio", "socketio"])
        #expect(
            try decoded(messages) == [
                .sockets(.init(hostID: "e1", namespace: "/chat", rooms: ["a", "b"], except: ["c"], action: .join(["x", "y"]))),
                .sockets(.init(hostID: "e1", namespace: "/", rooms: nil, except: [], action: .leave(["z"]))),
            ]
        )
    }

    @Test func disconnectSocketsWithAndWithoutClose() throws {
        let messages = try published { emitter in
            emitter.to("r").disconnectSockets()
            emitter.disconnectSockets(close: true)
        }
        #expect(
            try decoded(messages) == [
                .sockets(.init(hostID: "e1", rooms: ["r"], action: .disconnect(close: false))),
                .sockets(.init(hostID: "e1", action: .disconnect(close: true))),
            ]
        )
    }

    @Test func serverSideEmitCarriesBinaryArguments() throws {
        let messages = try published { emitter in
            emitter.serverSideEmit("refresh", ["n": 1], .binary(ByteBuffer(bytes: [0, 1, 2])))
        }
        #expect(try decoded(messages) == [.serverSideEmit(event: "refresh", arguments: [["n": 1], .binary(ByteBuffer(bytes: [0, 1, 2]))], hostID: "e1")])
    }

    /// Two fake nodes answer a request on the emitter's reply channel; a response for
    /// another host, a repeat and one for another request are not counted.
    @Test func fetchSocketIDsGathersTheResponsesOfTheNodesThatAnswer() async throws {
        let bus = InMemoryBackplaneBus()
        let node = bus.makeTransport()
        let emitter = SocketIOEmitter(transport: bus.makeTransport(role: .publishOnly), hostID: "e1")
        let answerer = Task {
            for await message in node.messages {
                guard case .request(let request)? = try MessageQueueMessage.decode(message.payload) else { continue }
                #expect(request.kind == .fetchSockets && request.rooms == ["r"] && request.except == ["x"] && request.hostID == "e1")
                func respond(_ host: String, _ ids: [String], to: String = "e1", requestID: String? = nil) {
                    let records = ids.map { MessageQueueMessage.SocketRecord(id: $0, namespace: "/", handshake: .null, rooms: [$0, "r"], data: .null) }
                    let response = MessageQueueMessage.Response(hostID: host, to: to, requestID: requestID ?? request.requestID, payload: .sockets(records))
                    node.publish(MessageQueueMessage.response(response).encoded(), to: emitter.replyChannel)
                }
                respond("n1", ["a", "b"])
                respond("n2", ["c"])
                respond("n2", ["c", "d"])
                respond("n3", ["e"], to: "someone-else")
                respond("n4", ["f"], requestID: "no-such-request")
                return
            }
        }
        let result = NIOLockedValueBox<SocketIOEmitterResult<[String]>?>(nil)
        try await emitter.run {
            // The emitter always waits out its timeout (it cannot know how many nodes will
            // answer): long enough for a loaded CI machine to deliver the answers (300 ms was not).
            let fetched = await emitter.to("r").except("x").fetchSocketIDs(timeout: .seconds(2))
            result.withLockedValue { $0 = fetched }
        }
        answerer.cancel()
        #expect(result.withLockedValue { $0 } == SocketIOEmitterResult(value: ["a", "b", "c"], nodes: ["n1", "n2"], isComplete: true))
    }

    /// The request state: one response per node, only for open requests, a bounded number
    /// of nodes, nothing kept once a request is closed.
    @Test func requestStateKeepsOneResponsePerNodeWithinItsBound() {
        var requests = EmitterRequests()
        let id = requests.start()
        func response(_ host: String, _ request: String = id) -> MessageQueueMessage.Response {
            .init(hostID: host, to: "e1", requestID: request, payload: .rooms(["r": 1]))
        }
        var kept = [requests.receive(response("n1")), requests.receive(response("n1")), requests.receive(response("n2", "other"))]
        #expect(kept == [true, false, false])
        for index in 2...EmitterRequests.maxResponses { requests.receive(response("n\(index)")) }
        kept = [requests.receive(response("one-too-many"))]
        #expect(kept == [false])
        let responses = requests.finish(id)
        #expect(responses.count == EmitterRequests.maxResponses && responses.first?.hostID == "n1")
        kept = [requests.receive(response("late"))]
        #expect(requests.count == 0 && kept == [false])
    }
}
