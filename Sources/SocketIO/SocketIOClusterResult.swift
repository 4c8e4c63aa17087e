//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

/// What a cluster-wide operation got (`fetchSockets`, `fetchRooms`, `serverSideEmitWithAck`,
/// a broadcast with acks): the merged answers of the nodes that answered in time, and who
/// did not.
///
/// Node's adapters throw "timeout reached" and lose what did arrive when one node is slow
/// or gone; here the caller gets both. Without a cluster (the in-memory adapter) a result
/// is this node's alone and always complete.
public struct SocketIOClusterResult<Value: Sendable>: Sendable {
    /// The merged answers: this node's, then those of the nodes that answered.
    public var value: Value
    /// Live members that were awaited and did not answer in time, or left meanwhile (sorted).
    public var missingNodes: [String]
    /// Hosts heard on the channel that send no heartbeats (python-socketio workers): they
    /// do not take part in requests, so their sockets are not in ``value``. Not awaited.
    public var nonMemberHosts: [String]
    /// Whether every awaited node answered (and, for a broadcast with acks, every recipient
    /// did). Non-member hosts do not make a result incomplete: they are never awaited.
    public var isComplete: Bool

    /// - Parameter isComplete: `nil` for `missingNodes.isEmpty`.
    public init(value: Value, missingNodes: [String] = [], nonMemberHosts: [String] = [], isComplete: Bool? = nil) {
        self.value = value
        self.missingNodes = missingNodes
        self.nonMemberHosts = nonMemberHosts
        self.isComplete = isComplete ?? missingNodes.isEmpty
    }
}

extension SocketIOClusterResult: Equatable where Value: Equatable {}
