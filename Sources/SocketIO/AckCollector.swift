//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import NIOConcurrencyHelpers
import NIOCore
import SocketIOParser
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
/// answered or left (complete), or when the timeout fires first with the answers that
/// arrived (incomplete).
final class AckCollector: Sendable {
    typealias Outcome = (answers: [[SocketIOValue]], complete: Bool)

    private struct State {
        var outstanding: Int
        var responses: [[SocketIOValue]] = []
        var completion: (@Sendable (Outcome) -> Void)?
        var timer: Scheduled<Void>?
    }

    private let state: NIOLockedValueBox<State>

    /// - Parameter completion: runs once, outside the lock, with the outcome.
    init(expected: Int, completion: @escaping @Sendable (Outcome) -> Void) {
        self.state = NIOLockedValueBox(State(outstanding: expected, completion: completion))
    }

    /// Starts the timeout (outside the lock: an answer may already have completed it).
    func arm(timeout: Duration, on eventLoop: any EventLoop) {
        let timer = eventLoop.scheduleTask(in: TimeAmount(timeout)) { self.expire() }
        let keep = self.state.withLockedValue { state -> Bool in
            guard state.completion != nil else { return false }
            state.timer = timer
            return true
        }
        if !keep { timer.cancel() }
    }

    /// One recipient's answer, or its disconnect (which is not waited for).
    func receive(_ result: Result<[SocketIOValue], SocketIOAckError>) {
        let done = self.state.withLockedValue { state -> (@Sendable (Outcome) -> Void, [[SocketIOValue]], Scheduled<Void>?)? in
            guard state.completion != nil else { return nil }
            if case .success(let values) = result { state.responses.append(values) }
            state.outstanding -= 1
            guard state.outstanding == 0, let completion = state.completion.take() else { return nil }
            return (completion, state.responses, state.timer.take())
        }
        guard let (completion, responses, timer) = done else { return }
        timer?.cancel()
        completion((responses, true))
    }

    private func expire() {
        let done = self.state.withLockedValue { state -> (@Sendable (Outcome) -> Void, [[SocketIOValue]])? in
            guard let completion = state.completion.take() else { return nil }
            return (completion, state.responses)
        }
        guard let (completion, responses) = done else { return }
        completion((responses, false))
    }
}
