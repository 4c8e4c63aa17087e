//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

/// What a server knows about the cluster it serves in.
extension SocketIOServer {
    /// How many server nodes are live, this one included (Node's `io.serverCount()`): 1
    /// without a cluster; with one, the nodes heard beating on its channel.
    public var serverCount: Int { self.adapter.serverCount }

    /// Handles the server-side emits of other nodes for `event` (Node's
    /// `io.on(event, (args..., callback) => …)` for `serverSideEmit`): the handler gets the
    /// arguments and an ack to answer `serverSideEmitWithAck` with. It runs on the
    /// adapter's receiving task, so it must not block; start a task for long work. One
    /// handler per event: a second replaces the first.
    public func onServerSideEmit(_ event: String, _ handler: @escaping SocketIOServerSideEmitHandler) {
        self.serverSideHandlers.set(event, handler)
    }
}
