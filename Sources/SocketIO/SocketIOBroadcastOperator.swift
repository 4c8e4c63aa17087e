//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import SocketIOParser

/// Addresses sockets of one namespace and emits to them (Node's `BroadcastOperator`):
/// `io.to("a").to("b").except("c").emit(…)`, `socket.to(room).emit(…)` (everyone in the
/// room but the sender), `io.of("/chat").volatile.emit(…)`,
/// `try await io.timeout(.seconds(5)).emitWithAck(…)`.
///
/// An immutable value: every modifier returns a new operator. Fire-and-forget operations
/// (`emit`, `socketsJoin`, `socketsLeave`, `disconnectSockets`) are synchronous: they only
/// enqueue, so a handler that broadcasts still runs inline on its event loop. Operations
/// that wait for answers are `async throws`.
public struct SocketIOBroadcastOperator: SocketIOBroadcasting {
    let adapter: any SocketIOAdapter
    /// Who receives, and how.
    public private(set) var target: SocketIOBroadcastTarget
    /// Set by ``timeout(_:)``: how long ``emitWithAck(_:arguments:)`` waits.
    public private(set) var ackTimeout: Duration?
    let defaultAckTimeout: Duration

    init(adapter: any SocketIOAdapter, target: SocketIOBroadcastTarget, defaultAckTimeout: Duration) {
        self.adapter = adapter
        self.target = target
        self.defaultAckTimeout = defaultAckTimeout
    }

    public func to(_ rooms: [String]) -> Self {
        var copy = self
        for room in rooms where !copy.target.rooms.contains(room) { copy.target.rooms.append(room) }
        return copy
    }

    public func except(_ rooms: [String]) -> Self {
        var copy = self
        for room in rooms where !copy.target.except.contains(room) { copy.target.except.append(room) }
        return copy
    }

    /// Dropped for recipients whose transport cannot take it now (see
    /// ``SocketIOBroadcastFlags/volatile``).
    public var volatile: Self {
        var copy = self
        copy.target.flags.volatile = true
        return copy
    }

    /// Whether the transport may compress the message (see ``SocketIOBroadcastFlags/compress``).
    public func compress(_ compress: Bool) -> Self {
        var copy = self
        copy.target.flags.compress = compress
        return copy
    }

    /// Only this node's sockets, not through the cluster backplane.
    public var local: Self {
        var copy = self
        copy.target.flags.local = true
        return copy
    }

    /// How long ``emitWithAck(_:arguments:)`` waits for every recipient's answer.
    public func timeout(_ timeout: Duration) -> Self {
        var copy = self
        copy.ackTimeout = timeout
        return copy
    }

    /// Emits an event to the addressed sockets; returns at once.
    public func emit(_ event: String, arguments: [SocketIOValue]) {
        self.adapter.broadcast(.event(event, arguments, namespace: self.target.namespace), to: self.target)
    }

    /// How long cluster-wide requests (``fetchSockets()``, ``fetchRooms()``,
    /// ``serverSideEmitWithAck(_:arguments:)``) wait for the other nodes when no
    /// ``timeout(_:)`` is set: 5 s, Node's `requestsTimeout`.
    public static let defaultRequestTimeout: Duration = .seconds(5)

    var requestTimeout: Duration { self.ackTimeout ?? Self.defaultRequestTimeout }

    /// Emits an event that every recipient acknowledges, and waits for the answers (Node
    /// `io.timeout(ms).emitWithAck`): one element per recipient that answered, in the order
    /// the answers came. Recipients that disconnect meanwhile are not waited for. In a
    /// cluster, the recipients of every node answer.
    /// - Throws: ``SocketIOAckError/timeout`` if a connected recipient (or a node) did not
    ///   answer within ``timeout(_:)`` (the configuration's `ackTimeout` by default);
    ///   ``emitWithAckResult(_:arguments:)`` returns what did arrive instead.
    public func emitWithAck(_ event: String, arguments: [SocketIOValue]) async throws(SocketIOAckError) -> [[SocketIOValue]] {
        try await self.adapter.broadcastWithAck(
            .event(event, arguments, namespace: self.target.namespace),
            to: self.target,
            timeout: self.ackTimeout ?? self.defaultAckTimeout
        )
    }

    /// Emits an event that every recipient acknowledges, and waits for the answers.
    public func emitWithAck(_ event: String, _ arguments: SocketIOValue...) async throws(SocketIOAckError) -> [[SocketIOValue]] {
        try await self.emitWithAck(event, arguments: arguments)
    }

    /// Emits an event that every recipient acknowledges, and returns the answers that
    /// arrived within ``timeout(_:)``, across the cluster: never throws "timeout"; an
    /// incomplete result says which nodes did not answer.
    public func emitWithAckResult(_ event: String, arguments: [SocketIOValue]) async -> SocketIOClusterResult<[[SocketIOValue]]> {
        await self.adapter.broadcastWithAckResult(
            .event(event, arguments, namespace: self.target.namespace),
            to: self.target,
            timeout: self.ackTimeout ?? self.defaultAckTimeout
        )
    }

    /// Emits an event that every recipient acknowledges, and returns the answers that
    /// arrived in time.
    public func emitWithAckResult(_ event: String, _ arguments: SocketIOValue...) async -> SocketIOClusterResult<[[SocketIOValue]]> {
        await self.emitWithAckResult(event, arguments: arguments)
    }

    /// Puts the addressed sockets in rooms, on every node (Node `socketsJoin`); returns at once.
    public func socketsJoin(_ rooms: String...) {
        self.socketsJoin(rooms)
    }

    /// Puts the addressed sockets in rooms, on every node; returns at once.
    public func socketsJoin(_ rooms: [String]) {
        self.adapter.addSockets(self.target, rooms: rooms)
    }

    /// Takes the addressed sockets out of rooms, on every node (Node `socketsLeave`).
    public func socketsLeave(_ rooms: String...) {
        self.socketsLeave(rooms)
    }

    /// Takes the addressed sockets out of rooms, on every node; returns at once.
    public func socketsLeave(_ rooms: [String]) {
        self.adapter.removeSockets(self.target, rooms: rooms)
    }

    /// Disconnects the addressed sockets from the namespace, on every node; with `close`,
    /// also closes their connections (Node `disconnectSockets(true)`).
    public func disconnectSockets(close: Bool = false) {
        self.adapter.disconnectSockets(self.target, close: close)
    }

    /// The addressed sockets of every node (Node `fetchSockets`): id, handshake, rooms and
    /// data of each, and methods that act on it wherever it lives. With ``local``, this
    /// node's only. Other nodes are waited for up to ``timeout(_:)`` (5 s by default).
    public func fetchSockets() async -> SocketIOClusterResult<[SocketIORemoteSocket]> {
        await self.adapter.fetchSockets(self.target, timeout: self.requestTimeout)
    }

    /// The ids of the addressed sockets on every node (the members of the rooms).
    public func fetchSocketIDs() async -> SocketIOClusterResult<[String]> {
        let result = await self.fetchSockets()
        return SocketIOClusterResult(
            value: result.value.map(\.id).sorted(),
            missingNodes: result.missingNodes,
            nonMemberHosts: result.nonMemberHosts,
            isComplete: result.isComplete
        )
    }

    /// The addressed sockets of this node, as live objects.
    public func localSockets() -> [SocketIOSocket] {
        self.adapter.localSockets(self.target)
    }

    /// The rooms of the namespace on every node, with their member counts (rooms named
    /// after a socket id excluded). With ``local``, this node's only.
    public func fetchRooms() async -> SocketIOClusterResult<[String: Int]> {
        await self.adapter.fetchRooms(namespace: self.target.namespace, local: self.target.flags.local, timeout: self.requestTimeout)
    }

    /// Sends an event to the ``SocketIOServer/onServerSideEmit(_:_:)`` handlers of every
    /// other node (Node `serverSideEmit`); returns at once.
    public func serverSideEmit(_ event: String, arguments: [SocketIOValue]) {
        self.adapter.serverSideEmit(event, arguments: arguments)
    }

    /// Sends an event to every other node and waits up to ``timeout(_:)`` (5 s by default)
    /// for one answer from each (Node `serverSideEmitWithAck`).
    public func serverSideEmitWithAck(_ event: String, arguments: [SocketIOValue]) async -> SocketIOClusterResult<[[SocketIOValue]]> {
        await self.adapter.serverSideEmitWithAck(event, arguments: arguments, timeout: self.requestTimeout)
    }

    /// Sends an event to every other node and waits for one answer from each.
    public func serverSideEmitWithAck(_ event: String, _ arguments: SocketIOValue...) async -> SocketIOClusterResult<[[SocketIOValue]]> {
        await self.serverSideEmitWithAck(event, arguments: arguments)
    }
}

/// A type that addresses a whole namespace through a ``SocketIOBroadcastOperator``: a
/// namespace, or the server (its main namespace). Gives them the operator's modifiers.
public protocol SocketIOBroadcastOperatorProviding: SocketIOBroadcasting where Broadcast == SocketIOBroadcastOperator {
    /// The operator that addresses every socket of the namespace.
    var broadcastOperator: SocketIOBroadcastOperator { get }
}

extension SocketIOBroadcastOperatorProviding {
    public func to(_ rooms: [String]) -> SocketIOBroadcastOperator { self.broadcastOperator.to(rooms) }
    public func except(_ rooms: [String]) -> SocketIOBroadcastOperator { self.broadcastOperator.except(rooms) }
    /// Emits an event to every socket of the namespace; returns at once.
    public func emit(_ event: String, arguments: [SocketIOValue]) { self.broadcastOperator.emit(event, arguments: arguments) }
    /// See ``SocketIOBroadcastOperator/volatile``.
    public var volatile: SocketIOBroadcastOperator { self.broadcastOperator.volatile }
    /// See ``SocketIOBroadcastOperator/local``.
    public var local: SocketIOBroadcastOperator { self.broadcastOperator.local }
    /// See ``SocketIOBroadcastOperator/compress(_:)``.
    public func compress(_ compress: Bool) -> SocketIOBroadcastOperator { self.broadcastOperator.compress(compress) }
    /// See ``SocketIOBroadcastOperator/timeout(_:)``.
    public func timeout(_ timeout: Duration) -> SocketIOBroadcastOperator { self.broadcastOperator.timeout(timeout) }
    /// Puts every socket of the namespace in rooms.
    public func socketsJoin(_ rooms: String...) { self.broadcastOperator.socketsJoin(rooms) }
    /// Puts every socket of the namespace in rooms.
    public func socketsJoin(_ rooms: [String]) { self.broadcastOperator.socketsJoin(rooms) }
    /// Takes every socket of the namespace out of rooms.
    public func socketsLeave(_ rooms: String...) { self.broadcastOperator.socketsLeave(rooms) }
    /// Takes every socket of the namespace out of rooms.
    public func socketsLeave(_ rooms: [String]) { self.broadcastOperator.socketsLeave(rooms) }
    /// Disconnects every socket of the namespace.
    public func disconnectSockets(close: Bool = false) { self.broadcastOperator.disconnectSockets(close: close) }
    /// The sockets of the namespace on every node (see ``SocketIOBroadcastOperator/fetchSockets()``).
    public func fetchSockets() async -> SocketIOClusterResult<[SocketIORemoteSocket]> { await self.broadcastOperator.fetchSockets() }
    /// The ids of the namespace's sockets on every node.
    public func fetchSocketIDs() async -> SocketIOClusterResult<[String]> { await self.broadcastOperator.fetchSocketIDs() }
    /// The sockets of the namespace on this node, as live objects.
    public func localSockets() -> [SocketIOSocket] { self.broadcastOperator.localSockets() }
    /// The rooms of the namespace on every node and their member counts.
    public func fetchRooms() async -> SocketIOClusterResult<[String: Int]> { await self.broadcastOperator.fetchRooms() }
    /// Sends an event to every other node's server-side handlers; returns at once.
    public func serverSideEmit(_ event: String, _ arguments: SocketIOValue...) { self.broadcastOperator.serverSideEmit(event, arguments: arguments) }
    /// Emits to every socket of the namespace (on every node) and returns the answers that arrived in time.
    public func emitWithAckResult(_ event: String, _ arguments: SocketIOValue...) async -> SocketIOClusterResult<[[SocketIOValue]]> {
        await self.broadcastOperator.emitWithAckResult(event, arguments: arguments)
    }
    /// Emits to every socket of the namespace and waits for all answers.
    public func emitWithAck(_ event: String, _ arguments: SocketIOValue...) async throws(SocketIOAckError) -> [[SocketIOValue]] {
        try await self.broadcastOperator.emitWithAck(event, arguments: arguments)
    }
}
