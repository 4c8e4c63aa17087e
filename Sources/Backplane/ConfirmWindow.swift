//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

/// Pipelined publisher confirms (AMQP `confirm.select`): a pure state machine over the
/// outbox's head.
///
/// On a channel in confirm mode the broker numbers published messages 1, 2, 3, … (delivery
/// tags) and acks or nacks them, possibly several at once (`multiple`) and not necessarily
/// in order. Up to `limit` messages are in flight; the outbox's first `inFlight` messages
/// carry tags `firstTag…`. A message leaves the outbox only once it and every message before
/// it are settled, so the outbox keeps its order and nothing unconfirmed is lost when the
/// connection breaks (it is sent again on the next connection: receivers drop repeats by
/// sequence number).
public struct ConfirmWindow: Sendable {
    public let limit: Int
    /// The tag of the outbox's first message, if it is in flight.
    public private(set) var firstTag: UInt64 = 1
    /// How many of the outbox's first messages are in flight.
    public private(set) var inFlight = 0
    /// Settled tags not yet retired: `true` acked, `false` nacked.
    private var settled: [UInt64: Bool] = [:]

    public init(limit: Int = 256) {
        self.limit = max(1, limit)
    }

    /// A new channel: tags start again at 1 and nothing is in flight (what was in flight is
    /// sent again).
    public mutating func reset() {
        self.firstTag = 1
        self.inFlight = 0
        self.settled.removeAll()
    }

    /// Room for this many more messages (`probing` allows only one in flight: after a failure,
    /// so that the next failure can be blamed on the right message).
    public func room(probing: Bool) -> Int {
        max(0, (probing ? 1 : self.limit) - self.inFlight)
    }

    /// The next outbox message was published; returns its tag.
    public mutating func sent() -> UInt64 {
        defer { self.inFlight += 1 }
        return self.firstTag + UInt64(self.inFlight)
    }

    /// The broker acked (`acknowledged`) or nacked `tag` (and, with `multiple`, every earlier tag).
    public mutating func settle(tag: UInt64, multiple: Bool, acknowledged: Bool) {
        let last = self.firstTag + UInt64(self.inFlight)
        guard tag >= self.firstTag, tag < last else { return }
        if multiple {
            for earlier in self.firstTag...tag where self.settled[earlier] == nil {
                self.settled[earlier] = acknowledged
            }
        } else {
            self.settled[tag] = acknowledged
        }
    }

    /// Removes the settled messages at the head, in order: `true` for each acked one, `false`
    /// for each nacked one (the caller removes as many from the outbox).
    public mutating func retire() -> [Bool] {
        var results: [Bool] = []
        while self.inFlight > 0, let acknowledged = self.settled.removeValue(forKey: self.firstTag) {
            results.append(acknowledged)
            self.firstTag += 1
            self.inFlight -= 1
        }
        return results
    }
}
