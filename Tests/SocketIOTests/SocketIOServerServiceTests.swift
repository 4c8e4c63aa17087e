//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIO
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle
@testable import SocketIO
import Testing

/// `SocketIOServer` as a `Service`: what its `run()` does on graceful shutdown, alone and
/// beside its listener in one `ServiceGroup`.
struct SocketIOServerServiceTests {
    private typealias ControlledAdapter = SocketIOHTTPServiceTests.ControlledAdapter

    /// A group of `services` that traps no signals; stopped with `triggerGracefulShutdown()`.
    private func group(_ services: [any Service]) -> ServiceGroup {
        ServiceGroup(configuration: .init(services: services.map { .init(service: $0) }, logger: .init(label: "test")))
    }

    private func waitUntil(_ condition: @Sendable () -> Bool) async throws {
        for _ in 0..<500 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
    }

    /// An Engine.IO polling handshake on the listener: the new session's id.
    private func handshake(port: Int) async throws -> String {
        let answer = try await SocketIOHTTPServiceTests.exchange(
            "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n",
            port: port
        )
        let sid = try #require(answer.firstMatch(of: /"sid":"([^"]+)"/)?.1, "no handshake: \(answer)")
        return String(sid)
    }

    /// A long-poll GET of a session, held by the server until it has something to send:
    /// the body of its answer.
    private func poll(sid: String, port: Int) -> Task<String, any Error> {
        Task {
            let answer = try await SocketIOHTTPServiceTests.exchange(
                "GET /socket.io/?EIO=4&transport=polling&sid=\(sid) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n",
                port: port
            )
            return String(answer.split(separator: "\r\n\r\n", maxSplits: 1).last ?? "")
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func gracefulShutdownDrainsHandlerAndBackgroundTasks() async throws {
        let io = SocketIOServer()
        let handlerStarted = NIOLockedValueBox(false)
        let handlerEnded = NIOLockedValueBox(false)
        let backgroundEnded = NIOLockedValueBox(false)
        io.on("slow") { _, _ in
            handlerStarted.withLockedValue { $0 = true }
            try? await Task.sleep(for: .seconds(3600))
            handlerEnded.withLockedValue { $0 = true }
        }
        let group = self.group([io])
        let running = Task { try await group.run() }
        try await self.waitUntil { io.isServing }
        #expect(io.isReady)
        io.startBackgroundTask {
            try? await Task.sleep(for: .seconds(3600))
            backgroundEnded.withLockedValue { $0 = true }
        }
        let client = try await WireClient(server: io)
        try await client.receive("0")
        _ = try await client.frames(atLeast: 1)
        try await client.receive(#"2["slow"]"#)
        try await self.waitUntil { handlerStarted.withLockedValue { $0 } }

        await group.triggerGracefulShutdown()
        try await running.value
        // `run()` returned after both tasks ended (cancelled, not left running).
        #expect(handlerEnded.withLockedValue { $0 })
        #expect(backgroundEnded.withLockedValue { $0 })
        #expect(!io.isReady)
        #expect(io.isStopping)
    }

    /// Without a listener that drained them first, the server closes the sessions left: a
    /// held poll is answered with a noop (no close packet: the client reconnects).
    @Test(.timeLimit(.minutes(1)))
    func theServerClosesTheSessionsLeftAsShuttingDown() async throws {
        let io = SocketIOServer()
        // Outside the group: only the server sees the graceful shutdown.
        let listener = io.httpServer(host: "127.0.0.1", port: 0)
        let listening = Task { try await listener.run() }
        defer { listening.cancel() }
        let port = try #require(try await listener.localAddress.port)
        let group = self.group([io])
        let running = Task { try await group.run() }
        try await self.waitUntil { io.isServing }
        let sid = try await self.handshake(port: port)
        let held = self.poll(sid: sid, port: port)
        try await self.waitUntil { io.engine.session(id: sid) != nil }
        // The poll must be held before the shutdown, else it would find the session closed.
        try await Task.sleep(for: .milliseconds(100))

        await group.triggerGracefulShutdown()
        try await running.value
        #expect(io.engine.sessionCount == 0)
        #expect(try await held.value == "6")
    }

    /// In `[io, listener]` the listener stops first: it drains the sessions while the adapter
    /// still runs (broadcasts reach them to the end), then the server stops the adapter.
    @Test(.timeLimit(.minutes(1)))
    func theListenerDrainsTheSessionsBeforeTheServerStopsItsAdapter() async throws {
        let adapter = ControlledAdapter()
        adapter.ready.withLockedValue { $0 = true }
        let io = SocketIOServer(adapter: adapter)
        adapter.observeAtStop.withLockedValue { $0 = { io.engine.sessionCount } }
        let listener = io.httpServer(host: "127.0.0.1", port: 0)
        let group = self.group([io, listener])
        let running = Task { try await group.run() }
        let port = try #require(try await listener.localAddress.port)
        try await self.waitUntil { io.isServing }
        let sid = try await self.handshake(port: port)
        let held = self.poll(sid: sid, port: port)
        try await Task.sleep(for: .milliseconds(100))
        #expect(io.engine.sessionCount == 1)

        await group.triggerGracefulShutdown()
        try await running.value
        #expect(adapter.observedAtStop.withLockedValue { $0 } == 0, "sessions were still open when the adapter stopped")
        #expect(try await held.value == "6")
    }

    /// A server runs once: a second `run()` while it runs, or after, throws and leaves the
    /// running one alone.
    @Test(.timeLimit(.minutes(1)))
    func aSecondRunIsRefused() async throws {
        let io = SocketIOServer()
        let group = self.group([io])
        let running = Task { try await group.run() }
        try await self.waitUntil { io.isServing }

        await #expect(throws: SocketIOServiceError.alreadyRunning) { try await io.run() }
        #expect(io.isServing)

        await group.triggerGracefulShutdown()
        try await running.value
        await #expect(throws: SocketIOServiceError.alreadyFinished) { try await io.run() }
        await #expect(throws: SocketIOServiceError.alreadyFinished) { try await io.run(host: "127.0.0.1", port: 0) }
    }

    /// The convenience runs the server and a listener, and stops both when cancelled.
    @Test(.timeLimit(.minutes(1)))
    func runHostPortServesUntilCancelled() async throws {
        let io = SocketIOServer()
        let ended = NIOLockedValueBox(false)
        io.startBackgroundTask {
            try? await Task.sleep(for: .seconds(3600))
            ended.withLockedValue { $0 = true }
        }
        let running = Task { try await io.run(host: "127.0.0.1", port: 0) }
        try await self.waitUntil { io.isServing }
        running.cancel()
        _ = try? await running.value
        #expect(ended.withLockedValue { $0 })
        await #expect(throws: SocketIOServiceError.alreadyFinished) { try await io.run() }
    }
}
