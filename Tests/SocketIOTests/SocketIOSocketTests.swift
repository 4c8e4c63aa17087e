//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIO
import NIOConcurrencyHelpers
import NIOCore
@testable import SocketIO
import Testing

/// What `SocketIOSocket` decides from its state machine and carries out against the
/// adapter: when the socket joins its namespace, and when it leaves its rooms.
struct SocketIOSocketTests {
    @Test func aSocketWhoseConnectionClosesDuringItsMiddlewaresNeverJoins() async throws {
        let io = SocketIOServer()
        let gate = AsyncGate()
        let inMiddleware = NIOLockedValueBox(false)
        let connected = NIOLockedValueBox(false)
        io.use { _ in
            inMiddleware.withLockedValue { $0 = true }
            await gate.wait()
        }
        io.onConnect { _, _ in connected.withLockedValue { $0 = true } }
        let client = try await WireClient(server: io)
        try await client.receive("0")
        for _ in 0..<400 where !inMiddleware.withLockedValue({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
        #expect(inMiddleware.withLockedValue { $0 })
        let handler = client.handler
        try await client.transport.eventLoop.submit { handler.value.sessionDidClose(reason: .transportClose) }.get()
        await gate.open()
        // Waits for the connect task to end.
        await io.stopTasks()
        // Joining now would leave the socket in the namespace for good.
        #expect(await io.fetchSockets().value.isEmpty)
        #expect(io.sockets.localMembers(of: "r").isEmpty)
        #expect(!connected.withLockedValue { $0 })
        #expect(client.transport.frames.isEmpty)
    }

    @Test func withoutADisconnectingHandlerTheRoomsAreLeftAtOnce() async throws {
        let io = SocketIOServer()
        let gate = AsyncGate()
        let disconnected = NIOLockedValueBox(false)
        io.on("join") { socket, _ in socket.join("r") }
        io.on("slow") { _, _ in await gate.wait() }
        io.onDisconnect { _, _ in disconnected.withLockedValue { $0 = true } }
        let client = try await WireClient(server: io)
        try await client.receive("0")
        _ = try await client.frames(atLeast: 1)
        try await client.receive(#"2["join"]"#)
        #expect(io.sockets.localMembers(of: "r").count == 1)
        try await client.receive(#"2["slow"]"#)
        try await client.receive("1")
        // The disconnect handler waits for `slow`, but nobody needs the rooms meanwhile.
        #expect(io.sockets.localMembers(of: "r").isEmpty)
        #expect(!disconnected.withLockedValue { $0 })
        await gate.open()
        for _ in 0..<400 where !disconnected.withLockedValue({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
        #expect(disconnected.withLockedValue { $0 })
    }

    @Test func aDisconnectingHandlerKeepsTheRoomsUntilItRan() async throws {
        let io = SocketIOServer()
        let gate = AsyncGate()
        let sawRoom = NIOLockedValueBox<Bool?>(nil)
        io.on("join") { socket, _ in socket.join("r") }
        io.on("slow") { _, _ in await gate.wait() }
        io.onDisconnecting { socket, _ in sawRoom.withLockedValue { $0 = socket.rooms.contains("r") } }
        let client = try await WireClient(server: io)
        try await client.receive("0")
        _ = try await client.frames(atLeast: 1)
        try await client.receive(#"2["join"]"#)
        try await client.receive(#"2["slow"]"#)
        try await client.receive("1")
        #expect(io.sockets.localMembers(of: "r").count == 1)
        await gate.open()
        for _ in 0..<400 where sawRoom.withLockedValue({ $0 }) == nil { try await Task.sleep(for: .milliseconds(5)) }
        #expect(sawRoom.withLockedValue { $0 } == true)
        for _ in 0..<400 where !io.sockets.localMembers(of: "r").isEmpty { try await Task.sleep(for: .milliseconds(5)) }
        #expect(io.sockets.localMembers(of: "r").isEmpty)
    }
}
