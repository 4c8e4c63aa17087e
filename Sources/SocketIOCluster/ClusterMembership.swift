//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

/// Which nodes of the cluster are alive, from the heartbeats and goodbyes heard on the
/// channel: a pure state machine, driven with explicit instants so that tests control time.
///
/// A peer is live from its first heartbeat until it says goodbye or stays silent for
/// `missedBeats` of its own announced intervals. This node always counts itself.
public struct ClusterMembership: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// How many of a peer's intervals may pass without a heartbeat before it is dropped.
        public var missedBeats: Int
        /// The most peers tracked: heartbeats from further new hosts are ignored, so that
        /// forged host ids cannot grow the table without bound.
        public var maxPeers: Int

        public init(missedBeats: Int = 3, maxPeers: Int = 4096) {
            precondition(missedBeats > 0, "missedBeats must be positive")
            self.missedBeats = missedBeats
            self.maxPeers = maxPeers
        }
    }

    /// What changed in the live set.
    public enum Change: Sendable, Hashable {
        case joined(String)
        case left(String)
        case timedOut(String)
    }

    private struct Peer {
        var interval: Duration
        var lastBeat: ContinuousClock.Instant
    }

    public let selfID: String
    public let configuration: Configuration
    private var peers: [String: Peer] = [:]
    /// Hosts that said goodbye, until when a late heartbeat of theirs is ignored: the
    /// sender's last heartbeat may race its goodbye onto the channel. A restarted process
    /// has a new host id, so nothing legitimate is refused.
    private var departed: [String: ContinuousClock.Instant] = [:]

    /// An announced interval is clamped to this range: a forged huge one must not keep a
    /// dead host listed for ever (nor overflow the deadline arithmetic).
    static let intervalRange: ClosedRange<Duration> = .milliseconds(1) ... .seconds(3600)

    public init(selfID: String, configuration: Configuration = .init()) {
        self.selfID = selfID
        self.configuration = configuration
    }

    /// A heartbeat from `host`, beating every `interval`.
    /// - Returns: `.joined` when the host was not live before.
    @discardableResult
    public mutating func heartbeat(host: String, interval: Duration, now: ContinuousClock.Instant) -> Change? {
        guard host != self.selfID, !host.isEmpty else { return nil }
        if let until = self.departed[host] {
            if now <= until { return nil }
            self.departed.removeValue(forKey: host)
        }
        let clamped = min(max(interval, Self.intervalRange.lowerBound), Self.intervalRange.upperBound)
        if self.peers[host] != nil {
            self.peers[host] = Peer(interval: clamped, lastBeat: now)
            return nil
        }
        guard self.peers.count < self.configuration.maxPeers else { return nil }
        self.peers[host] = Peer(interval: clamped, lastBeat: now)
        return .joined(host)
    }

    /// `host` stops gracefully.
    /// - Returns: `.left` when the host was live.
    @discardableResult
    public mutating func goodbye(host: String, now: ContinuousClock.Instant) -> Change? {
        // Only known hosts leave a tombstone, so that forged goodbyes cannot grow the table.
        guard let peer = self.peers.removeValue(forKey: host) else { return nil }
        self.departed[host] = now + peer.interval * self.configuration.missedBeats
        return .left(host)
    }

    /// Drops the peers silent for `missedBeats` of their intervals.
    /// - Returns: the hosts dropped, in name order.
    @discardableResult
    public mutating func tick(now: ContinuousClock.Instant) -> [Change] {
        let missed = self.configuration.missedBeats
        let silent = self.peers.filter { _, peer in now - peer.lastBeat > peer.interval * missed }.keys.sorted()
        for host in silent { self.peers.removeValue(forKey: host) }
        self.departed = self.departed.filter { _, until in now <= until }
        return silent.map { .timedOut($0) }
    }

    /// The live nodes, this one included, in name order.
    public var nodes: [String] { ([self.selfID] + self.peers.keys).sorted() }

    /// Whether `host` is live (this node always is).
    public func isLive(_ host: String) -> Bool {
        host == self.selfID || self.peers[host] != nil
    }

    /// The live peers, this node excluded.
    public var peerIDs: Set<String> { Set(self.peers.keys) }

    /// How many nodes are live, this one included (Node's `io.serverCount()`).
    public var count: Int { self.peers.count + 1 }
}
