//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import Backplane
public import Logging
import AMQPBackplane
import KafkaBackplane
import RedisBackplane

/// Picks the backplane a message-queue URL names.
public enum MessageQueueTransport {
    /// A transport for `url` on `channel` (python-socketio's default channel is `socketio`,
    /// Flask-SocketIO's `flask-socketio`).
    /// - Throws: ``BackplaneURLError`` for a malformed URL or a broker this build lacks.
    public static func make(url: String, channel: String = "socketio", logger: Logger) throws(BackplaneURLError) -> any BackplaneTransport {
        let parsed = try BackplaneURL(url)
        switch parsed.scheme {
        case .redis:
            return RedisBackplane(configuration: .init(url: parsed, channel: channel), logger: logger)
        case .amqp:
            return AMQPBackplane(configuration: .init(url: parsed, channel: channel), logger: logger)
        case .kafka:
            return try KafkaBackplane(configuration: .init(url: parsed, channel: channel), logger: logger)
        }
    }
}
