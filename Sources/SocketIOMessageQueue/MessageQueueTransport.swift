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
    /// - Parameters:
    ///   - role: `.publishOnly` for emitters (python's `write_only`): no subscription at all.
    ///   - maxPayload: the server's largest client packet (`maxHttpBufferSize`); the largest
    ///     channel message is derived from it (``BackplaneLimits/maxMessageBytes(maxPayload:)``):
    ///     larger broadcasts are refused loudly, larger inbound messages dropped, and Kafka's
    ///     `message.max.bytes` is set to it.
    /// - Throws: ``BackplaneURLError`` for a malformed URL or a broker this build lacks.
    public static func make(
        url: String,
        channel: String = "socketio",
        role: BackplaneRole = .publishAndSubscribe,
        maxPayload: Int = 1_000_000,
        logger: Logger
    ) throws(BackplaneURLError) -> any BackplaneTransport {
        let parsed = try BackplaneURL(url)
        let maxMessageBytes = BackplaneLimits.maxMessageBytes(maxPayload: maxPayload)
        switch parsed.scheme {
        case .redis:
            return RedisBackplane(
                configuration: .init(url: parsed, channel: channel, role: role, maxMessageBytes: maxMessageBytes),
                logger: logger
            )
        case .amqp:
            return AMQPBackplane(
                configuration: .init(url: parsed, channel: channel, role: role, maxMessageBytes: maxMessageBytes),
                logger: logger
            )
        case .kafka:
            return try KafkaBackplane(
                configuration: .init(url: parsed, channel: channel, role: role, maxMessageBytes: maxMessageBytes),
                logger: logger
            )
        }
    }
}
