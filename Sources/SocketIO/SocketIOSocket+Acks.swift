//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIO
import Logging
import NIOConcurrencyHelpers
import NIOCore
import SocketIOParser

/// Server→client acknowledgements: each waiter is reserved in the socket's state machine
/// before its packet goes out, and answered once (client ack, timeout or disconnect).
extension SocketIOSocket {
    /// Registers the waiter of an ack id before the packet carrying it goes out; `timeout`
    /// `nil` arms no timer (a broadcast with acks has one timer for all recipients).
    /// - Returns: `false` when the packet must not be sent: `callback` then has (or will
    ///   have, on the connection's loop) its error.
    func expectAck(id: Int, timeout: Duration?, callback: @escaping @Sendable (Result<[SocketIOValue], SocketIOAckError>) -> Void) -> Bool {
        let action = self.state.withLockedValue { $0.reserveAck(AckWaiter(callback: callback, timeout: nil), id: id) }
        switch action {
        case .failDisconnected(let waiter):
            self.onLoop { waiter.callback(.failure(.disconnected)) }
            return false
        case .failTooManyPendingAcks(let waiter):
            self.server.limits.maxPendingAcks.hit(self.server.logger, metadata: [SocketIOLoggingKeys.namespace: "\(self.namespace)"])
            self.onLoop { waiter.callback(.failure(.tooManyPendingAcks)) }
            return false
        case .send:
            break
        }
        guard let timeout else { return true }
        // Scheduled outside the lock (no call out while holding it); an answer that came
        // first (a client guessing ids) already removed the waiter, and the timer goes.
        let timer = self.transport.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            self.resolveAck(id: id, with: .failure(.timeout))
        }
        let stored = self.state.withLockedValue { $0.updateAckWaiter(id: id) { $0.timeout = timer } }
        if !stored { timer.cancel() }
        return true
    }

    /// The number of emits waiting for this client's ack (tests).
    var pendingAckCount: Int { self.state.withLockedValue { $0.pendingAckCount } }

    /// Runs the waiter of an ack id (client ack, timeout or disconnect). Unknown ids are
    /// ignored, as Node does.
    func resolveAck(id: Int, with result: Result<[SocketIOValue], SocketIOAckError>) {
        let waiter = self.state.withLockedValue { $0.resolveAck(id: id) }
        guard let waiter else { return }
        waiter.timeout?.cancel()
        waiter.callback(result)
    }
}
