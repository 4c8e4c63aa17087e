//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import SocketIOParser
import Synchronization

/// Answers the acknowledgement a client asked for with an event (Node's ack callback).
///
/// A handler that takes a responder decides whether and when the client gets an ack: now,
/// later (after awaiting, from another task), or never. Nothing goes out unless it answers,
/// so a client's `timeout()` / `retries` can tell a server that did not acknowledge.
/// Only the first answer is sent. When the client asked for no ack, answering does
/// nothing (``isRequested`` is `false`).
public final class SocketIOAckResponder: Sendable {
    private let socket: SocketIOSocket?
    private let id: Int?
    private let answered = Atomic<Bool>(false)

    /// The responder of events without an ack id: one shared instance, no allocation.
    static let none = SocketIOAckResponder(socket: nil, id: nil)

    init(socket: SocketIOSocket?, id: Int?) {
        self.socket = socket
        self.id = id
    }

    /// Makes the responder of one event.
    static func make(socket: SocketIOSocket, id: Int?) -> SocketIOAckResponder {
        id == nil ? .none : SocketIOAckResponder(socket: socket, id: id)
    }

    /// Whether the client asked for an acknowledgement.
    public var isRequested: Bool { self.id != nil }

    /// Whether an answer was sent.
    public var hasAnswered: Bool { self.answered.load(ordering: .acquiring) }

    /// Sends the acknowledgement (once; later calls do nothing).
    public func send(_ values: [SocketIOValue]) {
        guard let id = self.id, let socket = self.socket else { return }
        guard !self.answered.exchange(true, ordering: .acquiringAndReleasing) else { return }
        socket.deliver(SocketIOPacketEncoder.encode(.ack(values, id: id, namespace: socket.namespace)))
    }

    /// Sends the acknowledgement (once; later calls do nothing).
    public func callAsFunction(_ values: SocketIOValue...) {
        self.send(values)
    }
}
