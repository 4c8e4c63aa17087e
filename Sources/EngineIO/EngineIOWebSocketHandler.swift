//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIOParser
import Logging
import NIOCore
import NIOWebSocket

/// Reads Engine.IO packets from an upgraded WebSocket (after frame aggregation) and hands
/// them to the session.
///
/// On `handlerAdded` it either starts a WebSocket-only session (no `sid`) or offers itself
/// to an existing polling session as an upgrade probe.
final class EngineIOWebSocketHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let server: EngineIOServer
    private let request: EngineIORequest
    private var connection: EngineIOWebSocketConnection?
    private var session: EngineIOSession?
    private var closeSent = false

    init(server: EngineIOServer, request: EngineIORequest) {
        self.server = server
        self.request = request
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let connection = EngineIOWebSocketConnection(
            channel: context.channel,
            supportsBinary: self.request.query["b64"] == nil,
            maxBufferedBytes: self.server.configuration.maxBufferedBytes
        )
        self.connection = connection
        if let sid = self.request.query["sid"] {
            guard let session = self.server.session(id: sid) else {
                // The session ended between the upgrade check and now.
                connection.close()
                return
            }
            self.session = session
            session.upgradeRequested(connection)
        } else {
            self.session = self.server.openWebSocketSession(
                request: self.request,
                connection: connection,
                eventLoop: context.eventLoop
            )
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        guard let session = self.session, let connection = self.connection else { return }
        switch frame.opcode {
        case .text:
            do {
                let packet = try EngineIOPacket.decode(text: frame.unmaskedData)
                session.webSocketReceived(packet, from: connection)
            } catch {
                self.server.logger.debug(
                    "invalid packet on websocket",
                    metadata: [EngineIOLoggingKeys.sid: "\(session.id)", EngineIOLoggingKeys.error: "\(error)"]
                )
                session.webSocketParseError(from: connection)
            }
        case .binary:
            session.webSocketReceived(.message(.binary(frame.unmaskedData)), from: connection)
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            context.writeAndFlush(self.wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            self.answerClose(context: context, frame: frame)
        default:
            break
        }
    }

    /// The client's read is handled: what it produced for this client (an ack, an emit back)
    /// leaves now instead of after the rest of the loop's batch, so the client works on its
    /// answer while this loop goes on with other connections; the number of writes is the
    /// same. Writes to other connections (broadcasts) still wait for the batch's flush.
    func channelReadComplete(context: ChannelHandlerContext) {
        self.connection?.flushNow()
        context.fireChannelReadComplete()
    }

    private func answerClose(context: ChannelHandlerContext, frame: WebSocketFrame) {
        guard !self.closeSent else {
            context.close(promise: nil)
            return
        }
        self.closeSent = true
        var data = frame.unmaskedData
        let code = data.readSlice(length: 2) ?? ByteBuffer()
        let reply = WebSocketFrame(fin: true, opcode: .connectionClose, data: code)
        let channel = context.channel
        context.writeAndFlush(self.wrapOutboundOut(reply)).whenComplete { _ in channel.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let session = self.session, let connection = self.connection {
            session.webSocketClosed(connection, reason: .transportClose)
        }
        self.session = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Frame errors (too big, bad masking) were answered by the protocol error handler;
        // the session ends with the connection.
        if let session = self.session, let connection = self.connection {
            session.webSocketClosed(connection, reason: .transportError)
            self.session = nil
        }
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension EngineIOWebSocketHandler: Sendable {}
