//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import EngineIOParser
import NIOConcurrencyHelpers
import NIOCore
public import SocketIOParser

/// The embedded client manager for one process: rooms and sockets in memory.
///
/// One lock around one struct. Broadcasts encode their packet once and hand the same
/// frames to every recipient; room membership is kept in both directions (room → sids,
/// sid → rooms) so that joins, leaves and disconnects cost O(rooms of the socket).
public final class InMemoryAdapter: SocketIOAdapter {
    struct Namespace {
        var sockets: [String: SocketIOSocket] = [:]
        var rooms: [String: Set<String>] = [:]
        var socketRooms: [String: Set<String>] = [:]

        /// Puts a socket in a room, unless it is in
        /// ``SocketIOConfiguration/maxRoomsPerSocket`` rooms already or the name is longer
        /// than ``SocketIOConfiguration/maxRoomNameBytes``.
        /// - Returns: the socket and the limit when a limit refused the join (to be told
        ///   outside the lock).
        mutating func add(_ sid: String, to room: String) -> (SocketIOSocket, RoomLimit)? {
            guard let socket = self.sockets[sid] else { return nil }
            let configuration = socket.server.configuration
            let maxNameBytes = configuration.maxRoomNameBytes
            if maxNameBytes > 0, room.utf8.count > maxNameBytes, room != sid {
                return (socket, .nameBytes)
            }
            let limit = configuration.maxRoomsPerSocket
            if limit > 0, let current = self.socketRooms[sid], current.count >= limit, !current.contains(room) {
                return (socket, .roomsPerSocket)
            }
            self.rooms[room, default: []].insert(sid)
            self.socketRooms[sid, default: []].insert(room)
            return nil
        }

        mutating func remove(_ sid: String, from room: String) {
            if self.rooms[room]?.remove(sid) != nil, self.rooms[room]?.isEmpty == true {
                self.rooms[room] = nil
            }
            self.socketRooms[sid]?.remove(room)
        }

        mutating func removeSocket(_ sid: String) {
            for room in self.socketRooms[sid] ?? [] { self.remove(sid, from: room) }
            self.socketRooms[sid] = nil
            self.sockets[sid] = nil
        }

        /// The recipients of a broadcast.
        func recipients(_ target: SocketIOBroadcastTarget) -> [SocketIOSocket] {
            var excluded = Set<String>()
            for room in target.except {
                if let members = self.rooms[room] { excluded.formUnion(members) }
            }
            if target.rooms.isEmpty {
                return self.sockets.compactMap { excluded.contains($0.key) ? nil : $0.value }
            }
            if target.rooms.count == 1 {
                return (self.rooms[target.rooms[0]] ?? []).compactMap { excluded.contains($0) ? nil : self.sockets[$0] }
            }
            var seen = Set<String>()
            var result: [SocketIOSocket] = []
            for room in target.rooms {
                for sid in self.rooms[room] ?? [] where !excluded.contains(sid) && seen.insert(sid).inserted {
                    if let socket = self.sockets[sid] { result.append(socket) }
                }
            }
            return result
        }
    }

    private let state = NIOLockedValueBox<[String: Namespace]>([:])

    public init() {}

    public func socketConnected(_ socket: SocketIOSocket) {
        self.state.withLockedValue { namespaces in
            namespaces[socket.namespace, default: Namespace()].sockets[socket.id] = socket
            _ = namespaces[socket.namespace]!.add(socket.id, to: socket.id)
        }
    }

    public func socketDisconnected(_ socket: SocketIOSocket) {
        self.state.withLockedValue { namespaces in
            // In place: a copy of the namespace (`guard var`) would copy its tables on write,
            // once per disconnect, which made disconnecting N sockets cost O(N²).
            namespaces[socket.namespace]?.removeSocket(socket.id)
        }
    }

    /// The limit that refused a join.
    enum RoomLimit: Hashable {
        /// ``SocketIOConfiguration/maxRoomsPerSocket``.
        case roomsPerSocket
        /// ``SocketIOConfiguration/maxRoomNameBytes``.
        case nameBytes
    }

    /// Joins local sockets to rooms (no-op for unknown sids). A join beyond
    /// ``SocketIOConfiguration/maxRoomsPerSocket`` or of a name longer than
    /// ``SocketIOConfiguration/maxRoomNameBytes`` is ignored and reported once per call
    /// and limit.
    public func joinLocal(sid: String, rooms: [String], namespace: String) {
        let (refused, limits) = self.state.withLockedValue { namespaces -> (SocketIOSocket?, Set<RoomLimit>) in
            var refused: SocketIOSocket?
            var limits = Set<RoomLimit>()
            for room in rooms {
                if let (socket, limit) = namespaces[namespace]?.add(sid, to: room) {
                    refused = socket
                    limits.insert(limit)
                }
            }
            return (refused, limits)
        }
        guard let refused else { return }
        for limit in limits { refused.roomLimitReached(limit) }
    }

    /// Removes local sockets from rooms.
    public func leaveLocal(sid: String, rooms: [String], namespace: String) {
        self.state.withLockedValue { namespaces in
            for room in rooms { namespaces[namespace]?.remove(sid, from: room) }
        }
    }

    /// Empties a room locally.
    public func closeRoomLocal(_ room: String, namespace: String) {
        self.state.withLockedValue { namespaces in
            guard let members = namespaces[namespace]?.rooms[room] else { return }
            for sid in members { namespaces[namespace]!.remove(sid, from: room) }
        }
    }

    public func join(sid: String, rooms: [String], namespace: String) async {
        self.joinLocal(sid: sid, rooms: rooms, namespace: namespace)
    }

    public func leave(sid: String, rooms: [String], namespace: String) async {
        self.leaveLocal(sid: sid, rooms: rooms, namespace: namespace)
    }

    public func closeRoom(_ room: String, namespace: String) async {
        self.closeRoomLocal(room, namespace: namespace)
    }

    public func rooms(sid: String, namespace: String) -> [String] {
        self.state.withLockedValue { Array($0[namespace]?.socketRooms[sid] ?? []) }.sorted()
    }

    /// Delivers already encoded frames to the local recipients of a target.
    ///
    /// Recipients are grouped by event loop: those of the calling loop get the frames at
    /// once, every other loop gets one task for all of its recipients (not one per socket).
    public func deliverLocal(_ frames: [EngineIOFrame], to target: SocketIOBroadcastTarget) {
        let recipients = self.state.withLockedValue { $0[target.namespace]?.recipients(target) ?? [] }
        var otherLoops: [ObjectIdentifier: [SocketIOSocket]] = [:]
        for socket in recipients {
            let loop = socket.transport.eventLoop
            if !socket.transport.sendsOnEventLoop || loop.inEventLoop {
                socket.deliver(frames)
            } else {
                otherLoops[ObjectIdentifier(loop as AnyObject), default: []].append(socket)
            }
        }
        for sockets in otherLoops.values {
            sockets[0].transport.eventLoop.execute {
                for socket in sockets { socket.deliver(frames) }
            }
        }
    }

    public func broadcast(_ packet: SocketIOPacket, to target: SocketIOBroadcastTarget) async {
        self.deliverLocal(SocketIOPacketEncoder.encode(packet), to: target)
    }

    public func disconnect(sid: String, namespace: String) async {
        self.localSocket(sid: sid, namespace: namespace)?.disconnect()
    }

    public func emit(
        _ packet: SocketIOPacket,
        toSocket sid: String,
        callback: @escaping @Sendable (Result<[SocketIOValue], SocketIOAckError>) -> Void,
        timeout: Duration
    ) async {
        guard let socket = self.localSocket(sid: sid, namespace: packet.namespace) else {
            callback(.failure(.unknownSocket))
            return
        }
        socket.send(packet, timeout: timeout, ack: callback)
    }

    public func localSocket(sid: String, namespace: String) -> SocketIOSocket? {
        self.state.withLockedValue { $0[namespace]?.sockets[sid] }
    }

    /// The number of local sockets in a namespace.
    public func socketCount(namespace: String) -> Int {
        self.state.withLockedValue { $0[namespace]?.sockets.count ?? 0 }
    }
}
