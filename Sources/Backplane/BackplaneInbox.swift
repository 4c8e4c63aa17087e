//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import CoreMetrics
public import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore

/// The inbound buffer between a transport's receiving thread and the cluster manager:
/// bounded by message count *and* bytes. When the consumer falls behind, new messages are
/// dropped and counted (the caller logs and meters them), so that a busy channel cannot
/// grow a node without bound. A single message above `maxMessageBytes` is dropped too
/// (the cluster never publishes one: it is garbage or an attack). Each drop costs one log
/// line (within a ``LogBudget``) and a count in `backplane.inbound.dropped`. One consumer.
public final class BackplaneInbox: AsyncSequence, Sendable {
    public typealias Element = BackplaneMessage

    public struct Limits: Sendable, Hashable {
        /// Messages waiting for the consumer.
        public var maxMessages: Int
        /// Bytes waiting for the consumer.
        public var maxBytes: Int
        /// The largest single message accepted.
        public var maxMessageBytes: Int
        public init(maxMessages: Int = 10_000, maxBytes: Int = 64 << 20, maxMessageBytes: Int = BackplaneLimits.defaultMaxMessageBytes) {
            self.maxMessages = maxMessages
            self.maxBytes = maxBytes
            self.maxMessageBytes = maxMessageBytes
        }
    }

    /// What ``push(_:)`` did.
    public enum PushResult: Sendable, Hashable {
        case enqueued
        /// Dropped because the inbox is full; `total` drops so far.
        case dropped(total: Int)
        /// Dropped because the message alone is larger than `maxMessageBytes`.
        case oversized
    }

    private struct State {
        var messages = 0
        var bytes = 0
        var dropped = 0
        var budget = LogBudget()
    }

    public let limits: Limits
    private let logger: Logger?
    private let kind: String
    private let droppedCounter: Counter
    private let stream: AsyncStream<BackplaneMessage>
    private let continuation: AsyncStream<BackplaneMessage>.Continuation
    private let state = NIOLockedValueBox(State())

    /// - Parameters:
    ///   - limits: the bounds.
    ///   - kind: the transport kind, for logs and the metric's dimension.
    ///   - logger: where drops are reported; `nil` for silence (tests).
    public init(limits: Limits = Limits(), kind: String = "memory", logger: Logger? = nil) {
        self.limits = limits
        self.kind = kind
        self.logger = logger
        self.droppedCounter = Counter(label: "backplane.inbound.dropped", dimensions: [("kind", kind)])
        (self.stream, self.continuation) = AsyncStream.makeStream(of: BackplaneMessage.self)
    }

    /// Hands a received message to the consumer, or drops it if that would exceed a limit.
    @discardableResult
    public func push(_ message: BackplaneMessage) -> PushResult {
        let size = message.payload.readableBytes
        let (accepted, log) = self.state.withLockedValue { state -> (PushResult, (allowed: Bool, suppressed: Int)) in
            if size > self.limits.maxMessageBytes {
                state.dropped += 1
                return (.oversized, state.budget.take(now: .now))
            }
            guard state.messages < self.limits.maxMessages, state.bytes + size <= self.limits.maxBytes else {
                state.dropped += 1
                return (.dropped(total: state.dropped), state.budget.take(now: .now))
            }
            state.messages += 1
            state.bytes += size
            return (.enqueued, (false, 0))
        }
        if accepted == .enqueued {
            if case .terminated = self.continuation.yield(message) { self.release(size) }
            return accepted
        }
        self.droppedCounter.increment()
        if log.allowed, let logger = self.logger {
            let reason = accepted == .oversized ? "oversized" : "inbox full"
            logger.warning(
                "dropped an inbound backplane message",
                metadata: [
                    "backplane.kind": "\(self.kind)", "backplane.reason": "\(reason)",
                    "backplane.message.bytes": "\(size)", "backplane.suppressed": "\(log.suppressed)",
                ]
            )
        }
        return accepted
    }

    /// Ends the sequence (the transport stopped).
    public func finish() { self.continuation.finish() }

    /// Messages dropped because the inbox was full.
    public var dropped: Int { self.state.withLockedValue { $0.dropped } }
    /// Messages waiting for the consumer.
    public var count: Int { self.state.withLockedValue { $0.messages } }

    private func release(_ size: Int) {
        self.state.withLockedValue { state in
            state.messages -= 1
            state.bytes -= size
        }
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        fileprivate var base: AsyncStream<BackplaneMessage>.AsyncIterator
        fileprivate let inbox: BackplaneInbox

        public mutating func next() async -> BackplaneMessage? {
            guard let message = await self.base.next() else { return nil }
            self.inbox.release(message.payload.readableBytes)
            return message
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: self.stream.makeAsyncIterator(), inbox: self)
    }
}
