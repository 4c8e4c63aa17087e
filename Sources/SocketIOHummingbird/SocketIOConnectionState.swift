//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Hummingbird
import EngineIO
import NIOCore

/// What the engine routes need to know about the connection a request came on, which a
/// Hummingbird route does not see: the `Channel` (its loop runs new sessions; its address
/// is the client's), the polling GET held on it, and the outcome of its upgrade check.
///
/// One per connection, made by SocketIOHTTP1Channel; routes find it through the
/// task-local current, set once around the connection's request loop (Hummingbird serves
/// every request of a connection in one task).
///
/// `@unchecked Sendable`: `state` is a loop-bound box, only touched on `channel.eventLoop`;
/// the rest is immutable.
final class SocketIOConnectionState: @unchecked Sendable {
    @TaskLocal static var current: SocketIOConnectionState?

    let channel: any Channel
    private let state: NIOLoopBoundBox<State>

    struct State {
        /// The polling GET waiting on this connection, answered by its session.
        var heldPoll: HeldPoll?
        /// Why the engine refused this connection's upgrade request (the HTTP path answers it).
        var upgradeRefusal: EngineIORequestError?
        /// The app's request context of an accepted upgrade request.
        var upgradeContext: (any Sendable)?
    }

    struct HeldPoll {
        let reply: PollResponder
        let sink: PromisePollReplySink
        let session: EngineIOSession
    }

    init(channel: any Channel) {
        self.channel = channel
        self.state = NIOLoopBoundBox(State(), eventLoop: channel.eventLoop)
        // One callback per connection, not per poll (those would pile up on a long
        // keep-alive connection): a client that leaves while its GET is held ends the poll,
        // as `channelInactive` does on the standalone listener. The route is not cancelled
        // by Hummingbird, so its promise is failed here.
        channel.closeFuture.whenComplete { [self] _ in
            guard let held = self.state.value.heldPoll else { return }
            self.state.value.heldPoll = nil
            if !held.reply.completed {
                held.session.pollAbandoned(held.reply)
            }
            held.sink.abandon()
        }
    }

    /// Runs `body` on the connection's loop.
    func onLoop<T: Sendable>(_ body: @escaping @Sendable (inout State) -> T) async throws -> T {
        try await self.channel.eventLoop.submit { body(&self.state.value) }.get()
    }

    /// Loop-bound access for code already on the loop.
    var stateOnLoop: State {
        get { self.state.value }
        set { self.state.value = newValue }
    }
}
#endif
