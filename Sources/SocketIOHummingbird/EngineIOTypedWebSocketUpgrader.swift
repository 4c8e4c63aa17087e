//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if Hummingbird
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// The engine's WebSocket upgrade in NIO's typed upgrade pipeline (the one Hummingbird's
/// channels use): NIO's upgrader answers the handshake; the pipeline after it is the
/// engine's (its own frame reader and NIO's encoder), not NIO's decoder and aggregator.
///
/// It lives in this module rather than in EngineIO: only this front end uses the typed
/// pipeline (the standalone listener uses the untyped one, `EngineIOWebSocketUpgrader`),
/// and its result type is this module's connection kind.
struct EngineIOTypedWebSocketUpgrader: NIOTypedHTTPServerProtocolUpgrader, Sendable {
    typealias UpgradeResult = SocketIOHTTP1ChannelKind
    /// Answers the handshake; its own pipeline set-up is not used.
    let handshake: NIOTypedWebSocketServerUpgrader<UpgradeResult>
    /// Adds the WebSocket handlers, on the channel's loop.
    let setUp: @Sendable (any Channel, HTTPRequestHead) throws -> Void

    var supportedProtocol: String { self.handshake.supportedProtocol }

    var requiredUpgradeHeaders: [String] { self.handshake.requiredUpgradeHeaders }

    func buildUpgradeResponse(channel: any Channel, upgradeRequest: HTTPRequestHead, initialResponseHeaders: HTTPHeaders) -> EventLoopFuture<HTTPHeaders> {
        self.handshake.buildUpgradeResponse(channel: channel, upgradeRequest: upgradeRequest, initialResponseHeaders: initialResponseHeaders)
    }

    func upgrade(channel: any Channel, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<UpgradeResult> {
        channel.eventLoop.makeCompletedFuture {
            try self.setUp(channel, upgradeRequest)
            return .engineWebSocket
        }
    }
}
#endif
