//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import SocketIOMessageQueue
import Testing

/// Duplicate detection that survives forged and restarted publishers (issue 13, item 7).
struct SequenceWindowsTests {
    @Test func dropsRepeatsPerHostAndEpoch() {
        var windows = SequenceWindows()
        #expect(windows.check(host: "a", epoch: "e1", sequence: 1) == .new)
        #expect(windows.check(host: "a", epoch: "e1", sequence: 2) == .new)
        #expect(windows.check(host: "a", epoch: "e1", sequence: 2) == .repeated)
        #expect(windows.check(host: "a", epoch: "e1", sequence: 1) == .repeated)
        #expect(windows.check(host: "b", epoch: "e1", sequence: 1) == .new)
        // python publishers send no number: never dropped.
        #expect(windows.check(host: "p", epoch: nil, sequence: nil) == .unstamped)
        #expect(windows.check(host: "p", epoch: nil, sequence: nil) == .unstamped)
    }

    @Test func outOfOrderWithinTheWindowIsDeliveredOnce() {
        var windows = SequenceWindows(configuration: .init(window: 64))
        #expect(windows.check(host: "a", epoch: "e", sequence: 5) == .new)
        #expect(windows.check(host: "a", epoch: "e", sequence: 3) == .new)
        #expect(windows.check(host: "a", epoch: "e", sequence: 4) == .new)
        #expect(windows.check(host: "a", epoch: "e", sequence: 3) == .repeated)
        #expect(windows.check(host: "a", epoch: "e", sequence: 60) == .new)
        #expect(windows.check(host: "a", epoch: "e", sequence: 5) == .repeated)
        // The window slid past 3: far enough behind to be another track, still delivered.
        #expect(windows.check(host: "a", epoch: "e", sequence: 100) == .new)
        #expect(windows.check(host: "a", epoch: "e", sequence: 37) == .new)
        #expect(windows.check(host: "a", epoch: "e", sequence: 36) == .outsideWindow)
    }

    @Test func aForgedHugeNumberDoesNotSilenceTheRealPublisher() {
        var windows = SequenceWindows()
        for n in 1...10 { #expect(windows.check(host: "w", epoch: "real", sequence: n) == .new) }
        // Someone publishes with w's host id and epoch and a huge number.
        #expect(windows.check(host: "w", epoch: "real", sequence: 1_000_000_000_000) == .outsideWindow)
        // w goes on as before: every next number is new, repeats still dropped.
        let verdicts = (11...5000).map { windows.check(host: "w", epoch: "real", sequence: $0) }
        #expect(verdicts.filter { $0 != .new }.count == 0)
        #expect(windows.check(host: "w", epoch: "real", sequence: 4999) == .repeated)
        // A flood of forged tracks evicts at most the least recently used ones: w's next
        // number is still delivered.
        for n in 0..<100 { _ = windows.check(host: "w", epoch: "forged\(n)", sequence: n * 1_000_000) }
        #expect(windows.check(host: "w", epoch: "real", sequence: 5001) != .repeated)
    }

    @Test func aRestartedPublisherIsNotTakenForRepeats() {
        var windows = SequenceWindows()
        for n in 1...5 { _ = windows.check(host: "w", epoch: "before", sequence: n) }
        // Same host id, new process: numbers start again, with a new epoch.
        #expect(windows.check(host: "w", epoch: "after", sequence: 1) == .newEpoch)
        #expect(windows.check(host: "w", epoch: "after", sequence: 2) == .new)
        #expect(windows.check(host: "w", epoch: "after", sequence: 2) == .repeated)
    }

    @Test func memoryIsBounded() {
        var windows = SequenceWindows(configuration: .init(maxHosts: 100))
        for n in 0..<10_000 { #expect(windows.check(host: "emitter\(n)", epoch: "e", sequence: 1) == .new) }
        #expect(windows.hostCount <= 100)
    }
}
