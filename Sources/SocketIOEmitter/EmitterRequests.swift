//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import SocketIOMessageQueue

/// The emitter's requests that wait for the nodes' responses: pure state (the emitter holds
/// it under one lock). An emitter knows no membership, so a request simply gathers what
/// arrives until its caller's timeout; one response per node, and a bounded number of
/// nodes, so that a forged flood on the reply channel cannot grow it.
struct EmitterRequests {
    /// The most nodes a request keeps responses from.
    static let maxResponses = 1_024

    private var nextID = 1
    private var waiting: [String: [MessageQueueMessage.Response]] = [:]

    /// Opens a request; returns its id.
    mutating func start() -> String {
        let id = "\(self.nextID)"
        self.nextID += 1
        self.waiting[id] = []
        return id
    }

    /// Keeps `response` if its request waits and its node has not answered yet.
    /// - Returns: whether it was kept.
    @discardableResult
    mutating func receive(_ response: MessageQueueMessage.Response) -> Bool {
        guard var responses = self.waiting[response.requestID], responses.count < Self.maxResponses,
            !responses.contains(where: { $0.hostID == response.hostID })
        else { return false }
        responses.append(response)
        self.waiting[response.requestID] = responses
        return true
    }

    /// Closes a request.
    /// - Returns: the responses it got, in arrival order.
    mutating func finish(_ id: String) -> [MessageQueueMessage.Response] {
        self.waiting.removeValue(forKey: id) ?? []
    }

    /// How many requests are open.
    var count: Int { self.waiting.count }
}
