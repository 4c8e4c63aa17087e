//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

@testable import EngineIO
import EngineIOParser
import Logging
import NIOCore
import NIOEmbedded
import Testing

/// An engine on an embedded event loop, with connections that speak raw HTTP/WebSocket
/// bytes: every test sees the exact bytes on the wire, and controls time.
final class WireHarness {
    /// Made on first use, on the test's thread: an embedded loop checks that it is used,
    /// and freed, on the thread that made it, so a test that only uses an
    /// ``AsyncTestConnection`` (and moves between threads) never makes one.
    private(set) lazy var loop = EmbeddedEventLoop()
    let engine: EngineIOServer
    let delegate: RecordingDelegate

    init(
        configuration: EngineIOConfiguration = .init(
            path: "/engine.io/",
            pingInterval: .milliseconds(300),
            pingTimeout: .milliseconds(200),
            cors: .any
        ),
        echo: Bool = true,
        allowRequest: EngineIOServer.AllowRequest? = nil
    ) {
        self.delegate = RecordingDelegate(echo: echo)
        self.engine = EngineIOServer(
            configuration: configuration,
            delegate: self.delegate,
            allowRequest: allowRequest,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
    }

    /// A new TCP connection to the engine.
    func connect() throws -> TestConnection {
        let channel = EmbeddedChannel(loop: self.loop)
        try EngineIOHTTPServer.configurePipeline(channel: channel, engine: self.engine, router: nil)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        return TestConnection(channel: channel, loop: self.loop)
    }

    /// Opens a polling session and returns its id and the open packet JSON.
    func handshake(query: String = "") throws -> (sid: String, open: [String: Any]) {
        let connection = try self.connect()
        let response = try #require(try connection.request("GET", "/engine.io/?EIO=4&transport=polling\(query)"))
        #expect(response.status == 200)
        #expect(response.body.first == "0")
        let json = try JSONSerialization.jsonObject(with: Data(response.body.dropFirst().utf8)) as! [String: Any]
        return (json["sid"] as! String, json)
    }

    func advance(_ amount: TimeAmount) {
        self.loop.advanceTime(by: amount)
    }
}

import Foundation

/// An HTTP response read back from the wire.
struct TestResponse {
    var status: Int
    var headers: [(String, String)]
    var bodyBytes: [UInt8]
    var body: String { String(decoding: self.bodyBytes, as: UTF8.self) }

    func header(_ name: String) -> String? {
        self.headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}

/// One WebSocket frame read back from the wire.
struct TestFrame: Equatable {
    var opcode: UInt8
    var payload: [UInt8]
    var text: String { String(decoding: self.payload, as: UTF8.self) }
}

/// The bytes a client connection has read from the server, parsed into HTTP responses and
/// WebSocket frames.
struct ServerBytes {
    private var inbound: [UInt8] = []

    mutating func append(_ part: IOData) {
        switch part {
        case .byteBuffer(let buffer): self.inbound += Array(buffer.readableBytesView)
        case .fileRegion: Issue.record("unexpected file region")
        }
    }

    /// Parses and removes one complete HTTP response, if there is one.
    mutating func takeResponse() -> TestResponse? {
        guard let end = self.indexOf([13, 10, 13, 10]) else { return nil }
        let headText = String(decoding: self.inbound[..<end], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        let status = Int(statusLine[1])!
        let headers = lines.map { line -> (String, String) in
            let parts = line.split(separator: ":", maxSplits: 1)
            return (String(parts[0]), parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : "")
        }
        let length = Int(headers.first { $0.0.lowercased() == "content-length" }?.1 ?? "0") ?? 0
        guard self.inbound.count >= end + 4 + length else { return nil }
        let body = Array(self.inbound[(end + 4)..<(end + 4 + length)])
        self.inbound.removeFirst(end + 4 + length)
        return TestResponse(status: status, headers: headers, bodyBytes: body)
    }

    private func indexOf(_ pattern: [UInt8]) -> Int? {
        guard self.inbound.count >= pattern.count else { return nil }
        for index in 0...(self.inbound.count - pattern.count) where Array(self.inbound[index..<(index + pattern.count)]) == pattern {
            return index
        }
        return nil
    }

    /// Parses and removes every complete WebSocket frame.
    mutating func takeFrames() -> [TestFrame] {
        var frames: [TestFrame] = []
        while self.inbound.count >= 2 {
            let opcode = self.inbound[0] & 0x0F
            var length = Int(self.inbound[1] & 0x7F)
            var offset = 2
            if length == 126 {
                guard self.inbound.count >= 4 else { break }
                length = Int(self.inbound[2]) << 8 | Int(self.inbound[3])
                offset = 4
            } else if length == 127 {
                guard self.inbound.count >= 10 else { break }
                length = self.inbound[2..<10].reduce(0) { $0 << 8 | Int($1) }
                offset = 10
            }
            guard self.inbound.count >= offset + length else { break }
            frames.append(TestFrame(opcode: opcode, payload: Array(self.inbound[offset..<(offset + length)])))
            self.inbound.removeFirst(offset + length)
        }
        return frames
    }

    /// The bytes of a request as a client sends them.
    static func request(_ method: String, _ uri: String, headers: [String: String], body: [UInt8]?) -> [UInt8] {
        var text = "\(method) \(uri) HTTP/1.1\r\nHost: localhost\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if let body { text += "Content-Length: \(body.count)\r\n" }
        text += "\r\n"
        return Array(text.utf8) + (body ?? [])
    }

    /// The headers of a WebSocket upgrade request, added to `headers`.
    static func upgradeHeaders(_ headers: [String: String]) -> [String: String] {
        var all = headers
        all["Upgrade"] = "websocket"
        all["Connection"] = "Upgrade"
        all["Sec-WebSocket-Key"] = "dGhlIHNhbXBsZSBub25jZQ=="
        all["Sec-WebSocket-Version"] = "13"
        return all
    }
}

/// One client connection on the embedded loop.
final class TestConnection {
    let channel: EmbeddedChannel
    let loop: EmbeddedEventLoop
    private var bytes = ServerBytes()

    init(channel: EmbeddedChannel, loop: EmbeddedEventLoop) {
        self.channel = channel
        self.loop = loop
    }

    /// Sends raw bytes from the client.
    func send(_ bytes: [UInt8]) throws {
        try self.channel.writeInbound(ByteBuffer(bytes: bytes))
        self.loop.run()
    }

    /// Sends an HTTP request and returns the response if one is complete.
    @discardableResult
    func request(_ method: String, _ uri: String, headers: [String: String] = [:], body: String? = nil) throws -> TestResponse? {
        try self.requestBytes(method, uri, headers: headers, body: body.map { Array($0.utf8) })
    }

    @discardableResult
    func requestBytes(_ method: String, _ uri: String, headers: [String: String] = [:], body: [UInt8]?) throws -> TestResponse? {
        try self.send(ServerBytes.request(method, uri, headers: headers, body: body))
        return try self.readResponse()
    }

    /// Collects what the server wrote so far.
    private func drain() throws {
        self.loop.run()
        while let part = try self.channel.readOutbound(as: IOData.self) {
            self.bytes.append(part)
        }
    }

    /// Parses one complete HTTP response, if there is one.
    func readResponse() throws -> TestResponse? {
        try self.drain()
        return self.bytes.takeResponse()
    }

    // MARK: WebSocket

    /// Sends the upgrade request; returns the 101 response.
    func upgrade(_ uri: String, headers: [String: String] = [:]) throws -> TestResponse? {
        try self.request("GET", uri, headers: ServerBytes.upgradeHeaders(headers))
    }

    /// Sends one masked client frame.
    func sendFrame(opcode: UInt8, _ payload: [UInt8], fin: Bool = true) throws {
        var bytes: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        let mask: [UInt8] = [0x11, 0x22, 0x33, 0x44]
        if payload.count < 126 {
            bytes.append(0x80 | UInt8(payload.count))
        } else if payload.count < 65536 {
            bytes.append(0x80 | 126)
            bytes += [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            bytes.append(0x80 | 127)
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8((payload.count >> shift) & 0xFF)) }
        }
        bytes += mask
        bytes += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        try self.send(bytes)
    }

    func sendText(_ text: String) throws { try self.sendFrame(opcode: 1, Array(text.utf8)) }

    /// Reads every complete server frame so far.
    func readFrames() throws -> [TestFrame] {
        try self.drain()
        return self.bytes.takeFrames()
    }

    var isActive: Bool { self.channel.isActive }
}

/// One client connection on its own thread-safe testing loop, for tests that leave the
/// test's thread: an `allowRequest` hook runs in a task and answers from another thread,
/// which an `EmbeddedEventLoop` must never see (it belongs to the thread that made it).
/// Async throughout; time does not move unless the test moves it.
final class AsyncTestConnection {
    let channel: NIOAsyncTestingChannel
    private var bytes = ServerBytes()

    private init(channel: NIOAsyncTestingChannel) {
        self.channel = channel
    }

    /// A new TCP connection to `engine`.
    static func connect(to engine: EngineIOServer) async throws -> AsyncTestConnection {
        let channel = NIOAsyncTestingChannel()
        try await channel.testingEventLoop.executeInContext {
            try EngineIOHTTPServer.configurePipeline(channel: channel, engine: engine, router: nil)
        }
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).get()
        return AsyncTestConnection(channel: channel)
    }

    /// Sends a request and waits for its response (`nil` if none came within two seconds).
    func request(_ method: String, _ uri: String, headers: [String: String] = [:], body: String? = nil) async throws -> TestResponse? {
        try await self.channel.writeInbound(ByteBuffer(bytes: ServerBytes.request(method, uri, headers: headers, body: body.map { Array($0.utf8) })))
        return try await self.response()
    }

    /// Sends a WebSocket upgrade request and waits for the answer.
    func upgrade(_ uri: String, headers: [String: String] = [:]) async throws -> TestResponse? {
        try await self.request("GET", uri, headers: ServerBytes.upgradeHeaders(headers))
    }

    /// Waits for the next complete response; the wait only bounds a failing test.
    func response() async throws -> TestResponse? {
        for _ in 0..<400 {
            while let part = try await self.channel.readOutbound(as: IOData.self) {
                self.bytes.append(part)
            }
            if let response = self.bytes.takeResponse() { return response }
            try await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }
}

/// Records what the engine tells the application; optionally echoes messages.
final class RecordingDelegate: EngineIOServerDelegate, @unchecked Sendable {
    // `@unchecked Sendable`: the embedded loop runs everything on the test's thread.
    let echo: Bool
    var opened: [String] = []
    var received: [(String, EngineIOMessage)] = []
    var closed: [(String, EngineIOCloseReason)] = []
    /// Runs for each message, after it is recorded (and echoed).
    var onReceive: ((EngineIOSession, EngineIOMessage) -> Void)?

    init(echo: Bool) { self.echo = echo }

    func sessionOpened(_ session: EngineIOSession) -> any EngineIOSessionHandler {
        self.opened.append(session.id)
        return Handler(session: session, delegate: self)
    }

    final class Handler: EngineIOSessionHandler {
        let session: EngineIOSession
        unowned let delegate: RecordingDelegate
        init(session: EngineIOSession, delegate: RecordingDelegate) {
            self.session = session
            self.delegate = delegate
        }
        func sessionDidReceive(_ message: EngineIOMessage) {
            self.delegate.received.append((self.session.id, message))
            if self.delegate.echo { self.session.sendOnLoop([EngineIOPacket.message(message).frame]) }
            self.delegate.onReceive?(self.session, message)
        }
        func sessionDidClose(reason: EngineIOCloseReason) {
            self.delegate.closed.append((self.session.id, reason))
        }
    }
}
