//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIO
import EngineIOParser
import Foundation
import NIOConcurrencyHelpers
import NIOCore
@testable import SocketIO
import SocketIOParser
import Testing

extension WireClient {
    /// The connection ends under its sockets (what the engine reports on a dropped transport).
    func drop(reason: EngineIOCloseReason = .transportClose) async throws {
        let handler = self.handler
        try await self.transport.eventLoop.submit { handler.value.sessionDidClose(reason: reason) }.get()
    }
}

/// Connection state recovery on the wire: pid, offsets, persisting on a recoverable
/// disconnect, restoring on CONNECT (Node's `connectionStateRecovery`).
struct ConnectionStateRecoveryTests {
    /// What a connect handler saw.
    struct Connected: Sendable {
        var id: String
        var recovered: Bool
        var rooms: [String]
        var data: Int?
    }

    private func server(_ options: SocketIOConnectionStateRecovery = SocketIOConnectionStateRecovery()) -> SocketIOServer {
        var configuration = SocketIOConfiguration()
        configuration.connectionStateRecovery = options
        return SocketIOServer(configuration: configuration)
    }

    /// The JSON of a frame after its type digits (`40…`, `42…`).
    private func json(_ frame: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(frame.dropFirst(2).utf8), options: [.fragmentsAllowed])
    }

    private func connectReply(_ frame: String) throws -> [String: String] {
        #expect(frame.hasPrefix("40{"))
        return try #require(try self.json(frame) as? [String: String])
    }

    /// An EVENT frame's name and arguments, the offset (a string, last) left in.
    private func event(_ frame: String) throws -> [Any] {
        #expect(frame.hasPrefix("42["))
        return try #require(try self.json(frame) as? [Any])
    }

    /// Connects a client to `/`, lets `emit` send it one event, and returns the client, its
    /// CONNECT reply and the offset that event carried: the start of every recovery.
    private func connectWithOffset(
        _ io: SocketIOServer,
        emit: (SocketIOServer) -> Void = { $0.emit("news", 0) }
    ) async throws -> (client: WireClient, reply: [String: String], offset: String) {
        let client = try await WireClient(server: io)
        try await client.receive("0")
        let reply = try self.connectReply(try await client.frames(atLeast: 1)[0])
        emit(io)
        let offset = try self.offset(try await client.frames(atLeast: 2)[1])
        return (client, reply, offset)
    }

    private func offset(_ frame: String) throws -> String {
        try #require(try self.event(frame).last as? String)
    }

    private func names(_ frames: some Sequence<String>) throws -> [String] {
        try frames.map { try #require(try self.event($0).first as? String) }
    }

    /// Waits until `count` frames were written, then a little longer so that an extra frame
    /// (a duplicate) would be there too.
    private func settledFrames(_ client: WireClient, count: Int) async throws -> [String] {
        _ = try await client.frames(atLeast: count)
        try await Task.sleep(for: .milliseconds(50))
        return client.transport.frames
    }

    @Test func pidInTheConnectReplyOnlyWithRecoveryOn() async throws {
        let off = try await WireClient(server: SocketIOServer())
        try await off.receive("0")
        let plain = try self.connectReply(try await off.frames(atLeast: 1)[0])
        #expect(Set(plain.keys) == ["sid"])

        let on = try await WireClient(server: self.server())
        try await on.receive("0")
        let reply = try self.connectReply(try await on.frames(atLeast: 1)[0])
        #expect(Set(reply.keys) == ["sid", "pid"])
        #expect(reply["pid"] != reply["sid"])
    }

    @Test func offsetsOnBroadcastsAndSocketEmitsOnly() async throws {
        let io = self.server()
        io.onConnect { socket, _ in socket.emit("hello", 1) }
        let client = try await WireClient(server: io)
        try await client.receive("0")
        _ = try await client.frames(atLeast: 2)
        io.emit("news", "x")
        io.volatile.emit("ticker", 2)
        let frames = try await client.frames(atLeast: 4)
        let hello = try self.event(frames[1])
        #expect(hello.count == 3 && hello[0] as? String == "hello" && hello[1] as? Int == 1)
        let news = try self.event(frames[2])
        #expect(news.count == 3 && news[0] as? String == "news" && news[1] as? String == "x")
        #expect(try self.offset(frames[1]) != self.offset(frames[2]))
        // Volatile events are not logged, so they carry no offset.
        #expect(frames[3] == #"42["ticker",2]"#)

        let store = try #require(io.recovery?.memoryStore)
        #expect(store.packetCount == 2)
    }

    @Test func broadcastsCarryNoOffsetWithRecoveryOff() async throws {
        let io = SocketIOServer()
        io.onConnect { socket, _ in socket.emit("hello", 1) }
        let client = try await WireClient(server: io)
        try await client.receive("0")
        _ = try await client.frames(atLeast: 2)
        io.emit("news", "x")
        let frames = try await client.frames(atLeast: 3)
        #expect(frames[1] == #"42["hello",1]"#)
        #expect(frames[2] == #"42["news","x"]"#)
    }

    @Test func aDroppedTransportRecoversIdRoomsDataAndMissedEventsInOrderOnce() async throws {
        let io = self.server()
        let seen = NIOLockedValueBox<[Connected]>([])
        io.onConnect { socket, _ in
            if socket.recovered {
                // Reaches the socket live (queued behind the reply) and is logged: sent once.
                io.to("a").emit("during", 0)
            } else {
                socket.join("a")
                socket.session["n"] = 7
            }
            let connected = Connected(id: socket.id, recovered: socket.recovered, rooms: socket.rooms, data: socket.session.get("n"))
            seen.withLockedValue { $0.append(connected) }
        }
        let (first, reply, offset) = try await self.connectWithOffset(io) { $0.to("a").emit("before", 0) }

        try await first.drop()
        #expect(io.recovery?.memoryStore?.sessionCount == 1)
        io.to("a").emit("m1", 1)
        io.to("b").emit("other room", 0)
        io.except("a").emit("left out", 0)
        io.to("a").except("b").emit("m2", 2)
        io.emit("m3", 3)
        io.to("a").volatile.emit("volatile", 0)

        let second = try await WireClient(server: io)
        try await second.receive(#"0{"pid":"\#(reply["pid"]!)","offset":"\#(offset)"}"#)
        let frames = try await self.settledFrames(second, count: 5)
        let again = try self.connectReply(frames[0])
        #expect(again == reply)
        #expect(try self.names(frames.dropFirst()) == ["m1", "m2", "m3", "during"])
        let offsets = try frames.dropFirst().map { try self.offset($0) }
        #expect(Set(offsets).count == offsets.count)

        let connections = seen.withLockedValue { $0 }
        #expect(connections.count == 2)
        let recovered = try #require(connections.last)
        #expect(recovered.id == reply["sid"])
        #expect(recovered.recovered)
        #expect(recovered.rooms.contains("a"))
        #expect(recovered.data == 7)
        #expect(io.recovery?.memoryStore?.sessionCount == 0)
    }

    @Test func socketEmitsAreReplayedToTheirSocketOnly() async throws {
        let io = self.server()
        io.on("ping") { socket, _ in socket.emit("pong", 1) }
        let (first, reply, offset) = try await self.connectWithOffset(io) { $0.emit("start", 0) }
        let other = try await WireClient(server: io)
        try await other.receive("0")
        _ = try await other.frames(atLeast: 1)

        try await first.drop()
        // Logged for the first socket's own room (its id): the other socket's emits are not.
        let socket = try #require(io.adapter.localSocket(sid: try self.connectReply(other.transport.frames[0])["sid"]!, namespace: "/"))
        socket.emit("not yours", 0)
        let gone = io.adapter.localSocket(sid: reply["sid"]!, namespace: "/")
        #expect(gone == nil)

        let second = try await WireClient(server: io)
        try await second.receive(#"0{"pid":"\#(reply["pid"]!)","offset":"\#(offset)"}"#)
        _ = try await second.frames(atLeast: 1)
        try await second.receive(#"2["ping"]"#)
        let frames = try await self.settledFrames(second, count: 2)
        #expect(try self.names(frames.dropFirst()) == ["pong"])
    }

    @Test func anEmitOfAHandlerThatOutlivedTheTransportIsReplayed() async throws {
        let io = self.server()
        let gate = NIOLockedValueBox<CheckedContinuation<Void, Never>?>(nil)
        io.on("slow") { socket, _ in
            await withCheckedContinuation { continuation in gate.withLockedValue { $0 = continuation } }
            socket.emit("late", 1)
        }
        let (first, reply, offset) = try await self.connectWithOffset(io) { $0.emit("start", 0) }
        try await first.receive(#"2["slow"]"#)
        for _ in 0..<400 where gate.withLockedValue({ $0 == nil }) { try await Task.sleep(for: .milliseconds(5)) }
        try await first.drop()
        gate.withLockedValue { $0 }?.resume()

        let second = try await WireClient(server: io)
        for _ in 0..<400 where io.recovery?.memoryStore?.packetCount != 2 { try await Task.sleep(for: .milliseconds(5)) }
        try await second.receive(#"0{"pid":"\#(reply["pid"]!)","offset":"\#(offset)"}"#)
        let frames = try await self.settledFrames(second, count: 2)
        #expect(try self.connectReply(frames[0]) == reply)
        #expect(try self.names(frames.dropFirst()) == ["late"])
        #expect(first.transport.frames.count == 2)
    }

    @Test func anExpiredSessionGetsANewOne() async throws {
        let io = self.server(SocketIOConnectionStateRecovery(maxDisconnectionDuration: .milliseconds(1)))
        let (first, reply, offset) = try await self.connectWithOffset(io)
        try await first.drop(reason: .pingTimeout)
        try await Task.sleep(for: .milliseconds(20))

        let second = try await WireClient(server: io)
        try await second.receive(#"0{"pid":"\#(reply["pid"]!)","offset":"\#(offset)"}"#)
        let again = try self.connectReply(try await second.frames(atLeast: 1)[0])
        #expect(again["sid"] != reply["sid"])
        #expect(again["pid"] != reply["pid"])
        #expect(again["pid"] != nil)
        let socket = try #require(io.adapter.localSocket(sid: again["sid"]!, namespace: "/"))
        #expect(!socket.recovered)
    }

    @Test func anUnknownOffsetGetsANewSession() async throws {
        let io = self.server()
        let first = try await WireClient(server: io)
        try await first.receive("0")
        let reply = try self.connectReply(try await first.frames(atLeast: 1)[0])
        try await first.drop()
        let second = try await WireClient(server: io)
        try await second.receive(#"0{"pid":"\#(reply["pid"]!)","offset":"not-an-offset"}"#)
        let again = try self.connectReply(try await second.frames(atLeast: 1)[0])
        #expect(again["sid"] != reply["sid"])
    }

    @Test func aNamespaceDisconnectKeepsNoSession() async throws {
        let io = self.server()
        let client = try await WireClient(server: io)
        try await client.receive("0")
        let reply = try self.connectReply(try await client.frames(atLeast: 1)[0])
        io.emit("news", 0)
        let offset = try self.offset(try await client.frames(atLeast: 2)[1])
        try await client.receive("1")
        #expect(io.recovery?.memoryStore?.sessionCount == 0)
        try await client.receive(#"0{"pid":"\#(reply["pid"]!)","offset":"\#(offset)"}"#)
        let again = try self.connectReply(try await client.frames(atLeast: 3)[2])
        #expect(again["sid"] != reply["sid"])
    }

    @Test func aParseErrorKeepsNoSession() async throws {
        let io = self.server()
        let client = try await WireClient(server: io)
        try await client.receive("0")
        _ = try await client.frames(atLeast: 1)
        try await client.receive("9garbage")
        #expect(client.transport.isClosed)
        #expect(io.recovery?.memoryStore?.sessionCount == 0)
    }

    @Test func aServerCloseOnPurposeKeepsNoSession() async throws {
        let io = self.server()
        _ = io.of("/chat")
        io.on("kick") { socket, _ in socket.disconnect(close: true) }
        let client = try await WireClient(server: io)
        try await client.receive("0")
        try await client.receive("0/chat,")
        _ = try await client.frames(atLeast: 2)
        try await client.receive(#"2["kick"]"#)
        // Node `socket.disconnect(true)`: every namespace is told, then the transport closes.
        let frames = try await client.frames(atLeast: 4)
        #expect(Set(frames[2...]) == ["41", "41/chat,"])
        for _ in 0..<400 where !client.transport.isClosed { try await Task.sleep(for: .milliseconds(5)) }
        #expect(client.transport.isClosed)
        #expect(io.recovery?.memoryStore?.sessionCount == 0)
    }

    @Test(arguments: [true, false])
    func middlewaresAreSkippedOnRecoveryWhenConfigured(skip: Bool) async throws {
        let io = self.server(SocketIOConnectionStateRecovery(skipMiddlewares: skip))
        let runs = NIOLockedValueBox(0)
        io.use { _ in runs.withLockedValue { $0 += 1 } }
        let (first, reply, offset) = try await self.connectWithOffset(io)
        try await first.drop()

        let second = try await WireClient(server: io)
        try await second.receive(#"0{"pid":"\#(reply["pid"]!)","offset":"\#(offset)"}"#)
        let again = try self.connectReply(try await second.frames(atLeast: 1)[0])
        #expect(again["sid"] == reply["sid"])
        #expect(runs.withLockedValue { $0 } == (skip ? 1 : 2))
    }

    @Test func aSessionIsRestoredOnlyInItsNamespace() async throws {
        let io = self.server()
        _ = io.of("/chat")
        let first = try await WireClient(server: io)
        try await first.receive("0/chat,")
        let reply = try #require(try JSONSerialization.jsonObject(with: Data(try await first.frames(atLeast: 1)[0].dropFirst(8).utf8)) as? [String: String])
        io.of("/chat").emit("news", 0)
        let frame = try await first.frames(atLeast: 2)[1]
        let offset = try #require((try JSONSerialization.jsonObject(with: Data(frame.dropFirst(8).utf8)) as? [Any])?.last as? String)
        try await first.drop()

        let elsewhere = try await WireClient(server: io)
        try await elsewhere.receive(#"0{"pid":"\#(reply["pid"]!)","offset":"\#(offset)"}"#)
        let main = try self.connectReply(try await elsewhere.frames(atLeast: 1)[0])
        #expect(main["sid"] != reply["sid"])
        try await elsewhere.receive(#"0/chat,{"pid":"\#(reply["pid"]!)","offset":"\#(offset)"}"#)
        let chat = try await elsewhere.frames(atLeast: 2)[1]
        #expect(chat.hasPrefix(#"40/chat,{"sid":"\#(reply["sid"]!)""#))
    }

    /// A store that answers restores asynchronously, after the test lets it.
    final class SlowStore: SocketIOSessionStore {
        let base = InMemorySessionStore()
        let gate = NIOLockedValueBox<[CheckedContinuation<Void, Never>]>([])

        func makeOffset() -> SocketIOPacketOffset { self.base.makeOffset() }
        func append(_ packet: SocketIOStoredPacket, now: NIODeadline) -> Int { self.base.append(packet, now: now) }
        func persist(_ session: SocketIOPersistedSession, now: NIODeadline) -> Int { self.base.persist(session, now: now) }
        func restore(pid: String, offset: String, namespace: String, now: NIODeadline) async -> Result<SocketIORestoredSession, SocketIOSessionRestoreFailure> {
            await withCheckedContinuation { continuation in self.gate.withLockedValue { $0.append(continuation) } }
            return self.base.restore(pid: pid, offset: offset, namespace: namespace, now: now)
        }
        func missedPackets(after offset: String, for session: SocketIOPersistedSession) async -> Result<[[EngineIOFrame]], SocketIOSessionRestoreFailure> {
            self.base.missedPackets(after: offset, for: session)
        }
        func prune(now: NIODeadline) { self.base.prune(now: now) }

        func release() async throws {
            for _ in 0..<400 where self.gate.withLockedValue({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(5)) }
            for continuation in self.gate.withLockedValue({ state in defer { state = [] }; return state }) { continuation.resume() }
        }
    }

    @Test func anAsynchronousStoreRestoresAndRefusesADuplicateConnectMeanwhile() async throws {
        var configuration = SocketIOConfiguration()
        configuration.connectionStateRecovery = SocketIOConnectionStateRecovery()
        let store = SlowStore()
        let io = SocketIOServer(configuration: configuration, sessionStore: store)
        let (first, reply, offset) = try await self.connectWithOffset(io)
        try await first.drop()
        io.emit("missed", 1)

        let second = try await WireClient(server: io)
        try await second.receive(#"0{"pid":"\#(reply["pid"]!)","offset":"\#(offset)"}"#)
        try await store.release()
        let frames = try await self.settledFrames(second, count: 2)
        #expect(try self.connectReply(frames[0]) == reply)
        #expect(try self.names(frames.dropFirst()) == ["missed"])

        // A duplicate CONNECT while the restore is pending closes the connection.
        try await second.drop()
        let third = try await WireClient(server: io)
        try await third.receive(#"0{"pid":"\#(reply["pid"]!)","offset":"\#(offset)"}"#)
        try await third.receive("0")
        #expect(third.transport.isClosed)
        try await store.release()
    }

    @Test func aConnectionClosedDuringAnAsynchronousRestoreGivesTheSessionBack() async throws {
        var configuration = SocketIOConfiguration()
        configuration.connectionStateRecovery = SocketIOConnectionStateRecovery()
        let store = SlowStore()
        let io = SocketIOServer(configuration: configuration, sessionStore: store)
        let (first, reply, offset) = try await self.connectWithOffset(io)
        try await first.drop()

        let second = try await WireClient(server: io)
        try await second.receive(#"0{"pid":"\#(reply["pid"]!)","offset":"\#(offset)"}"#)
        try await second.drop()
        try await store.release()
        for _ in 0..<400 where store.base.sessionCount == 0 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(store.base.sessionCount == 1)
        #expect(second.transport.frames.isEmpty)
    }

    @Test func aSocketThatLeavesLateDoesNotTakeItsRecoveredSuccessorWithIt() async throws {
        let io = self.server()
        let gate = NIOLockedValueBox<CheckedContinuation<Void, Never>?>(nil)
        io.onConnect { socket, _ in if !socket.recovered { socket.join("a") } }
        io.onDisconnecting { _, _ in
            await withCheckedContinuation { continuation in gate.withLockedValue { $0 = continuation } }
        }
        let (first, reply, offset) = try await self.connectWithOffset(io) { $0.to("a").emit("news", 0) }
        try await first.drop()
        for _ in 0..<400 where gate.withLockedValue({ $0 == nil }) { try await Task.sleep(for: .milliseconds(5)) }

        // The old socket is still in its rooms (its disconnecting handler waits) when its
        // session comes back.
        let second = try await WireClient(server: io)
        try await second.receive(#"0{"pid":"\#(reply["pid"]!)","offset":"\#(offset)"}"#)
        #expect(try self.connectReply(try await second.frames(atLeast: 1)[0]) == reply)
        gate.withLockedValue { $0 }?.resume()
        for _ in 0..<400 where io.adapter.localSocket(sid: reply["sid"]!, namespace: "/")?.recovered != true {
            try await Task.sleep(for: .milliseconds(5))
        }
        try await Task.sleep(for: .milliseconds(20))
        let socket = try #require(io.adapter.localSocket(sid: reply["sid"]!, namespace: "/"))
        #expect(socket.recovered)
        #expect(socket.rooms.contains("a"))
        io.to("a").emit("after", 1)
        #expect(try self.names(try await self.settledFrames(second, count: 2).dropFirst()) == ["after"])
    }

    @Test func pruningDropsExpiredSessions() async throws {
        let io = self.server(SocketIOConnectionStateRecovery(maxDisconnectionDuration: .milliseconds(1)))
        let client = try await WireClient(server: io)
        try await client.receive("0")
        _ = try await client.frames(atLeast: 1)
        try await client.drop()
        let recovery = try #require(io.recovery)
        let store = try #require(recovery.memoryStore)
        #expect(store.sessionCount == 1)
        let pruning = Task { await recovery.runPruning(every: .milliseconds(5)) }
        for _ in 0..<400 where store.sessionCount > 0 { try await Task.sleep(for: .milliseconds(5)) }
        pruning.cancel()
        await pruning.value
        #expect(store.sessionCount == 0)
    }

    @Test func theLogIsBoundedAndCountsItsLimit() async throws {
        var options = SocketIOConnectionStateRecovery()
        options.maxPackets = 2
        let io = self.server(options)
        for index in 0..<5 { io.emit("news", .int(index)) }
        #expect(io.recovery?.memoryStore?.packetCount == 2)
    }
}
