//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import Backplane
import NIOConcurrencyHelpers
import NIOCore
import SocketIO
@testable import SocketIOCluster
import SocketIOParser
import SocketIOTesting
import Testing

/// Cluster-wide operations across three nodes on an in-memory bus: every operation, partial
/// results, nodes leaving mid-request, python workers in the cluster.
struct ClusterOperationsTests {
    /// Waits until `condition` holds (or a generous deadline passes).
    private func eventually(_ condition: () -> Bool) async throws -> Bool {
        for _ in 0..<400 where !condition() {
            try await Task.sleep(for: .milliseconds(5))
        }
        return condition()
    }

    /// Three nodes that know each other, one client on each (joined to `room` on nodes 0
    /// and 2), with `data` set.
    private func cluster() async throws -> (ThreeNodes, [SocketIOTestClient]) {
        let nodes = ThreeNodes()
        try await nodes.waitUntilAllMembers()
        var clients: [SocketIOTestClient] = []
        for (index, server) in nodes.servers.enumerated() {
            let client = try await SocketIOTestClient(server: server, query: ["n": "\(index)"])
            let socket = try #require(server.localSockets().first)
            socket.data = ["node": .int(index)]
            if index != 1 { socket.join("room") }
            clients.append(client)
        }
        return (nodes, clients)
    }

    @Test func fetchSocketsFindsEverySocketWithItsHandshakeRoomsAndData() async throws {
        let (nodes, clients) = try await cluster()
        defer { nodes.stop() }
        let all = await nodes.servers[0].fetchSockets()
        #expect(all.isComplete && all.missingNodes.isEmpty && all.nonMemberHosts.isEmpty)
        #expect(all.value.map(\.id).sorted() == clients.map { $0.sid()! }.sorted())
        for (index, client) in clients.enumerated() {
            let socket = try #require(all.value.first { $0.id == client.sid() })
            #expect(socket.nodeID == nodes.adapters[index].hostID)
            #expect(socket.data == ["node": .int(index)])
            #expect(socket.handshake.query["n"] == "\(index)")
            #expect(socket.rooms == (index == 1 ? [client.sid()!] : [client.sid()!, "room"].sorted()))
        }
        let inRoom = await nodes.servers[1].in("room").fetchSockets()
        #expect(Set(inRoom.value.map(\.id)) == [clients[0].sid()!, clients[2].sid()!])
        let ids = await nodes.servers[1].in("room").except(clients[2].sid()!).fetchSocketIDs()
        #expect(ids.value == [clients[0].sid()!])
        // `.local`: this node's only, nobody asked.
        #expect(await nodes.servers[1].local.fetchSockets().value.map(\.id) == [clients[1].sid()!])
    }

    @Test func fetchedSocketsCanBeActedOnWhereverTheyLive() async throws {
        let (nodes, clients) = try await cluster()
        defer { nodes.stop() }
        let fetched = await nodes.servers[0].fetchSockets()
        let remote = try #require(fetched.value.first { $0.id == clients[2].sid() })
        let inbox = Inbox(clients[2])
        remote.emit("hello", "there")
        #expect(try await eventually { inbox.events.contains(.init(name: "hello", arguments: ["there"])) })
        remote.join("vip")
        #expect(try await eventually { nodes.servers[2].sockets.localMembers(of: "vip") == [clients[2].sid()!] })
        remote.leave("vip")
        #expect(try await eventually { nodes.servers[2].sockets.localMembers(of: "vip").isEmpty })
        remote.disconnect()
        #expect(try await eventually { !clients[2].isConnected() })
        #expect(clients[0].isConnected() && clients[1].isConnected())
    }

    @Test func socketsJoinLeaveAndDisconnectReachEveryNode() async throws {
        let (nodes, clients) = try await cluster()
        defer { nodes.stop() }
        nodes.servers[1].in("room").socketsJoin("joined")
        #expect(try await eventually { nodes.servers[0].sockets.localMembers(of: "joined") == [clients[0].sid()!] })
        #expect(try await eventually { nodes.servers[2].sockets.localMembers(of: "joined") == [clients[2].sid()!] })
        #expect(nodes.servers[1].sockets.localMembers(of: "joined").isEmpty)
        nodes.servers[1].socketsLeave("joined")
        #expect(try await eventually { nodes.servers.allSatisfy { $0.sockets.localMembers(of: "joined").isEmpty } })
        nodes.servers[0].in("room").except(clients[0].sid()!).disconnectSockets()
        #expect(try await eventually { !clients[2].isConnected() })
        #expect(clients[0].isConnected() && clients[1].isConnected())
        // `.local` stays on this node.
        nodes.servers[0].local.disconnectSockets()
        #expect(try await eventually { !clients[0].isConnected() })
        try await Task.sleep(for: .milliseconds(50))
        #expect(clients[1].isConnected())
    }

    @Test func fetchRoomsCountsTheMembersOfEveryNode() async throws {
        let (nodes, _) = try await cluster()
        defer { nodes.stop() }
        nodes.servers[1].localSockets().first?.join("lonely")
        let rooms = await nodes.servers[0].sockets.fetchRooms()
        #expect(rooms.isComplete)
        #expect(rooms.value == ["room": 2, "lonely": 1])
        #expect(await nodes.servers[0].local.fetchRooms().value == ["room": 1])
    }

    @Test func serverSideEmitReachesEveryOtherNodeAndCollectsTheirAcks() async throws {
        let (nodes, _) = try await cluster()
        defer { nodes.stop() }
        let heard = NIOLockedValueBox<[Int]>([])
        for (index, server) in nodes.servers.enumerated() {
            server.onServerSideEmit("hello") { arguments, ack in
                heard.withLockedValue { $0.append(index) }
                ack("from", .int(index), arguments.first ?? .null)
            }
        }
        nodes.servers[0].serverSideEmit("hello", "plain")
        #expect(try await eventually { heard.withLockedValue { $0.sorted() } == [1, 2] })
        let result = await nodes.servers[0].timeout(.seconds(30)).serverSideEmitWithAck("hello", "asked")
        #expect(result.isComplete && result.missingNodes.isEmpty)
        #expect(Set(result.value) == [["from", 1, "asked"], ["from", 2, "asked"]])
        #expect(heard.withLockedValue { $0.sorted() } == [1, 1, 2, 2])
    }

    /// Answers every ack request a client gets, until cancelled.
    private func answering(_ clients: [SocketIOTestClient]) -> Task<Void, Never> {
        Task {
            var answered = Set<String>()
            while !Task.isCancelled {
                for client in clients {
                    for id in client.pendingAckIDs() where answered.insert("\(client.sid() ?? "")/\(id)").inserted {
                        await client.ack(id: id, .string(client.sid() ?? ""))
                    }
                }
                try? await Task.sleep(for: .milliseconds(2))
            }
        }
    }

    @Test func aBroadcastWithAckCollectsEveryClientAcrossTheCluster() async throws {
        let (nodes, clients) = try await cluster()
        defer { nodes.stop() }
        let answering = self.answering(clients)
        defer { answering.cancel() }
        let all = try await nodes.servers[1].timeout(.seconds(30)).emitWithAck("poll")
        #expect(Set(all) == Set(clients.map { [.string($0.sid()!)] }))
        let inRoom = await nodes.servers[1].to("room").timeout(.seconds(30)).emitWithAckResult("poll")
        #expect(inRoom.isComplete)
        #expect(Set(inRoom.value) == [[.string(clients[0].sid()!)], [.string(clients[2].sid()!)]])
    }

    @Test func aSilentNodeIsNamedInAPartialResult() async throws {
        let (nodes, clients) = try await cluster()
        defer { nodes.stop() }
        // Node 2 is cut off: still a member (its beats are not yet missed), but silent.
        nodes.transports[2].setDetached(true)
        // The silent node costs each request its whole timeout; the live ones must answer
        // within it even on a loaded CI machine, so it is not cut fine.
        let result = await nodes.servers[0].timeout(.seconds(1)).fetchSockets()
        #expect(!result.isComplete)
        #expect(result.missingNodes == [nodes.adapters[2].hostID])
        #expect(Set(result.value.map(\.id)) == [clients[0].sid()!, clients[1].sid()!])
        let rooms = await nodes.servers[0].timeout(.seconds(1)).fetchRooms()
        #expect(rooms.missingNodes == [nodes.adapters[2].hostID] && rooms.value == ["room": 1])
        let answering = self.answering(clients)
        defer { answering.cancel() }
        let acks = await nodes.servers[0].timeout(.seconds(2)).emitWithAckResult("poll")
        #expect(!acks.isComplete && acks.missingNodes == [nodes.adapters[2].hostID])
        #expect(Set(acks.value) == [[.string(clients[0].sid()!)], [.string(clients[1].sid()!)]])
        await #expect(throws: SocketIOAckError.timeout) {
            try await nodes.servers[0].timeout(.milliseconds(100)).emitWithAck("poll")
        }
    }

    @Test func aNodeLeavingMidRequestCompletesItWithoutWaitingForTheDeadline() async throws {
        let (nodes, _) = try await cluster()
        defer { nodes.stop() }
        // Node 1 answers; node 2 has no handler, so the request waits for it...
        nodes.servers[1].onServerSideEmit("q") { _, ack in ack("one") }
        let asking = Task { await nodes.servers[0].timeout(.seconds(600)).serverSideEmitWithAck("q") }
        try await Task.sleep(for: .milliseconds(50))
        // ...until it leaves (a graceful stop: its goodbye).
        nodes.tasks[2].cancel()
        // Completed by the goodbye, not by the (far) deadline.
        guard try await eventually({ nodes.adapters[0].pendingRequestCount == 0 }) else {
            Issue.record("the request still waits for the node that left")
            return
        }
        let result = await asking.value
        #expect(!result.isComplete)
        #expect(result.missingNodes == [nodes.adapters[2].hostID])
        #expect(result.value == [["one"]])
    }

    @Test func aPythonWorkerIsReportedAndNotAwaited() async throws {
        let (nodes, clients) = try await cluster()
        defer { nodes.stop() }
        // What a python-socketio worker publishes: no heartbeats, no sequence numbers.
        nodes.bus.inject(
            ByteBuffer(
                string: #"{"method": "emit", "event": "news", "data": ["py"], "binary": false, "namespace": "/", "room": null, "skip_sid": null, "callback": null, "host_id": "5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e"}"#
            )
        )
        #expect(try await eventually { nodes.adapters[0].nonMemberHosts == ["5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e"] })
        let result = await nodes.servers[0].timeout(.seconds(20)).fetchSockets()
        #expect(result.isComplete)
        #expect(result.nonMemberHosts == ["5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e"])
        #expect(result.value.count == clients.count)
        // Swift nodes, whose room changes are in the same format, are members, not strangers.
        nodes.servers[1].sockets.adapter.join(sid: "somewhere", rooms: ["r"], namespace: "/")
        try await Task.sleep(for: .milliseconds(30))
        #expect(nodes.adapters[0].nonMemberHosts == ["5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e"])
    }
}
