//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIOParser
import NIOCore
@testable import SocketIO
import Testing

/// Connection state recovery's storage: sessions kept on disconnect, the event log with
/// offsets, and what a restore gives back, driven with a controllable clock (every time is
/// passed in).
struct InMemorySessionStoreTests {
    /// An arbitrary start on the monotonic clock.
    private let start = NIODeadline.uptimeNanoseconds(1_000_000_000_000)
    private let twoMinutes = TimeAmount.minutes(2)

    private func store(
        maxPackets: Int = 10_000,
        maxSessions: Int = 10_000,
        prefix: String = "test"
    ) -> InMemorySessionStore {
        var configuration = SocketIOConnectionStateRecovery()
        configuration.maxPackets = maxPackets
        configuration.maxSessions = maxSessions
        return InMemorySessionStore(configuration: configuration, prefix: prefix)
    }

    /// Logs an event as the server will: an offset first, then the frames carrying it.
    /// - Returns: the offset, as the client sees it.
    @discardableResult
    private func emit(
        _ event: String,
        in store: InMemorySessionStore,
        namespace: String = "/",
        rooms: [String] = [],
        except: [String] = [],
        at time: NIODeadline? = nil,
        dropped: Int = 0
    ) -> String {
        let offset = store.makeOffset()
        let text = "42[\"\(event)\",\"\(offset)\"]"
        let packet = SocketIOStoredPacket(
            offset: offset,
            namespace: namespace,
            rooms: rooms,
            except: except,
            frames: [EngineIOFrame(kind: .text, bytes: ByteBuffer(string: text))]
        )
        #expect(store.append(packet, now: time ?? self.start) == dropped)
        return offset.description
    }

    /// The event names of missed packets, in order.
    private func events(_ restored: SocketIORestoredSession) -> [String] {
        restored.missedPackets.map { frames in
            let text = String(buffer: frames[0].bytes)
            return String(text.dropFirst(4).prefix { $0 != "\"" })
        }
    }

    private func session(_ sid: String, pid: String? = nil, namespace: String = "/", rooms: [String] = []) -> SocketIOPersistedSession {
        SocketIOPersistedSession(sid: sid, pid: pid ?? "pid-\(sid)", namespace: namespace, rooms: rooms, data: ["user": "ada"])
    }

    // MARK: - Restore

    @Test func restoreGivesBackTheSessionAndTheEventsAddressedToItInOrder() throws {
        let store = self.store()
        let offset = self.emit("seen", in: store)
        self.emit("all", in: store)
        self.emit("otherRoom", in: store, rooms: ["b"])
        self.emit("room", in: store, rooms: ["a"])
        self.emit("allButRoom", in: store, except: ["a"])
        self.emit("direct", in: store, rooms: ["s1"])  // socket.emit: the socket's own room
        self.emit("otherNamespace", in: store, namespace: "/chat")
        self.emit("anyOfRooms", in: store, rooms: ["b", "a"], except: ["c"])
        self.emit("broadcastFromIt", in: store, except: ["s1"])  // socket.broadcast
        self.emit("directToOther", in: store, rooms: ["s2"])
        // The session's rooms need not list its own room.
        store.persist(self.session("s1", rooms: ["a"]), now: self.start + .seconds(1))
        self.emit("afterDisconnect", in: store, rooms: ["a"], at: self.start + .seconds(2))

        let restored = try store.restore(pid: "pid-s1", offset: offset, namespace: "/", now: self.start + .seconds(3)).get()
        #expect(self.events(restored) == ["all", "room", "direct", "anyOfRooms", "afterDisconnect"])
        #expect(restored.session.sid == "s1")
        #expect(restored.session.pid == "pid-s1")
        #expect(restored.session.rooms == ["a"])
        #expect(restored.session.data["user"] as? String == "ada")
    }

    @Test func restoreFromTheLastEventGivesNothingMissed() throws {
        let store = self.store()
        self.emit("first", in: store)
        let last = self.emit("last", in: store)
        store.persist(self.session("s1"), now: self.start)
        let restored = try store.restore(pid: "pid-s1", offset: last, namespace: "/", now: self.start).get()
        #expect(restored.missedPackets.isEmpty)
    }

    @Test func unknownPidIsRefused() {
        let store = self.store()
        let offset = self.emit("e", in: store)
        store.persist(self.session("s1"), now: self.start)
        #expect(store.restore(pid: "nobody", offset: offset, namespace: "/", now: self.start).failure == .unknownSession)
        #expect(store.sessionCount == 1)
    }

    @Test func pidOfAnotherNamespaceIsUnknownThereAndStaysForItsOwn() throws {
        let store = self.store()
        let offset = self.emit("e", in: store)
        store.persist(self.session("s1", namespace: "/chat"), now: self.start)
        #expect(store.restore(pid: "pid-s1", offset: offset, namespace: "/admin", now: self.start).failure == .unknownSession)
        _ = try store.restore(pid: "pid-s1", offset: offset, namespace: "/chat", now: self.start).get()
    }

    @Test func expiredSessionIsRefusedAndDropped() throws {
        let store = self.store()
        let offset = self.emit("e", in: store)
        store.persist(self.session("s1"), now: self.start)
        store.persist(self.session("s2"), now: self.start)
        // At exactly maxDisconnectionDuration the session is still good (Node compares with <).
        _ = try store.restore(pid: "pid-s2", offset: offset, namespace: "/", now: self.start + self.twoMinutes).get()
        let late = self.start + self.twoMinutes + .nanoseconds(1)
        #expect(store.restore(pid: "pid-s1", offset: offset, namespace: "/", now: late).failure == .expired)
        #expect(store.restore(pid: "pid-s1", offset: offset, namespace: "/", now: self.start).failure == .unknownSession)
    }

    @Test(arguments: ["", "nonsense", "other.0", "test.", "test.+0", "test.00", "test.A", "test.z", "test.0.0"])
    func offsetNotInTheLogIsRefusedAndTheSessionDropped(offset: String) {
        let store = self.store()
        self.emit("e", in: store)  // offset "test.0"
        store.persist(self.session("s1"), now: self.start)
        #expect(store.restore(pid: "pid-s1", offset: offset, namespace: "/", now: self.start).failure == .unknownOffset)
        #expect(store.sessionCount == 0)
    }

    @Test func offsetOfAnotherStoreIsUnknown() {
        let here = InMemorySessionStore()
        let there = InMemorySessionStore()
        self.emit("e", in: here)
        let offset = self.emit("e", in: there)
        here.persist(self.session("s1"), now: self.start)
        #expect(here.restore(pid: "pid-s1", offset: offset, namespace: "/", now: self.start).failure == .unknownOffset)
    }

    @Test func sessionIsRestoredOnlyOnce() throws {
        let store = self.store()
        let offset = self.emit("e", in: store)
        store.persist(self.session("s1"), now: self.start)
        _ = try store.restore(pid: "pid-s1", offset: offset, namespace: "/", now: self.start).get()
        #expect(store.restore(pid: "pid-s1", offset: offset, namespace: "/", now: self.start).failure == .unknownSession)
        // Disconnected again, it can come back again.
        store.persist(self.session("s1"), now: self.start)
        _ = try store.restore(pid: "pid-s1", offset: offset, namespace: "/", now: self.start).get()
    }

    @Test func missedPacketsAskedAgainAfterTheRestoreIncludeEventsLoggedInBetween() throws {
        let store = self.store()
        let offset = self.emit("seen", in: store)
        self.emit("missed", in: store, rooms: ["a"])
        store.persist(self.session("s1", rooms: ["a"]), now: self.start)
        let restored = try store.restore(pid: "pid-s1", offset: offset, namespace: "/", now: self.start).get()
        #expect(self.events(restored) == ["missed"])
        // Logged before the socket is back in its rooms: it would reach it neither way.
        self.emit("inBetween", in: store, rooms: ["a"])
        self.emit("notForIt", in: store, rooms: ["b"])
        let again = try store.missedPackets(after: offset, for: restored.session).get()
        #expect(self.events(SocketIORestoredSession(session: restored.session, missedPackets: again)) == ["missed", "inBetween"])
        #expect(store.sessionCount == 0)
        #expect(store.missedPackets(after: "test.zz", for: restored.session).failure == .unknownOffset)
    }

    // MARK: - Offsets

    @Test func offsetsAreUniqueIncreasingAndCarryTheStorePrefix() {
        let store = self.store()
        let offsets = (0..<2_000).map { _ in store.makeOffset() }
        #expect(Set(offsets.map(\.description)).count == offsets.count)
        #expect(zip(offsets, offsets.dropFirst()).allSatisfy { $0.sequence < $1.sequence })
        #expect(offsets.allSatisfy { $0.description.hasPrefix("test.") })
        #expect(InMemorySessionStore().prefix != InMemorySessionStore().prefix)
    }

    @Test func eventLoggedAfterALaterOffsetTakesItsPlaceByOffset() throws {
        let store = self.store()
        let seen = self.emit("seen", in: store)
        let first = store.makeOffset()
        let second = store.makeOffset()
        for (offset, name) in [(second, "second"), (first, "first")] {
            let text = "42[\"\(name)\",\"\(offset)\"]"
            let packet = SocketIOStoredPacket(
                offset: offset, namespace: "/", rooms: [], except: [], frames: [EngineIOFrame(kind: .text, bytes: ByteBuffer(string: text))]
            )
            store.append(packet, now: self.start)
        }
        store.persist(self.session("s1"), now: self.start)
        let restored = try store.restore(pid: "pid-s1", offset: seen, namespace: "/", now: self.start).get()
        #expect(self.events(restored) == ["first", "second"])
    }

    // MARK: - Bounds

    @Test func maxPacketsDropsTheOldestAndAClientWhoseOffsetWentGetsANewSession() throws {
        let store = self.store(maxPackets: 3)
        let offsets = (0..<5).map { self.emit("e\($0)", in: store, dropped: $0 < 3 ? 0 : 1) }
        #expect(store.packetCount == 3)
        store.persist(self.session("s1"), now: self.start)
        store.persist(self.session("s2"), now: self.start)
        #expect(store.restore(pid: "pid-s1", offset: offsets[1], namespace: "/", now: self.start).failure == .unknownOffset)
        let restored = try store.restore(pid: "pid-s2", offset: offsets[2], namespace: "/", now: self.start).get()
        #expect(self.events(restored) == ["e3", "e4"])
    }

    @Test func maxSessionsDropsTheSessionDisconnectedFirst() throws {
        let store = self.store(maxSessions: 2)
        let offset = self.emit("e", in: store)
        #expect(store.persist(self.session("s1"), now: self.start) == 0)
        #expect(store.persist(self.session("s2"), now: self.start) == 0)
        // Replacing a session with the same pid keeps the count.
        #expect(store.persist(self.session("s2"), now: self.start) == 0)
        #expect(store.persist(self.session("s3"), now: self.start) == 1)
        #expect(store.sessionCount == 2)
        #expect(store.restore(pid: "pid-s1", offset: offset, namespace: "/", now: self.start).failure == .unknownSession)
        _ = try store.restore(pid: "pid-s2", offset: offset, namespace: "/", now: self.start).get()
        _ = try store.restore(pid: "pid-s3", offset: offset, namespace: "/", now: self.start).get()
    }

    @Test func evictionSkipsSessionsRestoredOrPersistedAgainSince() throws {
        let store = self.store(maxSessions: 2)
        let offset = self.emit("e", in: store)
        store.persist(self.session("s1"), now: self.start)
        store.persist(self.session("s2"), now: self.start)
        _ = try store.restore(pid: "pid-s1", offset: offset, namespace: "/", now: self.start).get()
        store.persist(self.session("s3"), now: self.start)
        store.persist(self.session("s2"), now: self.start)  // disconnected again: now the latest
        // s1 is gone and s2 is newer than s3: s3 is the one disconnected first.
        #expect(store.persist(self.session("s4"), now: self.start) == 1)
        #expect(store.restore(pid: "pid-s3", offset: offset, namespace: "/", now: self.start).failure == .unknownSession)
        _ = try store.restore(pid: "pid-s2", offset: offset, namespace: "/", now: self.start).get()
        _ = try store.restore(pid: "pid-s4", offset: offset, namespace: "/", now: self.start).get()
    }

    @Test func sessionsKeepTheirOrderAcrossManyRestores() throws {
        let store = self.store(maxSessions: 3)
        let offset = self.emit("e", in: store)
        store.persist(self.session("s1"), now: self.start)
        store.persist(self.session("s2"), now: self.start)
        // Enough quick reconnections to make the store tidy its order of sessions.
        for round in 0..<200 {
            store.persist(self.session("quick\(round)"), now: self.start)
            _ = try store.restore(pid: "pid-quick\(round)", offset: offset, namespace: "/", now: self.start).get()
        }
        store.persist(self.session("s3"), now: self.start)
        #expect(store.persist(self.session("s4"), now: self.start) == 1)
        #expect(store.restore(pid: "pid-s1", offset: offset, namespace: "/", now: self.start).failure == .unknownSession)
        for sid in ["s2", "s3", "s4"] {
            _ = try store.restore(pid: "pid-\(sid)", offset: offset, namespace: "/", now: self.start).get()
        }
    }

    @Test func restoredAndReplacedSessionsDoNotCountTowardsMaxSessions() throws {
        let store = self.store(maxSessions: 3)
        let offset = self.emit("e", in: store)
        for round in 0..<500 {
            store.persist(self.session("churn\(round % 7)"), now: self.start)
            if round.isMultiple(of: 2) {
                _ = store.restore(pid: "pid-churn\(round % 7)", offset: offset, namespace: "/", now: self.start)
            }
        }
        for sid in ["s1", "s2", "s3"] { store.persist(self.session(sid), now: self.start) }
        #expect(store.sessionCount == 3)
        #expect(store.persist(self.session("s4"), now: self.start) == 1)
        #expect(store.restore(pid: "pid-s1", offset: offset, namespace: "/", now: self.start).failure == .unknownSession)
        for sid in ["s2", "s3", "s4"] {
            _ = try store.restore(pid: "pid-\(sid)", offset: offset, namespace: "/", now: self.start).get()
        }
    }

    // MARK: - Pruning by time

    @Test func pruneDropsWhatIsOlderThanMaxDisconnectionDuration() throws {
        var state = InMemorySessionStore.State(prefix: "test", configuration: SocketIOConnectionStateRecovery())
        func append(at time: NIODeadline) -> String {
            let sequence = state.makeSequence()
            let offset = SocketIOPacketOffset(InMemorySessionStore.State.offset(prefix: "test", sequence: sequence), sequence: sequence)
            _ = state.append(SocketIOStoredPacket(offset: offset, namespace: "/", rooms: [], except: [], frames: []), now: time)
            return offset.description
        }
        let old = append(at: self.start)
        let recent = append(at: self.start + .seconds(60))
        _ = state.persist(self.session("s1"), now: self.start)
        _ = state.persist(self.session("s2"), now: self.start + .seconds(60))
        _ = state.persist(self.session("s3"), now: self.start + .seconds(60))

        #expect(state.prune(now: self.start + self.twoMinutes) == (0, 0))
        #expect(state.prune(now: self.start + self.twoMinutes + .nanoseconds(1)) == (1, 1))
        #expect(state.sessions.count == 2)
        #expect(state.packets.count == 1)
        // s2 is still good, but the event it last saw is gone: it gets a new session.
        #expect(state.restore(pid: "pid-s2", offset: old, namespace: "/", now: self.start + .seconds(61)).failure == .unknownOffset)
        _ = try state.restore(pid: "pid-s3", offset: recent, namespace: "/", now: self.start + .seconds(61)).get()
        #expect(state.prune(now: self.start + .seconds(60) + self.twoMinutes + .nanoseconds(1)) == (0, 1))
    }

    @Test func pruneThroughTheStore() {
        let store = self.store()
        self.emit("e", in: store)
        store.persist(self.session("s1"), now: self.start)
        store.prune(now: self.start + .seconds(1))
        #expect(store.packetCount == 1)
        #expect(store.sessionCount == 1)
        store.prune(now: self.start + self.twoMinutes + .seconds(1))
        #expect(store.packetCount == 0)
        #expect(store.sessionCount == 0)
    }

    // MARK: - Configuration

    @Test func defaultsAreNodes() {
        let configuration = SocketIOConnectionStateRecovery()
        #expect(configuration.maxDisconnectionDuration == .minutes(2))
        #expect(configuration.skipMiddlewares)
        #expect(configuration.maxPackets > 0)
        #expect(configuration.maxSessions > 0)
    }

    @Test func onlyDisconnectsTheSocketDidNotChooseAreRecoverable() {
        let recoverable: [SocketIODisconnectReason] = [.transportClose, .transportError, .pingTimeout, .forcedClose, .serverShuttingDown]
        let final: [SocketIODisconnectReason] = [.clientNamespaceDisconnect, .serverNamespaceDisconnect, .parseError]
        #expect(recoverable.allSatisfy(SocketIOConnectionStateRecovery.isRecoverable))
        #expect(!final.contains(where: SocketIOConnectionStateRecovery.isRecoverable))
    }
}

extension Result {
    /// The failure, `nil` on success.
    fileprivate var failure: Failure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}
