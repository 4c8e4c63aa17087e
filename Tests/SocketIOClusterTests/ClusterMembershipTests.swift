//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import SocketIOCluster
import Testing

/// Node membership as a pure machine, on a clock the test moves.
struct ClusterMembershipTests {
    private let start = ContinuousClock.now
    private func at(_ milliseconds: Int) -> ContinuousClock.Instant { self.start + .milliseconds(milliseconds) }

    @Test func selfIsAlwaysCountedAndPeersJoinOnTheirFirstBeat() {
        var membership = ClusterMembership(selfID: "b")
        #expect(membership.count == 1 && membership.nodes == ["b"])
        #expect(membership.heartbeat(host: "c", interval: .seconds(5), now: at(0)) == .joined("c"))
        #expect(membership.heartbeat(host: "a", interval: .seconds(5), now: at(0)) == .joined("a"))
        #expect(membership.heartbeat(host: "a", interval: .seconds(5), now: at(10)) == nil)
        // Our own beats, echoed by the broker, and anonymous ones change nothing.
        #expect(membership.heartbeat(host: "b", interval: .seconds(5), now: at(0)) == nil)
        #expect(membership.heartbeat(host: "", interval: .seconds(5), now: at(0)) == nil)
        #expect(membership.nodes == ["a", "b", "c"] && membership.count == 3)
        #expect(membership.peerIDs == ["a", "c"])
        #expect(membership.isLive("a") && membership.isLive("b") && !membership.isLive("d"))
    }

    @Test func aSilentPeerIsDroppedAfterTheMissedBeatsOfItsOwnInterval() {
        var membership = ClusterMembership(selfID: "self", configuration: .init(missedBeats: 3))
        membership.heartbeat(host: "slow", interval: .seconds(10), now: at(0))
        membership.heartbeat(host: "fast", interval: .seconds(1), now: at(0))
        #expect(membership.tick(now: at(3000)).isEmpty)
        #expect(membership.tick(now: at(3001)) == [.timedOut("fast")])
        membership.heartbeat(host: "slow", interval: .seconds(10), now: at(20_000))
        #expect(membership.tick(now: at(50_000)).isEmpty)
        #expect(membership.tick(now: at(50_001)) == [.timedOut("slow")])
        #expect(membership.nodes == ["self"])
        // A dropped peer that beats again is back.
        #expect(membership.heartbeat(host: "fast", interval: .seconds(1), now: at(60_000)) == .joined("fast"))
        #expect(membership.count == 2)
    }

    @Test func aGoodbyeRemovesAtOnceAndALateBeatDoesNotResurrect() {
        var membership = ClusterMembership(selfID: "self")
        membership.heartbeat(host: "a", interval: .milliseconds(100), now: at(0))
        #expect(membership.goodbye(host: "a", now: at(10)) == .left("a"))
        #expect(membership.count == 1)
        // Its last heartbeat raced the goodbye onto the channel.
        #expect(membership.heartbeat(host: "a", interval: .milliseconds(100), now: at(20)) == nil)
        #expect(membership.count == 1)
        #expect(membership.goodbye(host: "never-seen", now: at(20)) == nil)
        membership.tick(now: at(1000))
        #expect(membership.heartbeat(host: "a", interval: .milliseconds(100), now: at(1000)) == .joined("a"))
    }

    @Test func forgedHostsAreBoundedAndHugeIntervalsClamped() {
        var membership = ClusterMembership(selfID: "self", configuration: .init(missedBeats: 2, maxPeers: 2))
        membership.heartbeat(host: "x", interval: .seconds(1_000_000), now: at(0))
        membership.heartbeat(host: "y", interval: .seconds(1), now: at(0))
        #expect(membership.heartbeat(host: "z", interval: .seconds(1), now: at(0)) == nil)
        #expect(membership.count == 3)
        // Clamped to an hour: gone after two hours of silence.
        #expect(membership.tick(now: at(7_200_001)) == [.timedOut("x"), .timedOut("y")])
    }
}
