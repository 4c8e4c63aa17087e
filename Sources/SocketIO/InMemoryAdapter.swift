//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import EngineIOParser
import NIOConcurrencyHelpers
import NIOCore
public import SocketIOParser
import Synchronization

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
    /// Set once when the server turns connection state recovery on; read on every
    /// broadcast (one atomic load, no lock).
    private let recovery = AtomicLazyReference<SocketIORecovery>()

    /// This node's id (``SocketIORemoteSocket/nodeID`` of its sockets).
    public let nodeID: String

    /// - Parameter nodeID: this node's id; a random one by default.
    public init(nodeID: String? = nil) {
        self.nodeID = nodeID ?? Self.randomNodeID()
    }

    private static func randomNodeID() -> String {
        var generator = SystemRandomNumberGenerator()
        let hex = Array("0123456789abcdef".utf8)
        let bytes = (0..<16).flatMap { _ -> [UInt8] in
            let byte = UInt8.random(in: 0...255, using: &generator)
            return [hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The rooms of a namespace and their member counts, the rooms named after a socket excluded.
    public func localRooms(namespace: String) -> [String: Int] {
        self.state.withLockedValue { namespaces in
            guard let ns = namespaces[namespace] else { return [:] }
            var counts: [String: Int] = [:]
            for (room, members) in ns.rooms where ns.sockets[room] == nil {
                counts[room] = members.count
            }
            return counts
        }
    }

    public func enableConnectionStateRecovery(_ recovery: SocketIORecovery) -> Bool {
        self.recovery.storeIfNil(recovery) === recovery
    }

    /// Encodes a broadcast once for its local recipients: with connection state recovery
    /// on, a recoverable event gets its offset and is logged (see
    /// ``SocketIORecovery/encode(_:for:)``).
    public func encode(_ packet: SocketIOPacket, for target: SocketIOBroadcastTarget) -> [EngineIOFrame] {
        if let recovery = self.recovery.load() { return recovery.encode(packet, for: target) }
        return Self.encode(packet, flags: target.flags)
    }

    public func socketConnected(_ socket: SocketIOSocket) {
        self.state.withLockedValue { namespaces in
            namespaces[socket.namespace, default: Namespace()].sockets[socket.id] = socket
            _ = namespaces[socket.namespace]!.add(socket.id, to: socket.id)
        }
    }

    public func socketDisconnected(_ socket: SocketIOSocket) {
        self.state.withLockedValue { namespaces in
            // A recovered socket takes its id back, possibly before the socket it replaces
            // has left (a `disconnecting` handler still running): the one that leaves late
            // must not take the new one, or its rooms, with it.
            guard namespaces[socket.namespace]?.sockets[socket.id] === socket else { return }
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

    public func join(sid: String, rooms: [String], namespace: String) {
        self.joinLocal(sid: sid, rooms: rooms, namespace: namespace)
    }

    public func leave(sid: String, rooms: [String], namespace: String) {
        self.leaveLocal(sid: sid, rooms: rooms, namespace: namespace)
    }

    public func closeRoom(_ room: String, namespace: String) {
        self.closeRoomLocal(room, namespace: namespace)
    }

    public func rooms(sid: String, namespace: String) -> [String] {
        self.state.withLockedValue { Array($0[namespace]?.socketRooms[sid] ?? []) }.sorted()
    }

    public func localMembers(of room: String, namespace: String) -> [String] {
        self.state.withLockedValue { Array($0[namespace]?.rooms[room] ?? []) }.sorted()
    }

    /// Delivers already encoded frames to the local recipients of a target.
    ///
    /// Recipients are grouped by event loop: those of the calling loop get the frames at
    /// once, every other loop gets one task for all of its recipients (not one per socket).
    public func deliverLocal(_ frames: [EngineIOFrame], to target: SocketIOBroadcastTarget) {
        let recipients = self.localSockets(target)
        let volatile = target.flags.volatile
        var otherLoops: [ObjectIdentifier: [SocketIOSocket]] = [:]
        for socket in recipients {
            let loop = socket.transport.eventLoop
            if !socket.transport.sendsOnEventLoop || loop.inEventLoop {
                socket.deliver(frames, volatile: volatile)
            } else {
                otherLoops[ObjectIdentifier(loop as AnyObject), default: []].append(socket)
            }
        }
        for sockets in otherLoops.values {
            sockets[0].transport.eventLoop.execute {
                for socket in sockets { socket.deliver(frames, volatile: volatile) }
            }
        }
    }

    public func broadcast(_ packet: SocketIOPacket, to target: SocketIOBroadcastTarget) {
        self.deliverLocal(self.encode(packet, for: target), to: target)
    }

    /// Encodes a broadcast once for every recipient, marked as the flags say.
    public static func encode(_ packet: SocketIOPacket, flags: SocketIOBroadcastFlags) -> [EngineIOFrame] {
        var frames = SocketIOPacketEncoder.encode(packet)
        if !flags.compress {
            for index in frames.indices { frames[index].compress = false }
        }
        return frames
    }

    public func broadcastWithAck(
        _ packet: SocketIOPacket,
        to target: SocketIOBroadcastTarget,
        timeout: Duration
    ) async throws(SocketIOAckError) -> [[SocketIOValue]] {
        try await Self.collectAcks(packet, from: self.localSockets(target), timeout: timeout)
    }

    /// Sends one packet (encoded once, with one ack id valid on every recipient) and
    /// gathers the answers: Node's `broadcastWithAck`.
    /// - Throws: ``SocketIOAckError/timeout`` when a recipient did not answer in time.
    package static func collectAcks(
        _ packet: SocketIOPacket,
        from recipients: [SocketIOSocket],
        timeout: Duration
    ) async throws(SocketIOAckError) -> [[SocketIOValue]] {
        let (answers, complete) = await Self.collectAckResult(packet, from: recipients, timeout: timeout)
        guard complete else { throw .timeout }
        return answers
    }

    /// Sends one packet (encoded once, with one ack id valid on every recipient) and
    /// gathers the answers that arrive within `timeout`.
    /// - Returns: the answers in arrival order, and whether every recipient answered (or
    ///   left, which is not waited for).
    package static func collectAckResult(
        _ packet: SocketIOPacket,
        from recipients: [SocketIOSocket],
        timeout: Duration
    ) async -> (answers: [[SocketIOValue]], complete: Bool) {
        await withCheckedContinuation { (continuation: CheckedContinuation<AckCollector.Outcome, Never>) in
            Self.collectAckResult(packet, from: recipients, timeout: timeout) { continuation.resume(returning: ($0, $1)) }
        }
    }

    /// ``collectAckResult(_:from:timeout:)`` with a completion instead of a suspension
    /// (for a cluster node answering a peer's request without a task per request).
    /// - Parameter completion: runs once, with the answers and whether every recipient answered.
    package static func collectAckResult(
        _ packet: SocketIOPacket,
        from recipients: [SocketIOSocket],
        timeout: Duration,
        completion: @escaping @Sendable (_ answers: [[SocketIOValue]], _ complete: Bool) -> Void
    ) {
        guard !recipients.isEmpty else { return completion([], true) }
        var packet = packet
        let id = SocketIOAckIDs.next()
        packet.ackID = id
        let frames = SocketIOPacketEncoder.encode(packet)
        let collector = AckCollector(expected: recipients.count) { completion($0.answers, $0.complete) }
        collector.arm(timeout: timeout, on: recipients[0].transport.eventLoop)
        for socket in recipients {
            // A socket that cannot take one more ack (gone, or at maxPendingAcks) gets
            // nothing and counts as answered with its error.
            if socket.expectAck(id: id, timeout: nil, callback: { collector.receive($0) }) {
                socket.deliver(frames, volatile: false)
            }
        }
    }

    public func localSockets(_ target: SocketIOBroadcastTarget) -> [SocketIOSocket] {
        self.state.withLockedValue { $0[target.namespace]?.recipients(target) ?? [] }
    }

    public func addSockets(_ target: SocketIOBroadcastTarget, rooms: [String]) {
        for socket in self.localSockets(target) { self.joinLocal(sid: socket.id, rooms: rooms, namespace: target.namespace) }
    }

    public func removeSockets(_ target: SocketIOBroadcastTarget, rooms: [String]) {
        for socket in self.localSockets(target) { self.leaveLocal(sid: socket.id, rooms: rooms, namespace: target.namespace) }
    }

    public func disconnectSockets(_ target: SocketIOBroadcastTarget, close: Bool) {
        for socket in self.localSockets(target) { socket.disconnect(close: close) }
    }

    public func disconnect(sid: String, namespace: String) {
        self.localSocket(sid: sid, namespace: namespace)?.disconnect()
    }

    public func emitWithAck(_ packet: SocketIOPacket, toSocket sid: String, timeout: Duration) async throws(SocketIOAckError) -> [SocketIOValue] {
        guard let socket = self.localSocket(sid: sid, namespace: packet.namespace) else {
            throw .unknownSocket
        }
        return try await socket.emitWithAck(packet, timeout: timeout)
    }

    public func localSocket(sid: String, namespace: String) -> SocketIOSocket? {
        self.state.withLockedValue { $0[namespace]?.sockets[sid] }
    }

    /// The number of local sockets in a namespace.
    public func socketCount(namespace: String) -> Int {
        self.state.withLockedValue { $0[namespace]?.sockets.count ?? 0 }
    }
}
