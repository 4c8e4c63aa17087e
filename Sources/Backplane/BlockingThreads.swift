//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import Foundation

/// Runs a backplane's blocking client loops, each on a thread of its own (C clients block;
/// never on event loops or the cooperative pool), for as long as the calling task runs.
public enum BlockingThreads {
    /// Starts `loops` on their own threads and waits until the task is cancelled (graceful
    /// shutdown cancels it); then runs `stop` on a thread (it may block, e.g. to flush) and
    /// waits until every loop has returned.
    public static func run(_ loops: [@Sendable () -> Void], stop: @escaping @Sendable () -> Void) async {
        let done = DispatchSemaphore(value: 0)
        for loop in loops {
            Thread.detachNewThread {
                loop()
                done.signal()
            }
        }
        await withTaskCancellationHandler {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(3600))
            }
        } onCancel: {}
        await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                stop()
                for _ in loops { done.wait() }
                finished.resume()
            }
        }
    }
}
