//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

/// What a server knows about the cluster it serves in.
extension SocketIOServer {
    /// How many server nodes are live, this one included (Node's `io.serverCount()`): 1
    /// without a cluster; with one, the nodes heard beating on its channel.
    public var serverCount: Int { self.adapter.serverCount }
}
