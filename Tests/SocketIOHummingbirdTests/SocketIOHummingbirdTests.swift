//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Hummingbird
import EngineIO
import Foundation
import NIOCore
import SocketIO
import Testing

/// `SocketIOHummingbird` over real sockets: the engine mounted in a Hummingbird application,
/// beside its routes and behind its middleware.
@Suite(.timeLimit(.minutes(1)))
struct SocketIOHummingbirdTests {
    static let upgradeHeaders = [
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    ]

    /// The `sid` of an open packet (`0{"sid":…}`).
    static func sid(ofOpenPacket body: String) throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(body.dropFirst().utf8)) as? [String: Any]
        return try #require(object?["sid"] as? String)
    }

    /// A polling session connected to the main namespace; returns its sid.
    static func pollingSession(_ connection: RawConnection, user: String) async throws -> String {
        try await connection.request("GET", "/socket.io/?EIO=4&transport=polling", headers: ["X-User": user])
        let open = try #require(await connection.response())
        #expect(open.status == 200)
        let sid = try Self.sid(ofOpenPacket: open.body)
        try await connection.request("POST", "/socket.io/?EIO=4&transport=polling&sid=\(sid)", body: "40")
        let posted = try #require(await connection.response())
        #expect(posted.status == 200 && posted.body == "ok")
        try await connection.request("GET", "/socket.io/?EIO=4&transport=polling&sid=\(sid)")
        let connected = try #require(await connection.response())
        #expect(connected.body.hasPrefix("40{\"sid\":"))
        return sid
    }

    @Test func pollingGoesThroughTheAppsRoutesAndMiddlewareBesideAnAppRoute() async throws {
        let app = try await MountedApp.start()
        let connection = try await app.connect()
        try await connection.request("GET", "/hello", headers: ["X-User": "alice"])
        let hello = try #require(await connection.response())
        #expect(hello.status == 200 && hello.body == "hello alice")

        try await connection.request("GET", "/socket.io/?EIO=4&transport=polling", headers: ["X-User": "alice", "Origin": "http://127.0.0.1"])
        let open = try #require(await connection.response())
        #expect(open.status == 200)
        #expect(open.header("X-App-Middleware") == "seen")
        let sid = try Self.sid(ofOpenPacket: open.body)
        // Same connection, kept alive: POST then GET on the session.
        try await connection.request("POST", "/socket.io/?EIO=4&transport=polling&sid=\(sid)", body: "40")
        let posted = try #require(await connection.response())
        #expect(posted.status == 200 && posted.body == "ok")
        try await connection.request("GET", "/socket.io/?EIO=4&transport=polling&sid=\(sid)")
        let connected = try #require(await connection.response())
        #expect(connected.body.hasPrefix("40{\"sid\":"))
        #expect(await app.nextConnectedUser() == "alice")

        // A preflight is answered by the engine.
        try await connection.request("OPTIONS", "/socket.io/?EIO=4&transport=polling", headers: ["Origin": "http://127.0.0.1"])
        let preflight = try #require(await connection.response())
        #expect(preflight.status == 204 || preflight.status == 400)
        await connection.close()
        try await app.stop()
    }

    @Test func theConnectHandlerSeesTheMiddlewaresValueOverWebSocket() async throws {
        let app = try await MountedApp.start()
        let connection = try await app.connect()
        var headers = Self.upgradeHeaders
        headers["X-User"] = "bob"
        // Same origin (the default CORS policy): the engine sees `Host`, which HTTPTypes keeps apart.
        headers["Origin"] = "http://127.0.0.1"
        try await connection.request("GET", "/socket.io/?EIO=4&transport=websocket", headers: headers)
        let switching = try #require(await connection.response())
        #expect(switching.status == 101)
        let open = try #require(await connection.frame())
        #expect(open.payload.hasPrefix("0{"))
        try await connection.sendText("40")
        let connected = try #require(await connection.frame())
        #expect(connected.payload.hasPrefix("40{\"sid\":"))
        #expect(await app.nextConnectedUser() == "bob")
        await connection.close()
        try await app.stop()
    }

    @Test func anUpgradeRefusedByTheAppsMiddlewareGetsItsAnswerAndTheConnectionCloses() async throws {
        let app = try await MountedApp.start()
        let connection = try await app.connect()
        var headers = Self.upgradeHeaders
        headers["X-Deny"] = "1"
        try await connection.request("GET", "/socket.io/?EIO=4&transport=websocket", headers: headers)
        let refused = try #require(await connection.response())
        #expect(refused.status == 401)
        #expect(await connection.closesAfterwards())
        try await app.stop()
    }

    @Test func anUpgradeRefusedByTheEngineGetsItsJSONErrorAndTheConnectionCloses() async throws {
        let app = try await MountedApp.start()
        let connection = try await app.connect()
        try await connection.request("GET", "/socket.io/?EIO=4&transport=websocket&sid=nope", headers: Self.upgradeHeaders)
        let refused = try #require(await connection.response())
        #expect(refused.status == 400)
        #expect(refused.body == #"{"code":1,"message":"Session ID unknown"}"#)
        #expect(refused.header("Connection")?.lowercased() == "close")
        #expect(await connection.closesAfterwards())
        try await app.stop()
    }

    @Test func anUpgradeElsewhereGoesToTheAppAsPlainHTTP() async throws {
        let app = try await MountedApp.start()
        let connection = try await app.connect()
        var headers = Self.upgradeHeaders
        headers["X-User"] = "dave"
        try await connection.request("GET", "/hello", headers: headers)
        let answer = try #require(await connection.response())
        #expect(answer.status == 200 && answer.body == "hello dave")
        // NIO's decoder reads no more requests after an upgrade request.
        #expect(await connection.closesAfterwards())
        try await app.stop()
    }

    @Test func aTooLargePostIsRefusedAndTheConnectionCloses() async throws {
        var configuration = SocketIOConfiguration()
        configuration.engine.maxPayload = 100
        let app = try await MountedApp.start(configuration: configuration)
        let connection = try await app.connect()
        try await connection.request("GET", "/socket.io/?EIO=4&transport=polling")
        let sid = try Self.sid(ofOpenPacket: try #require(await connection.response()).body)
        try await connection.request("POST", "/socket.io/?EIO=4&transport=polling&sid=\(sid)", body: String(repeating: "4x", count: 200))
        let refused = try #require(await connection.response())
        #expect(refused.status == 413)
        #expect(await connection.closesAfterwards())
        try await app.stop()
    }

    @Test func gracefulShutdownDrainsAHeldPollAndAWebSocketAndTheAppStops() async throws {
        // Pings far apart: only the drain can end the held poll and the WebSocket.
        var configuration = SocketIOConfiguration()
        configuration.engine.pingInterval = .seconds(300)
        configuration.engine.pingTimeout = .seconds(300)
        let app = try await MountedApp.start(configuration: configuration)
        let polling = try await app.connect()
        let sid = try await Self.pollingSession(polling, user: "carol")
        let webSocket = try await app.connect()
        try await webSocket.request("GET", "/socket.io/?EIO=4&transport=websocket", headers: Self.upgradeHeaders)
        #expect(try #require(await webSocket.response()).status == 101)
        #expect(try #require(await webSocket.frame()).payload.hasPrefix("0{"))
        try await webSocket.sendText("40")
        #expect(try #require(await webSocket.frame()).payload.hasPrefix("40{"))
        // The held poll: nothing to send yet.
        try await polling.request("GET", "/socket.io/?EIO=4&transport=polling&sid=\(sid)")
        try await Task.sleep(for: .milliseconds(100))

        let stopping = Task { try await app.stop() }
        let drained = try #require(await polling.response())
        // Ended as a lost transport, so that clients reconnect: a noop on the held poll (no
        // Engine.IO close packet), a close frame 1001 (going away) on the WebSocket.
        #expect(drained.status == 200)
        #expect(drained.body == "6")
        #expect(await polling.closesAfterwards())
        let goingAway = try #require(await webSocket.frame())
        #expect(goingAway.opcode == 0x8)
        #expect(goingAway.bytes.prefix(2).elementsEqual([0x03, 0xE9]))
        #expect(await webSocket.closesAfterwards())
        try await stopping.value
        #expect(app.io.engine.isDraining)
    }
}
#endif
