//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import NIOConcurrencyHelpers
import NIOCore
import Synchronization

extension SocketIOServer {

    /// Starts a background task that lives until it returns or the server stops (it is
    /// cancelled then). Flask-SocketIO `start_background_task`.
    public func startBackgroundTask(_ body: @escaping @Sendable () async -> Void) {
        self.track(body)
    }

    /// Runs `body` as a tracked task (on `executor` when given); `stop()` cancels and awaits
    /// every one.
    /// - Returns: `false` when the server is stopping (nothing was started).
    @discardableResult
    func track(
        on executor: (any TaskExecutor)? = nil,
        immediately: Bool = false,
        _ body: @escaping @Sendable () async -> Void
    ) -> Bool {
        let id = self.tasks.withLockedValue { registry -> Int? in
            guard !registry.stopping else { return nil }
            registry.nextID += 1
            return registry.nextID
        }
        guard let id else { return false }
        let run: @Sendable () async -> Void = {
            await body()
            self.tasks.withLockedValue { registry in
                if registry.running.removeValue(forKey: id) == nil { registry.endedBeforeRegistration.insert(id) }
            }
        }
        // Created outside the lock: a task started immediately may run to its end (and
        // unregister itself) before `Task.immediate` returns.
        let task = immediately ? Task.immediate(executorPreference: executor, operation: run) : Task(executorPreference: executor, operation: run)
        self.tasks.withLockedValue { registry in
            if registry.endedBeforeRegistration.remove(id) == nil { registry.running[id] = task }
        }
        return true
    }


    /// Starts a handler task of a socket: it runs `job`, then whatever the socket's machine
    /// gives it next, and ends when the mailbox has nothing for it. A socket has a task
    /// only while it has work (one at a time, unless handlers run concurrently), which keeps
    /// the Socket.IO ordering contract without parking a task on every idle connection.
    /// - Returns: `false` when the server is stopping (nothing was started).
    func runHandlerTask(for socket: SocketIOSocket, _ job: SocketIOSocket.StateMachine.Job) -> Bool {
        guard let executor = socket.handlerExecutor else {
            return self.track { await socket.runJobs(from: job) }
        }
        // On the connection's loop (an event just read) the handler starts right here, up to
        // its first suspension, instead of being queued behind the loop's other work.
        return self.track(on: executor, immediately: executor.eventLoop.inEventLoop) {
            await socket.runJobs(from: job)
        }
    }

    /// The executor of a connection's handler tasks (one per loop), or `nil` when handlers
    /// run on the global executor (``SocketIOConfiguration/handlersOnEventLoop``).
    func handlerExecutor(for eventLoop: any EventLoop) -> EventLoopTaskExecutor? {
        self.configuration.handlersOnEventLoop ? self.executors.executor(for: eventLoop) : nil
    }

    /// Whether ``stopTasks()`` has begun: no handler starts any more.
    var isStopping: Bool { self.stopping.load(ordering: .acquiring) }

    /// Cancels background tasks and waits for every handler task to end.
    public func stopTasks() async {
        self.stopping.store(true, ordering: .releasing)
        let running = self.tasks.withLockedValue { registry -> [Task<Void, Never>] in
            registry.stopping = true
            return Array(registry.running.values)
        }
        for task in running { task.cancel() }
        for task in running { await task.value }
    }

}
