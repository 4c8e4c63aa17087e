//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

@testable import EngineIO
import HTTPTypes
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

/// The HTTP front of a worker as a proxy and hostile clients see it: origin checks behind a
/// proxy, forwarded addresses, refused upgrades, probes, timeouts, header limits, and
/// clients that do not read.
struct FrontWireTests {
    private static let handshake = "/engine.io/?EIO=4&transport=polling"

    private func harness(
        _ cors: CORSConfiguration = .sameOrigin,
        timeouts: EngineIOConfiguration.HTTPTimeouts = .init(),
        pingInterval: TimeAmount = .seconds(25),
        allowRequest: EngineIOServer.AllowRequest? = nil
    ) -> WireHarness {
        var configuration = EngineIOConfiguration(path: "/engine.io/", pingInterval: pingInterval, pingTimeout: .seconds(20), cors: cors)
        configuration.httpTimeouts = timeouts
        return WireHarness(configuration: configuration, allowRequest: allowRequest)
    }

    // MARK: Same origin behind a proxy (issue 13 item 10, review F14)

    @Test func forwardedHostIsIgnoredWithoutTrustProxy() throws {
        let connection = try self.harness().connect()
        let response = try #require(
            try connection.request(
                "GET",
                Self.handshake,
                headers: ["Origin": "http://evil.example", "X-Forwarded-Host": "evil.example"]
            )
        )
        #expect(response.status == 400)
        #expect(response.body == #"{"code":3,"message":"Not an accepted origin"}"#)
    }

    @Test func schemeMustMatch() throws {
        let connection = try self.harness().connect()
        // The server speaks plain http: an https page of the same host is another origin.
        #expect(try connection.request("GET", Self.handshake, headers: ["Origin": "https://localhost"])?.status == 400)
        #expect(try connection.request("GET", Self.handshake, headers: ["Origin": "http://localhost"])?.status == 200)
        #expect(try connection.request("GET", Self.handshake, headers: ["Origin": "http://localhost:80"])?.status == 200)
    }

    @Test func trustedProxyNamesHostAndScheme() throws {
        let connection = try self.harness(CORSConfiguration.sameOrigin.trustingForwardedHeaders(true)).connect()
        let proxied = ["X-Forwarded-Host": "app.example", "X-Forwarded-Proto": "https"]
        var accepted = proxied
        accepted["Origin"] = "https://app.example"
        #expect(try connection.request("GET", Self.handshake, headers: accepted)?.status == 200)
        var wrongScheme = proxied
        wrongScheme["Origin"] = "http://app.example"
        #expect(try connection.request("GET", Self.handshake, headers: wrongScheme)?.status == 400)
    }

    @Test func refusedOriginIsNotEchoedNorGivenCredentials() throws {
        let connection = try self.harness().connect()
        let refused = try #require(try connection.request("GET", Self.handshake, headers: ["Origin": "https://evil.example"]))
        #expect(refused.status == 400)
        #expect(refused.header("Access-Control-Allow-Origin") == nil)
        #expect(refused.header("Access-Control-Allow-Credentials") == nil)
        let listed = try self.harness(.list(["https://app.example"])).connect()
        let other = try #require(try listed.request("GET", Self.handshake, headers: ["Origin": "https://other.example"]))
        #expect(other.status == 400)
        #expect(other.header("Access-Control-Allow-Origin") == nil)
        let preflight = try #require(try listed.request("OPTIONS", Self.handshake, headers: ["Origin": "https://other.example"]))
        #expect(preflight.status == 400)
        #expect(preflight.header("Access-Control-Allow-Origin") == nil)
    }

    // MARK: X-Forwarded-For (item 10, review F6)

    @Test func forwardedForIsReadFromTheRightAndValidated() throws {
        let peer = try SocketAddress(ipAddress: "127.0.0.1", port: 9)
        func client(_ forwarded: String, trust: Bool = true) -> String? {
            EngineIORequest(method: .get, uri: "/", headers: [.xForwardedFor: forwarded], remoteAddress: peer, trustsForwardedFor: trust)
                .clientAddress
        }
        // nginx `$proxy_add_x_forwarded_for` appends the address it saw to what the client sent.
        #expect(client("203.0.113.66, 10.1.2.3") == "10.1.2.3")
        #expect(client("203.0.113.66,10.1.2.3") == "10.1.2.3")
        #expect(client("2001:db8::1") == "2001:db8::1")
        #expect(client("not-an-address") == "127.0.0.1")
        #expect(client("10.1.2.3, <script>") == "127.0.0.1")
        #expect(client("10.1.2.3", trust: false) == "127.0.0.1")
    }

    /// Reliability review F6: `X-Forwarded-For` counts only from the listed proxies.
    @Test func forwardedForCountsOnlyFromTrustedProxies() throws {
        let proxies = try TrustedProxies(["127.0.0.1", "10.0.0.0/8", "192.168.1.128/25", "fd00::/8", "2001:db8::1"])
        func peer(_ address: String) throws -> SocketAddress { try SocketAddress(ipAddress: address, port: 9) }
        for trusted in ["127.0.0.1", "10.255.0.3", "192.168.1.200", "fd12::1", "2001:db8::1", "::ffff:10.1.2.3"] {
            #expect(proxies.contains(try peer(trusted)), "\(trusted)")
        }
        for untrusted in ["127.0.0.2", "11.0.0.1", "192.168.1.127", "fe80::1", "2001:db8::2", "::ffff:11.1.2.3", "::1"] {
            #expect(!proxies.contains(try peer(untrusted)), "\(untrusted)")
        }
        #expect(!proxies.contains(nil))
        #expect(TrustedProxies.any.contains(nil))
        #expect(try TrustedProxies(["0.0.0.0/0"]).contains(try peer("203.0.113.9")))
        for bad in ["10.0.0.0/33", "fd00::/129", "10.0.0.0/", "example.com", "10.0.0.0/8/8", ""] {
            #expect(throws: TrustedProxiesError.self, "\(bad)") { try TrustedProxies([bad]) }
        }

        var configuration = EngineIOConfiguration(trustForwardedFor: true)
        configuration.trustedProxies = try TrustedProxies(["10.0.0.0/8"])
        #expect(configuration.trustsForwardedFor(from: try peer("10.1.2.3")))
        #expect(!configuration.trustsForwardedFor(from: try peer("127.0.0.1")))
        configuration.trustForwardedFor = false
        #expect(!configuration.trustsForwardedFor(from: try peer("10.1.2.3")))
    }

    // MARK: A refused WebSocket upgrade gets an HTTP answer (item 10)

    @Test func refusedUpgradeIsAnsweredNotDropped() throws {
        let connection = try self.harness().connect()
        let response = try #require(
            try connection.upgrade("/engine.io/?EIO=4&transport=websocket", headers: ["Origin": "https://evil.example"])
        )
        #expect(response.status == 400)
        #expect(response.body == #"{"code":3,"message":"Not an accepted origin"}"#)
        #expect(response.header("Access-Control-Allow-Origin") == nil)
        // NIO reads no more HTTP after an upgrade request: the answer closes the connection
        // (as Node's abortUpgrade does), after it is sent.
        #expect(response.header("Connection") == "close")
        #expect(!connection.isActive)
        // A fresh connection is served.
        #expect(try self.harness().connect().request("GET", Self.handshake)?.status == 200)
    }

    @Test func upgradeToUnknownSessionIsAnswered() throws {
        let connection = try self.harness().connect()
        let response = try #require(try connection.upgrade("/engine.io/?EIO=4&transport=websocket&sid=nope"))
        #expect(response.status == 400)
        #expect(response.body == #"{"code":1,"message":"Session ID unknown"}"#)
    }

    @Test func upgradeRefusedByTheApplicationGets403() async throws {
        let harness = self.harness(allowRequest: { _ in EngineIORequestRefusal("no entry") })
        // The application's check runs in a task and answers from another thread.
        let connection = try await AsyncTestConnection.connect(to: harness.engine)
        let answer = try #require(try await connection.upgrade("/engine.io/?EIO=4&transport=websocket"))
        #expect(answer.status == 403)
        #expect(answer.body == #"{"code":4,"message":"no entry"}"#)
    }

    // MARK: Probes (item 9)

    private func connectWithProbes(_ harness: WireHarness, ready: @escaping @Sendable () -> Bool) throws -> TestConnection {
        let channel = EmbeddedChannel(loop: harness.loop)
        let health = HTTPHealthEndpoints(eventLoops: harness.loop, isReady: ready)
        try EngineIOHTTPServer.configurePipeline(channel: channel, engine: harness.engine, router: nil, health: health)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        return TestConnection(channel: channel, loop: harness.loop)
    }

    @Test func readinessAndLiveness() throws {
        let harness = self.harness()
        let ready = ReadyFlag()
        let connection = try self.connectWithProbes(harness) { ready.value }
        let live = try #require(try connection.request("GET", "/healthz"))
        #expect(live.status == 200)
        #expect(live.body == #"{"status":"ok"}"#)
        #expect(try connection.request("GET", "/readyz")?.status == 503)
        ready.value = true
        let readyAnswer = try #require(try connection.request("GET", "/readyz"))
        #expect(readyAnswer.status == 200)
        #expect(readyAnswer.body == #"{"status":"ready"}"#)
        // The engine path and other paths are untouched.
        #expect(try connection.request("GET", Self.handshake)?.status == 200)
        #expect(try connection.request("GET", "/elsewhere")?.status == 404)
    }

    // MARK: Timeouts and header limits (item 4, review F8)

    @Test func timeoutPhasesFollowTheConnection() {
        var machine = HTTPConnectionTimeouts(
            timeouts: .init(headersTimeout: .seconds(60), requestTimeout: .seconds(300), keepAliveTimeout: .seconds(5))
        )
        #expect(machine.connectionStarted() == .arm(.seconds(60)))
        #expect(machine.requestHeadReceived() == .arm(.seconds(300)))
        // The request is complete; the server holds it (a long poll): no timer.
        #expect(machine.requestEndReceived() == .cancel)
        #expect(machine.phase == .answering)
        #expect(machine.responseEnded() == .arm(.seconds(5)))
        // An answer before the request's end (413) keeps the request's timer running.
        #expect(machine.requestHeadReceived() == .arm(.seconds(300)))
        #expect(machine.responseEnded() == .none)
        #expect(machine.requestEndReceived() == .arm(.seconds(5)))
        #expect(machine.phase == .idle)
    }

    /// Review finding 6: a polling request moves the timeout two or three times; the handler
    /// keeps one timer and re-arms it lazily, so back-to-back requests schedule no new timer
    /// (before the fix: a cancel and a schedule per move, 21 timers for 10 requests). Gaps
    /// below `keepAliveTimeout` still keep the connection, and idling past it still closes it.
    @Test func timeoutHandlerKeepsOneTimerAcrossRequests() throws {
        let loop = EmbeddedEventLoop()
        let handler = HTTPConnectionTimeoutHandler(
            timeouts: .init(headersTimeout: .seconds(60), requestTimeout: .seconds(300), keepAliveTimeout: .seconds(5))
        )
        let channel = EmbeddedChannel(handler: handler, loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        func request() throws {
            try channel.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")))
            try channel.writeInbound(HTTPServerRequestPart.end(nil))
            try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
            try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        }
        for _ in 0..<10 { try request() }
        #expect(handler.timersScheduled <= 2)
        for _ in 0..<10 {
            loop.advanceTime(by: .seconds(3))
            try request()
        }
        #expect(channel.isActive)
        loop.advanceTime(by: .seconds(4))
        #expect(channel.isActive)
        loop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
    }

    @Test func halfSentHeadersAreCutAfterHeadersTimeout() throws {
        let harness = self.harness(timeouts: .init(headersTimeout: .seconds(60)))
        let connection = try harness.connect()
        try connection.send(Array("GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: localhost\r\n".utf8))
        harness.advance(.seconds(59))
        #expect(connection.isActive)
        harness.advance(.seconds(2))
        #expect(!connection.isActive)
    }

    @Test func silentConnectionIsCutAfterHeadersTimeout() throws {
        let harness = self.harness(timeouts: .init(headersTimeout: .seconds(10)))
        let connection = try harness.connect()
        harness.advance(.seconds(11))
        #expect(!connection.isActive)
    }

    @Test func stalledBodyIsCutAfterRequestTimeout() throws {
        let harness = self.harness(timeouts: .init(requestTimeout: .seconds(300)))
        let (sid, _) = try harness.handshake()
        let connection = try harness.connect()
        try connection.send(Array("POST /engine.io/?EIO=4&transport=polling&sid=\(sid) HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n4h".utf8))
        harness.advance(.seconds(20))  // below pingInterval + pingTimeout: the session lives
        #expect(connection.isActive)
        let short = self.harness(timeouts: .init(requestTimeout: .seconds(5)))
        let (shortSid, _) = try short.handshake()
        let stalled = try short.connect()
        try stalled.send(Array("POST /engine.io/?EIO=4&transport=polling&sid=\(shortSid) HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n4h".utf8))
        short.advance(.seconds(6))
        #expect(!stalled.isActive)
    }

    @Test func idleKeepAliveIsCutButHeldPollIsNot() throws {
        let harness = self.harness(timeouts: .init(keepAliveTimeout: .seconds(5)))
        let connection = try harness.connect()
        let open = try #require(try connection.request("GET", Self.handshake))
        #expect(open.status == 200)
        harness.advance(.seconds(4))
        #expect(connection.isActive)
        harness.advance(.seconds(2))
        #expect(!connection.isActive)

        // A long-polling GET held by the server is complete: no timer runs while it waits.
        let (sid, _) = try harness.handshake()
        let poll = try harness.connect()
        #expect(try poll.request("GET", "/engine.io/?EIO=4&transport=polling&sid=\(sid)") == nil)
        harness.advance(.seconds(20))
        #expect(poll.isActive)
    }

    @Test func upgradedWebSocketIsExempt() throws {
        let harness = self.harness(timeouts: .init(headersTimeout: .seconds(1), keepAliveTimeout: .seconds(1)))
        let connection = try harness.connect()
        let response = try #require(try connection.upgrade("/engine.io/?EIO=4&transport=websocket"))
        #expect(response.status == 101)
        harness.advance(.seconds(10))
        #expect(connection.isActive)
    }

    @Test func tooManyHeaderFieldsAreRefused() throws {
        let connection = try self.harness(timeouts: .init(maxHeaderCount: 100)).connect()
        var headers: [String: String] = [:]
        for index in 0..<120 { headers["X-Filler-\(index)"] = "x" }
        let response = try #require(try connection.request("GET", Self.handshake, headers: headers))
        #expect(response.status == 400)
        #expect(!connection.isActive)
    }

    @Test func oversizedHeadersAreRefused() throws {
        let connection = try self.harness(timeouts: .init(maxHeaderBytes: 16 * 1024)).connect()
        let response = try #require(
            try connection.request("GET", Self.handshake, headers: ["X-Big": String(repeating: "a", count: 20_000)])
        )
        #expect(response.status == 400)
        #expect(!connection.isActive)
        let fine = try self.harness().connect()
        #expect(try fine.request("GET", Self.handshake, headers: ["X-Big": String(repeating: "a", count: 8_000)])?.status == 200)
    }

    // MARK: Clients that do not read (item 3, review F4)

    @Test func pipeliningClientThatDoesNotReadIsClosed() throws {
        let harness = self.harness()
        let connection = try harness.connect()
        #expect(try connection.request("GET", "/a")?.status == 404)
        // The earlier answers have not left (the peer does not read): the channel is not
        // writable, yet another request comes in.
        connection.channel.isWritable = false
        connection.channel.pipeline.fireChannelWritabilityChanged()
        try connection.send(Array("GET /b HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
        #expect(try connection.readResponse() == nil)
        #expect(!connection.isActive)
    }
}

/// A readiness flag the test flips (the embedded loop runs on the test's thread).
private final class ReadyFlag: @unchecked Sendable {
    var value = false
}
