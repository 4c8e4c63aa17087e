//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIO
import EngineIOParser
import HTTPTypes
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
@testable import SocketIO
import SocketIOParser
import Testing

/// Records the exact Engine.IO frames the Socket.IO layer writes.
final class CaptureTransport: SocketIOTransport {
    let eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.any()
    let request = EngineIORequest(method: .get, uri: "/socket.io/?EIO=4&transport=websocket", headers: [:], remoteAddress: nil)
    let transportName = "websocket"
    private let state = NIOLockedValueBox<(frames: [String], closed: Bool)>(([], false))
    /// What ``isWritable`` answers (volatile broadcasts check it).
    let writable = NIOLockedValueBox(true)
    var isWritable: Bool { self.writable.withLockedValue { $0 } }

    func send(_ frames: [EngineIOFrame]) {
        self.state.withLockedValue { state in
            for frame in frames {
                switch frame.kind {
                case .text: state.frames.append(String(buffer: frame.bytes))
                case .binary: state.frames.append("<" + frame.bytes.readableBytesView.map { String($0) }.joined(separator: " ") + ">")
                }
            }
        }
    }

    func close() { self.state.withLockedValue { $0.closed = true } }

    var frames: [String] { self.state.withLockedValue { $0.frames } }
    var isClosed: Bool { self.state.withLockedValue { $0.closed } }
}

/// One connection driven with raw Socket.IO text, as a client would send it.
struct WireClient {
    let transport = CaptureTransport()
    let handler: NIOLoopBound<any EngineIOSessionHandler>

    /// - Parameter first: a message the client sends at once, delivered in the same loop
    ///   task as the attach (no scheduling delay between them, however loaded the machine).
    init(server: SocketIOServer, first: EngineIOMessage? = nil) async throws {
        let transport = self.transport
        self.handler = try await transport.eventLoop.submit {
            let handler = server.attach(transport)
            if let first { handler.sessionDidReceive(first) }
            return NIOLoopBound(handler, eventLoop: transport.eventLoop)
        }.get()
    }

    func receive(_ message: EngineIOMessage) async throws {
        let handler = self.handler
        try await self.transport.eventLoop.submit { handler.value.sessionDidReceive(message) }.get()
    }

    func receive(_ text: String) async throws { try await self.receive(.text(text)) }

    /// Waits until at least `count` frames were written.
    func frames(atLeast count: Int) async throws -> [String] {
        for _ in 0..<400 where self.transport.frames.count < count {
            try await Task.sleep(for: .milliseconds(5))
        }
        return self.transport.frames
    }
}

struct SocketIOWireTests {
    private func sid(_ frame: String) -> String {
        String(frame.split(separator: "\"")[3])
    }

    @Test func connectReplyPrecedesEventsFromTheConnectHandler() async throws {
        let io = SocketIOServer()
        io.onConnect { socket, _ in
            socket.emit("welcome", 1)
            try await Task.sleep(for: .milliseconds(20))
            socket.emit("after", 2)
        }
        let client = try await WireClient(server: io)
        try await client.receive("0")
        let frames = try await client.frames(atLeast: 3)
        #expect(frames.count == 3)
        #expect(frames[0].hasPrefix(#"40{"sid":""#))
        #expect(self.sid(frames[0]).count == 20)
        #expect(frames[1] == #"42["welcome",1]"#)
        #expect(frames[2] == #"42["after",2]"#)
    }

    @Test func connectReplyOnANamespaceAndExactlyTheSidKey() async throws {
        let io = SocketIOServer()
        _ = io.of("/admin")
        let client = try await WireClient(server: io)
        try await client.receive(#"0/admin,{"token":"123"}"#)
        let frames = try await client.frames(atLeast: 1)
        #expect(frames[0].hasPrefix(#"40/admin,{"sid":""#))
        #expect(frames[0].hasSuffix(#""}"#))
        #expect(frames[0].split(separator: ":").count == 2)
    }

    @Test func unknownNamespaceGetsInvalidNamespaceAndStaysOpen() async throws {
        let io = SocketIOServer()
        let client = try await WireClient(server: io)
        try await client.receive("0/random")
        #expect(try await client.frames(atLeast: 1) == [#"44/random,{"message":"Invalid namespace"}"#])
        #expect(!client.transport.isClosed)
        try await client.receive("0")
        #expect(try await client.frames(atLeast: 2)[1].hasPrefix(#"40{"sid":"#))
    }

    @Test func refusalIsAConnectError() async throws {
        let io = SocketIOServer()
        io.onConnect { _, _ in throw ConnectionRefused("Not authorized", data: ["code": 7]) }
        let client = try await WireClient(server: io)
        try await client.receive("0")
        #expect(try await client.frames(atLeast: 1) == [#"44{"message":"Not authorized","data":{"code":7}}"#])
    }

    @Test func eventsAcksAndBinaryAttachments() async throws {
        let io = SocketIOServer()
        io.onWithAck("hello") { _, arguments in SocketIOAck(arguments) }
        let client = try await WireClient(server: io)
        try await client.receive("0")
        _ = try await client.frames(atLeast: 1)
        try await client.receive(#"212["hello","world"]"#)
        #expect(try await client.frames(atLeast: 2)[1] == #"4312["world"]"#)
        try await client.receive(#"51-15["hello",{"_placeholder":true,"num":0}]"#)
        try await client.receive(.binary(ByteBuffer(bytes: [1, 2, 3, 4])))
        let frames = try await client.frames(atLeast: 4)
        #expect(Array(frames[2...]) == [#"461-15[{"_placeholder":true,"num":0}]"#, "<1 2 3 4>"])
    }

    @Test func emitsWithSeveralAttachmentsEncodeOnce() async throws {
        let io = SocketIOServer()
        let client = try await WireClient(server: io)
        try await client.receive("0")
        _ = try await client.frames(atLeast: 1)
        io.emit("files", .binary(ByteBuffer(bytes: [1])), ["nested": [.binary(ByteBuffer(bytes: [2, 3]))]])
        let frames = try await client.frames(atLeast: 4)
        #expect(
            Array(frames[1...])
                == [#"452-["files",{"_placeholder":true,"num":0},{"nested":[{"_placeholder":true,"num":1}]}]"#, "<1>", "<2 3>"]
        )
    }

    @Test(arguments: [
        "abc", #"2{}"#, #"2abc["x"]"#, "2[]", #"2["connect"]"#, "4{}", #"2["before connect"]"#,
    ])
    func malformedOrOutOfStatePacketsCloseTheConnection(_ text: String) async throws {
        let io = SocketIOServer()
        let client = try await WireClient(server: io)
        if text != #"2["before connect"]"# {
            try await client.receive("0")
            _ = try await client.frames(atLeast: 1)
        }
        try await client.receive(text)
        #expect(client.transport.isClosed)
    }

    @Test func duplicateConnectClosesTheConnection() async throws {
        let io = SocketIOServer()
        let client = try await WireClient(server: io)
        try await client.receive("0")
        _ = try await client.frames(atLeast: 1)
        try await client.receive("0")
        #expect(client.transport.isClosed)
    }

    @Test func leavingTheLastNamespaceKeepsTheConnection() async throws {
        let io = SocketIOServer()
        let client = try await WireClient(server: io)
        try await client.receive("0")
        _ = try await client.frames(atLeast: 1)
        try await client.receive("1")
        #expect(!client.transport.isClosed)
    }

    @Test func clientThatJoinsNoNamespaceIsClosedAfterConnectTimeout() async throws {
        // The second client's CONNECT arrives in the same loop task as its attach (which
        // starts the timer): a separate hop could come after the timeout when the test's
        // task waits for a thread (the full suite keeps both cores busy), closing a client
        // that did join. The waits only bound the test.
        let io = SocketIOServer(configuration: SocketIOConfiguration(connectTimeout: .milliseconds(500)))
        let client = try await WireClient(server: io)
        for _ in 0..<2000 where !client.transport.isClosed { try await Task.sleep(for: .milliseconds(5)) }
        #expect(client.transport.isClosed)
        let joined = try await WireClient(server: io, first: .text("0"))
        try await Task.sleep(for: .milliseconds(700))
        #expect(!joined.transport.isClosed)
    }

    @Test func serverDisconnectSendsDisconnectPacket() async throws {
        let io = SocketIOServer()
        _ = io.of("/admin")
        let client = try await WireClient(server: io)
        try await client.receive("0/admin,")
        let sid = self.sid(try await client.frames(atLeast: 1)[0])
        io.disconnect(sid: sid, namespace: "/admin")
        #expect(try await client.frames(atLeast: 2)[1] == "41/admin,")
    }

    // A handler that never awaits runs inline as the event is read; these check that it
    // still waits its turn behind the socket's earlier events.

    @Test func inlineHandlersWaitBehindASuspendedHandler() async throws {
        let io = SocketIOServer()
        let (started, startedContinuation) = AsyncStream<Void>.makeStream()
        let (gate, gateContinuation) = AsyncStream<Void>.makeStream()
        io.on("slow") { socket, _ in
            startedContinuation.yield()
            for await _ in gate { break }
            socket.emit("done", "slow")
        }
        io.on("fast") { socket, _, ack in
            socket.emit("done", "fast")
            ack()
        }
        let client = try await WireClient(server: io)
        try await client.receive("0")
        _ = try await client.frames(atLeast: 1)
        try await client.receive(#"2["slow"]"#)
        for await _ in started { break }
        // Both arrive while `slow` is suspended: they queue instead of running inline.
        try await client.receive(#"2["fast"]"#)
        try await client.receive(#"21["fast"]"#)
        gateContinuation.yield()
        let frames = try await client.frames(atLeast: 5)
        #expect(Array(frames[1...]) == [#"42["done","slow"]"#, #"42["done","fast"]"#, #"42["done","fast"]"#, "431[]"])
        // Idle again: the next one runs inline and answers at once.
        try await client.receive(#"22["fast"]"#)
        #expect(Array(try await client.frames(atLeast: 7)[5...]) == [#"42["done","fast"]"#, "432[]"])
    }

    @Test func aThrowingInlineHandlerHasItsErrorHandledBeforeLaterEvents() async throws {
        struct Boom: Error {}
        let io = SocketIOServer()
        io.on("fail") { _, _ in throw Boom() }
        io.on("next") { socket, _ in socket.emit("next") }
        io.onErrorWithAck { error, context in
            // Suspends, so that a later event would overtake it if it could.
            await Task.yield()
            context.socket.emit("error", .string(context.event), .bool(error is Boom))
            return []
        }
        let client = try await WireClient(server: io)
        try await client.receive("0")
        _ = try await client.frames(atLeast: 1)
        try await client.receive(#"27["fail",1]"#)
        try await client.receive(#"2["next"]"#)
        let frames = try await client.frames(atLeast: 4)
        #expect(Array(frames[1...]) == [#"42["error","fail",true]"#, "437[]", #"42["next"]"#])
    }

    @Test func volatileBroadcastsSkipATransportThatCannotTakeThemNow() async throws {
        let io = SocketIOServer()
        let client = try await WireClient(server: io)
        try await client.receive("0")
        _ = try await client.frames(atLeast: 1)
        client.transport.writable.withLockedValue { $0 = false }
        io.volatile.emit("tick", 1)
        io.emit("news", 2)
        client.transport.writable.withLockedValue { $0 = true }
        io.volatile.emit("tick", 3)
        let frames = try await client.frames(atLeast: 3)
        #expect(Array(frames[1...]) == [#"42["news",2]"#, #"42["tick",3]"#])
    }
}
