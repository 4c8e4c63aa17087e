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
