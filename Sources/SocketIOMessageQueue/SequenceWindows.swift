//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

/// Duplicate detection for emits, per publisher: a pure, bounded state machine.
///
/// A broker may deliver an emit twice (a `PUBLISH` whose reply was lost is sent again; AMQP
/// redelivers what was unacknowledged when a connection dropped). Our publishers stamp each
/// emit with `seq` (1, 2, 3, … per process) and `epoch` (random per process start); this
/// remembers, per `(host_id, epoch)`, which of the last `window` numbers were seen (a
/// bitmap), and drops a number seen before.
///
/// Nothing here can silence a publisher: the channel is unauthenticated (anyone who can
/// publish can forge a host id, an epoch and a number).
/// - A number far outside a track's window (`> high + window` or `<= high - window`) is not
///   a new high-water mark: it opens a *separate* track (a restart without an epoch, a long
///   gap, or a forgery). The real publisher's next number still falls in its own track's
///   window. Each host keeps at most `tracksPerHost` tracks, least recently used evicted.
/// - A new epoch (a publisher restart) opens a track of its own too.
/// - Memory is bounded: at most `maxHosts` hosts; when more arrive, the least recently
///   used half are forgotten. Forgetting only ever lets a duplicate through, never drops a
///   message.
/// - Messages without `seq` (python-socketio publishers) are never dropped.
public struct SequenceWindows: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// Numbers remembered per track (rounded up to a multiple of 64).
        public var window: Int
        public var tracksPerHost: Int
        public var maxHosts: Int

        public init(window: Int = 2048, tracksPerHost: Int = 3, maxHosts: Int = 4096) {
            self.window = max(64, (window + 63) / 64 * 64)
            self.tracksPerHost = max(1, tracksPerHost)
            self.maxHosts = max(2, maxHosts)
        }
    }

    /// What to do with an emit.
    public enum Verdict: Sendable, Hashable {
        /// Deliver it.
        case new
        /// Seen before: drop it.
        case repeated
        /// Deliver it: no stamp (a python publisher).
        case unstamped
        /// Deliver it; it is the first of a new epoch of a known host (a restart).
        case newEpoch
        /// Deliver it; its number is far outside the window of its epoch's track(s), so it
        /// opened a separate track: a long gap, or a forged message. Worth one log line.
        case outsideWindow
    }

    private struct Track {
        var epoch: String
        var high: Int
        /// Bit `n % window` is set when number `n` in `(high - window, high]` was seen.
        var bits: [UInt64]
        var lastUsed: UInt64
    }

    private struct Host {
        var tracks: [Track]
        var lastUsed: UInt64
    }

    public let configuration: Configuration
    private var hosts: [String: Host] = [:]
    private var tick: UInt64 = 0

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Hosts currently remembered.
    public var hostCount: Int { self.hosts.count }

    /// Judges one emit and records it.
    public mutating func check(host: String, epoch: String?, sequence: Int?) -> Verdict {
        guard let sequence else { return .unstamped }
        let epoch = epoch ?? ""
        self.tick &+= 1
        let window = self.configuration.window
        guard var record = self.hosts[host] else {
            self.evictIfFull()
            self.hosts[host] = Host(tracks: [self.makeTrack(epoch: epoch, sequence: sequence)], lastUsed: self.tick)
            return .new
        }
        record.lastUsed = self.tick
        defer { self.hosts[host] = record }
        for index in record.tracks.indices where record.tracks[index].epoch == epoch {
            let high = record.tracks[index].high
            guard sequence > high - window, sequence <= high + window else { continue }
            record.tracks[index].lastUsed = self.tick
            return Self.record(sequence, in: &record.tracks[index], window: window) ? .new : .repeated
        }
        let knownEpoch = record.tracks.contains { $0.epoch == epoch }
        if record.tracks.count >= self.configuration.tracksPerHost,
            let oldest = record.tracks.indices.min(by: { record.tracks[$0].lastUsed < record.tracks[$1].lastUsed })
        {
            record.tracks.remove(at: oldest)
        }
        record.tracks.append(self.makeTrack(epoch: epoch, sequence: sequence))
        return knownEpoch ? .outsideWindow : .newEpoch
    }

    private func makeTrack(epoch: String, sequence: Int) -> Track {
        var track = Track(epoch: epoch, high: sequence, bits: [UInt64](repeating: 0, count: self.configuration.window / 64), lastUsed: self.tick)
        Self.set(sequence, in: &track.bits, window: self.configuration.window)
        return track
    }

    /// Marks `sequence` (within the track's reach) as seen; `false` if it already was.
    private static func record(_ sequence: Int, in track: inout Track, window: Int) -> Bool {
        if sequence <= track.high {
            let (word, bit) = Self.position(sequence, window: window)
            if track.bits[word] & bit != 0 { return false }
            track.bits[word] |= bit
            return true
        }
        // Slide the window forward: forget the numbers it leaves behind.
        if sequence - track.high >= window {
            for index in track.bits.indices { track.bits[index] = 0 }
        } else {
            var number = track.high + 1
            while number < sequence {
                let (word, bit) = Self.position(number, window: window)
                track.bits[word] &= ~bit
                number += 1
            }
        }
        track.high = sequence
        Self.set(sequence, in: &track.bits, window: window)
        return true
    }

    private static func set(_ sequence: Int, in bits: inout [UInt64], window: Int) {
        let (word, bit) = Self.position(sequence, window: window)
        bits[word] |= bit
    }

    private static func position(_ sequence: Int, window: Int) -> (word: Int, bit: UInt64) {
        let slot = ((sequence % window) + window) % window
        return (slot / 64, UInt64(1) << UInt64(slot % 64))
    }

    /// Forgets the least recently used half of the hosts once `maxHosts` are remembered.
    private mutating func evictIfFull() {
        guard self.hosts.count >= self.configuration.maxHosts else { return }
        let byAge = self.hosts.sorted { $0.value.lastUsed < $1.value.lastUsed }
        for (host, _) in byAge.prefix(self.hosts.count / 2) { self.hosts.removeValue(forKey: host) }
    }
}
