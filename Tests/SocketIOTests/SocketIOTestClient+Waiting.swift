//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import SocketIOTesting
import Testing

extension SocketIOTestClient {
    /// The ids of the acks the server asked this client for, once there are at least
    /// `count` (polled for up to about a second; records an issue if they never come).
    func waitForPendingAckIDs(atLeast count: Int = 1) async throws -> [Int] {
        for _ in 0..<500 {
            let ids = self.pendingAckIDs()
            if ids.count >= count { return ids }
            try await Task.sleep(for: .milliseconds(2))
        }
        Issue.record("no ack request arrived")
        return []
    }
}
