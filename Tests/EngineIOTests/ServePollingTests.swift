//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

@testable import EngineIO
import EngineIOParser
import Foundation
import HTTPTypes
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// The polling decision tree as a second front end (a mounted server) calls it:
/// ``EngineIOServer/servePolling(_:body:reply:)`` from off the loop, answers through a sink.
@Suite struct ServePollingTests {
    /// A sink that completes a promise with the answer, as a framework's route would await it.
    final class RecordingSink: EngineIOPollReplySink {
        let eventLoop: any EventLoop
        let answer: EventLoopPromise<EngineIOHTTPAnswer>
        private let sends = NIOLockedValueBox(0)

        init(eventLoop: any EventLoop) {
            self.eventLoop = eventLoop
            self.answer = eventLoop.makePromise()
        }

        func send(_ answer: EngineIOHTTPAnswer) {
            self.sends.withLockedValue { $0 += 1 }
            self.answer.succeed(answer)
        }

        /// How many answers were given (at most one, ``PollResponder`` answers once).
        var sendCount: Int { self.sends.withLockedValue { $0 } }
    }

    struct Engine {
        let loop: any EventLoop
        let engine: EngineIOServer

        init(loop: any EventLoop, allowRequest: EngineIOServer.AllowRequest? = nil) {
            self.loop = loop
            // The delegate echoes each message on the session's loop (never read here).
            self.engine = EngineIOServer(
                configuration: .init(path: "/engine.io/", cors: .any),
                delegate: RecordingDelegate(echo: true),
                allowRequest: allowRequest,
                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
            )
        }

        /// Serves one request through a fresh sink; returns the sink (the answer may come later).
        func serve(_ method: HTTPRequest.Method, _ uri: String, body: String = "", headers: HTTPFields = [:]) -> RecordingSink {
            let sink = RecordingSink(eventLoop: self.loop)
            let request = EngineIORequest(method: method, uri: uri, headers: headers, remoteAddress: nil, context: "app context")
            let reply = PollResponder(sink: sink, requestHeaders: headers, server: self.engine)
            self.engine.servePolling(request, body: ByteBuffer(string: body), reply: reply)
            return sink
        }

        func handshake() async throws -> String {
            let answer = try await self.serve(.get, "/engine.io/?EIO=4&transport=polling").answer.futureResult.get()
            #expect(answer.status == .ok)
            let body = String(buffer: answer.body)
            #expect(body.hasPrefix("0{"))
            let json = try JSONSerialization.jsonObject(with: Data(body.dropFirst().utf8)) as! [String: Any]
            return try #require(json["sid"] as? String)
        }

        /// Waits until everything queued on the loop so far has run.
        func settle() async throws {
            try await self.loop.submit {}.get()
        }
    }

    static func withEngine(
        allowRequest: EngineIOServer.AllowRequest? = nil,
        _ body: (Engine) async throws -> Void
    ) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        try await body(Engine(loop: group.next(), allowRequest: allowRequest))
        try await group.shutdownGracefully()
    }

    @Test func aHandshakeOpensASessionAndAnswersTheOpenPacket() async throws {
        try await Self.withEngine { engine in
            let sink = engine.serve(.get, "/engine.io/?EIO=4&transport=polling")
            let answer = try await sink.answer.futureResult.get()
            #expect(answer.status == .ok)
            #expect(answer.headerFields[.contentType] == "text/plain; charset=UTF-8")
            #expect(answer.close == false)
            #expect(String(buffer: answer.body).hasPrefix("0{\"sid\":\""))
            #expect(engine.engine.sessionCount == 1)
            let session = try #require(engine.engine.session(id: try await engine.handshake()))
            // The framework's request context reaches the session's request.
            #expect(session.request.context as? String == "app context")
        }
    }

    @Test func aHeldGetIsAnsweredWhenTheSessionSends() async throws {
        try await Self.withEngine { engine in
            let sid = try await engine.handshake()
            let sink = engine.serve(.get, "/engine.io/?EIO=4&transport=polling&sid=\(sid)")
            try await engine.settle()
            #expect(sink.sendCount == 0)
            try #require(engine.engine.session(id: sid)).send(.text("hello"))
            let answer = try await sink.answer.futureResult.get()
            #expect(answer.status == .ok)
            #expect(String(buffer: answer.body) == "4hello")
            #expect(sink.sendCount == 1)
        }
    }

    @Test func aPostDeliversItsPacketsAndAnswersOk() async throws {
        try await Self.withEngine { engine in
            let sid = try await engine.handshake()
            let post = try await engine.serve(.post, "/engine.io/?EIO=4&transport=polling&sid=\(sid)", body: "4hi").answer.futureResult.get()
            #expect(post.status == .ok)
            #expect(String(buffer: post.body) == "ok")
            #expect(post.headerFields[.contentType] == "text/html")
            // The delegate echoed the message: the next GET carries it.
            let get = try await engine.serve(.get, "/engine.io/?EIO=4&transport=polling&sid=\(sid)").answer.futureResult.get()
            #expect(String(buffer: get.body) == "4hi")
        }
    }

    @Test func refusalsAndPreflightGoThroughTheSink() async throws {
        try await Self.withEngine { engine in
            let unknown = try await engine.serve(.get, "/engine.io/?EIO=4&transport=polling&sid=nope").answer.futureResult.get()
            #expect(unknown.status == .badRequest)
            #expect(String(buffer: unknown.body) == #"{"code":1,"message":"Session ID unknown"}"#)
            let preflight = try await engine.serve(.options, "/engine.io/?EIO=4&transport=polling", headers: [.origin: "http://a.example"])
                .answer.futureResult.get()
            #expect(preflight.status == .noContent)
            #expect(preflight.headerFields[.accessControlAllowOrigin] == "http://a.example")
            #expect(preflight.headerFields[.accessControlAllowMethods] == "OPTIONS, GET, POST")
        }
    }

    @Test func drainingClosesSessionsAndRefusesHandshakes() async throws {
        try await Self.withEngine { engine in
            let sid = try await engine.handshake()
            let held = engine.serve(.get, "/engine.io/?EIO=4&transport=polling&sid=\(sid)")
            try await engine.settle()
            #expect(engine.engine.isDraining == false)
            await engine.engine.beginDraining()
            #expect(engine.engine.isDraining)
            // The held poll gets a noop, not `1`: the client's next poll finds the session
            // gone, a transport error, and it reconnects (elsewhere).
            let released = try await held.answer.futureResult.get()
            #expect(String(buffer: released.body) == "6")
            #expect(engine.engine.sessionCount == 0)
            let next = try await engine.serve(.get, "/engine.io/?EIO=4&transport=polling&sid=\(sid)").answer.futureResult.get()
            #expect(next.status == .badRequest)

            let refused = try await engine.serve(.get, "/engine.io/?EIO=4&transport=polling").answer.futureResult.get()
            #expect(refused.status == .forbidden)
            #expect(String(buffer: refused.body) == #"{"code":4,"message":"Server shutting down"}"#)
            #expect(engine.engine.sessionCount == 0)
            // WebSocket handshakes are refused by the same check.
            let webSocket = engine.engine.route(
                method: .get,
                headers: [:],
                query: ["EIO": "4", "transport": "websocket"],
                isWebSocketUpgrade: true
            )
            #expect(throws: EngineIORequestError.serverShuttingDown) { try webSocket.get() }
            // Only the first call drains; a second returns at once.
            await engine.engine.beginDraining()
            #expect(engine.engine.isDraining)
        }
    }

    @Test func aHandshakeThatPassedRoutingBeforeADrainIsRefused() async throws {
        // allowRequest holds the handshake until the drain began.
        let gate = NIOLockedValueBox<CheckedContinuation<Void, Never>?>(nil)
        let waiting = AsyncStream<Void>.makeStream()
        try await Self.withEngine(allowRequest: { _ in
            await withCheckedContinuation { continuation in
                gate.withLockedValue { $0 = continuation }
                waiting.continuation.yield()
            }
            return nil
        }) { engine in
            let sink = engine.serve(.get, "/engine.io/?EIO=4&transport=polling")
            var iterator = waiting.stream.makeAsyncIterator()
            await iterator.next()
            await engine.engine.beginDraining()
            gate.withLockedValue { $0 }?.resume()
            let answer = try await sink.answer.futureResult.get()
            #expect(answer.status == .forbidden)
            #expect(String(buffer: answer.body) == #"{"code":4,"message":"Server shutting down"}"#)
            #expect(engine.engine.sessionCount == 0)
        }
    }
}
