//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIO
import EngineIOParser
import HTTPTypes
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
@testable import SocketIO
import SocketIOParser
import SocketIOTesting
import Testing

/// A transport that behaves as the engine does at its limits: a send that passes `limit`
/// bytes ends the session at once, inside the send (as `EngineIOSession` did before its
/// close was deferred), and it counts pause/resume requests.
final class LimitedTransport: SocketIOTransport {
    let eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.any()
    let request = EngineIORequest(method: .get, uri: "/socket.io/?EIO=4&transport=websocket", headers: [:], remoteAddress: nil)
    let transportName = "websocket"
    let limit: Int
    struct State {
        var bytes = 0
        var frames: [String] = []
        var closedBySend = false
        var pauses = 0
        var resumes = 0
    }
    let state = NIOLockedValueBox(State())
    let handler = NIOLockedValueBox<NIOLoopBound<any EngineIOSessionHandler>?>(nil)
    /// Runs once, at the start of the next send, before its frames count as sent: what
    /// happens elsewhere while a send is still on its way.
    let beforeSend = NIOLockedValueBox<(@Sendable () -> Void)?>(nil)

    init(limit: Int = .max) { self.limit = limit }

    func attach(to server: SocketIOServer) async throws {
        try await self.eventLoop.submit {
            let handler = server.attach(self)
            self.handler.withLockedValue { $0 = NIOLoopBound(handler, eventLoop: self.eventLoop) }
        }.get()
    }

    func receive(_ text: String) async throws {
        try await self.eventLoop.submit {
            self.handler.withLockedValue { $0 }?.value.sessionDidReceive(.text(text))
        }.get()
    }

    func send(_ frames: [EngineIOFrame]) {
        guard self.eventLoop.inEventLoop else {
            self.eventLoop.execute { self.send(frames) }
            return
        }
        self.beforeSend.withLockedValue { $0.take() }?()
        let overflow = self.state.withLockedValue { state -> Bool in
            guard !state.closedBySend else { return false }
            for frame in frames {
                state.bytes += frame.bytes.readableBytes
                state.frames.append(String(buffer: frame.bytes))
            }
            if state.bytes > self.limit {
                state.closedBySend = true
                return true
            }
            return false
        }
        if overflow {
            self.handler.withLockedValue { $0 }?.value.sessionDidClose(reason: .transportError)
        }
    }

    func close() {}
    func pauseReading() { self.state.withLockedValue { $0.pauses += 1 } }
    func resumeReading() { self.state.withLockedValue { $0.resumes += 1 } }
}

/// The Socket.IO layer against clients that try to freeze or exhaust it (issue 13).
struct SocketIOLimitsTests {
    private func eventually(_ condition: () -> Bool) async throws {
        for _ in 0..<400 where !condition() { try await Task.sleep(for: .milliseconds(5)) }
    }

    // MARK: Item 1

    /// The CONNECT reply ends the session (it overflows the outbound buffer): the socket
    /// ends cleanly. Before the fix the reply was sent while holding the socket's lock and
    /// the close took the lock again: a deadlock in release builds, a trap in debug builds.
    @Test func aConnectReplyThatEndsTheSessionEndsTheSocketCleanly() async throws {
        let io = SocketIOServer()
        let reasons = NIOLockedValueBox<[String]>([])
        io.onConnect { socket, _ in socket.emit("welcome") }
        io.onDisconnect { _, reason in reasons.withLockedValue { $0.append(reason.description) } }
        let transport = LimitedTransport(limit: 10)
        try await transport.attach(to: io)
        try await transport.receive("0")
        try await self.eventually { !reasons.withLockedValue { $0 }.isEmpty }
        #expect(reasons.withLockedValue { $0 } == ["transport error"])
        #expect(transport.state.withLockedValue { $0.closedBySend })
        #expect((io.adapter as? InMemoryAdapter)?.socketCount(namespace: "/") == 0)
        // The loop is free: another client is served.
        let client = try await SocketIOTestClient(server: io)
        #expect(client.isConnected())
    }

    /// Packets emitted while the CONNECT reply is on its way still follow it, in order.
    @Test func emitsDuringTheConnectReplyFollowIt() async throws {
        let io = SocketIOServer()
        io.onConnect { socket, _ in
            for n in 0..<50 { socket.emit("n", .int(n)) }
        }
        let transport = LimitedTransport()
        try await transport.attach(to: io)
        try await transport.receive("0")
        try await self.eventually { transport.state.withLockedValue { $0.frames.count } >= 51 }
        let frames = transport.state.withLockedValue { $0.frames }
        #expect(frames.first?.hasPrefix("40{") == true)
        #expect(Array(frames.dropFirst()) == (0..<50).map { "42[\"n\",\($0)]" })
    }

    /// Review finding 2: the socket ends (here `disconnect()`, as `end()` from another
    /// thread would) while its CONNECT reply is still being sent. The DISCONNECT goes out
    /// after the reply; before the fix it was sent at once and overtook it.
    @Test func aDisconnectDuringTheConnectReplyFollowsIt() async throws {
        let io = SocketIOServer()
        let connected = NIOLockedValueBox<SocketIOSocket?>(nil)
        io.onConnect { socket, _ in connected.withLockedValue { $0 = socket } }
        let transport = LimitedTransport()
        transport.beforeSend.withLockedValue {
            $0 = { connected.withLockedValue { $0 }?.disconnect() }
        }
        try await transport.attach(to: io)
        try await transport.receive("0")
        try await self.eventually { transport.state.withLockedValue { $0.frames.count } >= 2 }
        let frames = transport.state.withLockedValue { $0.frames }
        #expect(frames.count == 2)
        #expect(frames.first?.hasPrefix("40{") == true)
        #expect(frames.last == "41")
        let socket = try #require(connected.withLockedValue { $0 })
        #expect(!socket.isConnected)
        // Nothing is sent after the DISCONNECT.
        socket.emit("late")
        try await transport.eventLoop.submit {}.get()
        #expect(transport.state.withLockedValue { $0.frames.count } == 2)
    }

    // MARK: Item 4

    /// Past `maxPendingAcks` an emit with an ack is not sent and fails at once.
    @Test func pendingAcksPerSocketAreCapped() async throws {
        var configuration = SocketIOConfiguration()
        configuration.maxPendingAcks = 3
        let io = SocketIOServer(configuration: configuration)
        let results = NIOLockedValueBox<[String]>([])
        io.on("ask") { socket, _ in
            for _ in 0..<4 {
                socket.emit("question", timeout: .seconds(30)) { result in
                    let text: String
                    switch result {
                    case .success: text = "ok"
                    case .failure(let error): text = "\(error)"
                    }
                    results.withLockedValue { $0.append(text) }
                }
            }
        }
        let client = try await SocketIOTestClient(server: io)
        await client.emit("ask")
        try await self.eventually { results.withLockedValue { $0.count } == 1 }
        #expect(results.withLockedValue { $0 } == ["\(SocketIOAckError.tooManyPendingAcks)"])
        #expect(client.getReceived().count == 3)
        #expect(client.pendingAckIDs().count == 3)
        #expect(io.limits.maxPendingAcks.hitCount == 1)
        let sid = try #require(client.sid())
        let socket = try #require(io.adapter.localSocket(sid: sid, namespace: "/"))
        #expect(socket.pendingAckCount == 3)
        // An answered ack frees its place.
        let first = try #require(client.pendingAckIDs().first)
        await client.ack(id: first)
        try await self.eventually { socket.pendingAckCount == 2 }
        #expect(socket.pendingAckCount == 2)
    }

    /// Review finding 7: the `tooManyPendingAcks` and `disconnected` ack callbacks run on
    /// the connection's loop, as the API promises, even when the emit (or the disconnect)
    /// comes from a handler off the loop. Before the fix they ran on the caller's thread.
    @Test func ackCallbacksRunOnTheConnectionsLoop() async throws {
        var configuration = SocketIOConfiguration(handlersOnEventLoop: false)
        configuration.maxPendingAcks = 1
        let io = SocketIOServer(configuration: configuration)
        let results = NIOLockedValueBox<[String: Bool]>([:])
        io.on("ask") { socket, _ in
            for _ in 0..<2 {
                socket.emit("question", timeout: .seconds(30)) { result in
                    let onLoop = socket.eventLoop.inEventLoop
                    let key: String
                    switch result {
                    case .success: key = "ok"
                    case .failure(let error): key = "\(error)"
                    }
                    results.withLockedValue { $0[key] = onLoop }
                }
            }
            socket.disconnect()
        }
        let client = try await SocketIOTestClient(server: io)
        await client.emit("ask")
        try await self.eventually { results.withLockedValue { $0.count } == 2 }
        #expect(
            results.withLockedValue { $0 }
                == ["\(SocketIOAckError.tooManyPendingAcks)": true, "\(SocketIOAckError.disconnected)": true]
        )
    }

    /// Past `maxRoomsPerSocket` (its own room included) a join is ignored and counted.
    @Test func roomsPerSocketAreCapped() async throws {
        var configuration = SocketIOConfiguration()
        configuration.maxRoomsPerSocket = 3
        let io = SocketIOServer(configuration: configuration)
        io.on("join") { socket, arguments in
            for room in arguments { socket.join(room.stringValue ?? "") }
        }
        let client = try await SocketIOTestClient(server: io)
        await client.emit("join", "a", "b", "c", "d", "a")
        let sid = try #require(client.sid())
        #expect(io.rooms(sid: sid) == [sid, "a", "b"].sorted())
        #expect(io.limits.maxRoomsPerSocket.hitCount == 2)
    }

    /// Review finding 3: a room name longer than `maxRoomNameBytes` (UTF-8) is not joined
    /// and counted; shorter names and the other rooms are unaffected.
    @Test func roomNamesAreCappedInBytes() async throws {
        var configuration = SocketIOConfiguration()
        configuration.maxRoomNameBytes = 8
        let io = SocketIOServer(configuration: configuration)
        io.on("join") { socket, arguments in
            for room in arguments { socket.join(room.stringValue ?? "") }
        }
        let client = try await SocketIOTestClient(server: io)
        // "éééé" is 4 characters but 8 bytes (allowed); "ééééé" is 10 bytes.
        await client.emit("join", "a", "12345678", "123456789", "éééé", "ééééé")
        let sid = try #require(client.sid())
        #expect(io.rooms(sid: sid) == [sid, "a", "12345678", "éééé"].sorted())
        #expect(io.limits.maxRoomNameBytes.hitCount == 2)
        await client.emit("join", .string(String(repeating: "x", count: 1 << 20)))
        #expect(io.rooms(sid: sid).count == 4)
        #expect(io.limits.maxRoomNameBytes.hitCount == 3)
        #expect(io.limits.maxRoomsPerSocket.hitCount == 0)
    }

    /// Behind a suspended handler the mailbox fills to `maxQueuedEvents`: the connection
    /// stops reading, nothing is dropped, and reading resumes once the handlers caught up.
    @Test func aFullMailboxPausesReadingUntilItDrains() async throws {
        var configuration = SocketIOConfiguration()
        configuration.maxQueuedEvents = 4
        let io = SocketIOServer(configuration: configuration)
        let gate = NIOLockedValueBox<CheckedContinuation<Void, Never>?>(nil)
        let handled = NIOLockedValueBox<[Int]>([])
        io.on("work") { _, arguments in
            let n = arguments.first?.intValue ?? -1
            if n == 0 {
                await withCheckedContinuation { continuation in gate.withLockedValue { $0 = continuation } }
            }
            handled.withLockedValue { $0.append(n) }
        }
        let transport = LimitedTransport()
        try await transport.attach(to: io)
        try await transport.receive("0")
        try await transport.receive(#"2["work",0]"#)
        try await self.eventually { gate.withLockedValue { $0 != nil } }
        for n in 1...10 { try await transport.receive("2[\"work\",\(n)]") }
        #expect(transport.state.withLockedValue { ($0.pauses, $0.resumes) } == (1, 0))
        gate.withLockedValue { $0.take() }?.resume()
        try await self.eventually { handled.withLockedValue { $0.count } == 11 }
        #expect(handled.withLockedValue { $0 } == Array(0...10))
        #expect(transport.state.withLockedValue { ($0.pauses, $0.resumes) } == (1, 1))
    }
}
