//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import NIOCore
import NIOPosix

/// Flushes WebSocket connections once per batch of work on an event loop, not once per
/// write.
///
/// A write marks its connection and, if none is pending, schedules one flush pass on the
/// loop. Work already queued on the loop (the other broadcasts of a burst, the other events
/// read from a socket) runs before that pass, so a connection that several broadcasts reach
/// in one burst gets all of them in one `writev`. When the loop is idle the pass runs at
/// once, so a lone message is not delayed beyond the current task.
///
/// `@unchecked Sendable`: one batcher per thread (a thread-specific variable), touched only
/// by the event loop that runs on that thread.
final class FlushBatcher: @unchecked Sendable {
    private static let perThread = ThreadSpecificVariable<FlushBatcher>()

    private var pending: [EngineIOWebSocketConnection] = []
    private var scheduled = false

    /// Flushes `connection` at the end of the current batch. Call on its loop.
    static func flushSoon(_ connection: EngineIOWebSocketConnection, on eventLoop: any EventLoop) {
        let batcher: FlushBatcher
        if let current = Self.perThread.currentValue {
            batcher = current
        } else {
            batcher = FlushBatcher()
            Self.perThread.currentValue = batcher
        }
        batcher.pending.append(connection)
        if !batcher.scheduled {
            batcher.scheduled = true
            eventLoop.execute { batcher.flushAll() }
        }
    }

    private func flushAll() {
        self.scheduled = false
        let connections = self.pending
        self.pending.removeAll(keepingCapacity: true)
        for connection in connections { connection.flushNow() }
    }
}
