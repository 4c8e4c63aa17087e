//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import NIOConcurrencyHelpers
public import SocketIOParser
import Synchronization

/// The answer to a server-side emit from another node (Node's `serverSideEmit` callback):
/// call it once with the arguments to send back. Calls after the first are ignored, and so
/// is a call when the sender did not ask for an answer (``isRequested``).
public final class SocketIOServerSideAck: Sendable {
    private let reply: (@Sendable ([SocketIOValue]) -> Void)?
    private let answered = Atomic<Bool>(false)

    /// - Parameter reply: sends the answer back; `nil` when the sender wants none.
    public init(reply: (@Sendable ([SocketIOValue]) -> Void)?) {
        self.reply = reply
    }

    /// Whether the sender waits for an answer (`serverSideEmitWithAck`).
    public var isRequested: Bool { self.reply != nil }

    /// Sends the answer (once).
    public func callAsFunction(arguments: [SocketIOValue]) {
        guard let reply, !self.answered.exchange(true, ordering: .relaxed) else { return }
        reply(arguments)
    }

    /// Sends the answer (once).
    public func callAsFunction(_ arguments: SocketIOValue...) {
        self.callAsFunction(arguments: arguments)
    }
}

/// Where an adapter hands the server-side emits of other nodes: the event, its arguments
/// and the ack to answer with. Called on the adapter's receiving task: it must not block.
public typealias SocketIOServerSideEmitReceiver = @Sendable (_ event: String, _ arguments: [SocketIOValue], _ ack: SocketIOServerSideAck) -> Void

/// A handler of server-side emits (``SocketIOServer/onServerSideEmit(_:_:)``).
public typealias SocketIOServerSideEmitHandler = @Sendable (_ arguments: [SocketIOValue], _ ack: SocketIOServerSideAck) -> Void

/// The server's handlers of server-side emits, by event (one lock).
final class SocketIOServerSideHandlers: Sendable {
    private let handlers = NIOLockedValueBox<[String: SocketIOServerSideEmitHandler]>([:])

    func set(_ event: String, _ handler: @escaping SocketIOServerSideEmitHandler) {
        self.handlers.withLockedValue { $0[event] = handler }
    }

    /// Runs the handler of `event`, if any (outside the lock); without one, the ack is
    /// never answered and the sender lists this node as missing.
    func receive(_ event: String, _ arguments: [SocketIOValue], _ ack: SocketIOServerSideAck) {
        guard let handler = self.handlers.withLockedValue({ $0[event] }) else { return }
        handler(arguments, ack)
    }
}
