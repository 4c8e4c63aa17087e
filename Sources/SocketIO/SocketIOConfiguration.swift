//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import EngineIO
public import NIOCore

/// Settings of a ``SocketIOServer`` (Flask-SocketIO's options, the Swift way).
public struct SocketIOConfiguration: Sendable {
    /// The Engine.IO settings: path (default `/socket.io/`), ping interval/timeout,
    /// `maxPayload` (`max_http_buffer_size`), upgrades, CORS, cookie, compression.
    public var engine: EngineIOConfiguration
    /// A client that joins no namespace within this time is closed (Node `connectTimeout`).
    public var connectTimeout: TimeAmount
    /// Send CONNECT before the connect handler runs, and DISCONNECT if it refuses
    /// (Flask-SocketIO `always_connect`).
    public var alwaysConnect: Bool
    /// How long an emit waits for the client's ack by default.
    public var ackTimeout: TimeAmount
    /// Most binary attachments one packet may carry.
    public var maxAttachments: Int
    /// Run each socket's handlers on its connection's event loop (the default), so that an
    /// event is handled on the thread that read it and emits leave without a thread hop.
    /// Handlers must then not block: await instead (as on any event loop). `false` runs
    /// them on Swift's global concurrent executor, for handlers that call blocking code.
    public var handlersOnEventLoop: Bool
    /// Run each event's handler as soon as it arrives, on a task of its own, instead of
    /// one after the other in arrival order (Flask-SocketIO's `async_handlers`). Off by
    /// default: order is what most handlers expect. The connect handler still runs before
    /// any event and the disconnect handlers after every running one; at most
    /// ``maxQueuedEvents`` run at once per socket (then the connection stops reading).
    public var concurrentHandlers: Bool = false
    /// Remove a child namespace of a parent (`io.of(pattern:)`, `io.ofAny()`) when its last
    /// socket leaves, so that clients cannot grow the namespace table by connecting to ever
    /// new names (Node's `cleanupEmptyChildNamespaces`, off there by default). Handlers
    /// live on the parent, so a child made again later behaves the same.
    public var cleanupEmptyChildNamespaces: Bool = true
    /// Connection state recovery (Node's `connectionStateRecovery`): `nil`, the default,
    /// turns it off (the CONNECT reply is `{"sid"}` only, broadcasts carry no offset). On,
    /// a client whose connection drops comes back with its socket id, rooms, `data` and the
    /// events it missed; see ``SocketIOConnectionStateRecovery`` for the wire and the limits.
    /// The server keeps the sessions in an ``InMemorySessionStore`` unless given another
    /// store; in a cluster each node keeps its own for now.
    public var connectionStateRecovery: SocketIOConnectionStateRecovery? = nil

    // MARK: - Limits
    // Set after `init`. Each limit has a counter `socketio.limit.hits{limit=<name>}` and logs
    // on its 1st, 10th, 100th… hit.

    /// Most server→client emits with an ack that one socket may have waiting for the
    /// client's answer (each holds a callback and a timer until it is answered or times
    /// out). An emit with an ack beyond it is not sent: its callback gets
    /// ``SocketIOAckError/tooManyPendingAcks`` at once (`emitWithAck` throws it). The
    /// client sees nothing. Node and python-socketio keep them without bound; 0 turns it off.
    public var maxPendingAcks: Int = 1_024
    /// Most rooms one socket may be in, the room named after its id included. A join beyond
    /// it is ignored (the socket stays in its other rooms) and counted; the client sees
    /// nothing. Node and python-socketio have no such limit; 0 turns it off.
    public var maxRoomsPerSocket: Int = 1_000
    /// Longest room name, in UTF-8 bytes, that a socket may join (the room named after its
    /// id is always joined). With ``maxRoomsPerSocket`` it bounds what one socket's rooms
    /// hold: at most about `maxRoomsPerSocket × maxRoomNameBytes` bytes of names (1 MB by
    /// default). A join of a longer name is ignored (the socket stays in its other rooms)
    /// and counted; the client sees nothing, and an emit to that room reaches nobody.
    /// Node and python-socketio have no such limit; 0 turns it off.
    public var maxRoomNameBytes: Int = 1_024
    /// Most events one socket may have waiting for its handlers (behind an `async` handler
    /// that suspends). At this count the connection stops reading (WebSocket: the server
    /// reads no more bytes, TCP holds the client back; polling: the answer to the client's
    /// POST waits) until the handlers have caught up to half of it. Nothing is dropped.
    /// A POST answer waits at most `min(pingTimeout / 2, 5 s)` (proxies and clients time
    /// out held requests), then is `ok`: over polling the mailbox can pass this limit by one
    /// POST's payload per such hold while the handlers stay behind (see
    /// ``EngineIOSession/pauseReading()``). 0 turns it off.
    public var maxQueuedEvents: Int = 64

    public init(
        engine: EngineIOConfiguration = EngineIOConfiguration(),
        connectTimeout: TimeAmount = .seconds(45),
        alwaysConnect: Bool = false,
        ackTimeout: TimeAmount = .seconds(60),
        maxAttachments: Int = 10,
        handlersOnEventLoop: Bool = true
    ) {
        self.engine = engine
        self.connectTimeout = connectTimeout
        self.alwaysConnect = alwaysConnect
        self.ackTimeout = ackTimeout
        self.maxAttachments = maxAttachments
        self.handlersOnEventLoop = handlersOnEventLoop
    }
}
