//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIO
import EngineIOParser
import Logging
import NIOCore
import SocketIOParser

/// The Socket.IO side of one Engine.IO connection: decodes packets and routes them to the
/// sockets of each namespace (Node `client.ts`).
///
/// Confined to the transport's event loop (every call comes from it); it never blocks:
/// events go to each socket's handler task, acks resolve at once.
final class SocketIOClientConnection: EngineIOSessionHandler {
    let transport: any SocketIOTransport
    private let server: SocketIOServer
    private var decoder: SocketIOPacketDecoder
    private var sockets: [String: SocketIOSocket] = [:]
    private var connectTimer: Scheduled<Void>?
    private var closed = false

    init(transport: any SocketIOTransport, server: SocketIOServer) {
        self.transport = transport
        self.server = server
        self.decoder = SocketIOPacketDecoder(
            maxAttachments: server.configuration.maxAttachments,
            maxAttachmentBytes: server.configuration.engine.maxPayload
        )
        self.armConnectTimer()
    }

    /// A client that joins no namespace in time is closed (Node `connectTimeout`).
    private func armConnectTimer() {
        let this = NIOLoopBound(self, eventLoop: self.transport.eventLoop)
        self.connectTimer = self.transport.eventLoop.scheduleTask(in: self.server.configuration.connectTimeout) {
            let connection = this.value
            guard connection.sockets.isEmpty, !connection.closed else { return }
            connection.server.logger.debug("no namespace joined in time: closing")
            connection.transport.close()
        }
    }

    func sessionDidReceive(_ message: EngineIOMessage) {
        let packet: SocketIOPacket
        do {
            guard let decoded = try self.decoder.decode(message) else { return }
            packet = decoded
        } catch {
            // Any decode error closes the whole connection (Node `client.ts ondata`).
            self.server.logger.debug("invalid Socket.IO packet: closing", metadata: [SocketIOLoggingKeys.error: "\(error)"])
            self.closeConnection(reason: .parseError)
            return
        }
        switch packet.type {
        case .connect:
            self.connect(namespace: packet.namespace, auth: packet.data)
        case .event, .binaryEvent:
            guard let socket = self.sockets[packet.namespace], case .array(let data) = packet.data else {
                // An event for a namespace the client has not joined is a state error.
                self.closeConnection(reason: .parseError)
                return
            }
            let name: String
            switch data[0] {
            case .string(let string): name = string
            default: name = data[0].jsonString
            }
            socket.receiveEvent(name: name, arguments: Array(data.dropFirst()), ackID: packet.ackID)
        case .ack, .binaryAck:
            guard let socket = self.sockets[packet.namespace], let id = packet.ackID else {
                self.closeConnection(reason: .parseError)
                return
            }
            socket.resolveAck(id: id, with: .success(packet.data?.arrayValue ?? []))
        case .disconnect:
            guard let socket = self.sockets.removeValue(forKey: packet.namespace) else { return }
            socket.end(reason: .clientNamespaceDisconnect, notifyClient: false)
        case .connectError:
            self.closeConnection(reason: .parseError)
        }
    }

    private func connect(namespace: String, auth: SocketIOValue?) {
        guard self.sockets[namespace] == nil else {
            // A second CONNECT for a joined namespace is a state error (Node closes).
            self.closeConnection(reason: .parseError)
            return
        }
        guard let nsp = self.server.namespace(forConnecting: namespace, auth: auth) else {
            self.transport.send(
                SocketIOPacketEncoder.encode(
                    SocketIOPacket(type: .connectError, namespace: namespace, data: ["message": "Invalid namespace"])
                )
            )
            return
        }
        self.connectTimer?.cancel()
        self.connectTimer = nil
        let socket = SocketIOSocket(
            id: SessionID.make(),
            namespace: nsp,
            handshake: SocketIOHandshake(auth: auth, request: self.transport.request, connectedAt: self.transport.eventLoop.now),
            client: self,
            server: self.server
        )
        self.sockets[namespace] = socket
        // Middlewares, then joining the namespace, then the connect handler: in order, on
        // the socket's handler task.
        socket.enqueue(.connect)
    }

    /// A socket ended from the server side (refused, or disconnected by the server).
    func socketRemoved(namespace: String, id: String) {
        if self.sockets[namespace]?.id == id {
            self.sockets[namespace] = nil
        }
    }

    private func closeConnection(reason: SocketIODisconnectReason) {
        self.endAll(reason: reason)
        self.transport.close()
    }

    private func endAll(reason: SocketIODisconnectReason) {
        let sockets = self.sockets.values
        self.sockets = [:]
        for socket in sockets {
            socket.end(reason: reason, notifyClient: false)
        }
    }

    func sessionDidClose(reason: EngineIOCloseReason) {
        self.closed = true
        self.connectTimer?.cancel()
        self.connectTimer = nil
        self.endAll(reason: .engine(reason.description))
    }
}
