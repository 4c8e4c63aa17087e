//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import NIOCore
internal import NIOHTTP1
import NIOWebSocket

/// The WebSocket upgrade of an Engine.IO request.
///
/// NIO's upgrader does the handshake (the request's checks and `Sec-WebSocket-Accept`); the
/// pipeline after it is ours: NIO's frame encoder for writes and ``EngineIOWebSocketHandler``,
/// which reads frames itself, in place of NIO's decoder, aggregator and protocol-error
/// handler (three handlers and a frame struct per message on the hot path).
struct EngineIOWebSocketUpgrader: HTTPServerProtocolUpgrader, Sendable {
    /// Answers the handshake; its own pipeline set-up is not used.
    let handshake: NIOWebSocketServerUpgrader
    /// Adds the WebSocket handlers, on the channel's loop.
    let setUp: @Sendable (any Channel, HTTPRequestHead) throws -> Void

    init(handshake: NIOWebSocketServerUpgrader, setUp: @escaping @Sendable (any Channel, HTTPRequestHead) throws -> Void) {
        self.handshake = handshake
        self.setUp = setUp
    }

    var supportedProtocol: String { self.handshake.supportedProtocol }

    var requiredUpgradeHeaders: [String] { self.handshake.requiredUpgradeHeaders }

    func buildUpgradeResponse(
        channel: any Channel,
        upgradeRequest: HTTPRequestHead,
        initialResponseHeaders: HTTPHeaders
    ) -> EventLoopFuture<HTTPHeaders> {
        self.handshake.buildUpgradeResponse(
            channel: channel,
            upgradeRequest: upgradeRequest,
            initialResponseHeaders: initialResponseHeaders
        )
    }

    func upgrade(context: ChannelHandlerContext, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<Void> {
        let channel = context.channel
        return channel.eventLoop.makeCompletedFuture { try self.setUp(channel, upgradeRequest) }
    }
}
