//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIOParser
import Logging
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// Routes the HTTP requests of one connection: Engine.IO polling (handshake, GET, POST),
/// CORS preflight, and everything else to the application's router.
///
/// Loop-confined like every `ChannelHandler`. A held polling GET keeps the connection
/// busy; `HTTPServerPipelineHandler` holds back pipelined requests until it is answered.
final class EngineIOHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        case other(HTTPRequestHead)
        case preflight(HTTPRequestHead)
        case rejecting(HTTPRequestHead, EngineIORequestError, closeSession: EngineIOSession?)
        case handshake(HTTPRequestHead, EngineIORequest)
        case poll(HTTPRequestHead, EngineIOSession)
        case post(HTTPRequestHead, EngineIOSession, body: ByteBuffer)
        /// An answer went out before the request ended (413); the rest is ignored.
        case discarding
        /// A GET waits for the session to answer it.
        case waiting(PollResponder, EngineIOSession)
    }

    private let server: EngineIOServer
    private let router: HTTPRequestRouter?
    private let health: HTTPHealthEndpoints?
    private var state: State = .idle
    /// Set by the WebSocket upgrader when it refused an upgrade request, so that this
    /// handler answers it with the right error.
    var upgradeRefusal: EngineIORequestError?

    init(server: EngineIOServer, router: HTTPRequestRouter?, health: HTTPHealthEndpoints? = nil) {
        self.server = server
        self.router = router
        self.health = health
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.received(head: head, context: context)
        case .body(var chunk):
            if case .post(let head, let session, var body) = self.state {
                if body.readableBytes + chunk.readableBytes > self.server.configuration.maxPayload {
                    // Node answers 413 at once; the session itself stays open.
                    self.state = .discarding
                    session.postFinished(.aborted, responder: nil)
                    PollResponder(channel: context.channel, head: head, server: self.server).reject(.payloadTooLarge)
                    return
                }
                self.state = .idle  // drop the reference to `body` so the append does not copy
                body.writeBuffer(&chunk)
                self.state = .post(head, session, body: body)
            }
        case .end:
            self.receivedEnd(context: context)
        }
    }

    private func received(head: HTTPRequestHead, context: ChannelHandlerContext) {
        let (path, query) = EngineIORequest.split(head.uri)
        guard self.server.isEngineRequest(path: path, query: query) else {
            self.state = .other(head)
            return
        }
        if let refusal = self.upgradeRefusal {
            self.upgradeRefusal = nil
            self.state = .rejecting(head, refusal, closeSession: nil)
            return
        }
        if head.method == .OPTIONS {
            self.state = .preflight(head)
            return
        }
        let isUpgrade = head.headers[canonicalForm: "upgrade"].contains { $0.lowercased() == "websocket" }
        switch self.server.route(head, query: query, isWebSocketUpgrade: isUpgrade) {
        case .failure(let error):
            self.state = .rejecting(head, error, closeSession: nil)
        case .success(.handshake(.polling)):
            let request = self.server.request(for: head, on: context.channel)
            self.state = .handshake(head, request)
        case .success(.handshake(.websocket)), .success(.session(_, .websocket)):
            // A valid upgrade request reaches this handler only if the upgrader declined it.
            self.state = .rejecting(head, .badRequest, closeSession: nil)
        case .success(.session(let session, .polling)):
            switch head.method {
            case .GET:
                self.state = .poll(head, session)
            case .POST:
                if let type = head.headers.first(name: "content-type"),
                    type.lowercased().hasPrefix("application/octet-stream")
                {
                    // v4 polling is text only (Node `polling.ts`: "invalid content").
                    self.state = .rejecting(head, .badRequest, closeSession: session)
                    return
                }
                session.postStarted()
                self.state = .post(head, session, body: context.channel.allocator.buffer(capacity: 0))
            default:
                self.state = .rejecting(head, .badRequest, closeSession: nil)
            }
        }
    }

    private func receivedEnd(context: ChannelHandlerContext) {
        let state = self.state
        self.state = .idle
        switch state {
        case .idle, .waiting, .discarding:
            break
        case .other(let head):
            self.answerOther(head: head, context: context)
        case .preflight(let head):
            let responder = PollResponder(channel: context.channel, head: head, server: self.server)
            guard self.server.configuration.cors.accepts(head.headers) else {
                responder.reject(.originNotAllowed)
                return
            }
            var headers: HTTPHeaders = [:]
            self.server.configuration.cors.responseHeaders(for: head.headers, into: &headers)
            self.server.configuration.cors.preflightHeaders(for: head.headers, into: &headers)
            HTTPResponseWriter.prepare(&headers, bodyLength: 0, keepAlive: head.isKeepAlive, version: head.version)
            HTTPResponseWriter.write(
                head: HTTPResponseHead(version: head.version, status: .noContent, headers: headers),
                body: ByteBuffer(),
                keepAlive: head.isKeepAlive,
                to: context.channel
            )
        case .rejecting(let head, let error, let session):
            // After a request with `Upgrade`, NIO's decoder reads no more HTTP on this
            // connection: answer, then close (as Node's `abortUpgrade` does).
            let wasUpgrade = !head.headers[canonicalForm: "upgrade"].isEmpty
            PollResponder(channel: context.channel, head: head, server: self.server).reject(error, close: wasUpgrade)
            session?.close(reason: .transportError)
        case .handshake(let head, let request):
            self.handshake(head: head, request: request, context: context)
        case .poll(let head, let session):
            let responder = PollResponder(channel: context.channel, head: head, server: self.server)
            self.state = .waiting(responder, session)
            session.pollReceived(responder)
        case .post(let head, let session, let body):
            let responder = PollResponder(channel: context.channel, head: head, server: self.server)
            do {
                let packets = try EngineIOPayload.decode(body, maxPackets: self.server.configuration.maxPacketsPerPayload)
                session.postFinished(.packets(packets), responder: responder)
            } catch {
                self.server.logger.debug(
                    "invalid polling payload",
                    metadata: [EngineIOLoggingKeys.sid: "\(session.id)", EngineIOLoggingKeys.error: "\(error)"]
                )
                session.postFinished(.invalid, responder: responder)
            }
        }
    }

    private func handshake(head: HTTPRequestHead, request: EngineIORequest, context: ChannelHandlerContext) {
        let responder = PollResponder(channel: context.channel, head: head, server: self.server)
        let server = self.server
        let eventLoop = context.eventLoop
        guard let allowRequest = server.allowRequest else {
            server.openPollingSession(request: request, responder: responder, eventLoop: eventLoop)
            return
        }
        // One task per handshake (not per message) to run the application's async check.
        eventLoop.makeFutureWithTask { await allowRequest(request) }.whenSuccess { refusal in
            if let refusal {
                responder.reject(.forbidden(refusal.message))
            } else {
                server.openPollingSession(request: request, responder: responder, eventLoop: eventLoop)
            }
        }
    }

    private func answerOther(head: HTTPRequestHead, context: ChannelHandlerContext) {
        if let health = self.health, head.method == .GET || head.method == .HEAD {
            let path = EngineIORequest.split(head.uri).path
            if HTTPHealthEndpoints.handles(path) {
                health.answer(path: path, head: head, on: context.channel)
                return
            }
        }
        let request = self.server.request(for: head, on: context.channel)
        var response = self.router?(request) ?? .notFound
        HTTPResponseWriter.prepare(&response.headers, bodyLength: response.body.readableBytes, keepAlive: head.isKeepAlive, version: head.version)
        HTTPResponseWriter.write(
            head: HTTPResponseHead(version: head.version, status: response.status, headers: response.headers),
            body: response.body,
            keepAlive: head.isKeepAlive,
            to: context.channel
        )
    }

    func channelInactive(context: ChannelHandlerContext) {
        switch self.state {
        case .waiting(let responder, let session) where !responder.completed:
            session.pollAbandoned(responder)
        case .post(_, let session, _):
            session.postFinished(.aborted, responder: nil)
        default:
            break
        }
        self.state = .idle
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // NIO's upgrade handler reports a declined upgrade (`shouldUpgrade` answered nil, or
        // the request lacks a valid WebSocket key or version) as an error, then hands the
        // request on to this handler, which answers it with an HTTP error (400/403 and the
        // Engine.IO JSON body). Closing here would drop the connection without an answer,
        // which a proxy counts as a failed upstream.
        if error is NIOWebSocketUpgradeError { return }
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension EngineIOHTTPHandler: Sendable {}
