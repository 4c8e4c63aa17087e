//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import EngineIO
public import EngineIOParser
public import NIOCore

/// What the Socket.IO layer needs from the connection below it. An Engine.IO session is
/// one; the in-process test client brings its own.
public protocol SocketIOTransport: AnyObject, Sendable {
    /// The loop on which the transport delivers messages; the client connection state is
    /// confined to it.
    var eventLoop: any EventLoop { get }
    /// The handshake request.
    var request: EngineIORequest { get }
    /// The name of the transport the connection uses now: `"polling"` or `"websocket"`; a
    /// polling connection that upgrades reports `"websocket"` from then on (Node
    /// `socket.conn.transport.name`, Flask-SocketIO `transport(sid)`). Safe from any thread.
    var transportName: String { get }
    /// Sends frames in order (safe from any thread).
    func send(_ frames: [EngineIOFrame])
    /// Closes the connection (safe from any thread).
    func close()
    /// Whether `send` hops to `eventLoop` when called from elsewhere. Broadcasts then hand
    /// such transports their frames from one task per loop instead of one hop per
    /// recipient. Default: `false` (`send` is called directly).
    var sendsOnEventLoop: Bool { get }
    /// Stops reading from the client until a matching ``resumeReading()`` (calls nest): the
    /// backpressure of a socket whose mailbox is full
    /// (``SocketIOConfiguration/maxQueuedEvents``). Safe from any thread. Each pause is
    /// matched by exactly one resume, and the two may reach the transport in either order
    /// (the socket calls them after releasing its lock, from whichever thread changed its
    /// mailbox): a resume that arrives first cancels its pause.
    func pauseReading()
    /// Resumes reading after ``pauseReading()``. Safe from any thread.
    func resumeReading()
    /// Whether a message sent now goes out without waiting in a buffer: a volatile
    /// broadcast is dropped for a transport that says `false` (Node's
    /// `transport.writable`). Safe from any thread.
    var isWritable: Bool { get }
}

extension SocketIOTransport {
    /// A transport that cannot tell takes every message.
    public var isWritable: Bool { true }
    public var sendsOnEventLoop: Bool { false }
    /// A transport without flow control reads on.
    public func pauseReading() {}
    public func resumeReading() {}
}

extension EngineIOSession: SocketIOTransport {
    public var sendsOnEventLoop: Bool { true }
}
