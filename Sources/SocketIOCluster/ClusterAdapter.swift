//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import Backplane
import EngineIOParser
public import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
public import SocketIO
public import SocketIOMessageQueue
public import SocketIOParser
import Synchronization

/// The cluster client manager: sockets and rooms are local to each node, as in
/// python-socketio's `PubSubManager`; emits, room changes for remote sids, room closes,
/// disconnects and acks travel over a ``BackplaneTransport`` in python-socketio's JSON
/// format, so that Flask-SocketIO workers and python emitters can share the cluster.
///
/// On top of that format, Swift nodes announce themselves (heartbeats, goodbyes) and answer
/// each other's cluster-wide requests (`fetchSockets`, `fetchRooms`, `serverSideEmit` with
/// acks, broadcasts with acks): a request awaits exactly the live members and completes
/// with what arrived when one is silent or leaves (see ``SocketIOClusterResult``).
public final class ClusterAdapter: SocketIOAdapter {
    /// This node's id on the channel (32 hex characters, like python's `uuid4().hex`).
    public let hostID: String
    let local: InMemoryAdapter
    let transport: any BackplaneTransport
    let logger: Logger
    let pending = NIOLockedValueBox(PendingCallbacks())
    let eventLoop = MultiThreadedEventLoopGroup.singleton.any()
    /// Numbers this node's emits and enqueues them in that order (one lock).
    private let publisher: MessageQueuePublisher
    /// How messages are written and read on the backplane.
    let format: any ClusterMessageFormat
    /// Whether the format is python-socketio's JSON, whose top-level fields
    /// ``MessageQueueHeader`` can scan before the full parse.
    let scansHeaders: Bool
    /// Drops emits other hosts' brokers delivered twice (bounded; see ``SequenceWindows``).
    let windows: NIOLockedValueBox<SequenceWindows>
    /// Lines about garbage, forged or refused channel messages: one each, within a budget.
    private let logBudget = NIOLockedValueBox(LogBudget())
    private let membershipLogBudget = NIOLockedValueBox(LogBudget())
    /// The live nodes, from the heartbeats and goodbyes heard, and the hosts heard that
    /// never beat (one lock).
    let peers: NIOLockedValueBox<Peers>
    /// The cluster-wide requests in flight and their one timer (one lock).
    let requests = NIOLockedValueBox(RequestTable())
    /// Where other nodes' server-side emits go (set once by the server).
    let serverSideReceiver = NIOLockedValueBox<SocketIOServerSideEmitReceiver?>(nil)
    /// How many peers' broadcasts with acks this node is collecting answers for.
    let servedAckRequests = Atomic<Int>(0)
    /// Set once the first subscription is confirmed; never cleared (see ``isReady``).
    private let hasSubscribed = Atomic<Bool>(false)
    /// The live subscription state, recorded each heartbeat for operators' alerts.
    private let subscribedGauge = Gauge(label: "backplane.subscribed")
    /// How often this node announces itself while `run()` runs.
    public let heartbeatInterval: Duration
    /// Bounds on what other hosts can make this node hold.
    public let limits: Limits

    /// Bounds on cluster requests, in both directions.
    public struct Limits: Sendable, Hashable {
        /// The most requests of this node waiting for answers; beyond, a request completes
        /// at once with every peer missing.
        public var maxPendingRequests: Int
        /// The most peers' broadcasts with acks collected at once; beyond, this node answers
        /// at once with no answers and `complete: false`.
        public var maxServedAckRequests: Int
        /// The longest a peer may make this node collect acks for.
        public var maxRequestTimeout: Duration

        /// The defaults bound a node's memory for requests to a few megabytes.
        public init(maxPendingRequests: Int = 4096, maxServedAckRequests: Int = 1024, maxRequestTimeout: Duration = .seconds(600)) {
            self.maxPendingRequests = maxPendingRequests
            self.maxServedAckRequests = maxServedAckRequests
            self.maxRequestTimeout = maxRequestTimeout
        }
    }

    struct Peers {
        var membership: ClusterMembership
        var nonMembers: ClusterNonMembers
        /// When `run()` started: for one heartbeat interval after, this node may not have
        /// heard every peer yet, so an unknown sid is not declared unknown.
        var startedAt: ContinuousClock.Instant?

        /// Whether the live set may still be incomplete (this node started less than one
        /// heartbeat interval ago).
        func isSettling(now: ContinuousClock.Instant, interval: Duration) -> Bool {
            guard let startedAt else { return false }
            return now - startedAt < interval
        }
    }

    struct PendingCallbacks {
        var nextID = 1
        var waiting: [Int: RemoteAck] = [:]
    }

    /// An emit with an ack to a sid of another node, waiting for its `callback`.
    struct RemoteAck {
        let callback: @Sendable (Result<[SocketIOValue], SocketIOAckError>) -> Void
        let timer: Scheduled<Void>
        /// The live members that may still own the sid (they answer `callback_miss` if not).
        var candidates: Set<String>
        /// Whether other owners may exist: a python worker was heard, or this node had just
        /// started and may not know every peer. Then misses never fail the emit.
        let othersPossible: Bool
    }

    /// - Parameters:
    ///   - transport: the backplane (Redis, AMQP, Kafka, or an in-memory bus in tests).
    ///   - hostID: this node's id; a new random one by default.
    ///   - duplicates: how much of each publisher's numbering is remembered to drop repeats.
    ///   - heartbeatInterval: how often this node announces itself on the channel (5 s, as
    ///     Node's Redis adapter).
    ///   - membership: when a silent peer is dropped (after `missedBeats` of its intervals).
    ///   - limits: bounds on cluster requests.
    ///   - format: how messages are written (python-socketio's JSON by default).
    public init(
        transport: any BackplaneTransport,
        hostID: String = HostID.make(),
        duplicates: SequenceWindows.Configuration = .init(),
        heartbeatInterval: Duration = .seconds(5),
        membership: ClusterMembership.Configuration = .init(),
        limits: Limits = .init(),
        format: any ClusterMessageFormat = PythonJSONFormat(),
        logger: Logger
    ) {
        precondition(heartbeatInterval > .zero, "heartbeatInterval must be positive")
        self.transport = transport
        self.hostID = hostID
        self.local = InMemoryAdapter(nodeID: hostID)
        self.heartbeatInterval = heartbeatInterval
        self.limits = limits
        self.peers = NIOLockedValueBox(
            Peers(membership: ClusterMembership(selfID: hostID, configuration: membership), nonMembers: ClusterNonMembers())
        )
        self.logger = logger
        self.format = format
        self.scansHeaders = format is PythonJSONFormat
        self.publisher = MessageQueuePublisher(transport: transport, hostID: hostID, format: format)
        self.windows = NIOLockedValueBox(SequenceWindows(configuration: duplicates))
    }

    /// Ready once the backplane subscription has been confirmed for the first time, and from
    /// then on. A worker that starts is kept out of rotation until it hears the channel, so
    /// its first clients miss no broadcast (a rolling deploy). A broker outage later does not
    /// take it out: every worker loses the same broker at once, and a readiness that followed
    /// it would empty the load balancer and refuse every client, where the workers can still
    /// serve their own clients and catch up when the broker is back (the transports reconnect
    /// and resubscribe by themselves). ``isSubscribed`` and the gauge `backplane.subscribed`
    /// report the live state.
    public var isReady: Bool {
        if self.hasSubscribed.load(ordering: .relaxed) { return true }
        guard self.transport.isSubscribed else { return false }
        self.hasSubscribed.store(true, ordering: .relaxed)
        return true
    }

    /// Whether the backplane subscription is confirmed now: false while the transport
    /// (re)connects, e.g. during a broker outage.
    public var isSubscribed: Bool { self.transport.isSubscribed }

    /// Connection state recovery is per node for now: this node's local deliveries (its own
    /// broadcasts and the emits other nodes publish) get offsets from, and are logged in,
    /// this node's store; a client recovers when it comes back to the node it left.
    public func enableConnectionStateRecovery(_ recovery: SocketIORecovery) -> Bool {
        self.local.enableConnectionStateRecovery(recovery)
    }

    /// This node's publisher epoch (the `epoch` field of its emits).
    public var epoch: String { self.publisher.epoch }

    /// The host ids of the live nodes, this one included, in name order.
    public var nodes: [String] { self.peers.withLockedValue { $0.membership.nodes } }

    /// How many nodes are live, this one included (Node's `io.serverCount()`).
    public var serverCount: Int { self.peers.withLockedValue { $0.membership.count } }

    /// The hosts heard recently on the channel that never sent a heartbeat (python-socketio
    /// workers and emitters), in name order.
    public var nonMemberHosts: [String] { self.peers.withLockedValue { $0.nonMembers.hosts(now: .now) } }

    /// This node's host id.
    public var nodeID: String { self.hostID }

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
    /// This node's rooms and their member counts (sid rooms excluded).
    public func localRooms(namespace: String) -> [String: Int] { self.local.localRooms(namespace: namespace) }

    // MARK: Cluster operations in python-socketio's format

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

    /// Emits to one socket and waits for its ack. For a socket of another node, the owner
    /// waits its own configured ack timeout and answers with a `callback` message; every
    /// other Swift node answers `callback_miss`, so that when no live node has the sid (and
    /// no python worker, which could, was heard) this fails with
    /// ``SocketIOAckError/unknownSocket`` at once instead of after `timeout`.
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
        let (candidates, othersPossible) = self.peers.withLockedValue { peers in
            let now = ContinuousClock.now
            return (peers.membership.peerIDs, !peers.nonMembers.isEmpty(now: now) || peers.isSettling(now: now, interval: self.heartbeatInterval))
        }
        // No node that could own it: neither a live member nor a python worker.
        guard !candidates.isEmpty || othersPossible else {
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
            pending.waiting[id] = RemoteAck(callback: callback, timer: timer, candidates: candidates, othersPossible: othersPossible)
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

    /// Whether this node started too recently to know every peer (internal for tests).
    var isSettling: Bool { self.peers.withLockedValue { $0.isSettling(now: .now, interval: self.heartbeatInterval) } }

    /// How many emits to sids of other nodes wait for an ack (internal for tests).
    var pendingAckCount: Int { self.pending.withLockedValue { $0.waiting.count } }

    func resolve(id: Int, with result: Result<[SocketIOValue], SocketIOAckError>) {
        let waiter = self.pending.withLockedValue { $0.waiting.removeValue(forKey: id) }
        guard let waiter else { return }
        waiter.timer.cancel()
        waiter.callback(result)
    }

    /// `host` does not have the sid of emit `id` (or left the cluster): when no candidate
    /// is left and no other owner is possible (a python worker heard now or when the emit
    /// was sent), the emit fails with `.unknownSocket`.
    func candidateGone(_ host: String, id: Int?) {
        let strangers = self.peers.withLockedValue { !$0.nonMembers.isEmpty(now: .now) }
        let failed = self.pending.withLockedValue { pending -> [RemoteAck] in
            let ids = id.map { [$0] } ?? Array(pending.waiting.keys)
            var failed: [RemoteAck] = []
            for id in ids {
                guard var waiter = pending.waiting[id], waiter.candidates.remove(host) != nil else { continue }
                if waiter.candidates.isEmpty, !strangers, !waiter.othersPossible {
                    pending.waiting[id] = nil
                    failed.append(waiter)
                } else {
                    pending.waiting[id] = waiter
                }
            }
            return failed
        }
        for waiter in failed {
            waiter.timer.cancel()
            waiter.callback(.failure(.unknownSocket))
        }
    }

    func publish(_ message: MessageQueueMessage) {
        self.publisher.publish(message)
    }

    /// The channel where messages addressed to `host` go (responses, `callback`s and
    /// `callback_miss`es for Swift nodes and emitters): `"<channel>#<host>"`, which only
    /// `host` subscribes to, so that the other nodes do not even receive them.
    func replyChannel(for host: String) -> String {
        self.format.replyChannel(mainChannel: self.transport.channel, hostID: host)
    }

    /// Publishes a response to a request of `host` on its reply channel (only Swift nodes
    /// and emitters send requests).
    func publishReply(_ message: MessageQueueMessage, to host: String) {
        self.transport.publish(self.format.encode(message), to: self.replyChannel(for: host))
    }

    /// Publishes an answer to an emit with a callback from `host`: on its reply channel
    /// when it is a live Swift node, else on the main channel, where a python-socketio
    /// worker (which listens there only) finds its `callback`.
    func publishAnswer(_ message: MessageQueueMessage, to host: String) {
        let member = self.peers.withLockedValue { $0.membership.isLive(host) }
        let channel = member ? self.replyChannel(for: host) : self.transport.channel
        self.transport.publish(self.format.encode(message), to: channel)
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
        // What other nodes address to this one (responses, acks) comes on its own channel.
        transport.subscribe([.channel(self.replyChannel(for: self.hostID))])
        self.peers.withLockedValue { $0.startedAt = .now }
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
        // The first beat waits (for at most an interval) until the subscription is confirmed:
        // the peers answer it at once, and those answers must not come before this node
        // hears the channel.
        let start = ContinuousClock.now
        while !self.transport.isSubscribed, !Task.isCancelled, ContinuousClock.now - start < self.heartbeatInterval {
            try? await Task.sleep(for: .milliseconds(10))
        }
        while !Task.isCancelled {
            // Read here too, so that readiness latches even if no probe asked while subscribed.
            _ = self.isReady
            self.subscribedGauge.record(self.transport.isSubscribed ? 1 : 0)
            self.publishHeartbeat()
            let dropped = self.peers.withLockedValue { peers in
                peers.nonMembers.forget(before: .now)
                return peers.membership.tick(now: .now)
            }
            for case .timedOut(let host) in dropped {
                self.logMembership("a cluster node went silent; dropped", host: host)
                self.nodeLeft(host)
            }
            try? await Task.sleep(for: self.heartbeatInterval)
        }
    }

    /// Announces this node (and the interval its peers should expect its beats at).
    func publishHeartbeat() {
        self.publish(.heartbeat(hostID: self.hostID, intervalMilliseconds: Int(max(1, self.heartbeatInterval.inMilliseconds))))
    }

    /// A member left (goodbye or silence): nothing waits for it any more.
    func nodeLeft(_ host: String) {
        self.requestsNodeLeft(host)
        self.candidateGone(host, id: nil)
    }

    /// Logs one line about a channel message that outsiders can cause, within the budget.
    func logOutsider(_ message: Logger.Message, _ metadata: Logger.Metadata) {
        let (allowed, suppressed) = self.logBudget.withLockedValue { $0.take(now: .now) }
        guard allowed else { return }
        var metadata = metadata
        if suppressed > 0 { metadata["backplane.suppressed"] = "\(suppressed)" }
        self.logger.warning(message, metadata: metadata)
    }

    /// Logs a membership change within its own budget: anyone on the channel can announce
    /// hosts, and a flood of forged ones must not flood the log.
    func logMembership(_ message: Logger.Message, host: String) {
        let (allowed, suppressed) = self.membershipLogBudget.withLockedValue { $0.take(now: .now) }
        guard allowed else { return }
        var metadata: Logger.Metadata = ["backplane.host": "\(host)"]
        if suppressed > 0 { metadata["backplane.suppressed"] = "\(suppressed)" }
        self.logger.info(message, metadata: metadata)
    }
}
