//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

@testable import EngineIO
import EngineIOParser
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

/// Engine.IO v4 over WebSocket and the polling → WebSocket upgrade, byte for byte.
struct WebSocketWireTests {
    private let text: UInt8 = 1
    private let binary: UInt8 = 2
    private let close: UInt8 = 8

    @Test func webSocketOnlyHandshakeSendsOpenWithoutUpgrades() throws {
        let harness = WireHarness()
        let connection = try harness.connect()
        let response = try #require(try connection.upgrade("/engine.io/?EIO=4&transport=websocket"))
        #expect(response.status == 101)
        let frames = try connection.readFrames()
        #expect(frames.count == 1)
        #expect(frames[0].opcode == text)
        #expect(frames[0].text.hasPrefix("0{"))
        let json = try JSONSerialization.jsonObject(with: Data(frames[0].text.dropFirst().utf8)) as! [String: Any]
        #expect(json["upgrades"] as! [String] == [])
        #expect(Set(json.keys) == ["sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"])
    }

    @Test func textAndBinaryRoundTrip() throws {
        let harness = WireHarness()
        let connection = try harness.connect()
        _ = try connection.upgrade("/engine.io/?EIO=4&transport=websocket")
        _ = try connection.readFrames()
        try connection.sendText("4héllo")
        try connection.sendFrame(opcode: binary, [0, 1, 0xFF])
        let frames = try connection.readFrames()
        #expect(frames == [TestFrame(opcode: text, payload: Array("4héllo".utf8)), TestFrame(opcode: binary, payload: [0, 1, 0xFF])])
    }

    @Test func base64ClientsGetBinaryAsText() throws {
        let harness = WireHarness()
        let connection = try harness.connect()
        _ = try connection.upgrade("/engine.io/?EIO=4&transport=websocket&b64=1")
        _ = try connection.readFrames()
        try connection.sendText("bAQIDBA==")
        #expect(try connection.readFrames() == [TestFrame(opcode: text, payload: Array("bAQIDBA==".utf8))])
    }

    @Test func fragmentedMessagesAreReassembled() throws {
        let harness = WireHarness()
        let connection = try harness.connect()
        _ = try connection.upgrade("/engine.io/?EIO=4&transport=websocket")
        _ = try connection.readFrames()
        try connection.sendFrame(opcode: text, Array("4hel".utf8), fin: false)
        try connection.sendFrame(opcode: 0, Array("lo".utf8), fin: true)
        #expect(try connection.readFrames() == [TestFrame(opcode: text, payload: Array("4hello".utf8))])
    }

    @Test func heartbeatOverWebSocket() throws {
        let harness = WireHarness()
        let connection = try harness.connect()
        _ = try connection.upgrade("/engine.io/?EIO=4&transport=websocket")
        _ = try connection.readFrames()
        harness.advance(.milliseconds(300))
        #expect(try connection.readFrames() == [TestFrame(opcode: text, payload: Array("2".utf8))])
        try connection.sendText("3")
        harness.advance(.milliseconds(300))
        #expect(try connection.readFrames() == [TestFrame(opcode: text, payload: Array("2".utf8))])
        harness.advance(.milliseconds(200))
        // Ping timeout: the session ends with `1` and a close frame.
        let frames = try connection.readFrames()
        #expect(frames.first == TestFrame(opcode: text, payload: Array("1".utf8)))
        #expect(frames.last?.opcode == close)
        #expect(harness.delegate.closed.map(\.1) == [.pingTimeout])
    }

    @Test func invalidPacketClosesTheSession() throws {
        let harness = WireHarness()
        let connection = try harness.connect()
        _ = try connection.upgrade("/engine.io/?EIO=4&transport=websocket")
        _ = try connection.readFrames()
        try connection.sendText("abc")
        #expect(harness.delegate.closed.map(\.1) == [.parseError])
        #expect(try connection.readFrames().last?.opcode == close)
    }

    @Test func clientCloseEndsTheSession() throws {
        let harness = WireHarness()
        let connection = try harness.connect()
        _ = try connection.upgrade("/engine.io/?EIO=4&transport=websocket")
        _ = try connection.readFrames()
        try connection.sendText("1")
        #expect(harness.delegate.closed.map(\.1) == [.transportClose])
        #expect(harness.engine.sessionCount == 0)
    }

    @Test func oversizedFrameIsRefusedWith1009() throws {
        var configuration = EngineIOConfiguration(path: "/engine.io/", cors: .any)
        configuration.maxPayload = 5000
        let harness = WireHarness(configuration: configuration)
        let connection = try harness.connect()
        _ = try connection.upgrade("/engine.io/?EIO=4&transport=websocket")
        _ = try connection.readFrames()
        try? connection.sendText("4" + String(repeating: "x", count: 6000))
        let frames = try connection.readFrames()
        #expect(frames.last?.opcode == close)
        #expect(frames.last?.payload.prefix(2) == [0x03, 0xF1])  // 1009 message too big
        #expect(harness.engine.sessionCount == 0)
    }

    @Test func unmaskedClientFrameIsRefusedWith1002AndOthersGoOn() throws {
        let harness = WireHarness()
        let other = try harness.connect()
        _ = try other.upgrade("/engine.io/?EIO=4&transport=websocket")
        _ = try other.readFrames()
        let connection = try harness.connect()
        _ = try connection.upgrade("/engine.io/?EIO=4&transport=websocket")
        _ = try connection.readFrames()
        try connection.send([0x81, 0x02, 0x34, 0x78])  // "4x", unmasked: RFC 6455 §5.1
        let frames = try connection.readFrames()
        #expect(frames.last?.opcode == close)
        #expect(frames.last?.payload.prefix(2) == [0x03, 0xEA])  // 1002 protocol error
        #expect(harness.delegate.closed.map(\.1) == [.transportError])
        try other.sendText("4still here")
        #expect(try other.readFrames().last?.payload == Array("4still here".utf8))
    }

    @Test func upgradeRacingAPendingGet() throws {
        let harness = WireHarness()
        let (sid, _) = try harness.handshake()
        let poller = try harness.connect()
        #expect(try poller.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)") == nil)
        // The application sends while the upgrade is under way: each message arrives exactly
        // once, on the GET while one is pending, else on the WebSocket once upgraded.
        let socket = try harness.connect()
        #expect(try socket.upgrade("/engine.io/?EIO=4&transport=websocket&sid=\(sid)")?.status == 101)
        harness.engine.session(id: sid)!.send(.text("during"))
        #expect(try poller.readResponse()?.body == "4during")
        #expect(try poller.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)") == nil)
        try socket.sendText("2probe")
        #expect(try socket.readFrames() == [TestFrame(opcode: text, payload: Array("3probe".utf8))])
        // The upgrade check releases the pending GET with a noop.
        harness.advance(.milliseconds(100))
        #expect(try poller.readResponse()?.body == "6")
        // A GET during the upgrade is held, and released by the next check.
        #expect(try poller.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)") == nil)
        harness.advance(.milliseconds(100))
        #expect(try poller.readResponse()?.body == "6")
        // No GET pending: this one waits for the WebSocket.
        harness.engine.session(id: sid)!.send(.text("between"))
        try socket.sendText("5")
        #expect(try socket.readFrames() == [TestFrame(opcode: text, payload: Array("4between".utf8))])
        try socket.sendText("4after")
        #expect(try socket.readFrames() == [TestFrame(opcode: text, payload: Array("4after".utf8))])
        // Polling after the upgrade: transport mismatch.
        let late = try #require(try poller.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)"))
        #expect(late.status == 400)
        #expect(late.body == #"{"code":3,"message":"Bad request"}"#)
        #expect(try poller.request("POST", "/engine.io/?EIO=4&transport=polling&sid=\(sid)", body: "4x")?.status == 400)
        // A second WebSocket for an upgraded session is accepted, then closed.
        let second = try harness.connect()
        #expect(try second.upgrade("/engine.io/?EIO=4&transport=websocket&sid=\(sid)")?.status == 101)
        #expect(try second.readFrames().last?.opcode == close)
        // The session still works.
        try socket.sendText("4still")
        #expect(try socket.readFrames() == [TestFrame(opcode: text, payload: Array("4still".utf8))])
    }

    /// Node's upgrade check: the GET pending at the probe is not answered with a noop at
    /// once, so that a message sent right after the probe (a Socket.IO CONNECT reply) leaves
    /// on it instead of waiting for the next poll; the check answers it `6` only if nothing
    /// else did.
    @Test func messageRightAfterTheProbeLeavesOnThePendingGet() throws {
        let harness = WireHarness()
        let (sid, _) = try harness.handshake()
        let poller = try harness.connect()
        #expect(try poller.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)") == nil)
        let socket = try harness.connect()
        #expect(try socket.upgrade("/engine.io/?EIO=4&transport=websocket&sid=\(sid)")?.status == 101)
        try socket.sendText("2probe")
        #expect(try socket.readFrames() == [TestFrame(opcode: text, payload: Array("3probe".utf8))])
        #expect(try poller.readResponse() == nil)
        harness.engine.session(id: sid)!.send(.text(#"0{"sid":"x"}"#))
        #expect(try poller.readResponse()?.body == #"40{"sid":"x"}"#)
        // The client's next GET, with nothing to send, is released by the check.
        #expect(try poller.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)") == nil)
        harness.advance(.milliseconds(99))
        #expect(try poller.readResponse() == nil)
        harness.advance(.milliseconds(1))
        #expect(try poller.readResponse()?.body == "6")
        try socket.sendText("5")
        try socket.sendText("4hi")
        #expect(try socket.readFrames() == [TestFrame(opcode: text, payload: Array("4hi".utf8))])
    }

    @Test func upgradeCheckIntervalIsConfigurable() throws {
        var configuration = EngineIOConfiguration(path: "/engine.io/", pingInterval: .seconds(25), cors: .any)
        configuration.upgradeCheckInterval = .milliseconds(30)
        let harness = WireHarness(configuration: configuration)
        let (sid, _) = try harness.handshake()
        let poller = try harness.connect()
        #expect(try poller.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)") == nil)
        let socket = try harness.connect()
        _ = try socket.upgrade("/engine.io/?EIO=4&transport=websocket&sid=\(sid)")
        try socket.sendText("2probe")
        _ = try socket.readFrames()
        harness.advance(.milliseconds(29))
        #expect(try poller.readResponse() == nil)
        harness.advance(.milliseconds(1))
        #expect(try poller.readResponse()?.body == "6")
    }

    @Test func transportNameFollowsTheUpgrade() throws {
        let harness = WireHarness()
        let (sid, _) = try harness.handshake()
        let session = try #require(harness.engine.session(id: sid))
        #expect(session.transportName == "polling")
        let socket = try harness.connect()
        _ = try socket.upgrade("/engine.io/?EIO=4&transport=websocket&sid=\(sid)")
        try socket.sendText("2probe")
        _ = try socket.readFrames()
        #expect(session.transportName == "polling")
        try socket.sendText("5")
        #expect(session.transportName == "websocket")
        #expect(session.transport == .websocket)
        // Readable from any thread, without the session's loop.
        let elsewhere = NIOLockedValueBox("")
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { elsewhere.withLockedValue { $0 = session.transportName } }
        group.wait()
        #expect(elsewhere.withLockedValue { $0 } == "websocket")
        let direct = try harness.connect()
        _ = try direct.upgrade("/engine.io/?EIO=4&transport=websocket")
        let open = try #require(try direct.readFrames().first)
        let directID = String(open.text.split(separator: "\"")[3])
        #expect(harness.engine.session(id: directID)?.transportName == "websocket")
    }

    @Test func badProbeKeepsPolling() throws {
        let harness = WireHarness()
        let (sid, _) = try harness.handshake()
        let socket = try harness.connect()
        _ = try socket.upgrade("/engine.io/?EIO=4&transport=websocket&sid=\(sid)")
        try socket.sendText("4notaprobe")
        #expect(try socket.readFrames().last?.opcode == close)
        let poller = try harness.connect()
        #expect(try poller.request("POST", "/engine.io/?EIO=4&transport=polling&sid=\(sid)", body: "4x")?.body == "ok")
        #expect(try poller.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)")?.body == "4x")
    }

    @Test func upgradeTimesOut() throws {
        var configuration = EngineIOConfiguration(path: "/engine.io/", pingInterval: .seconds(25), cors: .any)
        configuration.upgradeTimeout = .milliseconds(100)
        let harness = WireHarness(configuration: configuration)
        let (sid, _) = try harness.handshake()
        let socket = try harness.connect()
        _ = try socket.upgrade("/engine.io/?EIO=4&transport=websocket&sid=\(sid)")
        try socket.sendText("2probe")
        _ = try socket.readFrames()
        harness.advance(.milliseconds(100))
        #expect(try socket.readFrames().last?.opcode == close)
        let poller = try harness.connect()
        #expect(try poller.request("POST", "/engine.io/?EIO=4&transport=polling&sid=\(sid)", body: "4x")?.body == "ok")
    }

    @Test func upgradeWithUnknownSidIsRefused() throws {
        let harness = WireHarness()
        let connection = try harness.connect()
        let response = try #require(try connection.upgrade("/engine.io/?EIO=4&transport=websocket&sid=nope"))
        #expect(response.status == 400)
        #expect(response.body == #"{"code":1,"message":"Session ID unknown"}"#)
    }

    @Test func upgradeFromForeignOriginIsRefused() throws {
        let harness = WireHarness(configuration: EngineIOConfiguration(path: "/engine.io/"))
        let connection = try harness.connect()
        let response = try #require(
            try connection.upgrade("/engine.io/?EIO=4&transport=websocket", headers: ["Origin": "https://evil.example"])
        )
        #expect(response.status == 400)
    }

    /// On shutdown no client gets `1` (python-socketio would not reconnect after it): the
    /// held GET gets a noop and the next GET finds the session gone; the WebSocket gets what
    /// was sent before, then a close frame 1001 (going away).
    @Test func shutdownEndsEverySessionAsALostTransport() async throws {
        let harness = WireHarness()
        let (sid, _) = try harness.handshake()
        let poller = try harness.connect()
        #expect(try poller.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)") == nil)
        let socket = try harness.connect()
        _ = try socket.upgrade("/engine.io/?EIO=4&transport=websocket")
        _ = try socket.readFrames()
        for id in harness.delegate.opened {
            let session = harness.engine.session(id: id)
            session?.send(.text("last"))
            session?.close(reason: .serverShuttingDown)
        }
        #expect(try poller.readResponse()?.body == "4last")
        #expect(try poller.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)")?.status == 400)
        let frames = try socket.readFrames()
        #expect(frames.map(\.text).first == "4last")
        #expect(!frames.contains(TestFrame(opcode: text, payload: Array("1".utf8))))
        #expect(frames.last == TestFrame(opcode: close, payload: [0x03, 0xE9]))
        #expect(harness.engine.sessionCount == 0)
        #expect(Set(harness.delegate.closed.map(\.1)) == [.serverShuttingDown])
    }

    /// Any other server-side close still tells the client with `1`.
    @Test func forcedCloseStillSendsTheClosePacket() async throws {
        let harness = WireHarness()
        let socket = try harness.connect()
        _ = try socket.upgrade("/engine.io/?EIO=4&transport=websocket")
        _ = try socket.readFrames()
        for id in harness.delegate.opened {
            harness.engine.session(id: id)?.close(reason: .forcedClose)
        }
        let frames = try socket.readFrames()
        #expect(frames.first == TestFrame(opcode: text, payload: Array("1".utf8)))
        #expect(frames.last == TestFrame(opcode: close, payload: [0x03, 0xE8]))
    }
}
