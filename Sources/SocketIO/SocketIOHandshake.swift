//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import EngineIO
public import NIOCore
public import NIOHTTP1
public import SocketIOParser

/// What a client sent when it connected to a namespace: the handler's view of Flask's
/// `request` during `connect`.
public struct SocketIOHandshake: Sendable {
    /// The CONNECT payload (`auth` of the JavaScript client), or `nil`.
    public let auth: SocketIOValue?
    /// The Engine.IO handshake request (query, headers, cookies, address).
    public let request: EngineIORequest
    /// When the socket connected.
    public let time: NIODeadline

    public init(auth: SocketIOValue?, request: EngineIORequest, time: NIODeadline = .now()) {
        self.auth = auth
        self.request = request
        self.time = time
    }

    /// Query parameters of the handshake URL.
    public var query: [String: String] { self.request.query }
    /// Headers of the handshake request.
    public var headers: HTTPHeaders { self.request.headers }
    /// Cookies of the handshake request.
    public var cookies: [String: String] { self.request.cookies }
    /// The peer address (the proxy, behind one).
    public var remoteAddress: SocketAddress? { self.request.remoteAddress }
    /// The client's address (`X-Forwarded-For` when the proxy is trusted).
    public var clientAddress: String? { self.request.clientAddress }
}
