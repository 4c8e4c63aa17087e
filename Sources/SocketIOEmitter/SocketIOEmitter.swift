//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import Backplane
public import Logging
import NIOConcurrencyHelpers
public import SocketIOMessageQueue
public import SocketIOParser

/// Publishes emits, room operations, disconnects and server-side emits onto a cluster's
/// message queue, for processes that are not Socket.IO servers (batch jobs, cron tasks,
/// other services): the Swift counterpart of python-socketio's `write_only` managers. It
/// links none of the server.
///
/// ```swift
/// let emitter = try SocketIOEmitter(url: "redis://127.0.0.1:6379", logger: logger)
/// try await emitter.run {                       // connects, publishes, flushes, stops
///     emitter.of("/chat").to("lobby").emit("news", ["n": 1])
/// }
/// ```
///
/// It addresses sockets with the same operator shape as the server
/// (``SocketIOBroadcasting``): `emitter.to("a").except("b").emit(…)` on `/`,
/// `emitter.of("/chat")` for another namespace.
public final class SocketIOEmitter: SocketIOBroadcasting {
    /// The emitter's host id on the channel.
    public let hostID: String
    let transport: any BackplaneTransport
    /// Numbers emits and enqueues them under one lock, so that concurrent callers' emits
    /// leave in the order they were numbered.
    let publisher: MessageQueuePublisher
    /// Requests waiting for the nodes' responses (``Operator/fetchSocketIDs(timeout:)``).
    let requests = NIOLockedValueBox(EmitterRequests())

    /// An emitter on an existing transport (make it ``BackplaneRole/publishOnly``: an
    /// emitter never reads the channel).
    public init(transport: any BackplaneTransport, hostID: String = HostID.make()) {
        self.transport = transport
        self.hostID = hostID
        self.publisher = MessageQueuePublisher(transport: transport, hostID: hostID)
    }

    /// An emitter for a message-queue URL. Its transport only publishes, like
    /// python-socketio's `write_only` managers: no Redis subscription, no AMQP queue, no
    /// Kafka consumer.
    /// - Parameters:
    ///   - maxPayload: the servers' largest client packet; emits whose channel message
    ///     would exceed what the servers accept (``BackplaneLimits``) are refused loudly.
    /// - Throws: ``BackplaneURLError`` for a URL that cannot be used.
    public convenience init(url: String, channel: String = "socketio", maxPayload: Int = 1_000_000, logger: Logger) throws(BackplaneURLError) {
        self.init(
            transport: try MessageQueueTransport.make(url: url, channel: channel, role: .publishOnly, maxPayload: maxPayload, logger: logger)
        )
    }

    /// Addresses a namespace (Node's `emitter.of`).
    public func of(_ namespace: String) -> Operator {
        Operator(emitter: self, namespace: namespace)
    }

    public func to(_ rooms: [String]) -> Operator {
        self.of("/").to(rooms)
    }

    public func except(_ rooms: [String]) -> Operator {
        self.of("/").except(rooms)
    }

    /// Emits an event to everyone in namespace `/`.
    public func emit(_ event: String, arguments: [SocketIOValue]) {
        self.of("/").emit(event, arguments: arguments)
    }

    /// The emitter's broadcast operator: a namespace, rooms to address and rooms to leave
    /// out; immutable, as the server's.
    public struct Operator: SocketIOBroadcasting {
        let emitter: SocketIOEmitter
        /// The namespace addressed.
        public let namespace: String
        /// The rooms (or sids) addressed; everyone in the namespace when empty.
        public private(set) var rooms: [String] = []
        /// The rooms (or sids) whose members are left out.
        public private(set) var excluded: [String] = []

        init(emitter: SocketIOEmitter, namespace: String) {
            self.emitter = emitter
            self.namespace = namespace
        }

        public func to(_ rooms: [String]) -> Self {
            var copy = self
            for room in rooms where !copy.rooms.contains(room) { copy.rooms.append(room) }
            return copy
        }

        public func except(_ rooms: [String]) -> Self {
            var copy = self
            for room in rooms where !copy.excluded.contains(room) { copy.excluded.append(room) }
            return copy
        }

        /// Publishes the emit; returns at once (``SocketIOEmitter/run(flushTimeout:_:)``
        /// waits until it is flushed).
        public func emit(_ event: String, arguments: [SocketIOValue]) {
            self.emitter.publisher.publish(
                .emit(
                    .init(
                        event: event,
                        arguments: arguments,
                        namespace: self.namespace,
                        rooms: self.rooms.isEmpty ? nil : self.rooms,
                        skip: self.excluded,
                        hostID: self.emitter.hostID
                    )
                )
            )
        }

        /// Puts the addressed sockets in rooms, on whichever nodes own them (Node's
        /// `emitter.in(room).socketsJoin`); returns at once.
        public func socketsJoin(_ rooms: [String]) {
            self.publish(.join(rooms))
        }

        /// Puts the addressed sockets in rooms, on whichever nodes own them.
        public func socketsJoin(_ rooms: String...) {
            self.socketsJoin(rooms)
        }

        /// Takes the addressed sockets out of rooms, on whichever nodes own them (Node's
        /// `socketsLeave`); returns at once.
        public func socketsLeave(_ rooms: [String]) {
            self.publish(.leave(rooms))
        }

        /// Takes the addressed sockets out of rooms, on whichever nodes own them.
        public func socketsLeave(_ rooms: String...) {
            self.socketsLeave(rooms)
        }

        /// Disconnects the addressed sockets from the namespace, on whichever nodes own them;
        /// with `close`, also closes their connections (Node's `disconnectSockets(true)`).
        public func disconnectSockets(close: Bool = false) {
            self.publish(.disconnect(close: close))
        }

        private func publish(_ action: MessageQueueMessage.SocketsOperation.Action) {
            self.emitter.publisher.publish(
                .sockets(
                    .init(
                        hostID: self.emitter.hostID,
                        namespace: self.namespace,
                        rooms: self.rooms.isEmpty ? nil : self.rooms,
                        except: self.excluded,
                        action: action
                    )
                )
            )
        }
    }

    /// Puts every socket of namespace `/` in rooms (`to(…).socketsJoin(…)` addresses fewer).
    public func socketsJoin(_ rooms: String...) {
        self.of("/").socketsJoin(rooms)
    }

    /// Takes every socket of namespace `/` out of rooms.
    public func socketsLeave(_ rooms: String...) {
        self.of("/").socketsLeave(rooms)
    }

    /// Disconnects every socket of namespace `/`.
    public func disconnectSockets(close: Bool = false) {
        self.of("/").disconnectSockets(close: close)
    }

    /// Sends an event to the `onServerSideEmit` handlers of every server node (Node's
    /// `emitter.serverSideEmit`). Fire-and-forget: an emitter cannot wait for acks.
    public func serverSideEmit(_ event: String, arguments: [SocketIOValue]) {
        self.publisher.publish(.serverSideEmit(event: event, arguments: arguments, hostID: self.hostID))
    }

    /// Sends an event to the `onServerSideEmit` handlers of every server node.
    public func serverSideEmit(_ event: String, _ arguments: SocketIOValue...) {
        self.serverSideEmit(event, arguments: arguments)
    }

    /// Puts a socket (on whichever node owns it) in a room.
    public func enterRoom(sid: String, room: String, namespace: String = "/") {
        self.transport.publish(MessageQueueMessage.enterRoom(sid: sid, room: room, namespace: namespace, hostID: self.hostID).encoded())
    }

    /// Takes a socket out of a room.
    public func leaveRoom(sid: String, room: String, namespace: String = "/") {
        self.transport.publish(MessageQueueMessage.leaveRoom(sid: sid, room: room, namespace: namespace, hostID: self.hostID).encoded())
    }

    /// Empties a room on every node.
    public func closeRoom(_ room: String, namespace: String = "/") {
        self.transport.publish(MessageQueueMessage.closeRoom(room: room, namespace: namespace, hostID: self.hostID).encoded())
    }

    /// Disconnects a socket from a namespace, on whichever node owns it.
    public func disconnect(sid: String, namespace: String = "/") {
        self.transport.publish(MessageQueueMessage.disconnect(sid: sid, namespace: namespace, hostID: self.hostID).encoded())
    }

    /// Runs the transport while `body` publishes, waits until everything queued has been
    /// handed to the broker (or `flushTimeout` passes), then stops.
    /// - Returns: whether everything was flushed.
    @discardableResult
    public func run(flushTimeout: Duration = .seconds(30), _ body: @Sendable () async throws -> Void) async throws -> Bool {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.transport.run() }
            group.addTask { await self.readResponses() }
            try await body()
            let flushed = await self.waitUntilFlushed(timeout: flushTimeout)
            group.cancelAll()
            try await group.waitForAll()
            return flushed
        }
    }

    /// Waits until the transport has published everything queued.
    public func waitUntilFlushed(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if self.transport.queuedMessages == 0 { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return self.transport.queuedMessages == 0
    }
}
