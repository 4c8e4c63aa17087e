//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import SocketIOParser

/// Flask-SocketIO's operations by socket id: they reach sockets on any node of a cluster
/// (except where said), and return at once.
extension SocketIOServer {
    /// Puts a socket (on any node) in a room (Flask `join_room(room, sid=)`).
    public func joinRoom(sid: String, room: String, namespace: String = "/") {
        self.adapter.join(sid: sid, rooms: [room], namespace: namespace)
    }

    /// Takes a socket (on any node) out of a room (Flask `leave_room(room, sid=)`).
    public func leaveRoom(sid: String, room: String, namespace: String = "/") {
        self.adapter.leave(sid: sid, rooms: [room], namespace: namespace)
    }

    /// Empties a room on every node (Flask `close_room`).
    public func closeRoom(_ room: String, namespace: String = "/") {
        self.adapter.closeRoom(room, namespace: namespace)
    }

    /// The rooms of a socket connected to this node (Flask `rooms(sid)`).
    public func rooms(sid: String, namespace: String = "/") -> [String] {
        self.adapter.rooms(sid: sid, namespace: namespace)
    }

    /// Disconnects a socket (on any node) from a namespace (Flask `disconnect(sid)`).
    public func disconnect(sid: String, namespace: String = "/") {
        self.adapter.disconnect(sid: sid, namespace: namespace)
    }

    /// The session storage of a socket connected to this node (Flask `session(sid)`).
    public func session(sid: String, namespace: String = "/") -> SocketIOSessionStorage? {
        self.adapter.localSocket(sid: sid, namespace: namespace)?.session
    }

    /// The transport of a socket connected to this node: `polling` or `websocket` (Flask
    /// `transport(sid)`); `nil` for an unknown sid.
    public func transport(sid: String, namespace: String = "/") -> String? {
        self.adapter.localSocket(sid: sid, namespace: namespace)?.transport.transportName
    }

    /// Emits to one socket (on any node) and waits for its acknowledgement (Flask
    /// `call(event, data, to=sid)`).
    /// - Throws: ``SocketIOAckError`` on timeout, disconnect or an unknown sid.
    public func emitWithAck(
        _ event: String,
        _ arguments: SocketIOValue...,
        to sid: String,
        namespace: String = "/",
        timeout: Duration? = nil
    ) async throws(SocketIOAckError) -> [SocketIOValue] {
        try await self.adapter.emitWithAck(.event(event, arguments, namespace: namespace), toSocket: sid, timeout: timeout ?? self.defaultAckTimeout)
    }
}
