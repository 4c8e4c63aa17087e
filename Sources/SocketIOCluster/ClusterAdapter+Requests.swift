//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import Backplane
import Logging
import NIOConcurrencyHelpers
import NIOCore
public import SocketIO
import SocketIOMessageQueue
public import SocketIOParser
import Synchronization

/// Cluster-wide operations: requests to the other Swift nodes and their answers.
extension ClusterAdapter {
    typealias Response = MessageQueueMessage.Response
    typealias RequestResult = ClusterRequestResult<Response>

    /// The requests of this node in flight, their callers and the one timer that ends
    /// them at their deadlines.
    struct RequestTable {
        var nextID = 1
        var requests = ClusterRequests<Response>()
        var callers: [String: CheckedContinuation<RequestResult, Never>] = [:]
        var timer: Scheduled<Void>?
        var timerDeadline: NIODeadline?
    }

    // MARK: Operations

    /// This node's sockets of the target, then those of every live member that answered within `timeout` (a `fetch_sockets` request).
    public func fetchSockets(_ target: SocketIOBroadcastTarget, timeout: Duration) async -> SocketIOClusterResult<[SocketIORemoteSocket]> {
        let mine = self.local.localSockets(target).map { SocketIORemoteSocket($0, nodeID: self.hostID, adapter: self) }
        if target.flags.local { return SocketIOClusterResult(value: mine) }
        let (result, strangers) = await self.request(timeout: timeout) { id in
            .init(
                hostID: self.hostID,
                requestID: id,
                kind: .fetchSockets,
                namespace: target.namespace,
                rooms: target.rooms.isEmpty ? nil : target.rooms,
                except: target.except,
                timeoutMilliseconds: Self.milliseconds(timeout)
            )
        }
        var sockets = mine
        var complete = result.isComplete
        for (node, response) in result.responses.sorted(by: { $0.key < $1.key }) {
            complete = complete && response.complete
            guard case .sockets(let records) = response.payload else { continue }
            for record in records {
                sockets.append(
                    SocketIORemoteSocket(
                        id: record.id,
                        namespace: record.namespace,
                        handshake: SocketIORemoteHandshake(value: record.handshake),
                        rooms: record.rooms,
                        data: record.data,
                        nodeID: node,
                        adapter: self
                    )
                )
            }
        }
        return SocketIOClusterResult(value: sockets, missingNodes: result.missing, nonMemberHosts: strangers, isComplete: complete)
    }

    /// This node's room counts plus those of every live member that answered (a `fetch_rooms` request).
    public func fetchRooms(namespace: String, local: Bool, timeout: Duration) async -> SocketIOClusterResult<[String: Int]> {
        var rooms = self.local.localRooms(namespace: namespace)
        if local { return SocketIOClusterResult(value: rooms) }
        let (result, strangers) = await self.request(timeout: timeout) { id in
            .init(hostID: self.hostID, requestID: id, kind: .fetchRooms, namespace: namespace, timeoutMilliseconds: Self.milliseconds(timeout))
        }
        var complete = result.isComplete
        for response in result.responses.values {
            complete = complete && response.complete
            guard case .rooms(let counts) = response.payload else { continue }
            rooms.merge(counts, uniquingKeysWith: +)
        }
        return SocketIOClusterResult(value: rooms, missingNodes: result.missing, nonMemberHosts: strangers, isComplete: complete)
    }

    /// Publishes a `server_side_emit` for the other nodes' handlers.
    public func serverSideEmit(_ event: String, arguments: [SocketIOValue]) {
        self.publish(.serverSideEmit(event: event, arguments: arguments, hostID: self.hostID))
    }

    /// One answer per live member whose handler acked within `timeout`, in host-id order.
    public func serverSideEmitWithAck(_ event: String, arguments: [SocketIOValue], timeout: Duration) async -> SocketIOClusterResult<[[SocketIOValue]]> {
        let (result, strangers) = await self.request(timeout: timeout) { id in
            .init(
                hostID: self.hostID,
                requestID: id,
                kind: .serverSideEmit,
                event: event,
                arguments: arguments,
                timeoutMilliseconds: Self.milliseconds(timeout)
            )
        }
        var answers: [[SocketIOValue]] = []
        for (_, response) in result.responses.sorted(by: { $0.key < $1.key }) {
            if case .arguments(let arguments) = response.payload { answers.append(arguments) }
        }
        return SocketIOClusterResult(value: answers, missingNodes: result.missing, nonMemberHosts: strangers)
    }

    /// Where the other nodes' server-side emits go (the server sets it).
    public func setServerSideEmitReceiver(_ receiver: @escaping SocketIOServerSideEmitReceiver) {
        self.serverSideReceiver.withLockedValue { $0 = receiver }
    }

    /// The acks of every recipient on every node: this node's and, through a
    /// `broadcast_ack` request, those of the other nodes' recipients (each node collects
    /// its own and answers once).
    public func broadcastWithAckResult(
        _ packet: SocketIOPacket,
        to target: SocketIOBroadcastTarget,
        timeout: Duration
    ) async -> SocketIOClusterResult<[[SocketIOValue]]> {
        let recipients = self.local.localSockets(target)
        guard !target.flags.local, case .array(let data) = packet.data, let name = data.first?.stringValue else {
            let (answers, complete) = await InMemoryAdapter.collectAckResult(packet, from: recipients, timeout: timeout)
            return SocketIOClusterResult(value: answers, isComplete: complete)
        }
        async let mine = InMemoryAdapter.collectAckResult(packet, from: recipients, timeout: timeout)
        let (result, strangers) = await self.request(timeout: timeout) { id in
            .init(
                hostID: self.hostID,
                requestID: id,
                kind: .broadcastAck,
                namespace: target.namespace,
                rooms: target.rooms.isEmpty ? nil : target.rooms,
                except: target.except,
                event: name,
                arguments: Array(data.dropFirst()),
                timeoutMilliseconds: Self.milliseconds(timeout)
            )
        }
        var (answers, complete) = await mine
        complete = complete && result.isComplete
        for (_, response) in result.responses.sorted(by: { $0.key < $1.key }) {
            complete = complete && response.complete
            if case .answers(let theirs) = response.payload { answers += theirs }
        }
        return SocketIOClusterResult(value: answers, missingNodes: result.missing, nonMemberHosts: strangers, isComplete: complete)
    }

    /// Acks from the recipients of every node.
    /// - Throws: ``SocketIOAckError/timeout`` when a recipient or a node did not answer in
    ///   time (``broadcastWithAckResult(_:to:timeout:)`` keeps what arrived).
    public func broadcastWithAck(
        _ packet: SocketIOPacket,
        to target: SocketIOBroadcastTarget,
        timeout: Duration
    ) async throws(SocketIOAckError) -> [[SocketIOValue]] {
        let result = await self.broadcastWithAckResult(packet, to: target, timeout: timeout)
        guard result.isComplete else { throw .timeout }
        return result.value
    }

    /// Joins the target's sockets here, and publishes `sockets_join` for the other nodes (not with `.local`).
    public func addSockets(_ target: SocketIOBroadcastTarget, rooms: [String]) {
        self.local.addSockets(target, rooms: rooms)
        self.publishOperation(target, .join(rooms))
    }

    /// Takes the target's sockets out of rooms here and on the other nodes (`sockets_leave`).
    public func removeSockets(_ target: SocketIOBroadcastTarget, rooms: [String]) {
        self.local.removeSockets(target, rooms: rooms)
        self.publishOperation(target, .leave(rooms))
    }

    /// Disconnects the target's sockets here and on the other nodes (`disconnect_sockets`).
    public func disconnectSockets(_ target: SocketIOBroadcastTarget, close: Bool) {
        self.local.disconnectSockets(target, close: close)
        self.publishOperation(target, .disconnect(close: close))
    }

    private func publishOperation(_ target: SocketIOBroadcastTarget, _ action: MessageQueueMessage.SocketsOperation.Action) {
        guard !target.flags.local else { return }
        self.publish(
            .sockets(
                .init(
                    hostID: self.hostID,
                    namespace: target.namespace,
                    rooms: target.rooms.isEmpty ? nil : target.rooms,
                    except: target.except,
                    action: action
                )
            )
        )
    }

    /// Another host's `sockets_join`, `sockets_leave` or `disconnect_sockets`.
    func apply(_ operation: MessageQueueMessage.SocketsOperation) {
        let target = SocketIOBroadcastTarget(namespace: operation.namespace, rooms: operation.rooms ?? [], except: operation.except)
        switch operation.action {
        case .join(let rooms): self.local.addSockets(target, rooms: rooms)
        case .leave(let rooms): self.local.removeSockets(target, rooms: rooms)
        case .disconnect(let close): self.local.disconnectSockets(target, close: close)
        }
    }

    // MARK: Requests

    /// How many of this node's requests wait for answers (internal for tests).
    var pendingRequestCount: Int { self.requests.withLockedValue { $0.callers.count } }

    static func milliseconds(_ duration: Duration) -> Int {
        Int(max(1, min(duration.inMilliseconds, Int64(Int32.max))))
    }

    /// Publishes a request and waits for the live members' answers, at most `timeout`.
    /// - Returns: the answers by node and the members missing, and the non-member hosts
    ///   known when it started (they are not asked).
    func request(
        timeout: Duration,
        _ make: (String) -> MessageQueueMessage.Request
    ) async -> (RequestResult, nonMembers: [String]) {
        let (awaited, strangers) = self.peers.withLockedValue { peers in
            (peers.membership.peerIDs, peers.nonMembers.hosts(now: .now))
        }
        // Set once the request is registered, for the cancellation handler.
        let registered = NIOLockedValueBox<String?>(nil)
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<RequestResult, Never>) in
                let started = self.requests.withLockedValue { table -> (id: String, done: RequestResult?) in
                    guard table.callers.count < self.limits.maxPendingRequests else {
                        return ("", RequestResult(responses: [:], missing: awaited.sorted()))
                    }
                    let id = String(table.nextID)
                    table.nextID += 1
                    if let done = table.requests.start(id: id, awaiting: awaited, deadline: .now() + TimeAmount(timeout)) {
                        return (id, done)
                    }
                    table.callers[id] = continuation
                    self.rearm(&table)
                    return (id, nil)
                }
                if let done = started.done {
                    continuation.resume(returning: done)
                    return
                }
                registered.withLockedValue { $0 = started.id }
                // Published once the caller is registered: an answer cannot come before it.
                self.publish(.request(make(started.id)))
                // A cancellation that came before the registration found nothing to cancel.
                if Task.isCancelled { self.cancelRequest(started.id, awaited: awaited) }
            }
        } onCancel: {
            if let id = registered.withLockedValue({ $0 }) { self.cancelRequest(id, awaited: awaited) }
        }
        return (result, strangers)
    }

    /// An answer to one of this node's requests.
    func receive(_ response: Response) {
        let done = self.requests.withLockedValue { table -> (CheckedContinuation<RequestResult, Never>, RequestResult)? in
            guard let result = table.requests.receive(id: response.requestID, from: response.hostID, response: response),
                let caller = table.callers.removeValue(forKey: response.requestID)
            else { return nil }
            self.rearm(&table)
            return (caller, result)
        }
        guard let (caller, result) = done else { return }
        caller.resume(returning: result)
    }

    /// The caller of request `id` was cancelled: it returns at once, with no answers and
    /// every awaited node missing; answers that come later are ignored.
    private func cancelRequest(_ id: String, awaited: Set<String>) {
        let caller = self.requests.withLockedValue { table -> CheckedContinuation<RequestResult, Never>? in
            guard let caller = table.callers.removeValue(forKey: id) else { return nil }
            table.requests.cancel(id: id)
            self.rearm(&table)
            return caller
        }
        caller?.resume(returning: RequestResult(responses: [:], missing: awaited.sorted()))
    }

    /// A member left: the requests that waited only for it complete.
    func requestsNodeLeft(_ host: String) {
        let done = self.requests.withLockedValue { table in
            let completed = table.requests.nodeLeft(host).compactMap { id, result in table.callers.removeValue(forKey: id).map { ($0, result) } }
            self.rearm(&table)
            return completed
        }
        for (caller, result) in done { caller.resume(returning: result) }
    }

    private func requestTimerFired() {
        let done = self.requests.withLockedValue { table in
            table.timer = nil
            table.timerDeadline = nil
            let completed = table.requests.timerFired(now: .now()).compactMap { id, result in
                table.callers.removeValue(forKey: id).map { ($0, result) }
            }
            self.rearm(&table)
            return completed
        }
        for (caller, result) in done { caller.resume(returning: result) }
    }

    /// Points the one timer at the earliest deadline (scheduling only; nothing is called
    /// out under the lock).
    private func rearm(_ table: inout RequestTable) {
        guard let next = table.requests.nextDeadline else {
            table.timer?.cancel()
            table.timer = nil
            table.timerDeadline = nil
            return
        }
        guard table.timerDeadline != next else { return }
        table.timer?.cancel()
        table.timerDeadline = next
        table.timer = self.eventLoop.scheduleTask(deadline: next) { self.requestTimerFired() }
    }
}
