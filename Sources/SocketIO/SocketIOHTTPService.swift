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

    /// Runs the adapter (a cluster subscription), the listener and, with connection state
    /// recovery, the pruning of its store side by side.
    ///
    /// - Throws: the adapter's error as soon as its `run()` fails (a dead backplane thread),
    ///   after closing the listener: a worker that can no longer hear its cluster stops, so
    ///   that its supervisor restarts it, instead of serving clients who miss every broadcast.
    ///   Also the listener's error (the address is taken).
    public func run() async throws {
        let server = self.server
        // Readiness (`/readyz`) includes the adapter's: a cluster adapter is ready once its
        // subscription is confirmed.
        self.http.setReadinessCheck { server.adapter.isReady }
        enum Finished { case adapter, listener, pruning }
        do {
            try await withThrowingTaskGroup(of: Finished.self) { group in
                // The client manager runs as long as the listener; an adapter with nothing
                // to run returns at once.
                group.addTask {
                    try await server.adapter.run()
                    return .adapter
                }
                group.addTask {
                    try await self.http.run()
                    return .listener
                }
                // Connection state recovery drops expired sessions and events about once a
                // minute, for as long as the server serves.
                if let recovery = server.recovery {
                    group.addTask {
                        await recovery.runPruning()
                        return .pruning
                    }
                }
                // The first error ends the group: the other task is cancelled (the listener
                // closes its connections) and the error is thrown.
                while let finished = try await group.next() {
                    if finished == .listener {
                        group.cancelAll()
                        return
                    }
                }
            }
        } catch {
            await self.server.stopTasks()
            throw error
        }
        await self.server.stopTasks()
    }
}

extension SocketIOServer {
    /// Serves on `host:port` until the task is cancelled or a graceful shutdown begins.
    public func run(host: String, port: Int, router: EngineIORouter? = nil) async throws {
        try await self.httpServer(host: host, port: port, router: router).run()
    }
}
