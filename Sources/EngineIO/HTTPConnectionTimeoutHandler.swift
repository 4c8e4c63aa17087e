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

    private var machine: HTTPConnectionTimeouts
    private var timer: Scheduled<Void>?
    /// Which arming the running timer belongs to (a cancelled timer may still fire).
    private var generation = 0

    init(timeouts: EngineIOConfiguration.HTTPTimeouts) {
        self.machine = HTTPConnectionTimeouts(timeouts: timeouts)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { self.run(self.machine.connectionStarted(), context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        self.run(self.machine.connectionStarted(), context: context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.run(.cancel, context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.run(.cancel, context: context)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head: self.run(self.machine.requestHeadReceived(), context: context)
        case .body: break
        case .end: self.run(self.machine.requestEndReceived(), context: context)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = self.unwrapOutboundIn(data) {
            self.run(self.machine.responseEnded(), context: context)
        }
        context.write(data, promise: promise)
    }

    private func run(_ action: HTTPConnectionTimeouts.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            return
        case .cancel:
            self.timer?.cancel()
            self.timer = nil
            self.generation &+= 1
        case .arm(let limit):
            self.timer?.cancel()
            self.generation &+= 1
            let generation = self.generation
            self.timer = context.eventLoop.assumeIsolated().scheduleTask(in: limit) {
                guard self.generation == generation else { return }
                self.timer = nil
                // Node answers 408 when it can; a connection that sends nothing (or half a
                // request) is simply closed, as nginx and Node do for idle keep-alive ones.
                context.close(promise: nil)
            }
        }
    }
}

@available(*, unavailable)
extension HTTPConnectionTimeoutHandler: Sendable {}

/// Which timeout an HTTP connection is under, as a pure state machine: the handler feeds it
/// the connection's events and runs the timer actions it returns.
struct HTTPConnectionTimeouts {
    enum Phase: Equatable {
        /// No request yet on this connection: `headersTimeout`.
        case awaitingFirstHeaders
        /// A request's headers arrived; its body has not ended: `requestTimeout`.
        case receivingRequest
        /// Requests are complete and the server owes answers: no timer.
        case answering
        /// Every request is answered; waiting for the next one: `keepAliveTimeout`.
        case idle
    }

    enum Action: Equatable {
        case none
        /// (Re)start the timer; the connection closes when it fires.
        case arm(TimeAmount)
        case cancel
    }

    let timeouts: EngineIOConfiguration.HTTPTimeouts
    private(set) var phase = Phase.awaitingFirstHeaders
    /// Requests whose response has not ended yet.
    private var unanswered = 0
    private var requestOpen = false

    init(timeouts: EngineIOConfiguration.HTTPTimeouts) {
        self.timeouts = timeouts
    }

    mutating func connectionStarted() -> Action {
        self.phase = .awaitingFirstHeaders
        return .arm(self.timeouts.headersTimeout)
    }

    mutating func requestHeadReceived() -> Action {
        self.requestOpen = true
        self.unanswered += 1
        return self.move(restart: true)
    }

    mutating func requestEndReceived() -> Action {
        self.requestOpen = false
        return self.move(restart: false)
    }

    /// A response's end was written (an answer may end before its request: 413).
    mutating func responseEnded() -> Action {
        self.unanswered = max(0, self.unanswered - 1)
        return self.move(restart: false)
    }

    private mutating func move(restart: Bool) -> Action {
        let next: Phase
        if self.requestOpen {
            next = .receivingRequest
        } else if self.unanswered > 0 {
            next = .answering
        } else {
            next = .idle
        }
        guard next != self.phase || restart else { return .none }
        self.phase = next
        switch next {
        case .awaitingFirstHeaders: return .arm(self.timeouts.headersTimeout)
        case .receivingRequest: return .arm(self.timeouts.requestTimeout)
        case .answering: return .cancel
        case .idle: return .arm(self.timeouts.keepAliveTimeout)
        }
    }
}
