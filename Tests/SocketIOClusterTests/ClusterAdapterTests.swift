//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import Backplane
import Logging
import NIOConcurrencyHelpers
import NIOCore
import SocketIO
@testable import SocketIOCluster
import SocketIOEmitter
import SocketIOMessageQueue
import SocketIOParser
import SocketIOTesting
import Testing

/// Three nodes in one process over an in-memory bus: the cluster logic end to end.
final class ThreeNodes: Sendable {
    let bus = InMemoryBackplaneBus()
    let transports: [InMemoryBackplaneTransport]
    let adapters: [ClusterAdapter]
    let servers: [SocketIOServer]
    let tasks: [Task<Void, Never>]

    init(heartbeatInterval: Duration = .seconds(5)) {
        var transports: [InMemoryBackplaneTransport] = []
        var adapters: [ClusterAdapter] = []
        var servers: [SocketIOServer] = []
        var tasks: [Task<Void, Never>] = []
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        for _ in 0..<3 {
            let transport = bus.makeTransport()
            let adapter = ClusterAdapter(transport: transport, heartbeatInterval: heartbeatInterval, logger: logger)
            let server = SocketIOServer(adapter: adapter, logger: logger)
            server.on("join") { socket, arguments in socket.join(arguments[0].stringValue!) }
            transports.append(transport)
            adapters.append(adapter)
            servers.append(server)
            tasks.append(Task { try? await adapter.run() })
        }
        self.transports = transports
        self.adapters = adapters
        self.servers = servers
        self.tasks = tasks
    }

    func stop() {
        for task in self.tasks { task.cancel() }
    }

    /// Waits until every node heard every other's heartbeat.
    func waitUntilAllMembers() async throws {
        for _ in 0..<400 where !self.adapters.allSatisfy({ $0.serverCount == self.adapters.count }) {
            try await Task.sleep(for: .milliseconds(5))
        }
        try #require(self.adapters.allSatisfy { $0.serverCount == self.adapters.count })
    }

    /// Waits until every node has run for a heartbeat interval: it knows every live peer.
    func waitUntilSettled() async throws {
        for _ in 0..<400 where self.adapters.contains(where: \.isSettling) {
            try await Task.sleep(for: .milliseconds(5))
        }
        let settled = !self.adapters.contains { $0.isSettling }
        try #require(settled)
    }
}

/// Collects what a test client receives, across polls.
final class Inbox: Sendable {
    let client: SocketIOTestClient
    private let seen = NIOLockedValueBox<[SocketIOTestClient.ReceivedEvent]>([])

    init(_ client: SocketIOTestClient) { self.client = client }

    var events: [SocketIOTestClient.ReceivedEvent] {
        let fresh = self.client.getReceived()
        return self.seen.withLockedValue { seen in
            seen += fresh
            return seen
        }
    }

    /// Waits until `count` events arrived (or a deadline passes), then a little more to
    /// catch duplicates.
    func wait(for count: Int) async throws -> [SocketIOTestClient.ReceivedEvent] {
        for _ in 0..<400 where self.events.count < count {
            try await Task.sleep(for: .milliseconds(5))
        }
        try await Task.sleep(for: .milliseconds(30))
        return self.events
    }
}

struct ClusterAdapterTests {
    private func event(_ name: String, _ arguments: SocketIOValue...) -> SocketIOTestClient.ReceivedEvent {
        .init(name: name, arguments: arguments)
    }

    @Test func broadcastReachesEveryNodeExactlyOnce() async throws {
        let nodes = ThreeNodes()
        defer { nodes.stop() }
        var inboxes: [Inbox] = []
        for server in nodes.servers { inboxes.append(Inbox(try await SocketIOTestClient(server: server))) }
        nodes.servers[0].emit("news", 1, .binary(ByteBuffer(bytes: [1, 2])))
        for inbox in inboxes {
            #expect(try await inbox.wait(for: 1) == [event("news", 1, .binary(ByteBuffer(bytes: [1, 2])))])
        }
    }

    @Test func theEmittersOperatorAddressesNamespacesRoomsAndExceptions() async throws {
        let nodes = ThreeNodes()
        defer { nodes.stop() }
        for server in nodes.servers { server.of("/chat").on("join") { socket, arguments in socket.join(arguments[0].stringValue!) } }
        let a = try await SocketIOTestClient(server: nodes.servers[1], namespace: "/chat")
        let b = try await SocketIOTestClient(server: nodes.servers[2], namespace: "/chat")
        let root = Inbox(try await SocketIOTestClient(server: nodes.servers[2]))
        await a.emit("join", "r", namespace: "/chat")
        await b.emit("join", "r", namespace: "/chat")
        let emitter = SocketIOEmitter(transport: nodes.bus.makeTransport(role: .publishOnly))
        let chat = emitter.of("/chat")
        let toR = chat.to("r")
        // Immutable: `except` makes a new operator.
        toR.except(b.sid(namespace: "/chat")!).emit("only-a", 1)
        toR.emit("both", 2)
        emitter.emit("root", 3)
        let namespaceEvents: (SocketIOTestClient, Int) async throws -> [SocketIOTestClient.ReceivedEvent] = { client, count in
            var seen: [SocketIOTestClient.ReceivedEvent] = []
            for _ in 0..<400 where seen.count < count {
                seen += client.getReceived(namespace: "/chat")
                if seen.count >= count { break }
                try await Task.sleep(for: .milliseconds(5))
            }
            // Anything more (a wrong recipient) has had time to arrive.
            try await Task.sleep(for: .milliseconds(30))
            return seen + client.getReceived(namespace: "/chat")
        }
        let chatEvent = { (name: String, value: Int) in SocketIOTestClient.ReceivedEvent(name: name, arguments: [.int(value)], namespace: "/chat") }
        #expect(try await namespaceEvents(a, 2) == [chatEvent("only-a", 1), chatEvent("both", 2)])
        #expect(try await namespaceEvents(b, 1) == [chatEvent("both", 2)])
        #expect(try await root.wait(for: 1) == [event("root", 3)])
        #expect(toR.rooms == ["r"] && toR.excluded.isEmpty)
    }

    @Test func roomEmitSkipAndRemoteRoomOperations() async throws {
        let nodes = ThreeNodes()
        defer { nodes.stop() }
        let a = Inbox(try await SocketIOTestClient(server: nodes.servers[0]))
        let b = Inbox(try await SocketIOTestClient(server: nodes.servers[1]))
        let c = Inbox(try await SocketIOTestClient(server: nodes.servers[2]))
        await b.client.emit("join", "r")
        await c.client.emit("join", "r")
        nodes.servers[0].to("r").emit("to_r")
        #expect(try await b.wait(for: 1) == [event("to_r")])
        #expect(try await c.wait(for: 1) == [event("to_r")])
        #expect(try await a.wait(for: 0) == [])
        // Skip a sid on another node.
        nodes.servers[0].to("r").except(c.client.sid()!).emit("skip")
        #expect(try await b.wait(for: 2).last == event("skip"))
        #expect(try await c.wait(for: 2).count == 1)
        // Remote join from node A of a socket on node C, then a room emit from node B.
        nodes.servers[0].joinRoom(sid: c.client.sid()!, room: "x")
        try await Task.sleep(for: .milliseconds(30))
        #expect(nodes.servers[2].rooms(sid: c.client.sid()!).contains("x"))
        nodes.servers[1].to("x").emit("to_x")
        #expect(try await c.wait(for: 2).last == event("to_x"))
        nodes.servers[0].leaveRoom(sid: c.client.sid()!, room: "x")
        try await Task.sleep(for: .milliseconds(30))
        #expect(!nodes.servers[2].rooms(sid: c.client.sid()!).contains("x"))
        // Close a room everywhere.
        nodes.servers[0].closeRoom("r")
        try await Task.sleep(for: .milliseconds(30))
        nodes.servers[0].to("r").emit("after_close")
        #expect(try await b.wait(for: 3).count == 2)
    }

    @Test func remoteDisconnect() async throws {
        let nodes = ThreeNodes()
        defer { nodes.stop() }
        let c = try await SocketIOTestClient(server: nodes.servers[2])
        nodes.servers[0].disconnect(sid: c.sid()!)
        for _ in 0..<200 where c.isConnected() { try await Task.sleep(for: .milliseconds(5)) }
        #expect(!c.isConnected())
    }

    @Test func crossNodeAck() async throws {
        let nodes = ThreeNodes()
        defer { nodes.stop() }
        let b = try await SocketIOTestClient(server: nodes.servers[1])
        let sid = b.sid()!
        let asking = Task { try await nodes.servers[0].emitWithAck("question", "q", to: sid, timeout: .seconds(5)) }
        var ids: [Int] = []
        for _ in 0..<400 where ids.isEmpty {
            try await Task.sleep(for: .milliseconds(5))
            ids = b.pendingAckIDs()
        }
        await b.ack(id: try #require(ids.first), "answer", 42)
        #expect(try await asking.value == ["answer", 42])
    }

    @Test func crossNodeAckToASidNowhereFailsAsUnknownAtOnce() async throws {
        let nodes = ThreeNodes(heartbeatInterval: .milliseconds(100))
        defer { nodes.stop() }
        try await nodes.waitUntilAllMembers()
        try await nodes.waitUntilSettled()
        // Both peers answer callback_miss: it fails without waiting for the (far) timeout.
        let finished = NIOLockedValueBox(false)
        let asking = Task {
            defer { finished.withLockedValue { $0 = true } }
            return try await nodes.servers[0].emitWithAck("question", to: "no-such-sid", timeout: .seconds(600))
        }
        for _ in 0..<400 where !finished.withLockedValue({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
        guard finished.withLockedValue({ $0 }) else {
            Issue.record("the emit still waits")
            return
        }
        await #expect(throws: SocketIOAckError.unknownSocket) { try await asking.value }
    }

    @Test func aJustStartedNodeDoesNotDeclareASidUnknown() async throws {
        // Its peers' first beats may not have arrived: every node could own the sid.
        let nodes = ThreeNodes(heartbeatInterval: .seconds(600))
        defer { nodes.stop() }
        for _ in 0..<400 where !nodes.adapters[0].isSettling { try await Task.sleep(for: .milliseconds(5)) }
        await #expect(throws: SocketIOAckError.timeout) {
            try await nodes.servers[0].emitWithAck("question", to: "no-such-sid", timeout: .milliseconds(100))
        }
    }

    @Test func crossNodeAckToASidNowhereWaitsWhenAPythonWorkerCouldOwnIt() async throws {
        let nodes = ThreeNodes(heartbeatInterval: .milliseconds(100))
        defer { nodes.stop() }
        try await nodes.waitUntilAllMembers()
        try await nodes.waitUntilSettled()
        // A python worker's room change: a host that never beats, which may own the sid.
        nodes.bus.inject(ByteBuffer(string: #"{"method": "enter_room", "sid": "x", "room": "r", "namespace": "/", "host_id": "python-worker"}"#))
        for _ in 0..<400 where nodes.adapters[0].nonMemberHosts.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
        #expect(nodes.adapters[0].nonMemberHosts == ["python-worker"])
        await #expect(throws: SocketIOAckError.timeout) {
            try await nodes.servers[0].emitWithAck("question", to: "no-such-sid", timeout: .milliseconds(100))
        }
    }

    @Test func garbageAndUnknownMethodsAreDroppedAndNodesKeepServing() async throws {
        let nodes = ThreeNodes()
        defer { nodes.stop() }
        let b = Inbox(try await SocketIOTestClient(server: nodes.servers[1]))
        for garbage in [
            "not json", "[1,2]", #"{"no":"method"}"#, #"{"method":"warp_drive","host_id":"x"}"#,
            #"{"method":"emit","event":5,"data":[],"host_id":"x"}"#, #"{"method":"emit","event":"e","data":[[{"_placeholder":true,"num":3}]],"binary":true,"host_id":"x"}"#,
            #"{"method":"emit","event":"e","data":[],"room":7,"host_id":"x"}"#,
            String(repeating: "[", count: 100_000),
        ] {
            nodes.bus.inject(ByteBuffer(string: garbage))
        }
        nodes.servers[0].emit("still", "alive")
        #expect(try await b.wait(for: 1) == [event("still", "alive")])
    }

    @Test func aDetachedNodeMissesMessagesButRecovers() async throws {
        let nodes = ThreeNodes()
        defer { nodes.stop() }
        let b = Inbox(try await SocketIOTestClient(server: nodes.servers[1]))
        nodes.transports[1].setDetached(true)
        nodes.servers[0].emit("lost")
        #expect(try await b.wait(for: 0) == [])
        nodes.transports[1].setDetached(false)
        nodes.servers[0].emit("found")
        #expect(try await b.wait(for: 1) == [event("found")])
    }

    @Test func foreignPythonMessagesAreApplied() async throws {
        let nodes = ThreeNodes()
        defer { nodes.stop() }
        let a = Inbox(try await SocketIOTestClient(server: nodes.servers[0]))
        // Exactly what python-socketio's write_only RedisManager publishes (json.dumps).
        nodes.bus.inject(
            ByteBuffer(
                string: #"{"method": "emit", "event": "foo", "data": [[1, {"_placeholder": true, "num": 0}, "three"], "dHdv"], "binary": true, "namespace": "/", "room": null, "skip_sid": null, "callback": null, "host_id": "9f1c2b7e8d6a4c5b9e0f1a2b3c4d5e6f"}"#
            )
        )
        #expect(try await a.wait(for: 1) == [event("foo", 1, .binary(ByteBuffer(string: "two")), "three")])
    }
}
