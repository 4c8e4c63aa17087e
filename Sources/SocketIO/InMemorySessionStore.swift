//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import DequeModule
public import EngineIOParser
import NIOConcurrencyHelpers
public import NIOCore

/// The session store of one process (Node's in-memory `SessionAwareAdapter`): disconnected
/// sessions and the event log in memory, for every namespace.
///
/// One lock around one ``State`` (the pure logic, tested with a controllable clock). Logging
/// an event costs two short holds of the lock (``makeOffset()``, then ``append(_:now:)``)
/// and an append to a deque, amortized O(1): the log is ordered by offset, the
/// oldest at the front, so that both bounds (time and ``SocketIOConnectionStateRecovery/maxPackets``)
/// drop from the front and a restore finds an offset by binary search.
///
/// Nothing runs by itself: the server calls ``prune(now:)`` periodically.
public final class InMemorySessionStore: SocketIOSessionStore {
    public let configuration: SocketIOConnectionStateRecovery
    /// This store's offset prefix (see ``State/prefix``); immutable, so read without the lock.
    let prefix: String
    private let state: NIOLockedValueBox<State>

    /// - Parameter configuration: the duration and the bounds of what is kept.
    public convenience init(configuration: SocketIOConnectionStateRecovery = SocketIOConnectionStateRecovery()) {
        self.init(configuration: configuration, prefix: State.randomPrefix())
    }

    init(configuration: SocketIOConnectionStateRecovery, prefix: String) {
        self.configuration = configuration
        self.prefix = prefix
        self.state = NIOLockedValueBox(State(prefix: prefix, configuration: configuration))
    }

    public func makeOffset() -> SocketIOPacketOffset {
        let sequence = self.state.withLockedValue { $0.makeSequence() }
        // Formatted outside the lock: the string is only a function of the sequence.
        return SocketIOPacketOffset(State.offset(prefix: self.prefix, sequence: sequence), sequence: sequence)
    }

    @discardableResult
    public func append(_ packet: SocketIOStoredPacket, now: NIODeadline = .now()) -> Int {
        self.state.withLockedValue { $0.append(packet, now: now) }
    }

    @discardableResult
    public func persist(_ session: SocketIOPersistedSession, now: NIODeadline = .now()) -> Int {
        self.state.withLockedValue { $0.persist(session, now: now) }
    }

    public func restore(
        pid: String,
        offset: String,
        namespace: String,
        now: NIODeadline = .now()
    ) -> Result<SocketIORestoredSession, SocketIOSessionRestoreFailure> {
        self.state.withLockedValue { $0.restore(pid: pid, offset: offset, namespace: namespace, now: now) }
    }

    public func missedPackets(
        after offset: String,
        for session: SocketIOPersistedSession
    ) -> Result<[[EngineIOFrame]], SocketIOSessionRestoreFailure> {
        self.state.withLockedValue { $0.missedPackets(after: offset, for: session) }
    }

    public func prune(now: NIODeadline = .now()) {
        _ = self.state.withLockedValue { $0.prune(now: now) }
    }

    /// The number of events in the log.
    public var packetCount: Int { self.state.withLockedValue { $0.packets.count } }
    /// The number of disconnected sessions kept.
    public var sessionCount: Int { self.state.withLockedValue { $0.sessions.count } }
}

extension InMemorySessionStore {
    /// The store's logic, without locks or clocks: every time is passed in. Callers pass
    /// times that do not go backwards (a monotonic clock), which keeps both the sessions
    /// and the log in time order, oldest first.
    struct State {
        struct LoggedPacket {
            var sequence: UInt64
            var emittedAt: NIODeadline
            var namespace: String
            var rooms: [String]
            var except: [String]
            var frames: [EngineIOFrame]
        }

        struct StoredSession {
            var session: SocketIOPersistedSession
            var disconnectedAt: NIODeadline
            /// Tells this session from an earlier one with the same `pid` in ``sessionOrder``.
            var serial: UInt64
        }

        /// Starts every offset of this store. Offsets are `<prefix>.<sequence in base 36>`:
        /// an increasing counter costs nothing per event and needs no clock read (Node's
        /// `yeast` reads the time and adds a suffix on collisions), and it keeps the log
        /// sorted so that an offset is found by binary search. The random prefix makes the
        /// offsets unique to this store instance: an offset from before a restart, or from
        /// another node of a cluster (whose clients may come back here), never matches an
        /// event of this log by accident, so such a client gets a new session rather than
        /// the wrong events. A store shared by a cluster needs offsets unique across nodes
        /// in the same way (a node prefix, or the shared log's entry id).
        let prefix: String
        let maxDisconnectionDuration: TimeAmount
        let maxPackets: Int
        let maxSessions: Int

        private(set) var nextSequence: UInt64 = 0
        /// Ordered by sequence: appended at the back (an event whose offset was made before
        /// another's but logged after it goes in its place, a few steps from the back).
        private(set) var packets = Deque<LoggedPacket>()
        private(set) var sessions: [String: StoredSession] = [:]
        /// The sessions in the order they were persisted, for pruning and eviction from the
        /// front. An entry whose session was restored or replaced since is stale: it is
        /// skipped when reached, and dropped when stale entries outnumber live ones.
        private var sessionOrder = Deque<(pid: String, serial: UInt64)>()
        private var nextSerial: UInt64 = 0

        init(prefix: String, configuration: SocketIOConnectionStateRecovery) {
            self.prefix = prefix
            self.maxDisconnectionDuration = configuration.maxDisconnectionDuration
            self.maxPackets = configuration.maxPackets
            self.maxSessions = configuration.maxSessions
        }

        static func offset(prefix: String, sequence: UInt64) -> String {
            prefix + "." + String(sequence, radix: 36)
        }

        /// 8 random letters and digits (about 47 bits): collisions between the stores of a
        /// cluster, or of one server's restarts, are negligible.
        static func randomPrefix() -> String {
            let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
            var generator = SystemRandomNumberGenerator()
            let bytes = (0..<8).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
            return String(decoding: bytes, as: UTF8.self)
        }

        mutating func makeSequence() -> UInt64 {
            defer { self.nextSequence += 1 }
            return self.nextSequence
        }

        /// The sequence of an offset of this store, or `nil` for any other string.
        func sequence(of offset: String) -> UInt64? {
            guard offset.hasPrefix(self.prefix + "."),
                // The prefix is ASCII: as many characters as bytes.
                let sequence = UInt64(offset.dropFirst(self.prefix.count + 1), radix: 36),
                Self.offset(prefix: self.prefix, sequence: sequence) == offset  // the canonical form only
            else { return nil }
            return sequence
        }

        /// Logs an event; drops the oldest beyond `maxPackets`.
        /// - Returns: how many events were dropped.
        mutating func append(_ packet: SocketIOStoredPacket, now: NIODeadline) -> Int {
            let entry = LoggedPacket(
                sequence: packet.offset.sequence,
                emittedAt: now,
                namespace: packet.namespace,
                rooms: packet.rooms,
                except: packet.except,
                frames: packet.frames
            )
            if let last = self.packets.last, last.sequence > entry.sequence {
                var index = self.packets.count - 1
                while index > 0, self.packets[index - 1].sequence > entry.sequence { index -= 1 }
                self.packets.insert(entry, at: index)
            } else {
                self.packets.append(entry)
            }
            var dropped = 0
            if self.maxPackets > 0 {
                while self.packets.count > self.maxPackets {
                    self.packets.removeFirst()
                    dropped += 1
                }
            }
            return dropped
        }

        /// Keeps a session (replacing one with the same `pid`); drops the session persisted
        /// first beyond `maxSessions`.
        /// - Returns: how many sessions were dropped.
        mutating func persist(_ session: SocketIOPersistedSession, now: NIODeadline) -> Int {
            self.nextSerial += 1
            self.sessions[session.pid] = StoredSession(session: session, disconnectedAt: now, serial: self.nextSerial)
            self.sessionOrder.append((session.pid, self.nextSerial))
            var dropped = 0
            if self.maxSessions > 0 {
                while self.sessions.count > self.maxSessions, let first = self.sessionOrder.popFirst() {
                    if self.isLive(first) {
                        self.sessions[first.pid] = nil
                        dropped += 1
                    }
                }
            }
            // Stale entries come from restores and replacements; compacting once they pass
            // the live ones (plus some slack) keeps the order O(sessions) at amortized O(1).
            if self.sessionOrder.count > 2 * self.sessions.count + 64 {
                self.sessionOrder = Deque(self.sessionOrder.filter { self.isLive($0) })
            }
            return dropped
        }

        private func isLive(_ entry: (pid: String, serial: UInt64)) -> Bool {
            self.sessions[entry.pid]?.serial == entry.serial
        }

        private func isExpired(_ time: NIODeadline, now: NIODeadline) -> Bool {
            time + self.maxDisconnectionDuration < now
        }

        /// Takes a session back (it is removed once found, whatever the outcome) with the
        /// events after `offset` addressed to it.
        mutating func restore(
            pid: String,
            offset: String,
            namespace: String,
            now: NIODeadline
        ) -> Result<SocketIORestoredSession, SocketIOSessionRestoreFailure> {
            // A pid of another namespace is not this namespace's session (Node keeps one
            // store per namespace); left in place for its own namespace.
            guard let stored = self.sessions[pid], stored.session.namespace == namespace else {
                return .failure(.unknownSession)
            }
            self.sessions[pid] = nil
            if self.isExpired(stored.disconnectedAt, now: now) { return .failure(.expired) }
            return self.missedPackets(after: offset, for: stored.session).map {
                SocketIORestoredSession(session: stored.session, missedPackets: $0)
            }
        }

        /// The events after `offset` addressed to a session, oldest first.
        func missedPackets(
            after offset: String,
            for session: SocketIOPersistedSession
        ) -> Result<[[EngineIOFrame]], SocketIOSessionRestoreFailure> {
            guard let sequence = self.sequence(of: offset), let index = self.index(of: sequence) else {
                return .failure(.unknownOffset)
            }
            // A socket is always in the room named after its id (`socket.emit` addresses it).
            var rooms = Set(session.rooms)
            rooms.insert(session.sid)
            var missed: [[EngineIOFrame]] = []
            for packet in self.packets[(index + 1)...] where packet.namespace == session.namespace {
                let included = packet.rooms.isEmpty || packet.rooms.contains(where: rooms.contains)
                if included, !packet.except.contains(where: rooms.contains) {
                    missed.append(packet.frames)
                }
            }
            return .success(missed)
        }

        /// The index in the log of the event with this sequence (binary search).
        func index(of sequence: UInt64) -> Int? {
            var low = 0
            var high = self.packets.count
            while low < high {
                let middle = (low + high) / 2
                let found = self.packets[middle].sequence
                if found == sequence { return middle }
                if found < sequence { low = middle + 1 } else { high = middle }
            }
            return nil
        }

        /// Drops the sessions disconnected, and the events emitted, longer than
        /// `maxDisconnectionDuration` ago. Events go from the front only, so when an event
        /// after a session's offset goes, the offset has gone too: that session's restore
        /// fails rather than missing the event.
        /// - Returns: how many sessions and events were dropped.
        mutating func prune(now: NIODeadline) -> (sessions: Int, packets: Int) {
            var sessions = 0
            while let first = self.sessionOrder.first {
                if let stored = self.sessions[first.pid], stored.serial == first.serial {
                    guard self.isExpired(stored.disconnectedAt, now: now) else { break }
                    self.sessions[first.pid] = nil
                    sessions += 1
                }
                self.sessionOrder.removeFirst()
            }
            var packets = 0
            while let first = self.packets.first, self.isExpired(first.emittedAt, now: now) {
                self.packets.removeFirst()
                packets += 1
            }
            return (sessions, packets)
        }
    }
}
