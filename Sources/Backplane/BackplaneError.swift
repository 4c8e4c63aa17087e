//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

/// A broker or client-library failure, classified for the retry logic.
///
/// - ``Code/connection``: the link to the broker failed (refused, reset, timed out, lost
///   heartbeats). Retriable: reconnect with backoff; the message at hand stays queued.
/// - ``Code/refused``: the broker refused *this message* (Redis error reply such as
///   `NOPERM`, an AMQP nack, a size limit). Not retriable for that message: it is dropped
///   (counted, logged once) and the next one goes.
/// - ``Code/fatal``: the client can no longer work (a librdkafka fatal error, a consumer
///   thread that gave up). The transport's `run()` throws it.
public struct BackplaneError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        fileprivate enum Value: Sendable, Hashable { case connection, refused, fatal }
        fileprivate let value: Value

        public static let connection = Code(value: .connection)
        public static let refused = Code(value: .refused)
        public static let fatal = Code(value: .fatal)

        public var description: String {
            switch self.value {
            case .connection: return "connection"
            case .refused: return "refused"
            case .fatal: return "fatal"
            }
        }
    }

    public let code: Code
    public let message: String
    public let file: String
    public let line: Int

    public init(_ code: Code, _ message: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
    }

    /// Whether trying again (after a backoff) may succeed.
    public var isRetriable: Bool { self.code == .connection }
    /// Whether the transport cannot go on at all.
    public var isFatal: Bool { self.code == .fatal }

    public var description: String { self.message }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code && lhs.message == rhs.message }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.code)
        hasher.combine(self.message)
    }
}
