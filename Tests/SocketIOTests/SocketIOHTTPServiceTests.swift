//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIOParser
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
@testable import SocketIO
import ServiceLifecycle
import SocketIOParser
import Testing

/// The listener service beside its server, on a real loopback socket: readiness follows the
/// server and its adapter, and a failing adapter stops the group (issue 13 item 9).
struct SocketIOHTTPServiceTests {
    /// An in-memory adapter whose `run()` fails on demand, whose readiness is switchable and
    /// which records what it saw when asked to stop.
    final class ControlledAdapter: SocketIOAdapter {
        struct Failure: Error, Equatable {}
        struct RunState {
            var failed = false
            var stopped = false
            var waiter: CheckedContinuation<Void, any Error>?
        }
        let inner = InMemoryAdapter()
        let ready = NIOLockedValueBox(false)
        let state = NIOLockedValueBox(RunState())
        /// Called when `run()` is cancelled; its value is kept in `observedAtStop`.
        let observeAtStop = NIOLockedValueBox<(@Sendable () -> Int)?>(nil)
        let observedAtStop = NIOLockedValueBox<Int?>(nil)

        var isReady: Bool { self.ready.withLockedValue { $0 } }

        /// Waits until cancelled (then returns, as a cluster adapter does) or failed.
        func run() async throws {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let outcome = self.state.withLockedValue { state -> Result<Void, any Error>? in
                        if state.failed { return .failure(Failure()) }
                        if state.stopped { return .success(()) }
                        state.waiter = continuation
                        return nil
                    }
                    if let outcome { continuation.resume(with: outcome) }
                }
            } onCancel: {
                let observed = self.observeAtStop.withLockedValue { $0 }?()
                self.observedAtStop.withLockedValue { $0 = observed }
                let waiter = self.state.withLockedValue { state in
                    state.stopped = true
                    return state.waiter.take()
                }
                waiter?.resume()
            }
        }

        /// Makes `run()` throw, as a backplane thread that died for good.
        func fail() {
            let waiter = self.state.withLockedValue { state in
                state.failed = true
                return state.waiter.take()
            }
            waiter?.resume(throwing: Failure())
        }

        func socketConnected(_ socket: SocketIOSocket) { self.inner.socketConnected(socket) }
        func socketDisconnected(_ socket: SocketIOSocket) { self.inner.socketDisconnected(socket) }
        func joinLocal(sid: String, rooms: [String], namespace: String) { self.inner.joinLocal(sid: sid, rooms: rooms, namespace: namespace) }
        func leaveLocal(sid: String, rooms: [String], namespace: String) { self.inner.leaveLocal(sid: sid, rooms: rooms, namespace: namespace) }
        func join(sid: String, rooms: [String], namespace: String) { self.inner.join(sid: sid, rooms: rooms, namespace: namespace) }
        func leave(sid: String, rooms: [String], namespace: String) { self.inner.leave(sid: sid, rooms: rooms, namespace: namespace) }
        func closeRoom(_ room: String, namespace: String) { self.inner.closeRoom(room, namespace: namespace) }
        func rooms(sid: String, namespace: String) -> [String] { self.inner.rooms(sid: sid, namespace: namespace) }
        func localMembers(of room: String, namespace: String) -> [String] { self.inner.localMembers(of: room, namespace: namespace) }
        func broadcast(_ packet: SocketIOPacket, to target: SocketIOBroadcastTarget) { self.inner.broadcast(packet, to: target) }
        func broadcastWithAck(_ packet: SocketIOPacket, to target: SocketIOBroadcastTarget, timeout: Duration) async throws(SocketIOAckError) -> [[SocketIOValue]] {
            try await self.inner.broadcastWithAck(packet, to: target, timeout: timeout)
        }
        func localSockets(_ target: SocketIOBroadcastTarget) -> [SocketIOSocket] { self.inner.localSockets(target) }
        func addSockets(_ target: SocketIOBroadcastTarget, rooms: [String]) { self.inner.addSockets(target, rooms: rooms) }
        func removeSockets(_ target: SocketIOBroadcastTarget, rooms: [String]) { self.inner.removeSockets(target, rooms: rooms) }
        func disconnectSockets(_ target: SocketIOBroadcastTarget, close: Bool) { self.inner.disconnectSockets(target, close: close) }
        func disconnect(sid: String, namespace: String) { self.inner.disconnect(sid: sid, namespace: namespace) }
        func emitWithAck(_ packet: SocketIOPacket, toSocket sid: String, timeout: Duration) async throws(SocketIOAckError) -> [SocketIOValue] {
            try await self.inner.emitWithAck(packet, toSocket: sid, timeout: timeout)
        }
        func socketCount(namespace: String) -> Int { self.inner.socketCount(namespace: namespace) }
        func localSocket(sid: String, namespace: String) -> SocketIOSocket? { self.inner.localSocket(sid: sid, namespace: namespace) }
    }

    /// The status line of a plain `GET path` on a fresh connection.
    static func status(_ path: String, port: Int) async throws -> Int? {
        let answer = try await self.exchange("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", port: port)
        return answer.split(separator: " ").dropFirst().first.flatMap { Int($0) }
    }

    /// Sends `request` on a fresh connection; returns everything the server sent until it closed.
    static func exchange(_ request: String, port: Int) async throws -> String {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: request))
            var text = ""
            for try await chunk in inbound {
                text += String(buffer: chunk)
            }
            return text
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func readinessFollowsTheServerAndItsAdapterAndAFailingAdapterStopsTheGroup() async throws {
        let adapter = ControlledAdapter()
        let io = SocketIOServer(adapter: adapter)
        let listener = io.httpServer(host: "127.0.0.1", port: 0)
        let drained = NIOLockedValueBox(false)
        let group = ServiceGroup(configuration: .init(services: [.init(service: io), .init(service: listener)], logger: .init(label: "test")))
        let outcome = NIOLockedValueBox<(any Error)??>(nil)
        let running = Task {
            do {
                try await group.run()
                outcome.withLockedValue { $0 = .some(nil) }
            } catch {
                outcome.withLockedValue { $0 = .some(error) }
            }
        }
        defer { running.cancel() }
        let port = try #require(try await listener.localAddress.port)
        for _ in 0..<500 where !io.isServing { try await Task.sleep(for: .milliseconds(10)) }
        io.startBackgroundTask {
            try? await Task.sleep(for: .seconds(3600))
            drained.withLockedValue { $0 = true }
        }

        #expect(try await Self.status("/healthz", port: port) == 200)
        #expect(try await Self.status("/readyz", port: port) == 503)
        adapter.ready.withLockedValue { $0 = true }
        #expect(try await Self.status("/readyz", port: port) == 200)

        // The backplane dies: the group ends with the adapter's error, within seconds (not
        // only when the listener would stop), the port closed and the tasks drained.
        adapter.fail()
        for _ in 0..<500 where outcome.withLockedValue({ $0 }) == nil {
            try await Task.sleep(for: .milliseconds(10))
        }
        let ended = try #require(outcome.withLockedValue { $0 }, "the group kept running after the adapter failed")
        #expect(ended is ControlledAdapter.Failure)
        #expect(drained.withLockedValue { $0 })
        await #expect(throws: (any Error).self) { try await Self.status("/healthz", port: port) }
    }

    /// A listener whose server does not run never reports ready: its adapter is not
    /// subscribed and nothing would drain its handler tasks.
    @Test(.timeLimit(.minutes(1)))
    func aListenerWithoutItsServerIsNotReady() async throws {
        let io = SocketIOServer()
        let listener = io.httpServer(host: "127.0.0.1", port: 0)
        let running = Task { try await listener.run() }
        defer { running.cancel() }
        let port = try #require(try await listener.localAddress.port)
        #expect(try await Self.status("/healthz", port: port) == 200)
        #expect(try await Self.status("/readyz", port: port) == 503)
    }

    /// A refused WebSocket upgrade is answered with the Engine.IO error, not a dropped
    /// connection (a proxy counts a dropped one as a failed worker: issue 13 item 10).
    @Test(.timeLimit(.minutes(1)))
    func refusedUpgradeIsAnsweredOnARealSocket() async throws {
        let io = SocketIOServer()
        let service = io.httpServer(host: "127.0.0.1", port: 0)
        let running = Task { try await service.run() }
        defer { running.cancel() }
        let port = try #require(try await service.localAddress.port)
        let answer = try await Self.exchange(
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n"
                + "Origin: http://evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            port: port
        )
        #expect(answer.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        #expect(answer.hasSuffix(#"{"code":3,"message":"Not an accepted origin"}"#))
        #expect(!answer.contains("Access-Control-Allow-Origin"))
    }
}
