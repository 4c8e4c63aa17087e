//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

/// Who receives a broadcast: the members of `rooms` (everyone in the namespace when
/// empty), minus the members of `except` (a socket id is a room of its own), and how.
public struct SocketIOBroadcastTarget: Sendable, Hashable {
    public var namespace: String
    public var rooms: [String]
    public var except: [String]
    public var flags: SocketIOBroadcastFlags

    public init(namespace: String = "/", rooms: [String] = [], except: [String] = [], flags: SocketIOBroadcastFlags = .init()) {
        self.namespace = namespace
        self.rooms = rooms
        self.except = except
        self.flags = flags
    }
}

/// How a broadcast is delivered (Node's `BroadcastFlags`).
public struct SocketIOBroadcastFlags: Sendable, Hashable {
    /// Dropped for a recipient whose transport cannot take it now (a WebSocket that is
    /// still writing, a long-polling client with no request waiting), instead of being
    /// buffered: for values that are stale by the next one (positions, tickers).
    public var volatile = false
    /// Whether the transport may compress the message. `false` sends it uncompressed where
    /// the transport would compress it (long-polling responses over the compression
    /// threshold).
    public var compress = true
    /// Delivered to the sockets of this node only, not through the cluster backplane.
    public var local = false

    public init(volatile: Bool = false, compress: Bool = true, local: Bool = false) {
        self.volatile = volatile
        self.compress = compress
        self.local = local
    }
}
