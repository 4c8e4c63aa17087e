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

/// The Socket.IO nouns (issue 14): namespace objects, parent namespaces, the broadcast
/// operator, middlewares, acks on demand, the disconnecting handler, concurrent handlers.
struct SocketIONamespaceTests {
    private func event(_ name: String, _ arguments: SocketIOValue..., namespace: String = "/") -> SocketIOTestClient.ReceivedEvent {
        .init(name: name, arguments: arguments, namespace: namespace)
    }

    // MARK: Namespaces

    @Test func ofReturnsOneObjectPerNameThatOwnsItsHandlers() async throws {
        let io = SocketIOServer()
        let chat = io.of("/chat")
        #expect(io.of("/chat") === chat)
        #expect(io.sockets.name == "/")
        chat.on("ping") { socket, _ in socket.emit("pong", .string(socket.nsp.name)) }
        let client = try await SocketIOTestClient(server: io, namespace: "/chat")
        await client.emit("ping", namespace: "/chat")
        #expect(client.getReceived(namespace: "/chat") == [event("pong", "/chat", namespace: "/chat")])
        #expect(await chat.fetchSockets().value.map(\.id) == [client.sid(namespace: "/chat")!])
        // Not declared: refused as Node does.
        await #expect(throws: SocketIOTestClient.ConnectError.self) { try await client.connect(namespace: "/nope") }
    }

    @Test func aParentNamespaceMakesChildrenForMatchingNamesThatShareItsHandlers() async throws {
        let io = SocketIOServer()
        let teams = try io.of(pattern: #"^/team-\d+$"#)
        teams.on("who") { socket, _ in socket.emit("me", .string(socket.nsp.name), .bool(socket.nsp.parent === teams)) }
        let client = try await SocketIOTestClient(server: io, namespace: "/team-7")
        await client.emit("who", namespace: "/team-7")
        #expect(client.getReceived(namespace: "/team-7") == [event("me", "/team-7", true, namespace: "/team-7")])
        // A handler added to the parent later reaches existing children.
        teams.onWithAck("late") { _, _ in ["yes"] }
        #expect(await client.emitWithAck("late", namespace: "/team-7") == ["yes"])
        await #expect(throws: SocketIOTestClient.ConnectError.self) { try await client.connect(namespace: "/team-x") }
        #expect(teams.namespaces.map(\.name) == ["/team-7"])
        // The child goes with its last socket (cleanupEmptyChildNamespaces).
        await client.disconnect(namespace: "/team-7")
        #expect(teams.namespaces.isEmpty)
    }

    @Test func aPredicateParentSeesTheAuthAndOfAnyAcceptsEveryName() async throws {
        let io = SocketIOServer()
        let gated = io.of(matching: { name, auth in name.hasPrefix("/vip") && auth?["vip"]?.boolValue == true })
        gated.onConnect { socket, _ in socket.emit("in", .string(socket.namespace)) }
        let client = try await SocketIOTestClient(server: io)
        await #expect(throws: SocketIOTestClient.ConnectError.self) { try await client.connect(namespace: "/vip-1") }
        try await client.connect(namespace: "/vip-1", auth: ["vip": true])
        #expect(client.getReceived(namespace: "/vip-1") == [event("in", "/vip-1", namespace: "/vip-1")])
        let any = io.ofAny()
        any.onConnect { socket, _ in socket.emit("any", .string(socket.namespace)) }
        try await client.connect(namespace: "/whatever")
        #expect(client.getReceived(namespace: "/whatever") == [event("any", "/whatever", namespace: "/whatever")])
    }

    // MARK: Broadcast operator

    @Test func theOperatorIsImmutableAndAddressesTheUnionMinusExcept() async throws {
        let io = SocketIOServer()
        io.on("join") { socket, arguments in for room in arguments { socket.join(room.stringValue!) } }
        let a = try await SocketIOTestClient(server: io)
        let b = try await SocketIOTestClient(server: io)
        let c = try await SocketIOTestClient(server: io)
        await a.emit("join", "x")
        await b.emit("join", "y")
        await c.emit("join", "x", "y", "z")
        let toX = io.to("x")
        let toXY = toX.to("y")
        #expect(toX.target.rooms == ["x"])
        #expect(toXY.target.rooms == ["x", "y"])
        toXY.except("z").emit("m", 1)
        #expect(a.getReceived() == [event("m", 1)])
        #expect(b.getReceived() == [event("m", 1)])
        #expect(c.getReceived() == [])
        // `in` is `to`; a socket is a room of its own.
        io.in(c.sid()!).emit("direct")
        #expect(c.getReceived() == [event("direct")])
        #expect(a.getReceived() == [])
    }

    @Test func aSocketsOperatorLeavesTheSenderOut() async throws {
        let io = SocketIOServer()
        io.on("join") { socket, arguments in socket.join(arguments[0].stringValue!) }
        io.on("room") { socket, arguments in socket.to(arguments[0].stringValue!).emit("room") }
        io.on("all") { socket, _ in socket.broadcast.emit("all") }
        io.on("but") { socket, arguments in socket.except(arguments[0].stringValue!).emit("but") }
        let a = try await SocketIOTestClient(server: io)
        let b = try await SocketIOTestClient(server: io)
        let c = try await SocketIOTestClient(server: io)
        await a.emit("join", "r")
        await b.emit("join", "r")
        await a.emit("room", "r")
        #expect(a.getReceived() == [])
        #expect(b.getReceived() == [event("room")])
        #expect(c.getReceived() == [])
        await a.emit("all")
        #expect(a.getReceived() == [])
        #expect(b.getReceived() == [event("all")])
        #expect(c.getReceived() == [event("all")])
        await c.emit("but", "r")
        #expect(a.getReceived() == [] && b.getReceived() == [] && c.getReceived() == [])
        await a.emit("but", "nobody")
        #expect(b.getReceived() == [event("but")])
        #expect(c.getReceived() == [event("but")])
        #expect(a.getReceived() == [])
    }

    @Test func socketsJoinLeaveAndDisconnectActOnTheTarget() async throws {
        let io = SocketIOServer()
        let a = try await SocketIOTestClient(server: io)
        let b = try await SocketIOTestClient(server: io)
        io.except(b.sid()!).socketsJoin("club")
        #expect(io.sockets.localMembers(of: "club") == [a.sid()!])
        io.socketsJoin("all")
        #expect(io.sockets.localMembers(of: "all") == [a.sid()!, b.sid()!].sorted())
        io.in("club").socketsLeave("all")
        #expect(io.sockets.localMembers(of: "all") == [b.sid()!])
        #expect(await io.in("all").fetchSockets().value.map(\.id) == [b.sid()!])
        let socketB = try #require(io.in("all").localSockets().first)
        io.in("all").disconnectSockets()
        await socketB.waitUntilIdle()
        #expect(!socketB.isConnected)
        #expect(await io.fetchSockets().value.map(\.id) == [a.sid()!])
    }

    @Test func aBroadcastWithAckGathersEveryAnswerOrTimesOut() async throws {
        let io = SocketIOServer()
        io.on("join") { socket, arguments in socket.join(arguments[0].stringValue!) }
        let a = try await SocketIOTestClient(server: io)
        let b = try await SocketIOTestClient(server: io)
        await a.emit("join", "r")
        await b.emit("join", "r")
        let answers = Task { try await io.to("r").timeout(.seconds(5)).emitWithAck("q", 1) }
        // Both got one packet with the same ack id (encoded once).
        let idsA = try await a.waitForPendingAckIDs()
        let idsB = try await b.waitForPendingAckIDs()
        #expect(idsA == idsB)
        await a.ack(id: idsA[0], "from-a")
        await b.ack(id: idsB[0], "from-b")
        let values = try await answers.value
        #expect(Set(values) == [["from-a"], ["from-b"]])
        // One never answers: the broadcast throws timeout.
        let timedOut = Task { try await io.to("r").timeout(.milliseconds(50)).emitWithAck("q") }
        let idsA2 = try await a.waitForPendingAckIDs(atLeast: 2)
        await a.ack(id: idsA2.last!, "only-a")
        await #expect(throws: SocketIOAckError.timeout) { try await timedOut.value }
        // Nobody addressed: an empty answer at once.
        #expect(try await io.to("empty").emitWithAck("q").isEmpty)
    }

    // MARK: Middlewares

    @Test func aRefusingMiddlewareKeepsTheSocketOutOfEveryRoomAndHandler() async throws {
        let io = SocketIOServer()
        let order = NIOLockedValueBox<[String]>([])
        io.use { socket in
            order.withLockedValue { $0.append("first") }
            socket.session["user"] = socket.handshake.auth?["user"]?.stringValue
        }
        io.use { socket in
            order.withLockedValue { $0.append("second:\(io.localSockets().contains { $0 === socket })") }
            if socket.session.get("user", as: String.self) == nil {
                throw ConnectionRefused("not authorized", data: ["code": 401])
            }
        }
        io.onConnect { socket, _ in
            order.withLockedValue { $0.append("connect:\(socket.rooms)") }
        }
        let refused = try await SocketIOTestClient(server: io, namespace: nil)
        await #expect(throws: SocketIOTestClient.ConnectError(message: "not authorized", data: ["code": 401])) {
            try await refused.connect()
        }
        #expect(order.withLockedValue { $0 } == ["first", "second:false"])
        #expect(await io.fetchSockets().value.isEmpty)
        let admitted = try await SocketIOTestClient(server: io, auth: ["user": "ann"])
        let sid = try #require(admitted.sid())
        #expect(order.withLockedValue { $0 }.suffix(3) == ["first", "second:false", "connect:[\"\(sid)\"]"])
        #expect(io.session(sid: sid)?.get("user", as: String.self) == "ann")
        // A namespace's middlewares are its own.
        io.of("/open").onConnect { _, _ in }
        try await refused.connect(namespace: "/open")
    }

    @Test func aPacketMiddlewareDropsEventsAndTheErrorHandlerMayAck() async throws {
        struct Forbidden: Error {}
        let io = SocketIOServer()
        let handled = NIOLockedValueBox<[String]>([])
        io.onConnect { socket, _ in
            socket.use { _, event, _ in if event == "secret" { throw Forbidden() } }
        }
        io.onWithAck("secret") { _, _ in
            handled.withLockedValue { $0.append("secret") }
            return ["leaked"]
        }
        io.onWithAck("open") { _, _ in ["ok"] }
        io.onErrorWithAck { error, context in
            [.string("refused \(context.event): \(error is Forbidden)")]
        }
        let client = try await SocketIOTestClient(server: io)
        #expect(await client.emitWithAck("secret") == ["refused secret: true"])
        #expect(await client.emitWithAck("open") == ["ok"])
        #expect(handled.withLockedValue { $0 }.isEmpty)
    }

    // MARK: Acks on demand

    @Test func noAckGoesOutUnlessTheHandlerAnswers() async throws {
        let io = SocketIOServer()
        let later = NIOLockedValueBox<SocketIOAckResponder?>(nil)
        io.on("silent") { _, _ in }
        io.on("silentAsync") { _, _ in await Task.yield() }
        io.on("now") { _, arguments, ack in ack(arguments[0], "now") }
        io.on("keep") { _, _, ack in later.withLockedValue { $0 = ack } }
        io.on("twice") { _, _, ack in
            ack("first")
            ack("second")
        }
        io.onWithAck("flask") { _, _ in ["returned"] }
        let client = try await SocketIOTestClient(server: io)
        #expect(await client.emitWithAck("silent") == nil)
        #expect(await client.emitWithAck("silentAsync") == nil)
        #expect(await client.emitWithAck("now", 1) == [1, "now"])
        #expect(await client.emitWithAck("twice") == ["first"])
        #expect(await client.emitWithAck("flask") == ["returned"])
        // Kept and answered later, from another task.
        #expect(await client.emitWithAck("keep") == nil)
        let responder = try #require(later.withLockedValue { $0 })
        #expect(responder.isRequested && !responder.hasAnswered)
        await Task.detached { responder("later") }.value
        #expect(responder.hasAnswered)
    }

    @Test func anErrorHandlersAnswerIsTheAck() async throws {
        struct Boom: Error {}
        let io = SocketIOServer()
        io.on("fail") { _, _ in throw Boom() }
        io.of("/quiet").on("fail") { _, _ in throw Boom() }
        io.onErrorWithAck { _, context in [.string("failed:\(context.event)")] }
        io.onDefaultErrorWithAck { _, _ in ["default"] }
        let client = try await SocketIOTestClient(server: io)
        #expect(await client.emitWithAck("fail") == ["failed:fail"])
        try await client.connect(namespace: "/quiet")
        #expect(await client.emitWithAck("fail", namespace: "/quiet") == ["default"])
    }

    // MARK: Lifecycle

    @Test func disconnectingSeesTheRoomsAndDisconnectGetsTheReason() async throws {
        let io = SocketIOServer()
        let seen = NIOLockedValueBox<[String]>([])
        io.on("join") { socket, arguments in socket.join(arguments[0].stringValue!) }
        io.onDisconnecting { socket, reason in
            // Still a member: tell the room (the leaving socket is skipped by `to`).
            socket.to("r").emit("leaving", .string(socket.id))
            seen.withLockedValue { $0.append("disconnecting \(reason) \(socket.rooms.contains("r"))") }
        }
        io.onDisconnect { socket, reason in
            seen.withLockedValue { $0.append("disconnect \(reason) \(socket.rooms)") }
        }
        let a = try await SocketIOTestClient(server: io)
        let b = try await SocketIOTestClient(server: io)
        await a.emit("join", "r")
        await b.emit("join", "r")
        let sid = try #require(a.sid())
        await a.disconnect()
        #expect(seen.withLockedValue { $0 } == ["disconnecting client namespace disconnect true", "disconnect client namespace disconnect []"])
        #expect(b.getReceived() == [event("leaving", .string(sid))])
        #expect(io.sockets.localMembers(of: "r") == [b.sid()!])
    }

    @Test func concurrentHandlersOverlapWhenAskedAndDisconnectRunsLast() async throws {
        var configuration = SocketIOConfiguration()
        configuration.concurrentHandlers = true
        let io = SocketIOServer(configuration: configuration)
        let log = NIOLockedValueBox<[String]>([])
        let gate = AsyncGate()
        io.on("wait") { _, _ in
            log.withLockedValue { $0.append("wait-start") }
            await gate.wait()
            log.withLockedValue { $0.append("wait-end") }
        }
        io.on("quick") { _, _ in log.withLockedValue { $0.append("quick") } }
        io.onDisconnect { _, _ in log.withLockedValue { $0.append("disconnect") } }
        let client = try await SocketIOTestClient(server: io)
        await client.emit("wait")
        await client.emit("quick")
        // `quick` ran while `wait` was suspended.
        for _ in 0..<500 where log.withLockedValue({ $0.count }) < 2 { try await Task.sleep(for: .milliseconds(2)) }
        #expect(log.withLockedValue { $0 } == ["wait-start", "quick"])
        let socket = try #require(io.localSockets().first)
        let disconnecting = Task { await client.disconnect() }
        try await Task.sleep(for: .milliseconds(20))
        #expect(!log.withLockedValue { $0 }.contains("disconnect"))
        await gate.open()
        await disconnecting.value
        await socket.waitUntilIdle()
        #expect(log.withLockedValue { $0 } == ["wait-start", "quick", "wait-end", "disconnect"])
    }

    @Test func aHandlerThatBroadcastsToARoomRunsInline() async throws {
        let io = SocketIOServer()
        io.onWithAck("shout") { socket, _ in
            socket.to("r").emit("shout")
            io.to("r").volatile.emit("tick")
            return [.bool(withUnsafeCurrentTask { $0 != nil })]
        }
        let client = try await SocketIOTestClient(server: io)
        #expect(await client.emitWithAck("shout") == [false])
    }
}

/// Opens once; every waiter resumes then.
actor AsyncGate {
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        if self.isOpen { return }
        await withCheckedContinuation { self.waiters.append($0) }
    }

    func open() {
        self.isOpen = true
        for waiter in self.waiters { waiter.resume() }
        self.waiters = []
    }
}
