//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import NIOCore
@testable import SocketIOCluster
import Testing

/// The request state of cluster-wide operations (issue 15): answers awaited from exactly
/// the live nodes, partial results naming the silent ones, departures, deadlines.
struct ClusterRequestsTests {
    private let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    @Test func aRequestCompletesWhenEveryAwaitedNodeAnswered() {
        var requests = ClusterRequests<Int>()
        #expect(requests.start(id: "r1", awaiting: ["a", "b"], deadline: self.start + .seconds(5)) == nil)
        #expect(requests.receive(id: "r1", from: "a", response: 1) == nil)
        let result = requests.receive(id: "r1", from: "b", response: 2)
        #expect(result?.responses == ["a": 1, "b": 2])
        #expect(result?.missing == [])
        #expect(result?.isComplete == true)
        #expect(requests.count == 0)
    }

    @Test func aRequestToNoOtherNodeCompletesAtOnce() {
        var requests = ClusterRequests<Int>()
        let result = requests.start(id: "r1", awaiting: [], deadline: self.start + .seconds(5))
        #expect(result?.responses.isEmpty == true && result?.isComplete == true)
        #expect(requests.count == 0)
    }

    @Test func theDeadlineGivesWhatArrivedAndNamesTheSilentNodes() {
        var requests = ClusterRequests<String>()
        _ = requests.start(id: "r1", awaiting: ["a", "b", "c"], deadline: self.start + .seconds(5))
        _ = requests.start(id: "r2", awaiting: ["a"], deadline: self.start + .seconds(10))
        _ = requests.receive(id: "r1", from: "b", response: "from b")
        #expect(requests.nextDeadline == self.start + .seconds(5))
        #expect(requests.timerFired(now: self.start + .seconds(4)).isEmpty)
        let expired = requests.timerFired(now: self.start + .seconds(5))
        #expect(expired.map(\.id) == ["r1"])
        #expect(expired.first?.result.responses == ["b": "from b"])
        #expect(expired.first?.result.missing == ["a", "c"])
        #expect(requests.nextDeadline == self.start + .seconds(10))
        // A late answer to a finished request is ignored.
        #expect(requests.receive(id: "r1", from: "a", response: "late") == nil)
    }

    @Test func answersFromNodesNotAwaitedOrRepeatedAreIgnored() {
        var requests = ClusterRequests<Int>()
        _ = requests.start(id: "r1", awaiting: ["a", "b"], deadline: self.start + .seconds(5))
        #expect(requests.receive(id: "r1", from: "joined-later", response: 9) == nil)
        #expect(requests.receive(id: "r1", from: "a", response: 1) == nil)
        #expect(requests.receive(id: "r1", from: "a", response: 2) == nil)
        #expect(requests.receive(id: "unknown", from: "b", response: 3) == nil)
        let result = requests.receive(id: "r1", from: "b", response: 4)
        #expect(result?.responses == ["a": 1, "b": 4])
    }

    @Test func aNodeThatLeavesIsNoLongerAwaitedAndCountsAsMissing() {
        var requests = ClusterRequests<Int>()
        _ = requests.start(id: "r1", awaiting: ["a", "b"], deadline: self.start + .seconds(5))
        _ = requests.start(id: "r2", awaiting: ["b", "c"], deadline: self.start + .seconds(5))
        _ = requests.start(id: "r3", awaiting: ["b"], deadline: self.start + .seconds(5))
        _ = requests.receive(id: "r1", from: "a", response: 1)
        _ = requests.receive(id: "r3", from: "b", response: 3)
        let completed = requests.nodeLeft("b")
        // r1 only waited for b; r2 still waits for c; r3 had b's answer already.
        #expect(completed.map(\.id) == ["r1"])
        #expect(completed.first?.result.responses == ["a": 1])
        #expect(completed.first?.result.missing == ["b"])
        #expect(requests.count == 1)
        // An answer from the departed node afterwards does not count.
        #expect(requests.receive(id: "r2", from: "b", response: 2) == nil)
        let last = requests.receive(id: "r2", from: "c", response: 5)
        #expect(last?.responses == ["c": 5])
        #expect(last?.missing == ["b"])
    }

    @Test func aCancelledRequestIgnoresItsAnswers() {
        var requests = ClusterRequests<Int>()
        _ = requests.start(id: "r1", awaiting: ["a"], deadline: self.start + .seconds(5))
        requests.cancel(id: "r1")
        #expect(requests.receive(id: "r1", from: "a", response: 1) == nil)
        #expect(requests.timerFired(now: self.start + .seconds(6)).isEmpty)
        #expect(requests.nextDeadline == nil)
    }
}
