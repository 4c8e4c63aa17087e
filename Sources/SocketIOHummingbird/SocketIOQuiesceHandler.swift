//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Hummingbird
import EngineIO
import NIOCore
import Synchronization

/// Drains the engine once, when Hummingbird's graceful shutdown begins.
///
/// Hummingbird's server closes its listening socket, then sends `ChannelShouldQuiesceEvent`
/// to every connection and waits until all are closed, without a time limit. A held poll or
/// an open WebSocket would keep it waiting; `EngineIOServer.beginDraining()` refuses new
/// handshakes and ends every session as a lost transport (a noop answers a held poll, a
/// WebSocket gets close 1001), so clients reconnect elsewhere.
final class SocketIODrain: Sendable {
    private let engine: EngineIOServer
    private let started = Atomic<Bool>(false)

    init(engine: EngineIOServer) {
        self.engine = engine
    }

    /// Starts the drain; later calls (every other connection's quiesce) do nothing.
    func start() {
        guard !self.started.exchange(true, ordering: .relaxed) else { return }
        let engine = self.engine
        // One task for the whole shutdown: the engine's drain is async.
        Task { await engine.beginDraining() }
    }
}

/// Starts the drain on a quiesce event and passes the event on (to Hummingbird's
/// connection-state handler, which closes an HTTP connection once it is idle).
final class SocketIOQuiesceHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    private let drain: SocketIODrain

    init(drain: SocketIODrain) {
        self.drain = drain
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            self.drain.start()
        }
        context.fireUserInboundEventTriggered(event)
    }
}

@available(*, unavailable)
extension SocketIOQuiesceHandler: Sendable {}
#endif
