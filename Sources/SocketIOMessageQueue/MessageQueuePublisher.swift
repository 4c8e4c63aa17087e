//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import Backplane
import NIOConcurrencyHelpers
import NIOCore

/// Publishes cluster messages for one publisher (a node or an emitter), numbering emits.
///
/// An emit's number and its place in the transport's outbox are decided under one lock:
/// the message is encoded outside the lock, then stamped (`seq`, `epoch`) and handed to
/// ``BackplaneTransport/publish(_:)`` (which only enqueues) under it. So however many
/// threads emit at once, numbers leave in order, and a receiver never sees N+1 before N
/// (it would then drop N as a repeat).
public final class MessageQueuePublisher: Sendable {
    /// The publisher's `host_id`.
    public let hostID: String
    /// This process's epoch: 16 random hex characters.
    public let epoch: String
    private let transport: any BackplaneTransport
    /// How messages are written (python-socketio's JSON by default).
    public let format: any ClusterMessageFormat
    /// The next sequence number. Its lock also orders the transport's enqueues.
    private let next = NIOLockedValueBox(1)

    public init(transport: any BackplaneTransport, hostID: String, format: any ClusterMessageFormat = PythonJSONFormat()) {
        self.transport = transport
        self.format = format
        self.hostID = hostID
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        let hex = String(value, radix: 16)
        self.epoch = String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Publishes a message; an emit is stamped with this publisher's next number and epoch
    /// (any stamp it carries is replaced).
    public func publish(_ message: MessageQueueMessage) {
        guard case .emit(var emit) = message else {
            self.transport.publish(self.format.encode(message), to: self.format.channel(for: message, mainChannel: self.transport.channel))
            return
        }
        emit.sequence = nil
        emit.epoch = nil
        var bytes = self.format.encode(.emit(emit))
        let channel = self.format.channel(for: .emit(emit), mainChannel: self.transport.channel)
        self.next.withLockedValue { next in
            self.format.stamp(&bytes, sequence: next, epoch: self.epoch)
            next += 1
            self.transport.publish(bytes, to: channel)
        }
    }
}
