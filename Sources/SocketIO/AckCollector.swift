//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import NIOConcurrencyHelpers
import NIOCore
public import SocketIOParser
import Synchronization

/// Ack ids for server→client emits, unique in the process. Node numbers them per
/// namespace; one counter for all means a broadcast's packet can carry one id that is
/// free on every recipient, so it is encoded once.
package enum SocketIOAckIDs {
    private static let counter = Atomic<Int>(0)

    /// The next id (never reused; at a million acks a second it lasts 292,000 years).
    package static func next() -> Int {
        counter.wrappingAdd(1, ordering: .relaxed).newValue
    }
}

/// Gathers the answers to one broadcast with an ack: resumes once every recipient
/// answered or left, or when the timeout fires first.
final class AckCollector: Sendable {
    private struct State {
        var outstanding: Int
        var responses: [[SocketIOValue]] = []
        var continuation: CheckedContinuation<Result<[[SocketIOValue]], SocketIOAckError>, Never>?
        var timer: Scheduled<Void>?
    }

    private let state: NIOLockedValueBox<State>

    init(expected: Int, continuation: CheckedContinuation<Result<[[SocketIOValue]], SocketIOAckError>, Never>) {
        self.state = NIOLockedValueBox(State(outstanding: expected, continuation: continuation))
    }

    /// Starts the timeout (outside the lock: an answer may already have completed it).
    func arm(timeout: Duration, on eventLoop: any EventLoop) {
        let timer = eventLoop.scheduleTask(in: TimeAmount(timeout)) { self.finish(.failure(.timeout)) }
        let keep = self.state.withLockedValue { state -> Bool in
            guard state.continuation != nil else { return false }
            state.timer = timer
            return true
        }
        if !keep { timer.cancel() }
    }

    /// One recipient's answer, or its disconnect (which is not waited for).
    func receive(_ result: Result<[SocketIOValue], SocketIOAckError>) {
        let done = self.state.withLockedValue { state -> (CheckedContinuation<Result<[[SocketIOValue]], SocketIOAckError>, Never>, [[SocketIOValue]], Scheduled<Void>?)? in
            guard state.continuation != nil else { return nil }
            if case .success(let values) = result { state.responses.append(values) }
            state.outstanding -= 1
            guard state.outstanding == 0, let continuation = state.continuation.take() else { return nil }
            return (continuation, state.responses, state.timer.take())
        }
        guard let (continuation, responses, timer) = done else { return }
        timer?.cancel()
        continuation.resume(returning: .success(responses))
    }

    private func finish(_ result: Result<[[SocketIOValue]], SocketIOAckError>) {
        let continuation = self.state.withLockedValue { $0.continuation.take() }
        continuation?.resume(returning: result)
    }
}
