//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import NIOCore
public import SocketIOParser

/// Sending from a socket: to its own client (`emit`), or to others through the broadcast
/// operator (`to`, `except`, `broadcast`), which always leaves the sender out (Node).
extension SocketIOSocket: SocketIOBroadcasting {
    /// Sends an event to this client; returns at once. With connection state recovery it
    /// carries an offset and is logged as addressed to this socket's own room (as Node
    /// does), so that a client that misses it gets it on recovery.
    public func emit(_ event: String, arguments: [SocketIOValue]) {
        let packet = SocketIOPacket.event(event, arguments, namespace: self.namespace)
        if let recovery = self.server.recovery {
            // Node sends it through the adapter addressed to `[socket.id]`; delivered here
            // directly (the recipient is known, and a cluster adapter would publish it).
            self.deliver(recovery.encode(packet, for: SocketIOBroadcastTarget(namespace: self.namespace, rooms: [self.id])))
            return
        }
        self.deliver(SocketIOPacketEncoder.encode(packet))
    }

    /// Addresses the members of rooms, except this socket (Node `socket.to(room)`).
    public func to(_ rooms: [String]) -> SocketIOBroadcastOperator {
        self.broadcast.to(rooms)
    }

    /// Addresses everyone in the namespace but the members of rooms and this socket.
    public func except(_ rooms: [String]) -> SocketIOBroadcastOperator {
        self.broadcast.except(rooms)
    }

    /// Everyone in the namespace but this socket (Node `socket.broadcast`; Flask
    /// `emit(..., broadcast=True, include_self=False)`).
    public var broadcast: SocketIOBroadcastOperator {
        self.nsp.broadcastOperator.except([self.id])
    }

    /// Sends an event and waits for the client's acknowledgement.
    /// - Throws: ``SocketIOAckError`` on timeout or disconnect.
    public func emitWithAck(
        _ event: String,
        _ arguments: SocketIOValue...,
        timeout: Duration? = nil
    ) async throws(SocketIOAckError) -> [SocketIOValue] {
        try await self.emitWithAck(.event(event, arguments, namespace: self.namespace), timeout: timeout ?? self.server.defaultAckTimeout)
    }

    /// Sends an EVENT packet and waits for the client's acknowledgement.
    func emitWithAck(_ packet: SocketIOPacket, timeout: Duration) async throws(SocketIOAckError) -> [SocketIOValue] {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<[SocketIOValue], SocketIOAckError>, Never>) in
            self.send(packet, timeout: timeout) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    /// Sends an event and calls `callback` with the client's acknowledgement. The callback
    /// runs on the connection's event loop and must not block.
    public func emit(
        _ event: String,
        _ arguments: SocketIOValue...,
        timeout: Duration? = nil,
        ack callback: @escaping @Sendable (Result<[SocketIOValue], SocketIOAckError>) -> Void
    ) {
        self.send(.event(event, arguments, namespace: self.namespace), timeout: timeout ?? self.server.defaultAckTimeout, ack: callback)
    }

    /// How long an emit with an ack waits when no timeout is given: the server's
    /// ``SocketIOConfiguration/ackTimeout``.
    public var defaultAckTimeout: Duration { self.server.defaultAckTimeout }

    /// Sends an EVENT packet whose ack id is assigned here; `ack` runs once with the
    /// answer (or a timeout/disconnect error), on the connection's loop.
    ///
    /// At most ``SocketIOConfiguration/maxPendingAcks`` wait per socket: beyond that the
    /// packet is not sent and `ack` gets ``SocketIOAckError/tooManyPendingAcks`` at once.
    public func send(_ packet: SocketIOPacket, timeout: Duration, ack: @escaping @Sendable (Result<[SocketIOValue], SocketIOAckError>) -> Void) {
        var packet = packet
        let id = SocketIOAckIDs.next()
        guard self.expectAck(id: id, timeout: timeout, callback: ack) else { return }
        packet.ackID = id
        self.deliver(SocketIOPacketEncoder.encode(packet))
    }
}
