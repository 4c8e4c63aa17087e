//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import NIOCore
import NIOHTTP1

/// Closes HTTP connections that take too long to send a request or sit idle
/// (``EngineIOConfiguration/HTTPTimeouts``, Node's `headersTimeout`, `requestTimeout` and
/// `keepAliveTimeout`), so that a slowloris client cannot hold connections without bound.
///
/// It sits after NIO's pipelining and upgrade handlers, so it sees one request at a time:
/// - from the connection's start until the first request's headers: `headersTimeout`;
/// - from a request's headers until its end: `requestTimeout`;
/// - while the server owes the answer (a long-polling GET it holds): no timer;
/// - from a response's end until the next request's headers: `keepAliveTimeout`.
///
/// A WebSocket upgrade removes it (see ``EngineIOHTTPServer``): the heartbeat takes over.
/// Loop-confined like every `ChannelHandler`.
final class HTTPConnectionTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Which limit the running timer enforces.
    enum Phase: Equatable {
        /// No request yet on this connection.
        case awaitingFirstHeaders
        /// A request's headers arrived; its body has not ended.
        case receivingRequest
        /// Requests are complete and the server owes answers.
        case answering
        /// Every request is answered; waiting for the next one.
        case idle
    }

    private let timeouts: EngineIOConfiguration.HTTPTimeouts
    private var timer: Scheduled<Void>?
    private(set) var phase = Phase.awaitingFirstHeaders
    /// Requests whose response has not ended yet.
    private var unanswered = 0
    private var requestOpen = false

    init(timeouts: EngineIOConfiguration.HTTPTimeouts) {
        self.timeouts = timeouts
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { self.arm(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        self.arm(context: context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head:
            self.requestOpen = true
            self.unanswered += 1
            self.update(context: context, requestStarted: true)
        case .body:
            break
        case .end:
            self.requestOpen = false
            self.update(context: context, requestStarted: false)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = self.unwrapOutboundIn(data) {
            self.unanswered = max(0, self.unanswered - 1)
            self.update(context: context, requestStarted: false)
        }
        context.write(data, promise: promise)
    }

    /// Moves to the phase the counters call for, and re-arms the timer when the phase changes
    /// (or a new request starts).
    private func update(context: ChannelHandlerContext, requestStarted: Bool) {
        let next: Phase
        if self.requestOpen {
            next = .receivingRequest
        } else if self.unanswered > 0 {
            next = .answering
        } else {
            next = .idle
        }
        guard next != self.phase || requestStarted else { return }
        self.phase = next
        self.arm(context: context)
    }

    private func arm(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timer = nil
        let limit: TimeAmount
        switch self.phase {
        case .awaitingFirstHeaders: limit = self.timeouts.headersTimeout
        case .receivingRequest: limit = self.timeouts.requestTimeout
        case .idle: limit = self.timeouts.keepAliveTimeout
        case .answering: return
        }
        let phase = self.phase
        self.timer = context.eventLoop.assumeIsolated().scheduleTask(in: limit) {
            guard self.phase == phase else { return }
            self.timer = nil
            // Node answers 408 when it can; a connection that sends nothing (or half a
            // request) is simply closed, as nginx and Node do for idle keep-alive ones.
            context.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension HTTPConnectionTimeoutHandler: Sendable {}
