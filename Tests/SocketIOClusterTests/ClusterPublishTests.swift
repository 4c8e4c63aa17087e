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
import SocketIOMessageQueue
import SocketIOParser
import SocketIOTesting
import Testing

/// A transport that records exactly what is published, and delivers nothing by itself:
/// a test hands the adapter what other hosts would have sent (`adapter.handle`).
final class RecordingTransport: BackplaneTransport {
    private let published = NIOLockedValueBox<[(channel: String, text: String)]>([])
    let subscriptions = NIOLockedValueBox<[BackplaneSubscription]>([])
    let messages = BackplaneInbox()
    let channel = "socketio"

    func publish(_ payload: ByteBuffer, to channel: String) {
        self.published.withLockedValue { $0.append((channel, String(buffer: payload))) }
    }

    func subscribe(_ subscriptions: [BackplaneSubscription]) {
        self.subscriptions.withLockedValue { $0 += subscriptions }
    }

    var queuedMessages: Int { 0 }
    var isSubscribed: Bool { true }
    func run() async throws {}

    /// Everything published so far on the main channel, and forgets what was published.
    func take() -> [String] {
        self.takeWithChannels().map { $0.channel == self.channel ? $0.text : "\($0.channel): \($0.text)" }
    }

    /// Everything published so far with its channel, and forgets it.
    func takeWithChannels() -> [(channel: String, text: String)] {
        self.published.withLockedValue { published in
            defer { published = [] }
            return published
        }
    }

    /// Waits until something was published, then takes it.
    func next() async throws -> [String] {
        for _ in 0..<400 where self.published.withLockedValue({ $0.isEmpty }) {
            try await Task.sleep(for: .milliseconds(5))
        }
        return self.take()
    }
}

/// What each server operation publishes, value for value (python-socketio's
/// `TestPubSubManager` style), and how a node answers what other hosts publish.
struct ClusterPublishTests {
    private let host = "0123456789abcdef0123456789abcdef"
    private let peer = "ffffffffffffffffffffffffffffffff"
    private let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    private func make() -> (RecordingTransport, ClusterAdapter, SocketIOServer) {
        let transport = RecordingTransport()
        let adapter = ClusterAdapter(transport: transport, hostID: host, logger: logger)
        let server = SocketIOServer(adapter: adapter, logger: logger)
        return (transport, adapter, server)
    }

    private func hear(_ adapter: ClusterAdapter, _ text: String) {
        adapter.handle(ByteBuffer(string: text))
    }

    /// A peer that beats: a live member that requests await.
    /// This node answers a newcomer's beat with its own at once (and nothing else).
    private func addPeer(_ adapter: ClusterAdapter, _ transport: RecordingTransport) {
        hear(adapter, #"{"method":"heartbeat","host_id":"\#(peer)","interval_ms":60000}"#)
        #expect(transport.take() == [#"{"method":"heartbeat","host_id":"\#(host)","interval_ms":5000}"#])
        // A beat of a peer it knows is not answered.
        hear(adapter, #"{"method":"heartbeat","host_id":"\#(peer)","interval_ms":60000}"#)
        #expect(transport.take().isEmpty)
    }

    @Test func emitsAndRoomOperationsPublishPythonsFormat() async throws {
        let (transport, adapter, io) = make()
        io.to("r").except("x").emit("foo", arguments: ["bar"])
        #expect(
            transport.take() == [
                #"{"method":"emit","event":"foo","data":["bar"],"binary":false,"namespace":"/","room":"r","skip_sid":"x","callback":null,"host_id":"\#(host)","seq":1,"epoch":"\#(adapter.epoch)"}"#
            ]
        )
        io.sockets.adapter.join(sid: "remote", rooms: ["a"], namespace: "/")
        io.sockets.adapter.leave(sid: "remote", rooms: ["a"], namespace: "/")
        io.sockets.adapter.closeRoom("a", namespace: "/")
        io.disconnect(sid: "remote")
        #expect(
            transport.take() == [
                #"{"method":"enter_room","sid":"remote","room":"a","namespace":"/","host_id":"\#(host)"}"#,
                #"{"method":"leave_room","sid":"remote","room":"a","namespace":"/","host_id":"\#(host)"}"#,
                #"{"method":"close_room","room":"a","namespace":"/","host_id":"\#(host)"}"#,
                #"{"method":"disconnect","sid":"remote","namespace":"/","host_id":"\#(host)"}"#,
            ]
        )
    }

    @Test func socketOperationsPublishOneMessageEach() async throws {
        let (transport, _, io) = make()
        io.to("r").except("x").socketsJoin("j1", "j2")
        io.of("/chat").socketsLeave("j")
        io.in("r").disconnectSockets(close: true)
        io.local.socketsJoin("mine-only")
        #expect(
            transport.take() == [
                #"{"method":"sockets_join","host_id":"\#(host)","namespace":"/","rooms":["r"],"except":["x"],"target_rooms":["j1","j2"]}"#,
                #"{"method":"sockets_leave","host_id":"\#(host)","namespace":"/chat","rooms":null,"except":[],"target_rooms":["j"]}"#,
                #"{"method":"disconnect_sockets","host_id":"\#(host)","namespace":"/","rooms":["r"],"except":[],"close":true}"#,
            ]
        )
    }

    @Test func serverSideEmitPublishesAndPeersHandlersGetIt() async throws {
        let (transport, adapter, io) = make()
        io.serverSideEmit("hello", "world", 1)
        #expect(transport.take() == [#"{"method":"server_side_emit","host_id":"\#(host)","event":"hello","data":["world",1],"binary":false}"#])
        let heard = NIOLockedValueBox<[[SocketIOValue]]>([])
        io.onServerSideEmit("hello") { arguments, ack in
            heard.withLockedValue { $0.append(arguments) }
            #expect(!ack.isRequested)
        }
        // Our own, echoed: not handled here; a peer's: handled.
        hear(adapter, #"{"method":"server_side_emit","host_id":"\#(host)","event":"hello","data":["mine"],"binary":false}"#)
        hear(adapter, #"{"method":"server_side_emit","host_id":"\#(peer)","event":"hello","data":["theirs"],"binary":false}"#)
        #expect(heard.withLockedValue { $0 } == [["theirs"]])
    }

    @Test func aRequestWithoutPeersIsAnsweredLocallyAndPublishesNothing() async throws {
        let (transport, _, io) = make()
        let client = try await SocketIOTestClient(server: io)
        let result = await io.fetchSockets()
        #expect(result.value.map(\.id) == [client.sid()!])
        #expect(result.isComplete && result.missingNodes.isEmpty && result.nonMemberHosts.isEmpty)
        #expect(transport.take() == [])
    }

    @Test func fetchSocketsPublishesARequestAndMergesTheAnswer() async throws {
        let (transport, adapter, io) = make()
        addPeer(adapter, transport)
        let fetching = Task { await io.in("room").timeout(.seconds(30)).fetchSockets() }
        #expect(
            try await transport.next() == [
                #"{"method":"request","host_id":"\#(host)","request_id":"1","type":"fetch_sockets","namespace":"/","rooms":["room"],"except":[],"event":null,"data":[],"binary":false,"timeout_ms":30000}"#
            ]
        )
        // An answer for another request, or from a host not awaited, changes nothing.
        hear(adapter, #"{"method":"response","host_id":"\#(peer)","to":"\#(host)","request_id":"99","type":"fetch_sockets","sockets":[],"binary":false,"complete":true}"#)
        hear(adapter, #"{"method":"response","host_id":"stranger","to":"\#(host)","request_id":"1","type":"fetch_sockets","sockets":[],"binary":false,"complete":true}"#)
        hear(
            adapter,
            #"{"method":"response","host_id":"\#(peer)","to":"\#(host)","request_id":"1","type":"fetch_sockets","sockets":[{"id":"s1","namespace":"/","handshake":{"query":{"token":"t"},"url":"/socket.io/"},"rooms":["s1","room"],"data":{"user":"ann"}}],"binary":false,"complete":true}"#
        )
        let result = await fetching.value
        #expect(result.isComplete)
        let socket = try #require(result.value.first)
        #expect(result.value.count == 1)
        #expect(socket.id == "s1" && socket.nodeID == peer && socket.rooms == ["s1", "room"] && socket.data == ["user": "ann"])
        #expect(socket.handshake.query == ["token": "t"] && socket.handshake.url == "/socket.io/")
        // Acting on it goes through the channel.
        socket.emit("hi", 1)
        socket.join("vip")
        socket.disconnect(close: true)
        #expect(
            transport.take() == [
                #"{"method":"emit","event":"hi","data":[1],"binary":false,"namespace":"/","room":"s1","skip_sid":null,"callback":null,"host_id":"\#(host)","seq":1,"epoch":"\#(adapter.epoch)"}"#,
                #"{"method":"enter_room","sid":"s1","room":"vip","namespace":"/","host_id":"\#(host)"}"#,
                #"{"method":"disconnect_sockets","host_id":"\#(host)","namespace":"/","rooms":["s1"],"except":[],"close":true}"#,
            ]
        )
    }

    @Test func aNodeAnswersAPeersRequestsOnItsReplyChannel() async throws {
        let (transport, adapter, io) = make()
        let client = try await SocketIOTestClient(server: io, query: ["token": "t"])
        let sid = try #require(client.sid())
        await client.emit("noop")
        io.sockets.adapter.joinLocal(sid: sid, rooms: ["room", "other"], namespace: "/")
        try #require(io.localSockets().first).data = ["user": "ann"]
        _ = transport.take()

        hear(adapter, #"{"method":"request","host_id":"\#(peer)","request_id":"5","type":"fetch_rooms","namespace":"/","rooms":null,"except":[],"event":null,"data":[],"binary":false,"timeout_ms":1000}"#)
        #expect(
            transport.take() == [
                #"socketio#\#(peer): {"method":"response","host_id":"\#(host)","to":"\#(peer)","request_id":"5","type":"fetch_rooms","rooms":{"other":1,"room":1},"binary":false,"complete":true}"#
            ]
        )

        hear(adapter, #"{"method":"request","host_id":"\#(peer)","request_id":"6","type":"fetch_sockets","namespace":"/","rooms":["room"],"except":[],"event":null,"data":[],"binary":false,"timeout_ms":1000}"#)
        let published = transport.takeWithChannels()
        #expect(published.map(\.channel) == ["socketio#\(peer)"])
        let message = try MessageQueueMessage.decode(ByteBuffer(string: published.first?.text ?? ""))
        guard case .response(let response) = message, case .sockets(let sockets) = response.payload else {
            Issue.record("not a fetch_sockets response: \(published)")
            return
        }
        #expect(response.hostID == host && response.to == peer && response.requestID == "6" && response.complete)
        #expect(sockets.map(\.id) == [sid] && sockets.first?.rooms == ["other", "room", sid].sorted() && sockets.first?.data == ["user": "ann"])
        #expect(SocketIORemoteHandshake(value: sockets.first?.handshake ?? .null).query["token"] == "t")

        // A peer's server-side emit with an ack: our handler's answer goes back.
        io.onServerSideEmit("ping") { arguments, ack in ack("pong", arguments.first ?? .null) }
        hear(adapter, #"{"method":"request","host_id":"\#(peer)","request_id":"7","type":"server_side_emit","namespace":"/","rooms":null,"except":[],"event":"ping","data":[3],"binary":false,"timeout_ms":1000}"#)
        #expect(
            transport.take() == [
                #"socketio#\#(peer): {"method":"response","host_id":"\#(host)","to":"\#(peer)","request_id":"7","type":"server_side_emit","args":["pong",3],"binary":false,"complete":true}"#
            ]
        )
        // Our own request, echoed by the broker: not answered.
        hear(adapter, #"{"method":"request","host_id":"\#(host)","request_id":"8","type":"fetch_rooms","namespace":"/","rooms":null,"except":[],"event":null,"data":[],"binary":false,"timeout_ms":1000}"#)
        #expect(transport.take() == [])
    }

    @Test func aBroadcastAckRequestCollectsTheLocalAnswers() async throws {
        let (transport, adapter, io) = make()
        let client = try await SocketIOTestClient(server: io)
        _ = transport.take()
        hear(adapter, #"{"method":"request","host_id":"\#(peer)","request_id":"3","type":"broadcast_ack","namespace":"/","rooms":null,"except":[],"event":"poll","data":["q"],"binary":false,"timeout_ms":30000}"#)
        var ids: [Int] = []
        for _ in 0..<400 where ids.isEmpty {
            try await Task.sleep(for: .milliseconds(5))
            ids = client.pendingAckIDs()
        }
        #expect(client.getReceived().map(\.name) == ["poll"])
        await client.ack(id: try #require(ids.first), "yes")
        #expect(
            try await transport.next() == [
                #"socketio#\#(peer): {"method":"response","host_id":"\#(host)","to":"\#(peer)","request_id":"3","type":"broadcast_ack","answers":[["yes"]],"binary":false,"complete":true}"#
            ]
        )
    }

    @Test func anEmitWithAckForASidWeDoNotHaveIsAnsweredWithAMiss() async throws {
        let (transport, adapter, _) = make()
        hear(
            adapter,
            #"{"method":"emit","event":"q","data":[],"binary":false,"namespace":"/","room":"nobody","skip_sid":null,"callback":["nobody","/",4],"host_id":"\#(peer)"}"#
        )
        #expect(transport.take() == [#"{"method":"callback_miss","host_id":"\#(peer)","from":"\#(host)","sid":"nobody","namespace":"/","id":4}"#])
    }

    @Test func answersToEmitsWithCallbacksGoWhereTheOriginListens() async throws {
        let (transport, adapter, io) = make()
        let client = try await SocketIOTestClient(server: io)
        let sid = try #require(client.sid())
        _ = transport.take()
        // A python worker (no heartbeats) listens on the main channel only.
        hear(adapter, #"{"method":"emit","event":"q","data":[],"binary":false,"namespace":"/","room":"\#(sid)","skip_sid":null,"callback":["\#(sid)","/",8],"host_id":"py"}"#)
        await client.ack(id: try #require(client.pendingAckIDs().first), "to-python")
        #expect(try await transport.next() == [#"{"method":"callback","host_id":"py","sid":"\#(sid)","namespace":"/","id":8,"args":["to-python"]}"#])
        // A Swift node gets its answers, and misses, on its own channel.
        addPeer(adapter, transport)
        hear(adapter, #"{"method":"emit","event":"q","data":[],"binary":false,"namespace":"/","room":"\#(sid)","skip_sid":null,"callback":["\#(sid)","/",9],"host_id":"\#(peer)"}"#)
        await client.ack(id: try #require(client.pendingAckIDs().last), "to-swift")
        #expect(try await transport.next() == [#"socketio#\#(peer): {"method":"callback","host_id":"\#(peer)","sid":"\#(sid)","namespace":"/","id":9,"args":["to-swift"]}"#])
        hear(adapter, #"{"method":"emit","event":"q","data":[],"binary":false,"namespace":"/","room":"gone","skip_sid":null,"callback":["gone","/",10],"host_id":"\#(peer)"}"#)
        #expect(transport.take() == [#"socketio#\#(peer): {"method":"callback_miss","host_id":"\#(peer)","from":"\#(host)","sid":"gone","namespace":"/","id":10}"#])
    }

    @Test func runSubscribesToItsReplyChannel() async throws {
        let (transport, adapter, _) = make()
        let running = Task { try await adapter.run() }
        for _ in 0..<400 where transport.subscriptions.withLockedValue({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(5)) }
        #expect(transport.subscriptions.withLockedValue { $0 } == [.channel("socketio#\(host)")])
        running.cancel()
    }

    @Test func emitWithAckToARemoteSidFailsWhenEveryMemberMissed() async throws {
        let (transport, adapter, io) = make()
        addPeer(adapter, transport)
        let asking = Task { try await io.emitWithAck("q", 1, to: "elsewhere", timeout: .seconds(600)) }
        #expect(
            try await transport.next() == [
                #"{"method":"emit","event":"q","data":[1],"binary":false,"namespace":"/","room":"elsewhere","skip_sid":null,"callback":["elsewhere","/",1],"host_id":"\#(host)","seq":1,"epoch":"\#(adapter.epoch)"}"#
            ]
        )
        // A miss from a host that was not asked (not a member) changes nothing; the peer's does.
        hear(adapter, #"{"method":"callback_miss","host_id":"\#(host)","from":"stranger","sid":"elsewhere","namespace":"/","id":1}"#)
        #expect(adapter.pendingAckCount == 1)
        hear(adapter, #"{"method":"callback_miss","host_id":"\#(host)","from":"\#(peer)","sid":"elsewhere","namespace":"/","id":1}"#)
        // Failed by the miss, not by the (far) timeout.
        guard adapter.pendingAckCount == 0 else {
            Issue.record("the emit still waits")
            return
        }
        await #expect(throws: SocketIOAckError.unknownSocket) { try await asking.value }
    }

    @Test func emitWithAckToARemoteSidGetsTheOwnersCallback() async throws {
        let (transport, adapter, io) = make()
        addPeer(adapter, transport)
        let asking = Task { try await io.emitWithAck("q", to: "theirs", timeout: .seconds(20)) }
        _ = try await transport.next()
        // A callback addressed to another host is not ours.
        hear(adapter, #"{"method":"callback","host_id":"someone-else","sid":"theirs","namespace":"/","id":1,"args":["no"]}"#)
        hear(adapter, #"{"method":"callback","host_id":"\#(host)","sid":"theirs","namespace":"/","id":1,"args":["yes"]}"#)
        #expect(try await asking.value == ["yes"])
    }

    @Test func requestsAndServedBroadcastsAreBounded() async throws {
        let transport = RecordingTransport()
        let adapter = ClusterAdapter(transport: transport, hostID: host, limits: .init(maxPendingRequests: 1, maxServedAckRequests: 0), logger: logger)
        let io = SocketIOServer(adapter: adapter, logger: logger)
        addPeer(adapter, transport)
        let first = Task { await io.timeout(.seconds(30)).fetchRooms() }
        _ = try await transport.next()
        // Beyond the bound: no request published, every peer missing, at once.
        let second = await io.timeout(.seconds(30)).fetchRooms()
        #expect(second.missingNodes == [peer] && !second.isComplete)
        #expect(transport.take() == [])
        hear(adapter, #"{"method":"response","host_id":"\#(peer)","to":"\#(host)","request_id":"1","type":"fetch_rooms","rooms":{"r":2},"binary":false,"complete":true}"#)
        #expect(await first.value.value == ["r": 2])
        // A peer's broadcast with acks beyond the bound: answered at once, empty, incomplete.
        _ = try await SocketIOTestClient(server: io)
        _ = transport.take()
        hear(adapter, #"{"method":"request","host_id":"\#(peer)","request_id":"4","type":"broadcast_ack","namespace":"/","rooms":null,"except":[],"event":"poll","data":[],"binary":false,"timeout_ms":30000}"#)
        #expect(
            transport.take() == [
                #"socketio#\#(peer): {"method":"response","host_id":"\#(host)","to":"\#(peer)","request_id":"4","type":"broadcast_ack","answers":[],"binary":false,"complete":false}"#
            ]
        )
    }

    @Test func aCancelledCallerStopsWaiting() async throws {
        let (transport, adapter, io) = make()
        addPeer(adapter, transport)
        let fetching = Task { await io.timeout(.seconds(600)).fetchSockets() }
        _ = try await transport.next()
        #expect(adapter.pendingRequestCount == 1)
        fetching.cancel()
        for _ in 0..<400 where adapter.pendingRequestCount > 0 { try await Task.sleep(for: .milliseconds(5)) }
        guard adapter.pendingRequestCount == 0 else {
            Issue.record("the cancelled request still waits")
            return
        }
        let result = await fetching.value
        #expect(!result.isComplete && result.missingNodes == [peer])
        // Its answer, coming late, is ignored.
        hear(adapter, #"{"method":"response","host_id":"\#(peer)","to":"\#(host)","request_id":"1","type":"fetch_sockets","sockets":[],"binary":false,"complete":true}"#)
        #expect(adapter.pendingRequestCount == 0)
    }
}
