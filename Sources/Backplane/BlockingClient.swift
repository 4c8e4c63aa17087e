//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import Logging

/// The life of one blocking client thread (a Redis subscriber, an AMQP publisher, a Kafka
/// consumer…), the same for every broker: connect → serve → drop the connection at its
/// first error → back off (capped, exponential) → connect again, until the transport's
/// ``StopSignal`` is set. Client libraries cannot reuse a connection after an error, so a
/// failed one is always dropped, never repaired.
///
/// Logging is once per outage: the first failure is logged, the recovery is reported by
/// ``BackplaneReporter/reconnected(_:)``; the failures in between are silent.
public struct BlockingClient: Sendable {
    public struct Configuration: Sendable {
        /// For log lines: "redis subscriber", "amqp publisher"…
        public var name: String
        public var initialBackoff: Duration
        public var maxBackoff: Duration
        /// Failures in a row (none healthy in between) after which the client gives up and
        /// ``run(connect:serve:)`` throws; `nil`: never.
        public var maxFailures: Int?

        public init(name: String, initialBackoff: Duration, maxBackoff: Duration, maxFailures: Int? = nil) {
            self.name = name
            self.initialBackoff = initialBackoff
            self.maxBackoff = maxBackoff
            self.maxFailures = maxFailures
        }
    }

    /// Thrown by `serve` for a failure that has its own wait (a publish retry policy's).
    public struct RetryAfter: Error, CustomStringConvertible {
        public var wait: Duration
        public var cause: any Error
        public init(_ wait: Duration, cause: any Error) {
            self.wait = wait
            self.cause = cause
        }
        public var description: String { "\(self.cause)" }
    }

    public let configuration: Configuration
    public let stop: StopSignal
    public let logger: Logger
    public let reporter: BackplaneReporter

    public init(_ configuration: Configuration, stop: StopSignal, logger: Logger, reporter: BackplaneReporter) {
        self.configuration = configuration
        self.stop = stop
        self.logger = logger
        self.reporter = reporter
    }

    /// Runs the client until stopped.
    /// - Parameters:
    ///   - ready: whether there is anything to connect for (an emitter with no subscription,
    ///     a publisher with an empty outbox: no); may block for a short while. Asked before
    ///     every connection; the loop ends when it says no and the signal is set.
    ///   - connect: makes a ready-to-serve connection (subscribed, declared…); `afterOutage`
    ///     tells whether the previous one failed.
    ///   - serve: uses the connection until stopped (then it returns) or until it fails
    ///     (then it throws); `healthy()` says the connection works (backoff and failure
    ///     count start again).
    /// - Throws: ``BackplaneError`` (fatal) after `maxFailures` failures in a row.
    public func run<Connection>(
        ready: () -> Bool = { true },
        connect: (_ afterOutage: Bool) throws -> Connection,
        serve: (Connection, _ healthy: () -> Void) throws -> Void
    ) throws {
        var backoff = self.configuration.initialBackoff
        var failures = 0
        var outage = false

        func failed(_ error: any Error, _ what: String) throws -> Duration {
            failures += 1
            if let limit = self.configuration.maxFailures, failures >= limit {
                self.logger.error(
                    "\(self.configuration.name) gave up",
                    metadata: ["backplane.kind": "\(self.reporter.kind)", "backplane.error": "\(error)", "backplane.attempts": "\(failures)"]
                )
                throw BackplaneError(.fatal, "\(self.configuration.name) gave up after \(failures) attempts: \(error)")
            }
            if !outage {
                self.logger.info(
                    "\(self.configuration.name) \(what); retrying",
                    metadata: ["backplane.kind": "\(self.reporter.kind)", "backplane.error": "\(error)"]
                )
            }
            outage = true
            let wait = (error as? RetryAfter)?.wait ?? backoff
            backoff = min(backoff * 2, self.configuration.maxBackoff)
            return wait
        }

        while true {
            guard ready() else {
                if self.stop.isStopped { return }
                continue
            }
            let connection: Connection
            do {
                connection = try connect(outage)
            } catch {
                let wait = try failed(error, "cannot connect")
                guard self.stop.sleep(wait) else { return }
                continue
            }
            if outage { self.reporter.reconnected("\(self.configuration.name) reconnected") }
            outage = false
            do {
                try serve(connection) {
                    backoff = self.configuration.initialBackoff
                    failures = 0
                }
                return
            } catch {
                if self.stop.isStopped { return }
                let wait = try failed(error, "lost its connection")
                guard self.stop.sleep(wait) else { return }
            }
        }
    }
}
