//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIOParser
import Logging
import NIOCore
import NIOWebSocket

/// Reads Engine.IO packets from an upgraded WebSocket and hands them to the session.
///
/// It reads the connection's bytes itself (``WebSocketMessageParser``) rather than behind
/// NIO's frame decoder and aggregator: one handler per message instead of three. Writes go
/// out through NIO's `WebSocketFrameEncoder`.
///
/// On `handlerAdded` it either starts a WebSocket-only session (no `sid`) or offers itself
/// to an existing polling session as an upgrade probe.
///
/// On the outbound side it only withholds `read()` while the connection must not read
/// (see ``EngineIOWebSocketConnection/mayRead()``): the client does not read what it is
/// sent, or the application asked for backpressure.
package final class EngineIOWebSocketHandler: ChannelDuplexHandler {
    package typealias InboundIn = ByteBuffer
    package typealias OutboundIn = WebSocketFrame
    package typealias OutboundOut = WebSocketFrame

    private let server: EngineIOServer
    private let request: EngineIORequest
    private var connection: EngineIOWebSocketConnection?
    private var session: EngineIOSession?
    private var closeSent = false
    private var parser: WebSocketMessageParser

    package init(server: EngineIOServer, request: EngineIORequest, maxMessageSize: Int) {
        self.server = server
        self.request = request
        self.parser = WebSocketMessageParser(maxMessageSize: maxMessageSize)
    }

    package func handlerAdded(context: ChannelHandlerContext) {
        let connection = EngineIOWebSocketConnection(
            channel: context.channel,
            supportsBinary: self.request.query["b64"] == nil,
            maxBufferedBytes: self.server.configuration.maxBufferedBytes,
            server: self.server
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

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.parser.append(self.unwrapInboundIn(data))
        while let event = self.parser.next() {
            self.handle(event, context: context)
        }
    }

    private func handle(_ event: WebSocketMessageParser.Event, context: ChannelHandlerContext) {
        switch event {
        case .text(let payload):
            guard let session = self.session, let connection = self.connection else { return }
            do {
                let packet = try EngineIOPacket.decode(text: payload)
                session.webSocketReceived(packet, from: connection)
            } catch {
                self.server.logger.debug(
                    "invalid packet on websocket",
                    metadata: [EngineIOLoggingKeys.sid: "\(session.id)", EngineIOLoggingKeys.error: "\(error)"]
                )
                session.webSocketParseError(from: connection)
            }
        case .binary(let payload):
            guard let session = self.session, let connection = self.connection else { return }
            session.webSocketReceived(.message(.binary(payload)), from: connection)
        case .ping(let payload):
            self.connection?.writePong(payload)
        case .pong:
            break
        case .close(var payload):
            self.answerClose(context: context, code: payload.readSlice(length: 2) ?? ByteBuffer())
        case .protocolError(let code):
            self.server.logger.debug(
                "websocket protocol error: closing",
                metadata: [EngineIOLoggingKeys.sid: "\(self.session?.id ?? "-")", "websocket.close_code": "\(code)"]
            )
            // The session ends as a transport error before the close (whose completion
            // would report a plain close).
            if let session = self.session, let connection = self.connection {
                session.webSocketClosed(connection, reason: .transportError)
                self.session = nil
            }
            var data = ByteBuffer()
            data.writeInteger(code)
            self.answerClose(context: context, code: data)
        }
    }

    /// The client's read is handled: what it produced for this client (an ack, an emit back)
    /// leaves now instead of after the rest of the loop's batch, so the client works on its
    /// answer while this loop goes on with other connections; the number of writes is the
    /// same. Writes to other connections (broadcasts) still wait for the batch's flush.
    package func channelReadComplete(context: ChannelHandlerContext) {
        self.connection?.flushNow()
        context.fireChannelReadComplete()
    }

    // MARK: Backpressure

    /// Withholds the read while the connection must not read; it is issued again once the
    /// channel is writable and the application no longer pauses.
    package func read(context: ChannelHandlerContext) {
        if let connection = self.connection, !connection.mayRead() { return }
        context.read()
    }

    package func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            self.connection?.releaseBudget()
            self.connection?.resumeReadingIfPossible()
        }
        context.fireChannelWritabilityChanged()
    }

    /// Answers (or sends) a close frame with `code`, then closes the connection.
    private func answerClose(context: ChannelHandlerContext, code: ByteBuffer) {
        guard !self.closeSent else {
            context.close(promise: nil)
            return
        }
        self.closeSent = true
        let reply = WebSocketFrame(fin: true, opcode: .connectionClose, data: code)
        let channel = context.channel
        context.writeAndFlush(self.wrapOutboundOut(reply)).whenComplete { _ in channel.close(promise: nil) }
    }

    package func channelInactive(context: ChannelHandlerContext) {
        self.connection?.releaseBudget()
        if let session = self.session, let connection = self.connection {
            session.webSocketClosed(connection, reason: .transportClose)
        }
        self.session = nil
        context.fireChannelInactive()
    }

    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Transport errors (a reset connection): the session ends with the connection.
        if let session = self.session, let connection = self.connection {
            session.webSocketClosed(connection, reason: .transportError)
            self.session = nil
        }
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension EngineIOWebSocketHandler: Sendable {}
