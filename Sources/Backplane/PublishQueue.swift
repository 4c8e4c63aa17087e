//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import DequeModule
import Foundation
import NIOCore

/// The bounded outbox between publishers (any thread) and the publisher thread.
///
/// Messages stay queued while the broker is away and leave in order once it is back. The
/// queue is bounded by message count and by bytes; when either is reached, new messages are
/// dropped and counted, never silently. Only the publisher thread removes messages, from
/// the head, so positions counted from the head are stable for it (pipelined publishing
/// sends messages `offset..<offset+n` while earlier ones wait for their replies or
/// confirms). It is built on the transport's ``StopSignal``: stopping wakes its waits.
///
/// `@unchecked Sendable`: every stored property is read and written with the stop signal's
/// condition locked.
public final class PublishQueue: @unchecked Sendable {
    private let signal: StopSignal
    private var condition: NSCondition { self.signal.condition }
    private var messages = Deque<BackplaneMessage>()
    private var bytes = 0
    public private(set) var dropped = 0
    public let capacity: Int
    public let maxBytes: Int

    public init(capacity: Int, maxBytes: Int = 64 << 20, stop: StopSignal = StopSignal()) {
        self.capacity = capacity
        self.maxBytes = maxBytes
        self.signal = stop
    }

    /// Queues a message; returns the running drop count if it was dropped (the queue holds
    /// `capacity` messages or `maxBytes` bytes already).
    public func push(_ message: BackplaneMessage) -> Int? {
        self.condition.lock()
        defer { self.condition.unlock() }
        let size = message.payload.readableBytes
        guard self.messages.count < self.capacity, self.bytes + size <= self.maxBytes else {
            self.dropped += 1
            return self.dropped
        }
        self.messages.append(message)
        self.bytes += size
        // Broadcast: sleepers share the condition (and without waiters it costs no syscall).
        self.condition.broadcast()
        return nil
    }

    /// Waits up to `timeout` seconds for messages at positions `offset...` (counted from
    /// the head) and returns up to `limit` of them without removing anything: empty on
    /// timeout, `nil` once stopped with nothing at or after `offset`.
    public func peek(from offset: Int, limit: Int, timeout: Double) -> [BackplaneMessage]? {
        self.condition.lock()
        defer { self.condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: timeout)
        while self.messages.count <= offset && !self.signal.isStoppedLocked {
            if !self.condition.wait(until: deadline) { break }
        }
        if self.messages.count <= offset { return self.signal.isStoppedLocked ? nil : [] }
        return Array(self.messages[(self.messages.startIndex + offset)...].prefix(limit))
    }

    /// Waits for up to `limit` queued messages without removing them; `nil` once stopped
    /// and empty.
    public func peek(limit: Int) -> [BackplaneMessage]? {
        self.condition.lock()
        defer { self.condition.unlock() }
        while self.messages.isEmpty && !self.signal.isStoppedLocked { self.condition.wait() }
        if self.messages.isEmpty { return nil }
        return Array(self.messages.prefix(limit))
    }

    /// Waits up to `timeout` for a message; whether there is one.
    public func waitForMessages(timeout: Duration) -> Bool {
        self.condition.lock()
        defer { self.condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: timeout.inSeconds)
        while self.messages.isEmpty && !self.signal.isStoppedLocked {
            if !self.condition.wait(until: deadline) { break }
        }
        return !self.messages.isEmpty
    }

    /// Removes messages that were published.
    public func removeFirst(_ count: Int) {
        self.condition.lock()
        defer { self.condition.unlock() }
        for _ in 0..<min(count, self.messages.count) {
            self.bytes -= self.messages.removeFirst().payload.readableBytes
        }
    }

    /// Bytes queued.
    public var byteCount: Int {
        self.condition.lock()
        defer { self.condition.unlock() }
        return self.bytes
    }

    public var isStopped: Bool { self.signal.isStopped }

    /// Stops the transport (the queue's stop signal): queued messages get one last chance.
    public func stop() { self.signal.stop() }

    public var count: Int {
        self.condition.lock()
        defer { self.condition.unlock() }
        return self.messages.count
    }
}

extension Duration {
    /// The duration in seconds, for APIs that take `Double`.
    public var inSeconds: Double { Double(self.components.seconds) + Double(self.components.attoseconds) / 1e18 }
    /// The duration in whole milliseconds.
    public var inMilliseconds: Int64 { self.components.seconds * 1000 + self.components.attoseconds / 1_000_000_000_000_000 }
}
