//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

/// Hosts heard on the channel in python-socketio's format that never announced themselves
/// with a heartbeat: python-socketio workers and emitters in a mixed cluster. They take no
/// part in cluster-wide requests, so a result cannot include their sockets: it names them
/// (``SocketIO/SocketIOClusterResult/nonMemberHosts``) instead of waiting for them.
///
/// Pure state with explicit instants. A host is remembered for `memory` after it was last
/// heard, and at most `maxHosts` are remembered, so that forged host ids cannot grow the
/// table without bound.
struct ClusterNonMembers {
    struct Configuration: Sendable, Hashable {
        var memory: Duration
        var maxHosts: Int

        init(memory: Duration = .seconds(120), maxHosts: Int = 1024) {
            self.memory = memory
            self.maxHosts = maxHosts
        }
    }

    let configuration: Configuration
    private var lastHeard: [String: ContinuousClock.Instant] = [:]

    init(configuration: Configuration = .init()) {
        self.configuration = configuration
    }

    /// `host` (not a live member) published something.
    mutating func heard(_ host: String, now: ContinuousClock.Instant) {
        guard !host.isEmpty else { return }
        if self.lastHeard[host] == nil, self.lastHeard.count >= self.configuration.maxHosts {
            self.forget(before: now)
            guard self.lastHeard.count < self.configuration.maxHosts else { return }
        }
        self.lastHeard[host] = now
    }

    /// `host` sent a heartbeat: it is a member, not a stranger.
    mutating func becameMember(_ host: String) {
        self.lastHeard.removeValue(forKey: host)
    }

    /// The hosts heard within the memory, in name order.
    func hosts(now: ContinuousClock.Instant) -> [String] {
        self.lastHeard.filter { now - $0.value <= self.configuration.memory }.keys.sorted()
    }

    /// Whether any host was heard within the memory.
    func isEmpty(now: ContinuousClock.Instant) -> Bool {
        !self.lastHeard.values.contains { now - $0 <= self.configuration.memory }
    }

    /// Drops the hosts not heard within the memory.
    mutating func forget(before now: ContinuousClock.Instant) {
        self.lastHeard = self.lastHeard.filter { now - $0.value <= self.configuration.memory }
    }
}
