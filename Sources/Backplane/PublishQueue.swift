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
/// sends messages `offset..<offset+n` while earlier ones wait for their confirms).
///
/// `@unchecked Sendable`: every stored property is read and written with `condition`
/// locked.
public final class PublishQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var messages = Deque<BackplaneMessage>()
    private var bytes = 0
    private var stopped = false
    public private(set) var dropped = 0
    public let capacity: Int
    public let maxBytes: Int

    public init(capacity: Int, maxBytes: Int = 64 << 20) {
        self.capacity = capacity
        self.maxBytes = maxBytes
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
        // Broadcast: another thread may be pausing on the same condition, and a signal it
        // took would leave the publisher asleep.
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
        while self.messages.count <= offset && !self.stopped {
            if !self.condition.wait(until: deadline) { break }
        }
        if self.messages.count <= offset { return self.stopped ? nil : [] }
        return Array(self.messages[(self.messages.startIndex + offset)...].prefix(limit))
    }

    /// Waits for up to `limit` queued messages without removing them; `nil` once stopped.
    public func peek(limit: Int) -> [BackplaneMessage]? {
        self.condition.lock()
        defer { self.condition.unlock() }
        while self.messages.isEmpty && !self.stopped { self.condition.wait() }
        if self.stopped && self.messages.isEmpty { return nil }
        return Array(self.messages.prefix(limit))
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

    /// Sleeps up to `seconds`, waking early when stopped; returns `false` when stopped.
    public func pause(seconds: Double) -> Bool {
        self.condition.lock()
        defer { self.condition.unlock() }
        if !self.stopped { _ = self.condition.wait(until: Date(timeIntervalSinceNow: seconds)) }
        return !self.stopped
    }

    public var isStopped: Bool {
        self.condition.lock()
        defer { self.condition.unlock() }
        return self.stopped
    }

    /// Wakes the publisher thread for shutdown (queued messages get one last chance).
    public func stop() {
        self.condition.lock()
        self.stopped = true
        self.condition.broadcast()
        self.condition.unlock()
    }

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
