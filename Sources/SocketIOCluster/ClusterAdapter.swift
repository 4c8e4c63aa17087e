//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import Backplane
import EngineIOParser
public import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
public import SocketIO
import SocketIOMessageQueue
public import SocketIOParser

/// The cluster client manager: sockets and rooms are local to each node, as in
/// python-socketio's `PubSubManager`; emits, room changes for remote sids, room closes,
/// disconnects and acks travel over a ``BackplaneTransport`` in python-socketio's JSON
/// format, so that Flask-SocketIO workers and python emitters can share the cluster.
public final class ClusterAdapter: SocketIOAdapter {
    /// This node's id on the channel (32 hex characters, like python's `uuid4().hex`).
    public let hostID: String
    private let local = InMemoryAdapter()
    private let transport: any BackplaneTransport
    private let logger: Logger
    private let pending = NIOLockedValueBox(PendingCallbacks())
    private let eventLoop = MultiThreadedEventLoopGroup.singleton.any()
    /// Numbers this node's emits and enqueues them in that order (one lock).
    private let publisher: MessageQueuePublisher
    /// Drops emits other hosts' brokers delivered twice (bounded; see ``SequenceWindows``).
    private let windows: NIOLockedValueBox<SequenceWindows>
    /// Lines about garbage, forged or refused channel messages: one each, within a budget.
    private let logBudget = NIOLockedValueBox(LogBudget())
    private let membershipLogBudget = NIOLockedValueBox(LogBudget())
    /// The live nodes, from the heartbeats and goodbyes heard (one lock).
    private let membership: NIOLockedValueBox<ClusterMembership>
    /// How often this node announces itself while `run()` runs.
    public let heartbeatInterval: Duration

    struct PendingCallbacks {
        var nextID = 1
        var waiting: [Int: (callback: @Sendable (Result<[SocketIOValue], SocketIOAckError>) -> Void, timer: Scheduled<Void>)] = [:]
    }

    /// - Parameters:
    ///   - transport: the backplane (Redis, AMQP, Kafka, or an in-memory bus in tests).
    ///   - hostID: this node's id; a new random one by default.
    ///   - duplicates: how much of each publisher's numbering is remembered to drop repeats.
    ///   - heartbeatInterval: how often this node announces itself on the channel (5 s, as
    ///     Node's Redis adapter).
    ///   - membership: when a silent peer is dropped (after `missedBeats` of its intervals).
    public init(
        transport: any BackplaneTransport,
        hostID: String = HostID.make(),
        duplicates: SequenceWindows.Configuration = .init(),
        heartbeatInterval: Duration = .seconds(5),
        membership: ClusterMembership.Configuration = .init(),
        logger: Logger
    ) {
        precondition(heartbeatInterval > .zero, "heartbeatInterval must be positive")
        self.transport = transport
        self.hostID = hostID
        self.heartbeatInterval = heartbeatInterval
        self.membership = NIOLockedValueBox(ClusterMembership(selfID: hostID, configuration: membership))
        self.logger = logger
        self.publisher = MessageQueuePublisher(transport: transport, hostID: hostID)
        self.windows = NIOLockedValueBox(SequenceWindows(configuration: duplicates))
    }

    /// Ready once the backplane subscription is confirmed; not while (re)connecting.
    public var isReady: Bool { self.transport.isSubscribed }

    /// Connection state recovery is per node for now: this node's local deliveries (its own
    /// broadcasts and the emits other nodes publish) get offsets from, and are logged in,
    /// this node's store; a client recovers when it comes back to the node it left.
    public func enableConnectionStateRecovery(_ recovery: SocketIORecovery) -> Bool {
        self.local.enableConnectionStateRecovery(recovery)
    }

    /// This node's publisher epoch (the `epoch` field of its emits).
    public var epoch: String { self.publisher.epoch }

    /// The host ids of the live nodes, this one included, in name order.
    public var nodes: [String] { self.membership.withLockedValue { $0.nodes } }

    /// How many nodes are live, this one included (Node's `io.serverCount()`).
    public var serverCount: Int { self.membership.withLockedValue { $0.count } }

    // MARK: Local state

    public func socketConnected(_ socket: SocketIOSocket) { self.local.socketConnected(socket) }
    public func socketDisconnected(_ socket: SocketIOSocket) { self.local.socketDisconnected(socket) }
    public func joinLocal(sid: String, rooms: [String], namespace: String) { self.local.joinLocal(sid: sid, rooms: rooms, namespace: namespace) }
    public func leaveLocal(sid: String, rooms: [String], namespace: String) { self.local.leaveLocal(sid: sid, rooms: rooms, namespace: namespace) }
    public func rooms(sid: String, namespace: String) -> [String] { self.local.rooms(sid: sid, namespace: namespace) }
    public func localSocket(sid: String, namespace: String) -> SocketIOSocket? { self.local.localSocket(sid: sid, namespace: namespace) }
    public func localMembers(of room: String, namespace: String) -> [String] { self.local.localMembers(of: room, namespace: namespace) }
    public func socketCount(namespace: String) -> Int { self.local.socketCount(namespace: namespace) }
    public func localSockets(_ target: SocketIOBroadcastTarget) -> [SocketIOSocket] { self.local.localSockets(target) }

    // The python-socketio message format addresses room changes and disconnects to one sid
    // only: operations on a whole target (`io.in(room).socketsJoin`, `disconnectSockets`)
    // apply to this node's sockets; their cluster-wide form needs the cluster's request
    // channel.
    public func addSockets(_ target: SocketIOBroadcastTarget, rooms: [String]) { self.local.addSockets(target, rooms: rooms) }
    public func removeSockets(_ target: SocketIOBroadcastTarget, rooms: [String]) { self.local.removeSockets(target, rooms: rooms) }
    public func disconnectSockets(_ target: SocketIOBroadcastTarget, close: Bool) { self.local.disconnectSockets(target, close: close) }

    /// Acks from this node's recipients; the cluster-wide half needs the cluster's request
    /// channel (node membership tells how many answers to wait for).
    public func broadcastWithAck(
        _ packet: SocketIOPacket,
        to target: SocketIOBroadcastTarget,
        timeout: Duration
    ) async throws(SocketIOAckError) -> [[SocketIOValue]] {
        try await self.local.broadcastWithAck(packet, to: target, timeout: timeout)
    }

    // MARK: Cluster operations

    public func join(sid: String, rooms: [String], namespace: String) {
        if self.local.localSocket(sid: sid, namespace: namespace) != nil {
            self.local.joinLocal(sid: sid, rooms: rooms, namespace: namespace)
        } else {
            for room in rooms { self.publish(.enterRoom(sid: sid, room: room, namespace: namespace, hostID: self.hostID)) }
        }
    }

    public func leave(sid: String, rooms: [String], namespace: String) {
        if self.local.localSocket(sid: sid, namespace: namespace) != nil {
            self.local.leaveLocal(sid: sid, rooms: rooms, namespace: namespace)
        } else {
            for room in rooms { self.publish(.leaveRoom(sid: sid, room: room, namespace: namespace, hostID: self.hostID)) }
        }
    }

    public func closeRoom(_ room: String, namespace: String) {
        self.local.closeRoomLocal(room, namespace: namespace)
        self.publish(.closeRoom(room: room, namespace: namespace, hostID: self.hostID))
    }

    public func broadcast(_ packet: SocketIOPacket, to target: SocketIOBroadcastTarget) {
        // Delivered here first, then to the other hosts (python `PubSubManager.emit`).
        self.local.deliverLocal(self.local.encode(packet, for: target), to: target)
        guard !target.flags.local, case .array(let data) = packet.data, let name = data.first?.stringValue else { return }
        self.publish(
            .emit(
                .init(
                    event: name,
                    arguments: Array(data.dropFirst()),
                    namespace: target.namespace,
                    rooms: target.rooms.isEmpty ? nil : target.rooms,
                    skip: target.except,
                    hostID: self.hostID
                )
            )
        )
    }

    public func disconnect(sid: String, namespace: String) {
        if let socket = self.local.localSocket(sid: sid, namespace: namespace) {
            socket.disconnect()
        } else {
            self.publish(.disconnect(sid: sid, namespace: namespace, hostID: self.hostID))
        }
    }

    public func emitWithAck(_ packet: SocketIOPacket, toSocket sid: String, timeout: Duration) async throws(SocketIOAckError) -> [SocketIOValue] {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<[SocketIOValue], SocketIOAckError>, Never>) in
            self.emit(packet, toSocket: sid, timeout: timeout) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    /// Emits to one socket: here if it is local, else through the channel, where the ack
    /// comes back as a `callback` message; `callback` runs exactly once.
    private func emit(
        _ packet: SocketIOPacket,
        toSocket sid: String,
        timeout: Duration,
        callback: @escaping @Sendable (Result<[SocketIOValue], SocketIOAckError>) -> Void
    ) {
        if let socket = self.local.localSocket(sid: sid, namespace: packet.namespace) {
            socket.send(packet, timeout: timeout, ack: callback)
            return
        }
        guard case .array(let data) = packet.data, let name = data.first?.stringValue else {
            callback(.failure(.unknownSocket))
            return
        }
        // The ack comes back as a `callback` message addressed to this host.
        let id = self.pending.withLockedValue { pending -> Int in
            let id = pending.nextID
            pending.nextID += 1
            let timer = self.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
                self.resolve(id: id, with: .failure(.timeout))
            }
            pending.waiting[id] = (callback, timer)
            return id
        }
        self.publish(
            .emit(
                .init(
                    event: name,
                    arguments: Array(data.dropFirst()),
                    namespace: packet.namespace,
                    rooms: [sid],
                    callback: .init(sid: sid, namespace: packet.namespace, id: id),
                    hostID: self.hostID
                )
            )
        )
    }

    private func resolve(id: Int, with result: Result<[SocketIOValue], SocketIOAckError>) {
        let waiter = self.pending.withLockedValue { $0.waiting.removeValue(forKey: id) }
        guard let waiter else { return }
        waiter.timer.cancel()
        waiter.callback(result)
    }

    private func publish(_ message: MessageQueueMessage) {
        self.publisher.publish(message)
    }

    // MARK: Receiving

    /// Connects the backplane, announces this node with heartbeats and applies what other
    /// hosts publish, until cancelled; then says goodbye, so that the others drop this node
    /// at once instead of after the missed beats.
    /// - Throws: the transport's error when it gave up (the worker should then exit).
    public func run() async throws {
        // The transport runs outside this task's cancellation: on cancellation the goodbye
        // is queued first, and only then is the transport stopped (it publishes what is
        // queued before it stops).
        let transport = self.transport
        let connection = Task { try await transport.run() }
        await withTaskCancellationHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.beat() }
                // The transport ends its inbox when it stops, failed or not.
                for await message in self.transport.messages {
                    self.handle(message.payload)
                }
                group.cancelAll()
            }
        } onCancel: {
            self.publish(.goodbye(hostID: self.hostID))
            connection.cancel()
        }
        try await connection.value
    }

    /// Publishes a heartbeat every interval and drops the peers that went silent, until
    /// cancelled.
    private func beat() async {
        let milliseconds = Int(max(1, self.heartbeatInterval.inMilliseconds))
        while !Task.isCancelled {
            self.publish(.heartbeat(hostID: self.hostID, intervalMilliseconds: milliseconds))
            let dropped = self.membership.withLockedValue { $0.tick(now: .now) }
            for case .timedOut(let host) in dropped {
                self.logMembership("a cluster node went silent; dropped", host: host)
            }
            try? await Task.sleep(for: self.heartbeatInterval)
        }
    }

    /// Logs one line about a channel message that outsiders can cause, within the budget.
    private func logOutsider(_ message: Logger.Message, _ metadata: Logger.Metadata) {
        let (allowed, suppressed) = self.logBudget.withLockedValue { $0.take(now: .now) }
        guard allowed else { return }
        var metadata = metadata
        if suppressed > 0 { metadata["backplane.suppressed"] = "\(suppressed)" }
        self.logger.warning(message, metadata: metadata)
    }

    /// Logs a membership change within its own budget: anyone on the channel can announce
    /// hosts, and a flood of forged ones must not flood the log.
    private func logMembership(_ message: Logger.Message, host: String) {
        let (allowed, suppressed) = self.membershipLogBudget.withLockedValue { $0.take(now: .now) }
        guard allowed else { return }
        var metadata: Logger.Metadata = ["backplane.host": "\(host)"]
        if suppressed > 0 { metadata["backplane.suppressed"] = "\(suppressed)" }
        self.logger.info(message, metadata: metadata)
    }

    /// Applies one channel message (internal for tests).
    func handle(_ bytes: ByteBuffer) {
        let message: MessageQueueMessage
        do {
            guard let decoded = try MessageQueueMessage.decode(bytes) else { return }
            message = decoded
        } catch {
            self.logOutsider(
                "dropped an invalid message-queue message",
                ["backplane.error": "\(error)", "backplane.message.bytes": "\(bytes.readableBytes)"]
            )
            return
        }
        if case .callback(let host, _, _, let id, let arguments) = message {
            if host == self.hostID { self.resolve(id: id, with: .success(arguments)) }
            return
        }
        // Our own messages were applied when they were published.
        guard message.hostID != self.hostID else { return }
        switch message {
        case .heartbeat(let host, let interval):
            let change = self.membership.withLockedValue { $0.heartbeat(host: host, interval: .milliseconds(interval), now: .now) }
            if change != nil { self.logMembership("a cluster node joined", host: host) }
        case .goodbye(let host):
            let change = self.membership.withLockedValue { $0.goodbye(host: host, now: .now) }
            if change != nil { self.logMembership("a cluster node left", host: host) }
        case .emit(let emit):
            switch self.windows.withLockedValue({ $0.check(host: emit.hostID, epoch: emit.epoch, sequence: emit.sequence) }) {
            case .repeated:
                self.logger.debug("dropped a repeated emit", metadata: ["backplane.host": "\(emit.hostID)"])
                return
            case .outsideWindow:
                self.logOutsider(
                    "emit numbered far outside its publisher's window: delivered, tracked apart (a long gap or a forged message)",
                    ["backplane.host": "\(emit.hostID)", "backplane.seq": "\(emit.sequence ?? 0)"]
                )
            case .newEpoch:
                self.logger.debug("a publisher restarted (new epoch)", metadata: ["backplane.host": "\(emit.hostID)"])
            case .new, .unstamped:
                break
            }
            self.deliver(emit)
        case .disconnect(let sid, let namespace, _):
            self.local.localSocket(sid: sid, namespace: namespace)?.disconnect()
        case .enterRoom(let sid, let room, let namespace, _):
            self.local.joinLocal(sid: sid, rooms: [room], namespace: namespace)
        case .leaveRoom(let sid, let room, let namespace, _):
            self.local.leaveLocal(sid: sid, rooms: [room], namespace: namespace)
        case .closeRoom(let room, let namespace, _):
            self.local.closeRoomLocal(room, namespace: namespace)
        case .callback:
            break
        }
    }

    private func deliver(_ emit: MessageQueueMessage.Emit) {
        let packet = SocketIOPacket.event(emit.event, emit.arguments, namespace: emit.namespace)
        guard let callback = emit.callback else {
            // Stamped with an offset of this node's store when recovery is on.
            let target = SocketIOBroadcastTarget(namespace: emit.namespace, rooms: emit.rooms ?? [], except: emit.skip)
            self.local.deliverLocal(self.local.encode(packet, for: target), to: target)
            return
        }
        // An emit with an ack: it targets one sid; if it is ours, send it with a local ack
        // id and return the answer to the origin host.
        guard let socket = self.local.localSocket(sid: callback.sid, namespace: emit.namespace) else { return }
        let origin = emit.hostID
        socket.send(packet, timeout: .seconds(60)) { result in
            guard case .success(let arguments) = result else { return }
            self.publish(.callback(hostID: origin, sid: callback.sid, namespace: callback.namespace, id: callback.id, arguments: arguments))
        }
    }
}
