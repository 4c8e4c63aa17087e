//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import NIOCore

/// Connection state recovery (Node's `connectionStateRecovery` option, socket.io ≥ 4.6).
///
/// With it on, a client whose connection drops for a reason it did not choose (see
/// ``isRecoverable(_:)``) and that comes back within ``maxDisconnectionDuration`` gets its
/// socket back: the same id, its rooms, its `data`, and every event it missed, in order;
/// `socket.recovered` is then `true`. On the wire:
/// - the CONNECT reply carries a private session id beside the socket id,
///   `40{"sid":"…","pid":"…"}` (the `pid` must stay secret: whoever presents it gets the
///   session);
/// - every EVENT sent without an ack id and not volatile carries an *offset* as its last
///   argument, `42["news","hi","<offset>"]`; the client remembers the last one it saw
///   (and its handlers see it as an extra argument, as with Node);
/// - on reconnecting the client sends `40{"pid":"…","offset":"…",…auth}`.
///
/// The session and the events are kept by a ``SocketIOSessionStore``
/// (``InMemorySessionStore`` in one process).
public struct SocketIOConnectionStateRecovery: Sendable, Hashable {
    /// How long a disconnected session, and every event logged for it, is kept (Node
    /// `maxDisconnectionDuration`, 2 minutes). A client that comes back later gets a new
    /// session (new id, no rooms, no `data`, `recovered` false).
    public var maxDisconnectionDuration: TimeAmount
    /// Whether a recovered socket skips the connection middleware (Node `skipMiddlewares`,
    /// `true`): it passed them when it first connected.
    public var skipMiddlewares: Bool

    // MARK: - Limits
    // Set after `init`. Node keeps both without bound (its log is pruned once a minute by
    // time only); 0 turns a limit off.

    /// Most events the log keeps (all namespaces together). When an append passes it, the
    /// oldest events go: a client whose offset went with them cannot be brought up to date
    /// and gets a new session (as after expiry), never a session with a gap. Each event
    /// holds its encoded frames (shared with its recipients) and its rooms, so the log holds
    /// at most about `maxPackets × (packet size + room names)` bytes.
    public var maxPackets: Int = 10_000
    /// Most disconnected sessions kept. When a disconnect passes it, the session that
    /// disconnected first goes (its client gets a new session when it comes back). Each
    /// session holds its rooms (bounded by ``SocketIOConfiguration/maxRoomsPerSocket``) and
    /// its `data`.
    public var maxSessions: Int = 10_000

    /// - Parameters:
    ///   - maxDisconnectionDuration: how long a disconnected session is kept (2 minutes).
    ///   - skipMiddlewares: whether a recovered socket skips the connection middleware.
    public init(maxDisconnectionDuration: TimeAmount = .minutes(2), skipMiddlewares: Bool = true) {
        self.maxDisconnectionDuration = maxDisconnectionDuration
        self.skipMiddlewares = skipMiddlewares
    }

    /// The reasons after which a session is kept (Node `RECOVERABLE_DISCONNECT_REASONS`):
    /// the connection was lost or closed under the socket (`transport close`, `transport
    /// error`, `ping timeout`, `forced close`) or the server went away (`server shutting
    /// down`, `forced server close`). A socket that left its namespace on purpose (`client
    /// namespace disconnect`, `server namespace disconnect`) or sent garbage (`parse error`)
    /// is not kept.
    public static func isRecoverable(_ reason: SocketIODisconnectReason) -> Bool {
        // By description, so that a reason added later with Node's name counts too.
        Self.recoverableReasons.contains(reason.description)
    }

    static let recoverableReasons: Set<String> = [
        "transport error", "transport close", "forced close", "ping timeout", "server shutting down",
        "forced server close",
    ]
}
