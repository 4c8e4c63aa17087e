//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import EngineIOParser
public import NIOCore

/// Where connection state recovery (``SocketIOConnectionStateRecovery``) keeps the sessions
/// of disconnected sockets and the log of the events sent to sockets (Node's
/// `SessionAwareAdapter`: `persistSession`, `restoreSession` and the offsets its
/// `broadcast` appends).
///
/// ``InMemorySessionStore`` serves one process. The protocol is shaped so that a cluster
/// implementation can share the sessions and the log between nodes (a client may come back
/// through another node than the one it left): every operation names what it stores in
/// plain values (ids, room names, encoded frames), an offset is any string unique across
/// the whole log (across nodes too: a node prefix or the shared log's entry id, as Node's
/// Redis Streams adapter uses), and only ``restore(pid:offset:namespace:now:)``, the one
/// operation that must read the shared state before a client can go on, is `async`.
/// Appending and persisting only enqueue, so a broadcast stays synchronous.
///
/// Times are this node's monotonic clock (`NIODeadline`), passed in so that tests control
/// them. A shared store keeps its own notion of time (a TTL in the broker) and may ignore
/// them.
public protocol SocketIOSessionStore: Sendable {
    /// A new offset, unique in the log, for an event about to be sent; append it as the
    /// event's last argument before encoding, then ``append(_:now:)`` the encoded event.
    func makeOffset() -> SocketIOPacketOffset

    /// Logs an event sent to sockets (an EVENT without ack id, not volatile, carrying its
    /// offset as last argument), so that a client that misses it can get it on recovery.
    /// - Returns: how many of the oldest events were dropped to stay within
    ///   ``SocketIOConnectionStateRecovery/maxPackets`` (0 normally), for the limit counter.
    @discardableResult
    func append(_ packet: SocketIOStoredPacket, now: NIODeadline) -> Int

    /// Keeps the session of a socket that disconnected for a recoverable reason
    /// (``SocketIOConnectionStateRecovery/isRecoverable(_:)``), before its rooms are gone.
    /// A session with the same `pid` is replaced.
    /// - Returns: how many sessions were dropped to stay within
    ///   ``SocketIOConnectionStateRecovery/maxSessions`` (0 normally), for the limit counter.
    @discardableResult
    func persist(_ session: SocketIOPersistedSession, now: NIODeadline) -> Int

    /// Takes back the session `pid` of `namespace` and the events it missed after `offset`.
    ///
    /// The session is removed whatever the outcome once it is found (a session is restored
    /// at most once; a client refused gets a new session and never uses this `pid` again).
    /// - Returns: the session and, in log order, the events after `offset` addressed to it;
    ///   or why it cannot be restored, in which case the client gets a new session.
    func restore(
        pid: String,
        offset: String,
        namespace: String,
        now: NIODeadline
    ) async -> Result<SocketIORestoredSession, SocketIOSessionRestoreFailure>

    /// The events after `offset` addressed to `session` (in its namespace, to no room or a
    /// room it is in, none of its rooms left out), oldest first; the session stays as it is.
    ///
    /// For the server to close the gap between a restore and the restored socket's return to
    /// its rooms: an event logged in between reaches the socket neither live nor in the
    /// restore's ``SocketIORestoredSession/missedPackets``. Asked again once the socket is
    /// back in its rooms (its live events queued behind the CONNECT reply), with the
    /// client's offset, this list has every event it missed; an event that is also queued
    /// live is in both (same bytes: its offset makes them unique) and is sent once.
    /// - Returns: the events, or ``SocketIOSessionRestoreFailure/unknownOffset`` when
    ///   `offset` is not (or no longer) in the log.
    func missedPackets(
        after offset: String,
        for session: SocketIOPersistedSession
    ) async -> Result<[[EngineIOFrame]], SocketIOSessionRestoreFailure>

    /// Drops the sessions and the events older than
    /// ``SocketIOConnectionStateRecovery/maxDisconnectionDuration``. The server calls it
    /// periodically.
    func prune(now: NIODeadline)
}

/// An event's offset: the string the client sees, plus the order the store gave it.
public struct SocketIOPacketOffset: Sendable, Hashable, CustomStringConvertible {
    /// What goes on the wire, as the event's last argument.
    public let description: String
    /// The store's order of offsets; opaque to the server, which hands it back in
    /// ``SocketIOStoredPacket``.
    public let sequence: UInt64

    public init(_ description: String, sequence: UInt64) {
        self.description = description
        self.sequence = sequence
    }
}

/// An event in the log: its offset, its addressees, and its frames as sent, offset
/// included (encoded once, shared with the live recipients).
public struct SocketIOStoredPacket: Sendable {
    public var offset: SocketIOPacketOffset
    public var namespace: String
    /// The rooms addressed (everyone in the namespace when empty); `socket.emit` addresses
    /// the socket's own room, its id.
    public var rooms: [String]
    /// The rooms whose members were left out.
    public var except: [String]
    /// The encoded packet (a text frame, plus binary frames for attachments).
    public var frames: [EngineIOFrame]

    public init(offset: SocketIOPacketOffset, namespace: String, rooms: [String], except: [String], frames: [EngineIOFrame]) {
        self.offset = offset
        self.namespace = namespace
        self.rooms = rooms
        self.except = except
        self.frames = frames
    }
}

/// What a socket needs to be restored: its ids, its rooms and its session storage.
public struct SocketIOPersistedSession: Sendable {
    /// The socket id, which the restored socket takes back.
    public var sid: String
    /// The private session id sent in the CONNECT reply.
    public var pid: String
    public var namespace: String
    /// The socket's rooms when it disconnected (its own room, named after `sid`, counts
    /// whether it is listed or not).
    public var rooms: [String]
    /// The socket's session storage (``SocketIOSessionStorage``, Node `socket.data`). The
    /// in-memory store keeps the values as they are; a store shared between nodes needs
    /// values it can serialize.
    public var data: [String: any Sendable]

    public init(sid: String, pid: String, namespace: String, rooms: [String], data: [String: any Sendable] = [:]) {
        self.sid = sid
        self.pid = pid
        self.namespace = namespace
        self.rooms = rooms
        self.data = data
    }
}

/// A session given back, with the events its client missed.
public struct SocketIORestoredSession: Sendable {
    public var session: SocketIOPersistedSession
    /// The events after the client's offset addressed to the session (its namespace; no
    /// room or a room it is in; none of its rooms left out), oldest first, each as the
    /// frames to deliver before the CONNECT reply.
    public var missedPackets: [[EngineIOFrame]]

    public init(session: SocketIOPersistedSession, missedPackets: [[EngineIOFrame]]) {
        self.session = session
        self.missedPackets = missedPackets
    }
}

/// Why a session could not be restored; the client then gets a new session.
public struct SocketIOSessionRestoreFailure: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Hashable {
        case unknownSession, expired, unknownOffset, unavailable
    }

    private let code: Code
    private init(_ code: Code) { self.code = code }

    /// No session with this `pid` in this namespace (never seen, pruned, dropped by
    /// ``SocketIOConnectionStateRecovery/maxSessions``, or already restored).
    public static let unknownSession = Self(.unknownSession)
    /// The session disconnected longer than
    /// ``SocketIOConnectionStateRecovery/maxDisconnectionDuration`` ago.
    public static let expired = Self(.expired)
    /// The offset is not in the log (too old: pruned or dropped by
    /// ``SocketIOConnectionStateRecovery/maxPackets``; from another server; or not an offset),
    /// so the events the client missed are not known.
    public static let unknownOffset = Self(.unknownOffset)
    /// The store could not be read (a shared store whose broker is unreachable).
    public static let unavailable = Self(.unavailable)

    public var description: String {
        switch self.code {
        case .unknownSession: return "unknown session"
        case .expired: return "session expired"
        case .unknownOffset: return "offset not in the log"
        case .unavailable: return "session store unavailable"
        }
    }
}
