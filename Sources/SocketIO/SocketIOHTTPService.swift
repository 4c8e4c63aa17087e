//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import EngineIO
public import NIOCore
public import ServiceLifecycle

/// An HTTP/WebSocket listener of a ``SocketIOServer``, as a `Service`: serves until
/// graceful shutdown, then closes its port, closes every session (clients are told to
/// reconnect) and closes its connections.
///
/// The server runs beside it as a second `Service` (its adapter, pruning and handler
/// tasks): `ServiceGroup(services: [io, listener], …)`, in that order, so that the listener
/// stops first and the server after it. `GET /readyz` answers 200 only while the server
/// runs and its adapter is ready (``SocketIOServer/isReady``): a listener without its server
/// never reports ready.
public struct SocketIOHTTPService: Service {
    let server: SocketIOServer
    let http: EngineIOHTTPServer

    /// The bound address, once listening.
    public var localAddress: SocketAddress {
        get async throws { try await self.http.localAddress }
    }

    /// Listens and serves until graceful shutdown or cancellation.
    /// - Throws: the listener's error (the address is taken).
    public func run() async throws {
        let server = self.server
        self.http.setReadinessCheck { server.isReady }
        try await self.http.run()
    }
}

extension SocketIOServer {
    /// Serves on `host:port` until the task is cancelled or a graceful shutdown begins: the
    /// server (``run()``) and its listener (``httpServer(host:port:router:eventLoopGroup:)``)
    /// in one `ServiceGroup` that traps no signals, stopped in the same order as an
    /// application's group: the listener first, then the server.
    public func run(host: String, port: Int, router: EngineIORouter? = nil) async throws {
        let listener = self.httpServer(host: host, port: port, router: router)
        let group = ServiceGroup(configuration: .init(services: [.init(service: self), .init(service: listener)], logger: self.logger))
        try await group.run()
    }
}
