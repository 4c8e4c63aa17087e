//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

public import EngineIO
public import NIOCore
public import ServiceLifecycle

/// Serves a ``SocketIOServer`` over HTTP/WebSocket until graceful shutdown; then closes
/// every connection and waits for the handlers and background tasks to end.
public struct SocketIOHTTPService: Service {
    let server: SocketIOServer
    let http: EngineIOHTTPServer

    /// The bound address, once listening.
    public var localAddress: SocketAddress {
        get async throws { try await self.http.localAddress }
    }

    public func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            // The client manager (a cluster subscription) runs as long as the listener.
            group.addTask { try await self.server.adapter.run() }
            try await self.http.run()
            group.cancelAll()
        }
        await self.server.stopTasks()
    }
}

extension SocketIOServer {
    /// Serves on `host:port` until the task is cancelled or a graceful shutdown begins.
    public func run(host: String, port: Int, router: HTTPRequestRouter? = nil) async throws {
        try await self.httpServer(host: host, port: port, router: router).run()
    }
}
