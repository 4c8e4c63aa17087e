//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

internal import HTTPTypes
import Logging
import NIOCore
internal import NIOHTTP1
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
        /// A request on the engine path, decided from its head (``EngineIOServer/pollingStep(method:headers:query:)``).
        case engine(HTTPRequestHead, HTTPFields, EngineIOServer.PollingStep)
        /// A POST's body as it streams in.
        case post(HTTPRequestHead, HTTPFields, EngineIOSession, body: ByteBuffer)
        /// An answer went out before the request ended (413); the rest is ignored.
        case discarding
        /// A GET waits for the session to answer it.
        case waiting(PollResponder, EngineIOSession)
    }

    private let server: EngineIOServer
    private let router: EngineIORouter?
    private let health: HTTPHealthEndpoints?
    private var state: State = .idle
    /// Set by the WebSocket upgrader when it refused an upgrade request, so that this
    /// handler answers it with the right error.
    var upgradeRefusal: EngineIORequestError?

    init(server: EngineIOServer, router: EngineIORouter?, health: HTTPHealthEndpoints? = nil) {
        self.server = server
        self.router = router
        self.health = health
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.received(head: head, context: context)
        case .body(var chunk):
            if case .post(let head, let fields, let session, var body) = self.state {
                if body.readableBytes + chunk.readableBytes > self.server.configuration.maxPayload {
                    // Node answers 413 at once; the session itself stays open.
                    self.state = .discarding
                    session.postFinished(.aborted, responder: nil)
                    self.responder(head: head, fields: fields, context: context).reject(.payloadTooLarge)
                    return
                }
                self.state = .idle  // drop the reference to `body` so the append does not copy
                body.writeBuffer(&chunk)
                self.state = .post(head, fields, session, body: body)
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
        let fields = HTTPFields(head.headers)
        if let refusal = self.upgradeRefusal {
            self.upgradeRefusal = nil
            self.state = .engine(head, fields, .reject(refusal, closeSession: nil))
            return
        }
        let method = HTTPRequest.Method(head.method.rawValue) ?? .get
        switch self.server.pollingStep(method: method, headers: fields, query: query) {
        case .post(let session):
            self.state = .post(head, fields, session, body: context.channel.allocator.buffer(capacity: 0))
        case let step:
            self.state = .engine(head, fields, step)
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
        case .engine(let head, let fields, let step):
            let responder = self.responder(head: head, fields: fields, context: context)
            if case .poll(let session) = step {
                // Held until the session answers; `channelInactive` tells it if the client leaves.
                self.state = .waiting(responder, session)
            }
            self.server.finishPolling(
                step,
                request: self.server.request(for: head, headers: fields, on: context.channel),
                body: ByteBuffer(),
                reply: responder
            )
        case .post(let head, let fields, let session, let body):
            let responder = self.responder(head: head, fields: fields, context: context)
            self.server.finishPolling(
                .post(session),
                request: self.server.request(for: head, headers: fields, on: context.channel),
                body: body,
                reply: responder
            )
        }
    }

    private func responder(head: HTTPRequestHead, fields: HTTPFields, context: ChannelHandlerContext) -> PollResponder {
        PollResponder(sink: NIOPollReplySink(channel: context.channel, head: head), requestHeaders: fields, server: self.server)
    }

    private func answerOther(head: HTTPRequestHead, context: ChannelHandlerContext) {
        if let health = self.health, head.method == .GET || head.method == .HEAD {
            let path = EngineIORequest.split(head.uri).path
            if HTTPHealthEndpoints.handles(path) {
                health.answer(path: path, head: head, on: context.channel)
                return
            }
        }
        guard let router = self.router, let response = router(self.server.request(for: head, on: context.channel)) else {
            self.write(.notFound, head: head, context: context)
            return
        }
        self.write(response, head: head, context: context)
    }

    private func write(_ response: EngineIOResponse, head: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = HTTPHeaders(response.headerFields)
        HTTPResponseWriter.prepare(&headers, bodyLength: response.body.readableBytes, keepAlive: head.isKeepAlive, version: head.version)
        HTTPResponseWriter.write(
            head: HTTPResponseHead(version: head.version, status: HTTPResponseStatus(response.status), headers: headers),
            body: response.body,
            keepAlive: head.isKeepAlive,
            to: context.channel
        )
    }

    func channelInactive(context: ChannelHandlerContext) {
        switch self.state {
        case .waiting(let responder, let session) where !responder.completed:
            session.pollAbandoned(responder)
        case .post(_, _, let session, _):
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
