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

/// The server API, driven through the in-process test client.
struct SocketIOAPITests {
    private func event(_ name: String, _ arguments: SocketIOValue..., namespace: String = "/") -> SocketIOTestClient.ReceivedEvent {
        .init(name: name, arguments: arguments, namespace: namespace)
    }

    @Test func connectHandlerSeesAuthAndCanEmit() async throws {
        let io = SocketIOServer()
        io.onConnect { socket, auth in
            socket.emit("hello", auth ?? .null, .string(socket.handshake.query["room"] ?? "-"))
        }
        let client = try await SocketIOTestClient(server: io, auth: ["token": "t"], query: ["room": "r1"])
        #expect(client.isConnected())
        #expect(client.getReceived() == [event("hello", ["token": "t"], "r1")])
    }

    @Test func refusalCarriesMessageAndData() async throws {
        let io = SocketIOServer()
        io.onConnectWithDecision { _, auth in
            if auth?["token"] == "false" { return false }
            throw ConnectionRefused("not allowed", data: ["reason": "bad token"])
        }
        await #expect(throws: SocketIOTestClient.ConnectError(message: "not allowed", data: ["reason": "bad token"])) {
            _ = try await SocketIOTestClient(server: io, auth: ["token": "x"])
        }
        await #expect(throws: SocketIOTestClient.ConnectError(message: "Connection rejected by server", data: nil)) {
            _ = try await SocketIOTestClient(server: io, auth: ["token": "false"])
        }
    }

    @Test func unknownNamespaceIsRefused() async throws {
        let io = SocketIOServer()
        await #expect(throws: SocketIOTestClient.ConnectError(message: "Invalid namespace", data: nil)) {
            _ = try await SocketIOTestClient(server: io, namespace: "/nope")
        }
    }

    @Test func eventsWithSeveralArgumentsAndAcks() async throws {
        let io = SocketIOServer()
        io.on("echo") { socket, arguments in socket.emit("echo", arguments: arguments) }
        io.onWithAck("sum") { _, arguments in [.int(arguments.compactMap(\.intValue).reduce(0, +)), "done"] }
        io.on("noack") { _, _ in }
        let client = try await SocketIOTestClient(server: io)
        await client.emit("echo", 1, "two", ["three": [3]], nil)
        #expect(client.getReceived() == [event("echo", 1, "two", ["three": [3]], nil)])
        #expect(await client.emitWithAck("sum", 1, 2, 3) == [6, "done"])
        // A handler registered without an ack form never answers, even when asked (Node).
        #expect(await client.emitWithAck("noack") == nil)
    }

    @Test func typedCodableArguments() async throws {
        struct Chat: Codable, Sendable, Equatable { var user: String; var text: String }
        let io = SocketIOServer()
        io.on("chat", as: Chat.self) { socket, message in
            socket.emit("chat", .string("\(message.user): \(message.text)"))
        }
        let client = try await SocketIOTestClient(server: io)
        await client.emit("chat", ["user": "ann", "text": "hi"])
        #expect(client.getReceived() == [event("chat", "ann: hi")])
    }

    @Test func roomsBroadcastsAndSkip() async throws {
        let io = SocketIOServer()
        io.on("join") { socket, arguments in socket.join(arguments[0].stringValue!) }
        io.on("leave") { socket, arguments in socket.leave(arguments[0].stringValue!) }
        io.on("to_room") { socket, arguments in
            let room = arguments[0].stringValue!
            (arguments.count < 3 ? socket.nsp.to(room) : socket.to(room)).emit("room", arguments[1])
        }
        io.on("all") { socket, _ in socket.broadcast.emit("all", "x") }
        let a = try await SocketIOTestClient(server: io)
        let b = try await SocketIOTestClient(server: io)
        let c = try await SocketIOTestClient(server: io)
        await a.emit("join", "r")
        await b.emit("join", "r")
        #expect(io.rooms(sid: a.sid()!) == [a.sid()!, "r"].sorted())
        await c.emit("to_room", "r", "m1")
        #expect(a.getReceived() == [event("room", "m1")])
        #expect(b.getReceived() == [event("room", "m1")])
        #expect(c.getReceived() == [])
        await a.emit("to_room", "r", "m2", "skip-self")
        #expect(a.getReceived() == [])
        #expect(b.getReceived() == [event("room", "m2")])
        await b.emit("leave", "r")
        await c.emit("to_room", "r", "m3")
        #expect(a.getReceived() == [event("room", "m3")])
        #expect(b.getReceived() == [])
        io.closeRoom("r")
        await c.emit("to_room", "r", "m4")
        #expect(a.getReceived() == [])
        await a.emit("all")
        #expect(a.getReceived() == [])
        #expect(b.getReceived() == [event("all", "x")])
        #expect(c.getReceived() == [event("all", "x")])
        // A sid is a room: emit to one client from the server side.
        io.to(c.sid()!).emit("direct", "d")
        #expect(c.getReceived() == [event("direct", "d")])
        #expect(b.getReceived() == [])
        // Server-side join of a socket.
        io.joinRoom(sid: b.sid()!, room: "s")
        io.to("s").except(a.sid()!).emit("s")
        #expect(b.getReceived() == [event("s")])
    }

    @Test func namespacesAreSeparate() async throws {
        let io = SocketIOServer()
        io.on("ping") { socket, _ in socket.emit("pong", "root") }
        io.of("/chat").on("ping") { socket, _ in socket.emit("pong", "chat") }
        let client = try await SocketIOTestClient(server: io)
        try await client.connect(namespace: "/chat")
        #expect(client.sid(namespace: "/chat") != client.sid())
        await client.emit("ping", namespace: "/chat")
        #expect(client.getReceived(namespace: "/chat") == [event("pong", "chat", namespace: "/chat")])
        #expect(client.getReceived() == [])
        io.of("/chat").emit("news")
        #expect(client.getReceived() == [])
        #expect(client.getReceived(namespace: "/chat") == [event("news", namespace: "/chat")])
    }

    @Test func sessionIsKeptAcrossEvents() async throws {
        let io = SocketIOServer()
        io.onWithAck("count") { socket, _ in
            let count = (socket.session.get("count", as: Int.self) ?? 0) + 1
            socket.session["count"] = count
            return [.int(count)]
        }
        let client = try await SocketIOTestClient(server: io)
        #expect(await client.emitWithAck("count") == [1])
        #expect(await client.emitWithAck("count") == [2])
        #expect(io.session(sid: client.sid()!)?.get("count", as: Int.self) == 2)
        let other = try await SocketIOTestClient(server: io)
        #expect(await other.emitWithAck("count") == [1])
    }

    @Test func errorHandlersSeeEventAndArguments() async throws {
        struct Boom: Error {}
        let io = SocketIOServer()
        let seen = NIOLockedValueBox<[String]>([])
        io.on("fail") { _, _ in throw Boom() }
        io.of("/other").on("fail") { _, _ in throw Boom() }
        io.onError { error, context in
            seen.withLockedValue { $0.append("ns:\(context.event):\(context.arguments):\(error is Boom)") }
        }
        io.onDefaultError { _, context in
            seen.withLockedValue { $0.append("default:\(context.event):\(context.socket.namespace)") }
        }
        let client = try await SocketIOTestClient(server: io)
        try await client.connect(namespace: "/other")
        await client.emit("fail", 1, "x")
        await client.emit("fail", namespace: "/other")
        #expect(seen.withLockedValue { $0 } == [#"ns:fail:[1, "x"]:true"#, "default:fail:/other"])
    }

    @Test func catchAllGetsUnhandledEvents() async throws {
        let io = SocketIOServer()
        io.on("known") { socket, _ in socket.emit("known") }
        io.onAny { socket, name, arguments in socket.emit("any", .string(name), .array(arguments)) }
        let client = try await SocketIOTestClient(server: io)
        await client.emit("known")
        await client.emit("other", 5)
        await client.send("text")
        #expect(client.getReceived() == [event("known"), event("any", "other", [5]), event("any", "message", ["text"])])
    }

    @Test func serverAndClientDisconnects() async throws {
        let io = SocketIOServer()
        let reasons = NIOLockedValueBox<[String]>([])
        io.on("bye") { socket, _ in socket.disconnect() }
        io.onDisconnect { _, reason in reasons.withLockedValue { $0.append(reason.description) } }
        let first = try await SocketIOTestClient(server: io)
        await first.emit("bye")
        #expect(!first.isConnected())
        let second = try await SocketIOTestClient(server: io)
        let sid = second.sid()!
        await second.disconnect()
        #expect(io.rooms(sid: sid).isEmpty)
        let third = try await SocketIOTestClient(server: io)
        io.disconnect(sid: third.sid()!)
        for _ in 0..<100 where reasons.withLockedValue({ $0.count }) < 3 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(reasons.withLockedValue { $0 } == ["server namespace disconnect", "client namespace disconnect", "server namespace disconnect"])
    }

    @Test func serverAcksFromClient() async throws {
        let io = SocketIOServer()
        let answer = NIOLockedValueBox<[SocketIOValue]?>(nil)
        io.on("ask") { socket, _ in
            answer.withLockedValue { $0 = nil }
            let reply = try await socket.emitWithAck("question", "q", timeout: .seconds(5))
            answer.withLockedValue { $0 = reply }
        }
        let client = try await SocketIOTestClient(server: io)
        let asking = Task { await client.emit("ask") }
        var ids: [Int] = []
        for _ in 0..<200 where ids.isEmpty {
            try await Task.sleep(for: .milliseconds(5))
            ids = client.pendingAckIDs()
        }
        #expect(client.getReceived() == [event("question", "q")])
        await client.ack(id: try #require(ids.first), "a", 1)
        await asking.value
        #expect(answer.withLockedValue { $0 } == ["a", 1])
    }

    @Test func ackTimesOut() async throws {
        let io = SocketIOServer()
        let outcome = NIOLockedValueBox<String>("")
        io.on("ask") { socket, _ in
            do {
                _ = try await socket.emitWithAck("question", timeout: .milliseconds(50))
            } catch {
                outcome.withLockedValue { $0 = "\(error)" }
            }
        }
        let client = try await SocketIOTestClient(server: io)
        await client.emit("ask")
        #expect(outcome.withLockedValue { $0 } == "ack timed out")
    }

    @Test func alwaysConnectSendsConnectThenDisconnectOnRefusal() async throws {
        let io = SocketIOServer(configuration: SocketIOConfiguration(alwaysConnect: true))
        let emitted = NIOLockedValueBox(false)
        io.onConnectWithDecision { socket, _ in
            emitted.withLockedValue { $0 = socket.isConnected }
            return false
        }
        let client = try await SocketIOTestClient(server: io)
        #expect(emitted.withLockedValue { $0 })
        for _ in 0..<100 where client.isConnected() { try await Task.sleep(for: .milliseconds(5)) }
        #expect(!client.isConnected())
    }

    @Test func classBasedNamespace() async throws {
        final class Chat: SocketIONamespaceController, @unchecked Sendable {
            let disconnected = NIOLockedValueBox<[String]>([])
            override func routes(_ router: inout SocketIONamespaceRouter) {
                router.on("my_event") { [unowned self] socket, arguments in self.onMyEvent(socket, arguments) }
                router.onWithAck("sum") { _, arguments in [.int(arguments.compactMap(\.intValue).reduce(0, +))] }
            }
            override func onConnect(_ socket: SocketIOSocket, auth: SocketIOValue?) async throws -> Bool {
                auth?["user"] != nil
            }
            override func onDisconnect(_ socket: SocketIOSocket, reason: SocketIODisconnectReason) async {
                self.disconnected.withLockedValue { $0.append(reason.description) }
            }
            override func onEvent(_ socket: SocketIOSocket, event: String, arguments: [SocketIOValue]) async throws -> SocketIOAck? {
                ["unhandled", .string(event)]
            }
            func onMyEvent(_ socket: SocketIOSocket, _ arguments: [SocketIOValue]) {
                socket.emit("my_response", arguments.first ?? .null)
            }
        }
        let io = SocketIOServer()
        let chat = Chat(namespace: "/chat")
        io.register(chat)
        await #expect(throws: SocketIOTestClient.ConnectError.self) {
            _ = try await SocketIOTestClient(server: io, namespace: "/chat")
        }
        let client = try await SocketIOTestClient(server: io, namespace: "/chat", auth: ["user": "ann"])
        await client.emit("my_event", "hi", namespace: "/chat")
        #expect(client.getReceived(namespace: "/chat") == [event("my_response", "hi", namespace: "/chat")])
        #expect(await client.emitWithAck("sum", 2, 3, namespace: "/chat") == [5])
        #expect(await client.emitWithAck("other", namespace: "/chat") == ["unhandled", "other"])
        await client.disconnect(namespace: "/chat")
        #expect(chat.disconnected.withLockedValue { $0 } == ["client namespace disconnect"])
    }

    @Test func unnamedMessageAndJSONEvents() async throws {
        let io = SocketIOServer()
        io.on("message") { socket, arguments in socket.send(arguments[0]) }
        io.on("json") { socket, arguments in socket.send(arguments[0], json: true) }
        let client = try await SocketIOTestClient(server: io)
        await client.send("plain")
        await client.emit("json", ["a": 1])
        #expect(client.getReceived() == [event("message", "plain"), event("json", ["a": 1])])
        io.send("to all", json: true)
        #expect(client.getReceived() == [event("json", "to all")])
    }

    @Test func backgroundTasksEmitAndStop() async throws {
        let io = SocketIOServer()
        let client = try await SocketIOTestClient(server: io)
        io.startBackgroundTask {
            io.emit("tick", 1)
            try? await Task.sleep(for: .seconds(3600))
        }
        for _ in 0..<200 where client.getReceived().isEmpty == true { try await Task.sleep(for: .milliseconds(5)) }
        await io.stopTasks()
    }
}

/// Where handlers run: on the connection's event loop by default, on the global executor
/// when configured so.
struct HandlerExecutionTests {
    private func loopOfHandler(onEventLoop: Bool) async throws -> Bool {
        let io = SocketIOServer(configuration: SocketIOConfiguration(handlersOnEventLoop: onEventLoop))
        io.onWithAck("where") { socket, _ in
            [.bool(socket.eventLoop.inEventLoop)]
        }
        let client = try await SocketIOTestClient(server: io)
        let onLoop = await client.emitWithAck("where")?.first?.boolValue
        return try #require(onLoop as Bool?)
    }

    @Test func handlersRunOnTheConnectionsLoopByDefault() async throws {
        #expect(try await self.loopOfHandler(onEventLoop: true))
    }

    @Test func handlersCanRunOffTheLoop() async throws {
        #expect(try await self.loopOfHandler(onEventLoop: false) == false)
    }

    /// Whether a handler that never awaits ran inside a task.
    private func inlineHandlerHasATask(onEventLoop: Bool) async throws -> Bool {
        let io = SocketIOServer(configuration: SocketIOConfiguration(handlersOnEventLoop: onEventLoop))
        io.onWithAck("task") { socket, _ in
            [.bool(withUnsafeCurrentTask { $0 != nil }), .bool(socket.eventLoop.inEventLoop)]
        }
        let client = try await SocketIOTestClient(server: io)
        let answer = try #require(await client.emitWithAck("task"))
        // Wherever it runs, it answers on the loop only when handlers run there.
        #expect(answer.last?.boolValue == onEventLoop)
        let hasTask = answer.first?.boolValue
        return try #require(hasTask as Bool?)
    }

    @Test func synchronousHandlersRunInlineWithoutATask() async throws {
        #expect(try await self.inlineHandlerHasATask(onEventLoop: true) == false)
    }

    @Test func synchronousHandlersGetATaskOffTheLoop() async throws {
        #expect(try await self.inlineHandlerHasATask(onEventLoop: false))
    }

    @Test func everySynchronousOverloadRunsInline() async throws {
        struct Payload: Codable, Sendable { var n: Int }
        final class Admin: SocketIONamespaceController, @unchecked Sendable {
            override func routes(_ router: inout SocketIONamespaceRouter) {
                router.on("plain") { socket, _ in socket.emit("task", .bool(withUnsafeCurrentTask { $0 != nil })) }
                router.onWithAck("ack") { _, _ in [.bool(withUnsafeCurrentTask { $0 != nil })] }
            }
        }
        let io = SocketIOServer()
        io.on("plain") { socket, _ in socket.emit("task", .bool(withUnsafeCurrentTask { $0 != nil })) }
        io.on("typed", as: Payload.self) { socket, _ in socket.emit("task", .bool(withUnsafeCurrentTask { $0 != nil })) }
        io.onAny { socket, _, _ in socket.emit("task", .bool(withUnsafeCurrentTask { $0 != nil })) }
        io.register(Admin(namespace: "/admin"))
        let client = try await SocketIOTestClient(server: io)
        try await client.connect(namespace: "/admin")
        await client.emit("plain")
        await client.emit("typed", ["n": 1])
        await client.emit("other")
        await client.emit("plain", namespace: "/admin")
        #expect(await client.emitWithAck("ack", namespace: "/admin") == [false])
        #expect(client.getReceived() == Array(repeating: .init(name: "task", arguments: [false], namespace: "/"), count: 3))
        #expect(client.getReceived(namespace: "/admin") == [.init(name: "task", arguments: [false], namespace: "/admin")])
    }

    @Test func noHandlerRunsAfterTheServerStopped() async throws {
        let io = SocketIOServer()
        io.onWithAck("sync") { _, _ in [1] }
        io.onWithAck("async") { _, _ in
            await Task.yield()
            return [2]
        }
        let client = try await SocketIOTestClient(server: io)
        #expect(await client.emitWithAck("sync") == [1])
        await io.stopTasks()
        #expect(await client.emitWithAck("sync") == nil)
        #expect(await client.emitWithAck("async") == nil)
    }
}
