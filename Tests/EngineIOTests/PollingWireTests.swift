//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import CompressNIO
@testable import EngineIO
import EngineIOParser
import Foundation
import NIOCore
import NIOEmbedded
import Testing

/// Engine.IO v4 over HTTP long-polling, byte for byte (engine.io-protocol README; Node
/// `server.ts`/`polling.ts`).
struct PollingWireTests {
    @Test func handshakeSendsOpenPacketWithExactlyFiveKeys() throws {
        let harness = WireHarness()
        let connection = try harness.connect()
        let response = try #require(try connection.request("GET", "/engine.io/?EIO=4&transport=polling&t=abc"))
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "text/plain; charset=UTF-8")
        #expect(response.header("Cache-Control") == "no-store")
        #expect(response.body.hasPrefix("0{\"sid\":\""))
        let json = try JSONSerialization.jsonObject(with: Data(response.body.dropFirst().utf8)) as! [String: Any]
        #expect(Set(json.keys) == ["sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"])
        #expect((json["sid"] as! String).count == 20)
        #expect(json["upgrades"] as! [String] == ["websocket"])
        #expect(json["pingInterval"] as! Int == 300)
        #expect(json["pingTimeout"] as! Int == 200)
        #expect(json["maxPayload"] as! Int == 1_000_000)
        #expect(harness.delegate.opened == [json["sid"] as! String])
    }

    @Test func postIsAnsweredOkAndMessageIsEchoedOnNextGet() throws {
        let harness = WireHarness()
        let (sid, _) = try harness.handshake()
        let connection = try harness.connect()
        let post = try #require(try connection.request("POST", "/engine.io/?EIO=4&transport=polling&sid=\(sid)", body: "4hello\u{1e}bAQIDBA=="))
        #expect(post.status == 200)
        #expect(post.body == "ok")
        #expect(post.header("Content-Type") == "text/html")
        let get = try #require(try connection.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)"))
        #expect(get.status == 200)
        #expect(get.body == "4hello\u{1e}bAQIDBA==")
    }

    @Test func getIsHeldUntilThereIsSomethingToSend() throws {
        let harness = WireHarness()
        let (sid, _) = try harness.handshake()
        let getter = try harness.connect()
        #expect(try getter.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)") == nil)
        let poster = try harness.connect()
        #expect(try poster.request("POST", "/engine.io/?EIO=4&transport=polling&sid=\(sid)", body: "4x")?.body == "ok")
        #expect(try getter.readResponse()?.body == "4x")
    }

    @Test func errorCodesMatchTheReferenceServer() throws {
        let harness = WireHarness()
        let connection = try harness.connect()
        func check(_ method: String, _ uri: String, _ status: Int, _ body: String, headers: [String: String] = [:]) throws {
            let response = try #require(try connection.request(method, uri, headers: headers, body: method == "POST" ? "4x" : nil))
            #expect(response.status == status, "\(method) \(uri)")
            #expect(response.body == body, "\(method) \(uri)")
            if status == 400 { #expect(response.header("Content-Type") == "application/json") }
        }
        try check("GET", "/engine.io/?EIO=4", 400, #"{"code":0,"message":"Transport unknown"}"#)
        try check("GET", "/engine.io/?EIO=4&transport=carrier-pigeon", 400, #"{"code":0,"message":"Transport unknown"}"#)
        try check("GET", "/engine.io/?EIO=4&transport=polling&sid=nope", 400, #"{"code":1,"message":"Session ID unknown"}"#)
        try check("POST", "/engine.io/?EIO=4&transport=polling", 400, #"{"code":2,"message":"Bad handshake method"}"#)
        try check("PUT", "/engine.io/?EIO=4&transport=polling", 400, #"{"code":2,"message":"Bad handshake method"}"#)
        try check("GET", "/engine.io/?EIO=4&transport=websocket", 400, #"{"code":3,"message":"Bad request"}"#)
        try check("GET", "/engine.io/?EIO=3&transport=polling", 400, #"{"code":5,"message":"Unsupported protocol version"}"#)
        try check("GET", "/engine.io/?transport=polling", 400, #"{"code":5,"message":"Unsupported protocol version"}"#)
        // Outside the engine path: 404 from the (absent) router.
        try check("GET", "/elsewhere", 404, "Not Found")
    }

    @Test func refusedHandshakeGets403WithCode4() async throws {
        let harness = WireHarness(allowRequest: { request in
            request.query["token"] == "secret" ? nil : EngineIORequestRefusal("no token")
        })
        // The hook runs in a task and answers from another thread: a thread-safe loop.
        let connection = try await AsyncTestConnection.connect(to: harness.engine)
        let response = try await connection.request("GET", "/engine.io/?EIO=4&transport=polling")
        #expect(response?.status == 403)
        #expect(response?.body == #"{"code":4,"message":"no token"}"#)
        let accepted = try await connection.request("GET", "/engine.io/?EIO=4&transport=polling&token=secret")
        #expect(accepted?.status == 200)
    }

    @Test func secondConcurrentGetIsRefusedAndPendingGetGetsClose() throws {
        let harness = WireHarness()
        let (sid, _) = try harness.handshake()
        let first = try harness.connect()
        let second = try harness.connect()
        #expect(try first.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)") == nil)
        let refused = try #require(try second.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)"))
        #expect(refused.status == 400)
        #expect(try first.readResponse()?.body == "1")
        #expect(harness.engine.session(id: sid) == nil)
        #expect(harness.delegate.closed.map(\.1) == [.transportError])
    }

    @Test func postOverMaxPayloadGets413AndSessionSurvives() throws {
        var configuration = EngineIOConfiguration(path: "/engine.io/", cors: .any)
        configuration.maxPayload = 100
        let harness = WireHarness(configuration: configuration)
        let (sid, open) = try harness.handshake()
        #expect(open["maxPayload"] as! Int == 100)
        let connection = try harness.connect()
        let body = "4" + String(repeating: "x", count: 200)
        let response = try #require(try connection.request("POST", "/engine.io/?EIO=4&transport=polling&sid=\(sid)", body: body))
        #expect(response.status == 413)
        #expect(harness.engine.session(id: sid) != nil)
        let other = try harness.connect()
        #expect(try other.request("POST", "/engine.io/?EIO=4&transport=polling&sid=\(sid)", body: "4small")?.body == "ok")
        #expect(try other.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)")?.body == "4small")
    }

    @Test(arguments: ["zzz", "4ok\u{1e}9", "b!!!notbase64", "\u{1e}\u{1e}", "2", "0{}"])
    func invalidPayloadClosesTheSession(_ body: String) throws {
        let harness = WireHarness()
        let (sid, _) = try harness.handshake()
        let connection = try harness.connect()
        let response = try #require(try connection.request("POST", "/engine.io/?EIO=4&transport=polling&sid=\(sid)", body: body))
        if body == "2" || body == "0{}" {
            // Well-formed packets a v4 client must not send: accepted as a request, then the
            // session closes ("invalid heartbeat direction").
            #expect(response.status == 200)
        } else {
            #expect(response.status == 400)
        }
        #expect(harness.engine.session(id: sid) == nil)
        let after = try #require(try connection.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)"))
        #expect(after.body == #"{"code":1,"message":"Session ID unknown"}"#)
    }

    @Test func binaryContentTypeIsRefusedInV4() throws {
        let harness = WireHarness()
        let (sid, _) = try harness.handshake()
        let connection = try harness.connect()
        let response = try #require(
            try connection.request(
                "POST",
                "/engine.io/?EIO=4&transport=polling&sid=\(sid)",
                headers: ["Content-Type": "application/octet-stream"],
                body: "4x"
            )
        )
        #expect(response.status == 400)
        #expect(harness.engine.session(id: sid) == nil)
    }

    @Test func pingEveryIntervalAndCloseWhenNoPong() throws {
        let harness = WireHarness()
        let (sid, _) = try harness.handshake()
        let connection = try harness.connect()
        #expect(try connection.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)") == nil)
        harness.advance(.milliseconds(299))
        #expect(try connection.readResponse() == nil)
        harness.advance(.milliseconds(1))
        #expect(try connection.readResponse()?.body == "2")
        // Answer the first ping; the next one comes pingInterval after the pong.
        harness.advance(.milliseconds(50))
        #expect(try connection.request("POST", "/engine.io/?EIO=4&transport=polling&sid=\(sid)", body: "3")?.body == "ok")
        #expect(try connection.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)") == nil)
        harness.advance(.milliseconds(299))
        #expect(try connection.readResponse() == nil)
        harness.advance(.milliseconds(1))
        #expect(try connection.readResponse()?.body == "2")
        // No pong this time: closed exactly pingTimeout later.
        harness.advance(.milliseconds(199))
        #expect(harness.engine.session(id: sid) != nil)
        harness.advance(.milliseconds(1))
        #expect(harness.engine.session(id: sid) == nil)
        #expect(harness.delegate.closed.map(\.1) == [.pingTimeout])
        #expect(try connection.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)")?.status == 400)
    }

    @Test func subSecondIntervalsAreHonouredExactly() throws {
        var configuration = EngineIOConfiguration(path: "/engine.io/", cors: .any)
        configuration.pingInterval = .milliseconds(25)
        configuration.pingTimeout = .milliseconds(10)
        let harness = WireHarness(configuration: configuration)
        let (sid, open) = try harness.handshake()
        #expect(open["pingInterval"] as! Int == 25)
        #expect(open["pingTimeout"] as! Int == 10)
        harness.advance(.milliseconds(34))
        #expect(harness.engine.session(id: sid) != nil)
        harness.advance(.milliseconds(1))
        #expect(harness.engine.session(id: sid) == nil)
    }

    @Test func clientCloseAnswersPendingGetWithNoop() throws {
        let harness = WireHarness()
        let (sid, _) = try harness.handshake()
        let getter = try harness.connect()
        #expect(try getter.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)") == nil)
        let poster = try harness.connect()
        #expect(try poster.request("POST", "/engine.io/?EIO=4&transport=polling&sid=\(sid)", body: "1")?.body == "ok")
        #expect(try getter.readResponse()?.body == "6")
        #expect(harness.delegate.closed.map(\.1) == [.transportClose])
        #expect(try poster.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)")?.status == 400)
    }

    @Test func serverCloseSendsCloseToPendingGetOrNextGet() throws {
        let harness = WireHarness()
        let (sid, _) = try harness.handshake()
        let connection = try harness.connect()
        #expect(try connection.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)") == nil)
        harness.engine.session(id: sid)!.close()
        #expect(try connection.readResponse()?.body == "1")

        let (other, _) = try harness.handshake()
        harness.engine.session(id: other)!.send(.text("bye"))
        harness.engine.session(id: other)!.close()
        #expect(try connection.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(other)")?.body == "4bye\u{1e}1")
        #expect(harness.engine.session(id: other) == nil)
    }

    @Test func abandonedGetClosesTheSession() throws {
        let harness = WireHarness()
        let (sid, _) = try harness.handshake()
        let connection = try harness.connect()
        #expect(try connection.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)") == nil)
        try connection.channel.close().wait()
        harness.loop.run()
        #expect(harness.engine.session(id: sid) == nil)
    }

    @Test func largeResponsesAreCompressedWhenAccepted() throws {
        let harness = WireHarness()
        let (sid, _) = try harness.handshake()
        let connection = try harness.connect()
        let text = String(repeating: "compress me ", count: 200)
        harness.engine.session(id: sid)!.send(.text(text))
        let response = try #require(
            try connection.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)", headers: ["Accept-Encoding": "gzip, deflate"])
        )
        #expect(response.header("Content-Encoding") == "gzip")
        #expect(response.bodyBytes.count < text.utf8.count / 4)
        var compressed = ByteBuffer(bytes: response.bodyBytes)
        let plain = try compressed.decompress(with: .gzip())
        #expect(String(buffer: plain) == "4" + text)

        harness.engine.session(id: sid)!.send(.text(text))
        let deflated = try #require(
            try connection.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)", headers: ["Accept-Encoding": "deflate"])
        )
        #expect(deflated.header("Content-Encoding") == "deflate")
        var deflatedBody = ByteBuffer(bytes: deflated.bodyBytes)
        #expect(String(buffer: try deflatedBody.decompress(with: .zlib())) == "4" + text)

        // Below the threshold: sent as is.
        harness.engine.session(id: sid)!.send(.text("small"))
        let small = try #require(
            try connection.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)", headers: ["Accept-Encoding": "gzip"])
        )
        #expect(small.header("Content-Encoding") == nil)
        #expect(small.body == "4small")
    }

    @Test func framesMarkedNotToCompressLeaveUncompressed() throws {
        let harness = WireHarness()
        let (sid, _) = try harness.handshake()
        let connection = try harness.connect()
        let text = String(repeating: "compress me ", count: 200)
        var frame = EngineIOFrame.message(text)
        frame.compress = false
        harness.engine.session(id: sid)!.send([frame])
        let response = try #require(
            try connection.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)", headers: ["Accept-Encoding": "gzip, deflate"])
        )
        #expect(response.header("Content-Encoding") == nil)
        #expect(response.body == "4" + text)
        // One frame that allows it is enough (Node: any packet of the payload).
        harness.engine.session(id: sid)!.send([frame, EngineIOFrame.message(text)])
        let mixed = try #require(
            try connection.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)", headers: ["Accept-Encoding": "gzip"])
        )
        #expect(mixed.header("Content-Encoding") == "gzip")
    }

    @Test func aPollingSessionIsWritableOnlyWhileAGetWaits() throws {
        let harness = WireHarness()
        let (sid, _) = try harness.handshake()
        let session = try #require(harness.engine.session(id: sid))
        #expect(!session.isWritable)
        let connection = try harness.connect()
        #expect(try connection.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)") == nil)
        #expect(session.isWritable)
        session.send(.text("x"))
        harness.loop.run()
        #expect(!session.isWritable)
    }

    @Test func cookieIsSetOnHandshakeOnlyWhenConfigured() throws {
        let plain = WireHarness()
        let response = try #require(try plain.connect().request("GET", "/engine.io/?EIO=4&transport=polling"))
        #expect(response.header("Set-Cookie") == nil)

        var configuration = EngineIOConfiguration(path: "/engine.io/", cors: .any)
        configuration.cookie = CookieConfiguration()
        let harness = WireHarness(configuration: configuration)
        let connection = try harness.connect()
        let withCookie = try #require(try connection.request("GET", "/engine.io/?EIO=4&transport=polling"))
        let sid = try #require(harness.delegate.opened.first)
        #expect(withCookie.header("Set-Cookie") == "io=\(sid); Path=/; HttpOnly; SameSite=Lax")
        let poll = try #require(try connection.request("POST", "/engine.io/?EIO=4&transport=polling&sid=\(sid)", body: "4x"))
        #expect(poll.header("Set-Cookie") == nil)
    }

    @Test func mountsAtSocketIOPathByDefault() throws {
        let harness = WireHarness(configuration: EngineIOConfiguration(cors: .any))
        let connection = try harness.connect()
        #expect(try connection.request("GET", "/socket.io/?EIO=4&transport=polling")?.status == 200)
        #expect(try connection.request("GET", "/socket.io?EIO=4&transport=polling")?.status == 200)
        #expect(try connection.request("GET", "/engine.io/?EIO=4&transport=polling")?.status == 404)
    }
}

struct PollingBatchTests {
    @Test func pollResponsesCarryAtMostSixteenPacketsByDefault() throws {
        let harness = WireHarness()
        let (sid, _) = try harness.handshake()
        let session = try #require(harness.engine.session(id: sid))
        for index in 0..<40 { session.send(.text("m\(index)")) }
        let connection = try harness.connect()
        var received: [String] = []
        for _ in 0..<3 {
            let body = try #require(try connection.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)")).body
            let packets = body.split(separator: "\u{1e}").map(String.init)
            #expect(packets.count <= 16)
            received += packets
        }
        #expect(received == (0..<40).map { "4m\($0)" })
    }
}
