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
    /// Namespaces whose CONNECT waits for the session store's restore (a store other than
    /// the in-memory one); a second CONNECT for them is refused as for a joined namespace.
    private var restoring: Set<String> = []

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
        guard self.sockets[namespace] == nil, !self.restoring.contains(namespace) else {
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
        guard let recovery = self.server.recovery else {
            self.addSocket(namespace: nsp, auth: auth)
            return
        }
        guard let (pid, offset) = SocketIORecovery.credentials(in: auth) else {
            self.addSocket(namespace: nsp, auth: auth, privateID: SessionID.make())
            return
        }
        if let memory = recovery.memoryStore {
            // Synchronous: the connect stays on the loop, without a task.
            let result = memory.restore(pid: pid, offset: offset, namespace: namespace, now: .now())
            self.addSocket(namespace: nsp, auth: auth, restored: result, offset: offset, recovery: recovery)
            return
        }
        // Another store answers asynchronously: the namespace counts as joined meanwhile
        // (a duplicate CONNECT is refused), and a connection closed meanwhile gives the
        // session back to the store, so that the client can try again.
        self.restoring.insert(namespace)
        let this = NIOLoopBound(self, eventLoop: self.transport.eventLoop)
        let loop = self.transport.eventLoop
        let started = self.server.track {
            let result = await recovery.store.restore(pid: pid, offset: offset, namespace: namespace, now: .now())
            loop.execute {
                let connection = this.value
                connection.restoring.remove(namespace)
                guard !connection.closed else {
                    if case .success(let restored) = result { recovery.persist(restored.session) }
                    return
                }
                connection.addSocket(namespace: nsp, auth: auth, restored: result, offset: offset, recovery: recovery)
            }
        }
        if !started {
            // The server is stopping: no restore; a new session as any other.
            self.restoring.remove(namespace)
            self.addSocket(namespace: nsp, auth: auth, privateID: SessionID.make())
        }
    }

    /// A socket for a CONNECT with `pid` and `offset`: the session back when the store
    /// found it (same sid and pid, its data, its rooms and missed events through
    /// ``SocketIORecoveredSession``), else a new session.
    private func addSocket(
        namespace nsp: SocketIONamespace,
        auth: SocketIOValue?,
        restored: Result<SocketIORestoredSession, SocketIOSessionRestoreFailure>,
        offset: String,
        recovery: SocketIORecovery
    ) {
        switch restored {
        case .success(let restored):
            let session = SocketIOSessionStorage()
            session.update { $0 = restored.session.data }
            self.addSocket(
                namespace: nsp,
                auth: auth,
                id: restored.session.sid,
                privateID: restored.session.pid,
                session: session,
                recovered: SocketIORecoveredSession(
                    session: restored.session,
                    offset: offset,
                    restoredMissed: restored.missedPackets,
                    memoryStore: recovery.memoryStore
                )
            )
        case .failure(let failure):
            self.server.logger.debug(
                "connection state recovery refused: new session",
                metadata: [SocketIOLoggingKeys.namespace: "\(nsp.name)", SocketIOLoggingKeys.error: "\(failure)"]
            )
            self.addSocket(namespace: nsp, auth: auth, privateID: SessionID.make())
        }
    }

    private func addSocket(
        namespace nsp: SocketIONamespace,
        auth: SocketIOValue?,
        id: String = SessionID.make(),
        privateID: String? = nil,
        session: SocketIOSessionStorage = SocketIOSessionStorage(),
        recovered: SocketIORecoveredSession? = nil
    ) {
        let socket = SocketIOSocket(
            id: id,
            namespace: nsp,
            handshake: SocketIOHandshake(auth: auth, request: self.transport.request, connectedAt: self.transport.eventLoop.now),
            client: self,
            server: self.server,
            session: session,
            privateID: privateID,
            recovery: recovered
        )
        self.sockets[nsp.name] = socket
        // Middlewares, then joining the namespace, then the connect handler: in order, on
        // the socket's handler task.
        socket.start()
    }

    /// A socket ended from the server side (refused, or disconnected by the server).
    func socketRemoved(namespace: String, id: String) {
        if self.sockets[namespace]?.id == id {
            self.sockets[namespace] = nil
        }
    }

    /// The server closes the whole connection on purpose (`socket.disconnect(close: true)`;
    /// Node `client._disconnect`): every socket leaves its namespace as after a server
    /// namespace disconnect (DISCONNECT sent, no session kept for recovery), then the
    /// transport closes. On the transport's loop.
    func closeFromServer() {
        let sockets = self.sockets.values
        self.sockets = [:]
        self.closed = true
        for socket in sockets {
            socket.end(reason: .serverNamespaceDisconnect, notifyClient: true)
        }
        self.transport.close()
    }

    private func closeConnection(reason: SocketIODisconnectReason) {
        // No socket is added any more (an asynchronous restore that completes later).
        self.closed = true
        self.endAll(reason: reason)
        self.transport.close()
    }

    private func endAll(reason: SocketIODisconnectReason) {
        let sockets = self.sockets.values
        self.sockets = [:]
        for socket in sockets {
            // Kept for recovery (a recoverable reason) while the socket is still in its rooms.
            self.server.recovery?.persist(socket, reason: reason)
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
