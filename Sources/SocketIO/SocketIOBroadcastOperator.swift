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

    /// Emits an event that every recipient acknowledges, and waits for the answers (Node
    /// `io.timeout(ms).emitWithAck`): one element per recipient that answered, in the order
    /// the answers came. Recipients that disconnect meanwhile are not waited for. In a
    /// cluster, the sockets of this node answer (the cross-node half is the cluster's).
    /// - Throws: ``SocketIOAckError/timeout`` if a connected recipient did not answer within
    ///   ``timeout(_:)`` (the configuration's `ackTimeout` by default).
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

    /// Puts the addressed sockets in rooms (Node `socketsJoin`).
    public func socketsJoin(_ rooms: String...) {
        self.adapter.addSockets(self.target, rooms: rooms)
    }

    /// Takes the addressed sockets out of rooms (Node `socketsLeave`).
    public func socketsLeave(_ rooms: String...) {
        self.adapter.removeSockets(self.target, rooms: rooms)
    }

    /// Disconnects the addressed sockets from the namespace; with `close`, also closes
    /// their connections (Node `disconnectSockets(true)`).
    public func disconnectSockets(close: Bool = false) {
        self.adapter.disconnectSockets(self.target, close: close)
    }

    /// The addressed sockets of this node (Node `fetchSockets`, local half).
    public func fetchSockets() -> [SocketIOSocket] {
        self.adapter.localSockets(self.target)
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
    public func socketsJoin(_ rooms: String...) { self.broadcastOperator.adapter.addSockets(self.broadcastOperator.target, rooms: rooms) }
    /// Takes every socket of the namespace out of rooms.
    public func socketsLeave(_ rooms: String...) { self.broadcastOperator.adapter.removeSockets(self.broadcastOperator.target, rooms: rooms) }
    /// Disconnects every socket of the namespace.
    public func disconnectSockets(close: Bool = false) { self.broadcastOperator.disconnectSockets(close: close) }
    /// The sockets of the namespace on this node.
    public func fetchSockets() -> [SocketIOSocket] { self.broadcastOperator.fetchSockets() }
    /// Emits to every socket of the namespace and waits for all answers.
    public func emitWithAck(_ event: String, _ arguments: SocketIOValue...) async throws(SocketIOAckError) -> [[SocketIOValue]] {
        try await self.broadcastOperator.emitWithAck(event, arguments: arguments)
    }
}
