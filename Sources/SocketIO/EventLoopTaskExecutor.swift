//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import NIOConcurrencyHelpers
import NIOCore

/// A `TaskExecutor` that runs jobs on one NIO event loop.
///
/// A socket's handler task prefers the executor of its connection's loop, so an event is
/// handled on the thread that read it and the handler's emits reach the connection (and
/// every other connection of that loop) without a thread hop.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        self.eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}

/// One ``EventLoopTaskExecutor`` per loop, made on first use.
final class EventLoopTaskExecutors: Sendable {
    private let executors = NIOLockedValueBox<[ObjectIdentifier: EventLoopTaskExecutor]>([:])

    func executor(for eventLoop: any EventLoop) -> EventLoopTaskExecutor {
        self.executors.withLockedValue { executors in
            let key = ObjectIdentifier(eventLoop as AnyObject)
            if let executor = executors[key] { return executor }
            let executor = EventLoopTaskExecutor(eventLoop: eventLoop)
            executors[key] = executor
            return executor
        }
    }
}
