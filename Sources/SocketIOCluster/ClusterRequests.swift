//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import NIOCore

/// What a cluster-wide request got: one answer per node that answered in time, and the
/// nodes that did not (they were live when it started, then stayed silent or left).
/// Node's adapters throw "timeout reached" and lose what did arrive; a caller here gets
/// both (issue 15, "partial results").
public struct ClusterRequestResult<Response: Sendable>: Sendable {
    /// The answers, by the answering node's host id.
    public var responses: [String: Response]
    /// The nodes that were awaited and did not answer, sorted.
    public var missing: [String]

    /// Whether every awaited node answered.
    public var isComplete: Bool { self.missing.isEmpty }
}

/// The requests a node has in flight to the other nodes (fetch sockets, server-side emits
/// with acks, broadcast acks across nodes): pure state, no clock and no I/O. The adapter
/// feeds it the answers, the membership changes and the time, and completes the callers
/// with what it returns.
///
/// A request awaits exactly the nodes that were live when it started: it completes when
/// the last of them answers or leaves, or at its deadline, whichever is first. Answers
/// from nodes it does not await (a node that joined later, a forged or repeated answer)
/// are ignored.
struct ClusterRequests<Response: Sendable> {
    private struct Pending {
        var awaited: Set<String>
        var responses: [String: Response] = [:]
        /// Awaited nodes that left before answering.
        var departed: Set<String> = []
        let deadline: NIODeadline
    }

    private var pending: [String: Pending] = [:]

    /// How many requests wait.
    var count: Int { self.pending.count }

    /// The earliest deadline of a waiting request: when ``timerFired(now:)`` must run.
    var nextDeadline: NIODeadline? { self.pending.values.map(\.deadline).min() }

    /// Starts a request to `nodes` (the live nodes but this one).
    /// - Returns: the result at once when no node is awaited (a single-node cluster),
    ///   else `nil` and the request waits.
    mutating func start(id: String, awaiting nodes: Set<String>, deadline: NIODeadline) -> ClusterRequestResult<Response>? {
        guard !nodes.isEmpty else { return ClusterRequestResult(responses: [:], missing: []) }
        precondition(self.pending[id] == nil, "request ids are unique")
        self.pending[id] = Pending(awaited: nodes, deadline: deadline)
        return nil
    }

    /// An answer from `node` to request `id`.
    /// - Returns: the result when it was the last one awaited.
    mutating func receive(id: String, from node: String, response: Response) -> ClusterRequestResult<Response>? {
        guard var request = self.pending[id], request.awaited.contains(node), request.responses[node] == nil,
            !request.departed.contains(node)
        else { return nil }
        request.responses[node] = response
        return self.update(id, request)
    }

    /// A node left the cluster (goodbye, or dropped for missing beats): no request waits
    /// for it any more; it counts as missing in their results.
    /// - Returns: the requests it completes, with their results.
    mutating func nodeLeft(_ node: String) -> [(id: String, result: ClusterRequestResult<Response>)] {
        var completed: [(id: String, result: ClusterRequestResult<Response>)] = []
        for (id, var request) in self.pending where request.awaited.contains(node) && request.responses[node] == nil {
            request.departed.insert(node)
            if let result = self.update(id, request) { completed.append((id, result)) }
        }
        return completed.sorted { $0.id < $1.id }
    }

    /// The time is `now`: requests past their deadline complete with what they have.
    mutating func timerFired(now: NIODeadline) -> [(id: String, result: ClusterRequestResult<Response>)] {
        let expired = self.pending.filter { $0.value.deadline <= now }
        for id in expired.keys { self.pending[id] = nil }
        return expired.map { ($0.key, Self.result($0.value)) }.sorted { $0.id < $1.id }
    }

    /// Gives up a request (its caller was cancelled); its answers, if any come, are ignored.
    mutating func cancel(id: String) {
        self.pending[id] = nil
    }

    private mutating func update(_ id: String, _ request: Pending) -> ClusterRequestResult<Response>? {
        if request.responses.count + request.departed.count == request.awaited.count {
            self.pending[id] = nil
            return Self.result(request)
        }
        self.pending[id] = request
        return nil
    }

    private static func result(_ request: Pending) -> ClusterRequestResult<Response> {
        ClusterRequestResult(
            responses: request.responses,
            missing: request.awaited.subtracting(request.responses.keys).sorted()
        )
    }
}
