//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIO
import NIOConcurrencyHelpers
import NIOCore
public import ServiceLifecycle

/// Why ``SocketIOServer/run()`` refused to run.
public struct SocketIOServiceError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Hashable {
        case alreadyRunning
        case alreadyFinished
    }

    private let code: Code
    /// `run()` was called while another `run()` of the same server was running (the server
    /// is in a service group twice, or its convenience `run(host:port:)` runs beside it).
    public static let alreadyRunning = Self(code: .alreadyRunning)
    /// `run()` was called after a `run()` of the same server ended: its handler tasks are
    /// stopped for good, so it cannot serve again.
    public static let alreadyFinished = Self(code: .alreadyFinished)

    public var description: String {
        switch self.code {
        case .alreadyRunning: return "the Socket.IO server is already running"
        case .alreadyFinished: return "the Socket.IO server already ran and stopped; make a new one"
        }
    }
}

/// The lifecycle of the server's `run()`: at most one, once.
enum SocketIOServiceState: Sendable {
    case idle
    case running
    /// Graceful shutdown (or cancellation) began: the server no longer reports ready.
    case stopping
    case finished
}

extension SocketIOServer: Service {
    /// Runs what the server needs beside its listeners, until graceful shutdown: the
    /// adapter (a cluster subscription) and, with connection state recovery, the pruning of
    /// its store. Then stops them, closes the sessions left (`serverShuttingDown`; none when
    /// a listener drained them first) and waits for every handler and background task.
    ///
    /// Run it with its listener in one `ServiceGroup`, the server first:
    /// `ServiceGroup(services: [io, io.httpServer(host:port:)], …)`. The group shuts services
    /// down in reverse order: the listener closes its port and drains its sessions while the
    /// adapter still delivers broadcasts, then the server stops.
    ///
    /// A server runs once: a second `run()`, concurrent or later, throws
    /// ``SocketIOServiceError`` and changes nothing.
    ///
    /// - Throws: the adapter's error as soon as its `run()` fails (a dead backplane thread),
    ///   after the cleanup above: a worker that can no longer hear its cluster stops (its
    ///   service group stops the listener too), so that its supervisor restarts it, instead
    ///   of serving clients who miss every broadcast.
    public func run() async throws {
        let refusal = self.serviceState.withLockedValue { state -> SocketIOServiceError? in
            switch state {
            case .idle:
                state = .running
                return nil
            case .running, .stopping: return .alreadyRunning
            case .finished: return .alreadyFinished
            }
        }
        if let refusal { throw refusal }
        let adapter = self.adapter
        let recovery = self.recovery
        // On one of the server's loops: what other nodes publish is handed to that loop's
        // sockets without a thread hop, and no global-executor thread wakes for each message.
        let receiving = self.executors.executor(for: self.eventLoopGroup.any())
        enum Finished { case adapter, pruning, shutdown }
        do {
            try await withThrowingTaskGroup(of: Finished.self) { group in
                // An adapter with nothing to run returns at once; the server runs on.
                group.addTask(executorPreference: receiving) {
                    try await adapter.run()
                    return .adapter
                }
                // Connection state recovery drops expired sessions and events about once a
                // minute, for as long as the server serves.
                if let recovery {
                    group.addTask {
                        await recovery.runPruning()
                        return .pruning
                    }
                }
                // Ends on graceful shutdown, or when the service is cancelled (its error is
                // the cancellation: nothing to report).
                group.addTask {
                    try? await gracefulShutdown()
                    return .shutdown
                }
                // The adapter's error ends the group at once (the other tasks are cancelled).
                while let finished = try await group.next(), finished != .shutdown {}
                self.serviceState.withLockedValue { $0 = .stopping }
                // The adapter says goodbye to its cluster on cancellation; an error it
                // throws once asked to stop is not a failure of the worker.
                group.cancelAll()
            }
        } catch {
            await self.finishRunning()
            throw error
        }
        await self.finishRunning()
    }

    /// Whether the server can take clients now: its ``run()`` is running and not shutting
    /// down, and its adapter is ready (a cluster adapter once its first subscription is
    /// confirmed). The listener's `/readyz` reports it.
    public var isReady: Bool {
        self.isServing && self.adapter.isReady
    }

    /// Whether ``run()`` runs and its shutdown has not begun.
    var isServing: Bool {
        self.serviceState.withLockedValue { $0 } == .running
    }

    /// The end of `run()`: sessions closed, handler tasks drained.
    private func finishRunning() async {
        self.serviceState.withLockedValue { $0 = .stopping }
        await self.engine.closeAllSessions(reason: .serverShuttingDown)
        await self.stopTasks()
        self.serviceState.withLockedValue { $0 = .finished }
    }
}
