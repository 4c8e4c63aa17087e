//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIOParser
public import SocketIOParser

/// Who receives a broadcast: the members of `rooms` (everyone in the namespace when
/// empty), minus the members of `except` (a socket id is a room of its own).
public struct SocketIOBroadcastTarget: Sendable, Hashable {
    public var namespace: String
    public var rooms: [String]
    public var except: [String]

    public init(namespace: String = "/", rooms: [String] = [], except: [String] = []) {
        self.namespace = namespace
        self.rooms = rooms
        self.except = except
    }
}

/// The client manager: which sockets exist, which rooms they are in, and how a packet
/// reaches them. The in-memory manager serves one process; the cluster manager
/// (SocketIOCluster) implements the same protocol over a pub/sub backplane, so that ids
/// and rooms may live on other nodes.
public protocol SocketIOAdapter: Sendable {
    /// A local socket connected (it is already in the room named after its id).
    func socketConnected(_ socket: SocketIOSocket)
    /// A local socket disconnected: it leaves every room.
    func socketDisconnected(_ socket: SocketIOSocket)
    /// Puts a local socket in rooms (immediate; rooms are per node).
    func joinLocal(sid: String, rooms: [String], namespace: String)
    /// Takes a local socket out of rooms.
    func leaveLocal(sid: String, rooms: [String], namespace: String)
    /// Puts a socket (local or remote) in rooms.
    func join(sid: String, rooms: [String], namespace: String) async
    /// Takes a socket (local or remote) out of rooms.
    func leave(sid: String, rooms: [String], namespace: String) async
    /// Empties a room everywhere.
    func closeRoom(_ room: String, namespace: String) async
    /// The rooms of a local socket.
    func rooms(sid: String, namespace: String) -> [String]
    /// Sends a packet to a target; it is encoded once for every recipient.
    func broadcast(_ packet: SocketIOPacket, to target: SocketIOBroadcastTarget) async
    /// Disconnects a socket (local or remote) from its namespace.
    func disconnect(sid: String, namespace: String) async
    /// Emits to one socket (local or remote) and runs `callback` with its ack.
    func emit(
        _ packet: SocketIOPacket,
        toSocket sid: String,
        callback: @escaping @Sendable (Result<[SocketIOValue], SocketIOAckError>) -> Void,
        timeout: Duration
    ) async
    /// The local socket with this id, if any.
    func localSocket(sid: String, namespace: String) -> SocketIOSocket?
    /// Runs what the manager needs while the server serves (a backplane subscription);
    /// returns when cancelled. Throws when the manager can no longer serve (a backplane
    /// thread that died for good), so that the service group stops the worker.
    func run() async throws
    /// Whether the manager can take clients now: a cluster manager is ready once its
    /// backplane subscription is confirmed. Readiness probes report it.
    var isReady: Bool { get }
}

extension SocketIOAdapter {
    /// Nothing to run.
    public func run() async throws {}
    /// A manager with nothing to subscribe to is always ready.
    public var isReady: Bool { true }
}
