//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Hummingbird
import EngineIO
import NIOCore

/// Hands a polling answer to the Hummingbird route that awaits it: the route returns the
/// promise's answer as its response. A held GET is this promise, not a task.
///
/// `@unchecked Sendable`: `answered` is only read and written on `eventLoop` (the
/// connection's), by `send(_:)` and `abandon()`; the rest is immutable.
final class PromisePollReplySink: EngineIOPollReplySink, @unchecked Sendable {
    let promise: EventLoopPromise<EngineIOHTTPAnswer>
    private var answered = false

    init(eventLoop: any EventLoop) {
        self.promise = eventLoop.makePromise(of: EngineIOHTTPAnswer.self)
    }

    var eventLoop: any EventLoop { self.promise.futureResult.eventLoop }

    func send(_ answer: EngineIOHTTPAnswer) {
        self.eventLoop.preconditionInEventLoop()
        guard !self.answered else { return }
        self.answered = true
        self.promise.succeed(answer)
    }

    /// The client went away before the answer: the awaiting route ends with an error (its
    /// response is never written) and a later answer from the session is dropped.
    func abandon() {
        self.eventLoop.preconditionInEventLoop()
        guard !self.answered else { return }
        self.answered = true
        self.promise.fail(ChannelError.ioOnClosedChannel)
    }
}
#endif
