//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import SocketIOParser

/// The client manager: which sockets exist, which rooms they are in, and how a packet
/// reaches them. The in-memory manager serves one process; the cluster manager
/// (SocketIOCluster) implements the same protocol over a pub/sub backplane, so that ids
/// and rooms may live on other nodes.
///
/// Fire-and-forget operations are synchronous: they change local tables or enqueue a
/// backplane message, and never block, so that a handler calling them runs inline on its
/// event loop. Only request/response operations (an emit that waits for acks) are
/// `async throws`.
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
    func join(sid: String, rooms: [String], namespace: String)
    /// Takes a socket (local or remote) out of rooms.
    func leave(sid: String, rooms: [String], namespace: String)
    /// Empties a room everywhere.
    func closeRoom(_ room: String, namespace: String)
    /// The rooms of a local socket.
    func rooms(sid: String, namespace: String) -> [String]
    /// The ids of the local sockets in a room (python-socketio `get_participants`).
    func localMembers(of room: String, namespace: String) -> [String]
    /// Sends a packet to a target; it is encoded once for every recipient.
    func broadcast(_ packet: SocketIOPacket, to target: SocketIOBroadcastTarget)
    /// Sends a packet to a target and waits for every recipient's ack.
    /// - Returns: one answer per recipient that answered (recipients that disconnect
    ///   before answering are not waited for).
    /// - Throws: ``SocketIOAckError/timeout`` if a connected recipient did not answer in time.
    func broadcastWithAck(_ packet: SocketIOPacket, to target: SocketIOBroadcastTarget, timeout: Duration) async throws(SocketIOAckError) -> [[SocketIOValue]]
    /// The local sockets of a target.
    func localSockets(_ target: SocketIOBroadcastTarget) -> [SocketIOSocket]
    /// Puts the sockets of a target in rooms.
    func addSockets(_ target: SocketIOBroadcastTarget, rooms: [String])
    /// Takes the sockets of a target out of rooms.
    func removeSockets(_ target: SocketIOBroadcastTarget, rooms: [String])
    /// Disconnects the sockets of a target; `close` also closes their connections.
    func disconnectSockets(_ target: SocketIOBroadcastTarget, close: Bool)
    /// Disconnects a socket (local or remote) from its namespace.
    func disconnect(sid: String, namespace: String)
    /// Emits to one socket (local or remote) and waits for its ack.
    func emitWithAck(_ packet: SocketIOPacket, toSocket sid: String, timeout: Duration) async throws(SocketIOAckError) -> [SocketIOValue]
    /// The number of local sockets in a namespace.
    func socketCount(namespace: String) -> Int
    /// The local socket with this id, if any.
    func localSocket(sid: String, namespace: String) -> SocketIOSocket?
    /// Runs what the manager needs while the server serves (a backplane subscription);
    /// returns when cancelled. Throws when the manager can no longer serve (a backplane
    /// thread that died for good), so that the service group stops the worker.
    func run() async throws
    /// Whether the manager can take clients now: a cluster manager is ready once its
    /// backplane subscription has first been confirmed (and stays ready through a later
    /// broker outage). Readiness probes report it.
    var isReady: Bool { get }
    /// Turns connection state recovery on: from now on, every broadcast this manager
    /// delivers to local sockets is encoded with ``SocketIORecovery/encode(_:for:)`` (an
    /// offset appended and the event logged). The server calls it once, before serving.
    /// - Returns: `false` if this manager cannot (the server then logs that broadcasts
    ///   carry no offsets and recovered clients miss what was sent meanwhile).
    func enableConnectionStateRecovery(_ recovery: SocketIORecovery) -> Bool
    /// How many server nodes are live, this one included (Node's `io.serverCount()`): a
    /// cluster manager counts the nodes it hears heartbeats from.
    var serverCount: Int { get }

    // MARK: Cluster-wide operations (Node's names)

    /// This node's id in the cluster (the host id of ``SocketIORemoteSocket/nodeID``).
    var nodeID: String { get }
    /// The rooms of this node's sockets in a namespace and their local member counts, the
    /// rooms named after a socket id excluded.
    func localRooms(namespace: String) -> [String: Int]
    /// The sockets of a target on every node (Node's `fetchSockets`); with
    /// ``SocketIOBroadcastFlags/local``, this node's only.
    /// - Parameter timeout: how long other nodes are waited for.
    func fetchSockets(_ target: SocketIOBroadcastTarget, timeout: Duration) async -> SocketIOClusterResult<[SocketIORemoteSocket]>
    /// The rooms of a namespace on every node and their member counts (sid rooms excluded).
    func fetchRooms(namespace: String, local: Bool, timeout: Duration) async -> SocketIOClusterResult<[String: Int]>
    /// Sends an event to the other nodes' ``SocketIOServer/onServerSideEmit(_:_:)``
    /// handlers (Node's `serverSideEmit`); returns at once.
    func serverSideEmit(_ event: String, arguments: [SocketIOValue])
    /// Sends an event to the other nodes and waits for one answer from each.
    func serverSideEmitWithAck(_ event: String, arguments: [SocketIOValue], timeout: Duration) async -> SocketIOClusterResult<[[SocketIOValue]]>
    /// Sets where the server-side emits of other nodes go (the server calls it once).
    func setServerSideEmitReceiver(_ receiver: @escaping SocketIOServerSideEmitReceiver)
    /// Sends a packet to a target on every node and gathers the recipients' acks: what
    /// arrived within `timeout`, incomplete when a recipient or a node did not answer.
    func broadcastWithAckResult(_ packet: SocketIOPacket, to target: SocketIOBroadcastTarget, timeout: Duration) async -> SocketIOClusterResult<[[SocketIOValue]]>
}

extension SocketIOAdapter {
    /// Nothing to run.
    public func run() async throws {}
    /// A manager with nothing to subscribe to is always ready.
    public var isReady: Bool { true }
    /// A manager that does not know about recovery.
    public func enableConnectionStateRecovery(_ recovery: SocketIORecovery) -> Bool { false }
    /// A manager that serves one process: this node alone.
    public var serverCount: Int { 1 }

    /// A manager without a cluster: no node id.
    public var nodeID: String { "" }

    /// From ``localSockets(_:)`` and ``rooms(sid:namespace:)``.
    public func localRooms(namespace: String) -> [String: Int] {
        var counts: [String: Int] = [:]
        for socket in self.localSockets(SocketIOBroadcastTarget(namespace: namespace)) {
            for room in self.rooms(sid: socket.id, namespace: namespace) where room != socket.id { counts[room, default: 0] += 1 }
        }
        return counts
    }

    /// This node's sockets: a manager without a cluster has no other node to ask.
    public func fetchSockets(_ target: SocketIOBroadcastTarget, timeout: Duration) async -> SocketIOClusterResult<[SocketIORemoteSocket]> {
        SocketIOClusterResult(value: self.localSockets(target).map { SocketIORemoteSocket($0, nodeID: self.nodeID, adapter: self) })
    }

    /// This node's rooms.
    public func fetchRooms(namespace: String, local: Bool, timeout: Duration) async -> SocketIOClusterResult<[String: Int]> {
        SocketIOClusterResult(value: self.localRooms(namespace: namespace))
    }

    /// No other node: nothing to send.
    public func serverSideEmit(_ event: String, arguments: [SocketIOValue]) {}

    /// No other node: no answers, complete.
    public func serverSideEmitWithAck(_ event: String, arguments: [SocketIOValue], timeout: Duration) async -> SocketIOClusterResult<[[SocketIOValue]]> {
        SocketIOClusterResult(value: [])
    }

    /// No other node sends any.
    public func setServerSideEmitReceiver(_ receiver: @escaping SocketIOServerSideEmitReceiver) {}

    /// This node's recipients (see ``InMemoryAdapter/collectAckResult(_:from:timeout:)``).
    public func broadcastWithAckResult(_ packet: SocketIOPacket, to target: SocketIOBroadcastTarget, timeout: Duration) async -> SocketIOClusterResult<[[SocketIOValue]]> {
        let (answers, complete) = await InMemoryAdapter.collectAckResult(packet, from: self.localSockets(target), timeout: timeout)
        return SocketIOClusterResult(value: answers, isComplete: complete)
    }
}
