//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

/// What a publisher thread does after each attempt to hand the outbox's head message to
/// the broker: a pure state machine (the thread executes its decisions).
///
/// - A failed *connect* never blames the message: wait (capped exponential backoff), retry.
/// - A message the broker refused (``BackplaneError/Code/refused``: a Redis error reply, an
///   AMQP nack) is dropped at once: retrying cannot help, and it would block everything
///   behind it.
/// - A connection lost *while this message was on the wire* (Redis closes the connection
///   on an oversized argument; RabbitMQ closes the channel on one) counts one attempt
///   against the message; after `maxAttempts` the message is dropped as poison.
/// - After any failure the thread waits the current backoff before it reconnects, so that a
///   broker that refuses every attempt never causes a tight reconnect loop. A message that
///   goes through resets both the backoff and the attempt count.
public struct PublishRetryPolicy: Sendable {
    public struct Configuration: Sendable, Hashable {
        public var initialBackoff: Duration
        public var maxBackoff: Duration
        /// Failed sends of one message (connection lost while it was in flight) before it is
        /// dropped as poison.
        public var maxAttempts: Int

        public init(initialBackoff: Duration = .milliseconds(100), maxBackoff: Duration = .seconds(2), maxAttempts: Int = 3) {
            self.initialBackoff = initialBackoff
            self.maxBackoff = maxBackoff
            self.maxAttempts = max(1, maxAttempts)
        }
    }

    /// What to do next.
    public struct Decision: Sendable, Hashable {
        /// Drop the head message (refused, or poison after `maxAttempts`).
        public var dropHead: Bool
        /// Drop the connection and make a new one.
        public var reconnect: Bool
        /// How long to wait before the next attempt.
        public var wait: Duration
        /// Failed attempts of the head message so far (for the log line).
        public var attempts: Int
    }

    public let configuration: Configuration
    public private(set) var backoff: Duration
    public private(set) var headAttempts = 0

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.backoff = configuration.initialBackoff
    }

    private mutating func nextBackoff() -> Duration {
        let wait = self.backoff
        self.backoff = min(self.backoff * 2, self.configuration.maxBackoff)
        return wait
    }

    /// Connecting failed: wait, then try again; the head message is not to blame.
    public mutating func connectFailed() -> Duration {
        self.nextBackoff()
    }

    /// The head message went through.
    public mutating func published() {
        self.headAttempts = 0
        self.backoff = self.configuration.initialBackoff
    }

    /// Publishing the head message failed with `error`.
    public mutating func publishFailed(_ error: BackplaneError) -> Decision {
        if error.code == .refused {
            // The link is fine; only this message is unwelcome.
            let attempts = self.headAttempts + 1
            self.headAttempts = 0
            return Decision(dropHead: true, reconnect: false, wait: .zero, attempts: attempts)
        }
        self.headAttempts += 1
        let attempts = self.headAttempts
        let poison = attempts >= self.configuration.maxAttempts
        if poison { self.headAttempts = 0 }
        return Decision(dropHead: poison, reconnect: true, wait: self.nextBackoff(), attempts: attempts)
    }
}
