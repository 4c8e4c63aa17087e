//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import NIOConcurrencyHelpers
import NIOCore
import SocketIO
import SocketIOParser
import SocketIOTesting
import Testing

/// The cluster-wide operations on one node (the in-memory adapter): complete results of
/// this node's sockets.
struct SocketIOClusterAPITests {
    @Test func fetchSocketsDescribesEachSocket() async throws {
        let io = SocketIOServer()
        let client = try await SocketIOTestClient(server: io, auth: ["token": "t"], query: ["q": "1"], headers: [("X-Thing", "a"), ("x-thing", "b")])
        let sid = try #require(client.sid())
        let socket = try #require(io.localSockets().first)
        socket.join("room")
        socket.data = ["user": "ann"]
        let result = await io.fetchSockets()
        #expect(result.isComplete && result.missingNodes.isEmpty && result.nonMemberHosts.isEmpty)
        let fetched = try #require(result.value.first)
        #expect(fetched.id == sid && fetched.namespace == "/" && fetched.rooms == ["room", sid].sorted())
        #expect(fetched.data == ["user": "ann"] && fetched.nodeID == io.adapter.nodeID && !fetched.nodeID.isEmpty)
        #expect(fetched.handshake.auth == ["token": "t"] && fetched.handshake.query["q"] == "1")
        #expect(fetched.handshake.headers["x-thing"] == "a, b")
        #expect(fetched.handshake.issued == socket.handshake.issued && fetched.handshake.time == socket.handshake.time)
        // The handshake travels as JSON and comes back the same.
        #expect(SocketIORemoteHandshake(value: fetched.handshake.value) == fetched.handshake)
        #expect(await io.in("room").fetchSocketIDs().value == [sid])
        #expect(await io.in("elsewhere").fetchSockets().value.isEmpty)
    }

    @Test func aFetchedSocketCanBeActedOn() async throws {
        let io = SocketIOServer()
        let client = try await SocketIOTestClient(server: io)
        let fetched = try #require(await io.fetchSockets().value.first)
        fetched.emit("hello", "you")
        #expect(client.getReceived() == [.init(name: "hello", arguments: ["you"])])
        fetched.join("a", "b")
        #expect(io.sockets.localMembers(of: "b") == [fetched.id])
        fetched.leave("a")
        #expect(io.sockets.localMembers(of: "a").isEmpty)
        let answer = Task { try await fetched.emitWithAck("q", arguments: [], timeout: .seconds(5)) }
        await client.ack(id: try await client.waitForPendingAckIDs()[0], "ok")
        #expect(try await answer.value == ["ok"])
        fetched.disconnect()
        for _ in 0..<200 where client.isConnected() { try await Task.sleep(for: .milliseconds(5)) }
        #expect(!client.isConnected())
    }

    @Test func fetchRoomsCountsMembersWithoutSidRooms() async throws {
        let io = SocketIOServer()
        let a = try await SocketIOTestClient(server: io)
        _ = try await SocketIOTestClient(server: io)
        for socket in io.localSockets() { socket.join("all") }
        io.sockets.adapter.joinLocal(sid: a.sid()!, rooms: ["one"], namespace: "/")
        let rooms = await io.fetchRooms()
        #expect(rooms.isComplete && rooms.value == ["all": 2, "one": 1])
        #expect(await io.of("/other").fetchRooms().value.isEmpty)
    }

    @Test func emitWithAckResultKeepsTheAnswersThatCameWhenOneDidNot() async throws {
        let io = SocketIOServer()
        let a = try await SocketIOTestClient(server: io)
        _ = try await SocketIOTestClient(server: io)
        // The silent client costs the whole timeout; the answering one must make it even on
        // a loaded CI machine.
        let asking = Task { await io.timeout(.seconds(2)).emitWithAckResult("q") }
        await a.ack(id: try await a.waitForPendingAckIDs()[0], "from-a")
        let result = await asking.value
        #expect(!result.isComplete && result.missingNodes.isEmpty)
        #expect(result.value == [["from-a"]])
    }

    @Test func serverSideEmitWithoutAClusterHasNobodyToTell() async throws {
        let io = SocketIOServer()
        io.onServerSideEmit("x") { _, _ in Issue.record("a node does not hear its own server-side emits") }
        io.serverSideEmit("x", 1)
        let result = await io.timeout(.seconds(5)).serverSideEmitWithAck("x")
        #expect(result.isComplete && result.value.isEmpty)
        #expect(io.serverCount == 1)
    }

    @Test func aServerSideAckAnswersOnceAndOnlyWhenAsked() {
        let answers = NIOLockedValueBox<[[SocketIOValue]]>([])
        let ack = SocketIOServerSideAck { arguments in answers.withLockedValue { $0.append(arguments) } }
        #expect(ack.isRequested)
        ack("first")
        ack("second")
        #expect(answers.withLockedValue { $0 } == [["first"]])
        let unasked = SocketIOServerSideAck(reply: nil)
        #expect(!unasked.isRequested)
        unasked("ignored")
    }
}
