//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIO
public import EngineIOParser
import Logging
import NIOCore
import OrderedCollections
public import SocketIOParser

/// Connection state recovery at work in a server (``SocketIOConfiguration/connectionStateRecovery``):
/// its ``SocketIOSessionStore`` and what the server and its adapter do with it (Node's
/// `SessionAwareAdapter`).
///
/// An adapter gets it once, through ``SocketIOAdapter/enableConnectionStateRecovery(_:)``,
/// and encodes every broadcast with ``encode(_:for:)``: an EVENT without ack id and not
/// volatile gets an offset as its last argument, is encoded once, and is logged with its
/// addressees; its frames then go to the live recipients as usual.
///
/// In a cluster each node has its own store for now (the log of what this node delivered,
/// the sessions of sockets that left this node): a client recovers only when it comes back
/// to the node it left, otherwise it gets a new session. A store shared by the nodes
/// implements ``SocketIOSessionStore`` and is passed to ``SocketIOServer/init(configuration:adapter:sessionStore:allowRequest:logger:)``.
public final class SocketIORecovery: Sendable {
    public let configuration: SocketIOConnectionStateRecovery
    public let store: any SocketIOSessionStore
    /// The same store when it is the in-memory one, whose operations are synchronous: a
    /// restore then completes on the connection's loop without a task.
    let memoryStore: InMemorySessionStore?
    let limits: SocketIOLimitReporters
    let logger: Logger

    init(configuration: SocketIOConnectionStateRecovery, store: any SocketIOSessionStore, limits: SocketIOLimitReporters, logger: Logger) {
        self.configuration = configuration
        self.store = store
        self.memoryStore = store as? InMemorySessionStore
        self.limits = limits
        self.logger = logger
    }

    /// Encodes a packet for a target: a recoverable event (EVENT, no ack id, not volatile)
    /// gets a new offset as its last argument and is logged, frames included, before the
    /// frames are returned for delivery; anything else is only encoded.
    public func encode(_ packet: SocketIOPacket, for target: SocketIOBroadcastTarget) -> [EngineIOFrame] {
        guard packet.isEvent, packet.ackID == nil, !target.flags.volatile, case .array(var data)? = packet.data else {
            return InMemoryAdapter.encode(packet, flags: target.flags)
        }
        let offset = self.store.makeOffset()
        var stamped = packet
        data.append(.string(offset.description))
        stamped.data = .array(data)
        let frames = InMemoryAdapter.encode(stamped, flags: target.flags)
        let dropped = self.store.append(
            SocketIOStoredPacket(offset: offset, namespace: target.namespace, rooms: target.rooms, except: target.except, frames: frames),
            now: .now()
        )
        if dropped > 0 {
            self.limits.maxPackets.hit(self.logger, metadata: [SocketIOLoggingKeys.namespace: "\(target.namespace)"])
        }
        return frames
    }

    /// Keeps the session of a socket that ends for `reason`, if the reason is recoverable
    /// and the client got its `pid` (the socket was connected). Called before the socket
    /// ends, while it is still in its rooms.
    func persist(_ socket: SocketIOSocket, reason: SocketIODisconnectReason) {
        guard SocketIOConnectionStateRecovery.isRecoverable(reason), let pid = socket.privateID, socket.isConnected else { return }
        let session = SocketIOPersistedSession(
            sid: socket.id,
            pid: pid,
            namespace: socket.namespace,
            rooms: socket.rooms,
            data: socket.session.update { $0 }
        )
        self.persist(session)
    }

    func persist(_ session: SocketIOPersistedSession) {
        if self.store.persist(session, now: .now()) > 0 {
            self.limits.maxSessions.hit(self.logger, metadata: [SocketIOLoggingKeys.namespace: "\(session.namespace)"])
        }
    }

    /// The `pid` and `offset` a reconnecting client puts in its CONNECT's auth, if both are
    /// strings.
    static func credentials(in auth: SocketIOValue?) -> (pid: String, offset: String)? {
        guard case .object(let object)? = auth, case .string(let pid)? = object["pid"], case .string(let offset)? = object["offset"] else {
            return nil
        }
        return (pid, offset)
    }

    /// Drops expired sessions and events; the server calls it about once a minute while it
    /// serves.
    func prune() {
        self.store.prune(now: .now())
    }

    /// Prunes every `interval` until cancelled.
    func runPruning(every interval: Duration = .seconds(60)) async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            self.prune()
        }
    }
}

/// A session a reconnecting client got back, as the socket that takes it over needs it:
/// the rooms to join again when it joins its namespace, and the events its client missed,
/// computed when its CONNECT reply goes out.
struct SocketIORecoveredSession: Sendable {
    /// The session as it was persisted (sid, pid, rooms, data).
    let session: SocketIOPersistedSession
    /// The offset the client presented: the last event it saw.
    let offset: String
    /// The events the restore found (up to the restore).
    let restoredMissed: [[EngineIOFrame]]
    /// The in-memory store, to ask again synchronously when the reply goes out; `nil` for
    /// another store, whose restore's list is then all the socket gets.
    let memoryStore: InMemorySessionStore?

    /// The rooms to join again (its own room, named after its id, included or not).
    var rooms: [String] { self.session.rooms }

    /// What to send right after the CONNECT reply: the events the client missed, oldest
    /// first, then the live packets queued behind the reply that are not among them.
    ///
    /// Asked when the socket is back in its rooms, so that an event logged between the
    /// restore and the return to the rooms (which reached the socket neither live nor in
    /// the restore's list) is in the list; an event both logged and queued live is sent
    /// once (its offset makes its bytes unique). The in-memory store answers again at this
    /// moment; another store's restore list is used as is.
    ///
    /// Not covered: an event logged before this call whose delivery to the socket is still
    /// on its way from another event loop (a broadcast racing the reconnect) arrives after
    /// the socket is connected and goes out live as well, so its client sees it twice.
    func missedFrames(dedupingAgainst pending: [[EngineIOFrame]]) -> (missed: [EngineIOFrame], pending: [[EngineIOFrame]]) {
        var missed = self.restoredMissed
        if let store = self.memoryStore, case .success(let all) = store.missedPackets(after: self.offset, for: self.session) {
            missed = all
        }
        guard !missed.isEmpty else { return ([], pending) }
        let sent = Set(missed.compactMap { $0.first?.bytes })
        let live = pending.isEmpty ? pending : pending.filter { frames in
            guard let first = frames.first?.bytes else { return true }
            return !sent.contains(first)
        }
        return (missed.flatMap { $0 }, live)
    }
}
