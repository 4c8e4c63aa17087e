//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import NIOCore
package import NIOHTTP1

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
/// Loop-confined like every `ChannelHandler`. `package`: the Hummingbird mount installs it
/// in its own NIOHTTP1 pipeline.
package final class HTTPConnectionTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    package typealias InboundIn = HTTPServerRequestPart
    package typealias InboundOut = HTTPServerRequestPart
    package typealias OutboundIn = HTTPServerResponsePart
    package typealias OutboundOut = HTTPServerResponsePart

    private var machine: HTTPConnectionTimeouts
    /// When the connection closes unless the machine says otherwise (`nil`: no timeout,
    /// the server owes an answer).
    private var deadline: NIODeadline?
    /// The one scheduled timer and when it fires. It is re-armed lazily, like
    /// `EngineIOSession`'s: a later deadline keeps it (it fires early, finds the deadline
    /// not reached and re-arms then), and a cleared deadline leaves it to fire for nothing.
    /// A polling request moves the deadline two or three times; this schedules no timer for
    /// most of them instead of cancelling and scheduling one each time.
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    /// Which arming the running timer belongs to (a cancelled timer may still fire).
    private var generation = 0
    /// How many timers were scheduled (tests).
    private(set) var timersScheduled = 0

    package init(timeouts: EngineIOConfiguration.HTTPTimeouts) {
        self.machine = HTTPConnectionTimeouts(timeouts: timeouts)
    }

    package func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { self.run(self.machine.connectionStarted(), context: context) }
    }

    package func channelActive(context: ChannelHandlerContext) {
        self.run(self.machine.connectionStarted(), context: context)
        context.fireChannelActive()
    }

    package func handlerRemoved(context: ChannelHandlerContext) {
        self.stopTimer()
    }

    package func channelInactive(context: ChannelHandlerContext) {
        self.stopTimer()
        context.fireChannelInactive()
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head: self.run(self.machine.requestHeadReceived(), context: context)
        case .body: break
        case .end: self.run(self.machine.requestEndReceived(), context: context)
        }
        context.fireChannelRead(data)
    }

    package func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
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
            self.deadline = nil
        case .arm(let limit):
            let deadline = context.eventLoop.now + limit
            self.deadline = deadline
            self.armTimer(at: deadline, context: context)
        }
    }

    /// Makes sure a timer fires at `deadline` or earlier.
    private func armTimer(at deadline: NIODeadline, context: ChannelHandlerContext) {
        if self.timer != nil, let current = self.timerDeadline, current <= deadline { return }
        self.timer?.cancel()
        self.generation &+= 1
        let generation = self.generation
        self.timerDeadline = deadline
        self.timersScheduled += 1
        // `assumeIsolated()` is safe: this runs in a handler callback, hence on the channel's
        // loop, which is `context.eventLoop`; the task runs on that loop too, so it may touch
        // the handler and its context (neither is Sendable) as the callbacks do.
        self.timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            guard self.generation == generation else { return }
            self.timer = nil
            self.timerDeadline = nil
            guard let due = self.deadline else { return }  // the server owes an answer
            if due > context.eventLoop.now {
                self.armTimer(at: due, context: context)  // moved later meanwhile
                return
            }
            // Node answers 408 when it can; a connection that sends nothing (or half a
            // request) is simply closed, as nginx and Node do for idle keep-alive ones.
            context.close(promise: nil)
        }
    }

    private func stopTimer() {
        self.timer?.cancel()
        self.timer = nil
        self.timerDeadline = nil
        self.deadline = nil
        self.generation &+= 1
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
