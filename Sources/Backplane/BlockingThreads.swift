//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import Foundation
import NIOConcurrencyHelpers

/// Runs a backplane's blocking client loops, each on a thread of its own (C clients block;
/// never on event loops or the cooperative pool), for as long as the calling task runs.
public enum BlockingThreads {
    private struct State {
        var failure: (any Error)?
        var waiter: CheckedContinuation<Void, Never>?
        var woken = false
    }

    /// Starts `loops` on their own threads and waits until the task is cancelled (graceful
    /// shutdown cancels it) or a loop ends on its own; then runs `stop` on a thread (it may
    /// block, e.g. to flush) and waits until every loop has returned.
    ///
    /// A loop must run until `stop` makes it return. One that throws, or returns before
    /// `stop` ran, has died: the others are stopped and this function throws, so that the
    /// transport's service fails (and the worker exits) instead of serving without a
    /// backplane.
    /// - Throws: the first loop's error, or ``BackplaneError`` (fatal) for a loop that
    ///   returned early.
    public static func run(_ loops: [@Sendable () throws -> Void], stop: @escaping @Sendable () -> Void) async throws {
        let state = NIOLockedValueBox(State())
        let stopping = NIOLockedValueBox(false)
        let done = DispatchSemaphore(value: 0)
        @Sendable func wake(_ failure: (any Error)?) {
            let waiter = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
                if state.failure == nil, let failure { state.failure = failure }
                state.woken = true
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
        for (index, loop) in loops.enumerated() {
            Thread.detachNewThread {
                do {
                    try loop()
                    if !stopping.withLockedValue({ $0 }) {
                        wake(BackplaneError(.fatal, "backplane thread \(index) ended unexpectedly"))
                    }
                } catch {
                    // An error while stopping is part of stopping, not a failure.
                    if !stopping.withLockedValue({ $0 }) { wake(error) }
                }
                done.signal()
            }
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLockedValue { state -> Bool in
                    if state.woken { return true }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            wake(nil)
        }
        stopping.withLockedValue { $0 = true }
        await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                stop()
                for _ in loops { done.wait() }
                finished.resume()
            }
        }
        if let failure = state.withLockedValue({ $0.failure }) { throw failure }
    }
}
