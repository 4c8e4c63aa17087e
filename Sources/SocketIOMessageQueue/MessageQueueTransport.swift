//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import Backplane
public import Logging

#if Redis
import RedisBackplane
#endif
#if AMQP
import AMQPBackplane
#endif
#if Kafka
import KafkaBackplane
#endif

/// Picks the backplane a message-queue URL names, from the brokers this build has (SwiftPM
/// traits `Redis`, `AMQP`, `Kafka`: all three by default).
public enum MessageQueueTransport {
    /// What a factory needs besides the URL.
    public struct Options: Sendable {
        public var channel: String
        public var role: BackplaneRole
        /// The largest channel message (``BackplaneLimits/maxMessageBytes(maxPayload:)``).
        public var maxMessageBytes: Int
        public var logger: Logger
    }

    /// Makes a transport for a parsed URL of its scheme.
    /// - Throws: ``BackplaneURLError`` when the broker's client refuses the configuration.
    public typealias Factory = @Sendable (BackplaneURL, Options) throws -> any BackplaneTransport

    /// The brokers of this build, by URL scheme.
    public static let registry: [BackplaneURL.Scheme: Factory] = {
        var registry: [BackplaneURL.Scheme: Factory] = [:]
        #if Redis
        registry[.redis] = Self.redis
        #endif
        #if AMQP
        registry[.amqp] = Self.amqp
        #endif
        #if Kafka
        registry[.kafka] = Self.kafka
        #endif
        return registry
    }()

    #if Redis
    @Sendable private static func redis(_ url: BackplaneURL, _ options: Options) -> any BackplaneTransport {
        RedisBackplane(
            configuration: .init(url: url, channel: options.channel, role: options.role, maxMessageBytes: options.maxMessageBytes),
            logger: options.logger
        )
    }
    #endif

    #if AMQP
    @Sendable private static func amqp(_ url: BackplaneURL, _ options: Options) -> any BackplaneTransport {
        AMQPBackplane(
            configuration: .init(url: url, channel: options.channel, role: options.role, maxMessageBytes: options.maxMessageBytes),
            logger: options.logger
        )
    }
    #endif

    #if Kafka
    @Sendable private static func kafka(_ url: BackplaneURL, _ options: Options) throws -> any BackplaneTransport {
        try KafkaBackplane(
            configuration: .init(url: url, channel: options.channel, role: options.role, maxMessageBytes: options.maxMessageBytes),
            logger: options.logger
        )
    }
    #endif

    /// A transport for `url` on `channel` (python-socketio's default channel is `socketio`,
    /// Flask-SocketIO's `flask-socketio`).
    /// - Parameters:
    ///   - role: `.publishOnly` for emitters (python's `write_only`): no subscription until
    ///     the emitter asks for one.
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
        guard let factory = Self.registry[parsed.scheme] else {
            let available = Self.registry.keys.map(\.rawValue).sorted().joined(separator: ", ")
            throw BackplaneURLError(
                "this build has no \(parsed.scheme.rawValue) backplane (built without the SwiftPM trait \(Self.trait(of: parsed.scheme)));"
                    + " brokers in this build: \(available.isEmpty ? "none" : available)"
            )
        }
        let options = Options(channel: channel, role: role, maxMessageBytes: BackplaneLimits.maxMessageBytes(maxPayload: maxPayload), logger: logger)
        do {
            return try factory(parsed, options)
        } catch let error as BackplaneURLError {
            throw error
        } catch {
            throw BackplaneURLError("\(parsed.scheme.rawValue) backplane: \(error)")
        }
    }

    private static func trait(of scheme: BackplaneURL.Scheme) -> String {
        switch scheme {
        case .redis: return "Redis"
        case .amqp: return "AMQP"
        case .kafka: return "Kafka"
        }
    }
}
