//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

@testable import EngineIO
import EngineIOParser
import Foundation
import NIOCore
import NIOEmbedded
import Testing

/// Clients that try to exhaust or freeze the engine (issue 13, items 1, 3, 4), on the wire.
struct HostileClientWireTests {
    private func configuration(_ change: (inout EngineIOConfiguration) -> Void) -> EngineIOConfiguration {
        var configuration = EngineIOConfiguration(
            path: "/engine.io/",
            pingInterval: .milliseconds(300),
            pingTimeout: .milliseconds(200),
            cors: .any
        )
        change(&configuration)
        return configuration
    }

    /// A session upgraded to WebSocket on `harness`, its greeting read, with `observer`
    /// added to its pipeline at `position`.
    private func webSocketSession(
        _ harness: WireHarness,
        observer: any ChannelHandler,
        at position: ChannelPipeline.SynchronousOperations.Position
    ) throws -> (TestConnection, EngineIOSession) {
        let connection = try harness.connect()
        #expect(try connection.upgrade("/engine.io/?EIO=4&transport=websocket")?.status == 101)
        _ = try connection.readFrames()
        try connection.channel.pipeline.syncOperations.addHandler(observer, position: position)
        let session = try #require(harness.engine.session(id: harness.delegate.opened[0]))
        return (connection, session)
    }

    // MARK: Item 1: no close inside a send

    /// A send that overflows the buffer closes the session after the sender's call has
    /// returned, never inside it: the sender may hold its own lock (F1: the Socket.IO
    /// socket sent its CONNECT reply under its lock, and the close took it again).
    @Test func anOverflowingSendClosesTheSessionAfterTheSenderReturns() throws {
        let harness = WireHarness(configuration: self.configuration { $0.maxBufferedBytes = 300 }, echo: false)
        let probe = ReentrancyProbe(delegate: harness.delegate)
        harness.delegate.onReceive = { session, _ in probe.sendAndCheck(session, bytes: 400) }
        let (sid, _) = try harness.handshake()
        #expect(try harness.connect().request("POST", "/engine.io/?EIO=4&transport=polling&sid=\(sid)", body: "4go")?.status == 200)
        harness.loop.run()
        #expect(probe.closedInsideSend == false)
        #expect(harness.delegate.closed.map(\.1) == [.transportError])
        #expect(harness.engine.session(id: sid) == nil)
    }

    // MARK: Item 3: a WebSocket client that does not read

    /// While the channel is not writable (the client does not read), the connection does
    /// not read either; it reads again once writable.
    @Test func webSocketStopsReadingWhileTheClientDoesNotRead() throws {
        let harness = WireHarness()
        let connection = try harness.connect()
        #expect(try connection.upgrade("/engine.io/?EIO=4&transport=websocket")?.status == 101)
        _ = try connection.readFrames()
        let reads = ReadCounter()
        try connection.channel.pipeline.syncOperations.addHandler(reads, position: .first)

        connection.channel.read()
        #expect(reads.count == 1)

        connection.channel.isWritable = false
        connection.channel.pipeline.fireChannelWritabilityChanged()
        connection.channel.read()
        // A ping flood meanwhile: the pong is written (through the capped writer), but
        // nothing more is read.
        try connection.sendFrame(opcode: 9, Array("ping".utf8))
        connection.channel.read()
        #expect(reads.count == 1)

        connection.channel.isWritable = true
        connection.channel.pipeline.fireChannelWritabilityChanged()
        #expect(reads.count == 2)
        #expect(try connection.readFrames().contains(TestFrame(opcode: 10, payload: Array("ping".utf8))))
    }

    /// The application's backpressure (a full Socket.IO mailbox) stops reading too, over
    /// WebSocket; reading resumes with the last matching resume.
    @Test func webSocketStopsReadingWhileTheApplicationPauses() throws {
        let harness = WireHarness()
        let reads = ReadCounter()
        let (connection, session) = try self.webSocketSession(harness, observer: reads, at: .first)

        session.pauseReading()
        session.pauseReading()
        connection.channel.read()
        #expect(reads.count == 0)
        session.resumeReading()
        #expect(reads.count == 0)
        session.resumeReading()
        #expect(reads.count == 1)
    }

    /// Review finding 1: a socket whose mailbox fills off the loop (`end()`, a barrier, a
    /// handler on the global executor) asks for the pause after releasing its lock, so the
    /// drain's resume can reach the loop first. That resume must cancel the late pause;
    /// before the fix it was dropped (`readPauses` was 0) and the pause then withheld reads
    /// from a live client for good.
    @Test func aResumeThatOvertakesItsPauseLeavesReadingOn() throws {
        let harness = WireHarness()
        let reads = ReadCounter()
        let (connection, session) = try self.webSocketSession(harness, observer: reads, at: .first)

        // The order in which the two hops reach the loop.
        session.resumeReading()
        session.pauseReading()
        connection.channel.read()
        #expect(reads.count == 1)
        // Pausing still works afterwards.
        session.pauseReading()
        connection.channel.read()
        #expect(reads.count == 1)
        session.resumeReading()
        #expect(reads.count == 2)
    }

    /// Review finding 5: a WebSocket's flush starts at the frame encoder, like its writes,
    /// so it no longer passes `EngineIOWebSocketHandler` (and anything behind it). A
    /// counter at the tail of the pipeline sees no flush; the client still gets the frame.
    @Test func webSocketFlushesSkipTheHandlersBehindTheEncoder() throws {
        let harness = WireHarness()
        let flushes = FlushCounter()
        let (connection, session) = try self.webSocketSession(harness, observer: flushes, at: .last)
        session.send(.text("hello"))
        harness.loop.run()
        #expect(try connection.readFrames() == [TestFrame(opcode: 1, payload: Array("4hello".utf8))])
        #expect(flushes.count == 0)
    }

    /// Over polling, backpressure holds the answer to the POST: the client sends its next
    /// POST only after it. A second POST while one is held is an overlap (transport error).
    @Test func pollingHoldsThePostAnswerWhileTheApplicationPauses() throws {
        let harness = WireHarness()
        let (sid, _) = try harness.handshake()
        let session = try #require(harness.engine.session(id: sid))
        session.pauseReading()
        let poster = try harness.connect()
        #expect(try poster.request("POST", "/engine.io/?EIO=4&transport=polling&sid=\(sid)", body: "4one") == nil)
        #expect(harness.delegate.received.count == 1)
        session.resumeReading()
        #expect(try poster.readResponse()?.body == "ok")

        session.pauseReading()
        #expect(try poster.request("POST", "/engine.io/?EIO=4&transport=polling&sid=\(sid)", body: "4two") == nil)
        let overlapping = try harness.connect()
        _ = try overlapping.request("POST", "/engine.io/?EIO=4&transport=polling&sid=\(sid)", body: "4three")
        harness.loop.run()
        #expect(harness.delegate.closed.map(\.1) == [.transportError])
    }

    /// Review finding 4: a POST answer held for backpressure waits at most
    /// `min(pingTimeout / 2, 5 s)`, then is `ok` although the application still pauses
    /// (before the fix it waited until the mailbox drained, without bound). The session
    /// lives on and the next POST is held again.
    @Test func aHeldPostAnswerIsGivenAfterTheHoldLimit() throws {
        let harness = WireHarness(configuration: self.configuration {
            $0.pingInterval = .seconds(25)
            $0.pingTimeout = .seconds(20)
        })
        let (sid, _) = try harness.handshake()
        let session = try #require(harness.engine.session(id: sid))
        #expect(session.postAnswerHold == .seconds(5))
        session.pauseReading()
        let poster = try harness.connect()
        #expect(try poster.request("POST", "/engine.io/?EIO=4&transport=polling&sid=\(sid)", body: "4one") == nil)
        harness.advance(.milliseconds(4_999))
        #expect(try poster.readResponse() == nil)
        harness.advance(.milliseconds(1))
        #expect(try poster.readResponse()?.body == "ok")
        #expect(harness.delegate.closed.isEmpty)

        #expect(try poster.request("POST", "/engine.io/?EIO=4&transport=polling&sid=\(sid)", body: "4two") == nil)
        #expect(harness.delegate.received.count == 2)
        session.resumeReading()
        #expect(try poster.readResponse()?.body == "ok")
        // The resumed answer's timer is gone: nothing more is written later.
        harness.advance(.seconds(5))
        #expect(try poster.readResponse() == nil)
    }

    /// Review finding 8: polling sessions whose clients do not GET each stay under
    /// `maxBufferedBytes`, but together they pass `maxTotalBufferedBytes`: the session with
    /// the largest backlog is closed (one hit), not the one whose growth crossed the line;
    /// the others live on, and a drained session returns what it counted.
    @Test func slowReadersTogetherAreBoundedByTheProcessBudget() throws {
        let harness = WireHarness(configuration: self.configuration {
            $0.pingInterval = .seconds(25)
            $0.pingTimeout = .seconds(20)
            $0.maxBufferedBytes = 1_000_000
            $0.maxTotalBufferedBytes = 300 * 1024
        }, echo: false)
        var sids: [String] = []
        for _ in 0..<3 { sids.append(try harness.handshake().0) }
        let chunk = String(repeating: "x", count: 16 * 1024)
        // 192 KiB for the first, 64 KiB for the second: 256 KiB counted, under the budget.
        for _ in 0..<12 { harness.engine.session(id: sids[0])?.send(.text(chunk)) }
        for _ in 0..<4 { harness.engine.session(id: sids[1])?.send(.text(chunk)) }
        harness.loop.run()
        #expect(harness.engine.outboundBudget.totalBytes == 256 * 1024)
        #expect(harness.delegate.closed.isEmpty)
        // The third passes 64 KiB: 320 KiB > 300 KiB. The first holds the most and is closed.
        for _ in 0..<4 { harness.engine.session(id: sids[2])?.send(.text(chunk)) }
        harness.loop.run()
        #expect(harness.delegate.closed.map(\.0) == [sids[0]])
        #expect(harness.engine.limits.maxTotalBufferedBytes.hitCount == 1)
        #expect(harness.engine.outboundBudget.totalBytes == 128 * 1024)
        // A GET drains a session's buffer: its share is returned.
        #expect(try harness.connect().request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sids[1])")?.status == 200)
        harness.loop.run()
        #expect(harness.engine.outboundBudget.totalBytes < 128 * 1024)
        #expect(harness.engine.session(id: sids[1]) != nil)
        #expect(harness.engine.session(id: sids[2]) != nil)
    }

    // MARK: Item 4: session limits

    /// Past `maxHalfOpenSessionsPerAddress` the address gets 403 code 4; a session that sends
    /// its first message frees its place.
    @Test func halfOpenSessionsPerAddressAreCapped() throws {
        let harness = WireHarness(configuration: self.configuration { $0.maxHalfOpenSessionsPerAddress = 2 })
        let (first, _) = try harness.handshake()
        _ = try harness.handshake()
        let refused = try #require(try harness.connect().request("GET", "/engine.io/?EIO=4&transport=polling"))
        #expect(refused.status == 403)
        #expect(refused.body == #"{"code":4,"message":"Too many sessions from this address"}"#)
        #expect(harness.engine.sessionCount == 2)
        #expect(harness.engine.limits.maxHalfOpenSessionsPerAddress.hitCount == 1)

        #expect(try harness.connect().request("POST", "/engine.io/?EIO=4&transport=polling&sid=\(first)", body: "4hi")?.body == "ok")
        #expect(try harness.connect().request("GET", "/engine.io/?EIO=4&transport=polling")?.status == 200)
        // Expired half-open sessions free their places too.
        harness.advance(.seconds(1))
        #expect(harness.engine.sessionCount == 0)
        #expect(try harness.connect().request("GET", "/engine.io/?EIO=4&transport=polling")?.status == 200)
    }

    /// Past `maxSessions` every handshake (polling or WebSocket) gets 403 code 4.
    @Test func sessionsAreCapped() throws {
        let harness = WireHarness(configuration: self.configuration { $0.maxSessions = 2 })
        _ = try harness.handshake()
        _ = try harness.handshake()
        let polling = try #require(try harness.connect().request("GET", "/engine.io/?EIO=4&transport=polling"))
        #expect(polling.status == 403)
        #expect(polling.body == #"{"code":4,"message":"Too many sessions"}"#)
        let webSocket = try #require(try harness.connect().upgrade("/engine.io/?EIO=4&transport=websocket"))
        #expect(webSocket.status == 403)
        #expect(harness.engine.sessionCount == 2)
    }

    // MARK: Review §5

    /// After the server closed a polling session, what the client POSTs is not delivered
    /// (no new namespace sockets on a connection closed for a parse error).
    @Test func aClosingPollingSessionDropsInboundPackets() throws {
        let harness = WireHarness(echo: false)
        let (sid, _) = try harness.handshake()
        harness.engine.session(id: sid)?.close()
        harness.loop.run()
        let response = try harness.connect().request("POST", "/engine.io/?EIO=4&transport=polling&sid=\(sid)", body: "440")
        #expect(response?.status == 200)
        #expect(harness.delegate.received.isEmpty)
        #expect(try harness.connect().request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)")?.body == "1")
    }

    /// A buffer of many small frames drains in order, 16 per poll.
    @Test func aLongBufferDrainsInOrder() throws {
        let harness = WireHarness()
        let (sid, _) = try harness.handshake()
        let session = try #require(harness.engine.session(id: sid))
        for n in 0..<1000 { session.send(.text("\(n)")) }
        harness.loop.run()
        var received: [String] = []
        while received.count < 1000 {
            let body = try #require(try harness.connect().request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)")?.body)
            let packets = body.split(separator: "\u{1e}").map(String.init)
            #expect(packets.count <= 16)
            received += packets.filter { $0.hasPrefix("4") }.map { String($0.dropFirst()) }
        }
        #expect(received == (0..<1000).map(String.init))
    }
}

/// Counts the `read()` calls that reach the head of the pipeline.
private final class FlushCounter: ChannelOutboundHandler {
    typealias OutboundIn = NIOAny
    var count = 0
    func flush(context: ChannelHandlerContext) {
        self.count += 1
        context.flush()
    }
}

private final class ReadCounter: ChannelOutboundHandler {
    typealias OutboundIn = NIOAny
    var count = 0
    func read(context: ChannelHandlerContext) {
        self.count += 1
        context.read()
    }
}

/// Sends from inside a message handler and records whether the session closed before the
/// send returned.
private final class ReentrancyProbe: @unchecked Sendable {
    // `@unchecked Sendable`: the embedded loop runs everything on the test's thread.
    let delegate: RecordingDelegate
    var closedInsideSend: Bool?

    init(delegate: RecordingDelegate) { self.delegate = delegate }

    func sendAndCheck(_ session: EngineIOSession, bytes: Int) {
        session.sendOnLoop([.message(String(repeating: "x", count: bytes))])
        self.closedInsideSend = !self.delegate.closed.isEmpty
    }
}
