//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import Backplane
import Logging
import NIOCore
@testable import SocketIO
@testable import SocketIOCluster
import SocketIOMessageQueue
import SocketIOParser
import SocketIOTesting
import Testing

/// Connection state recovery over the cluster adapter: per node for now, so each node
/// stamps and logs what it delivers to its own sockets, remote emits included.
struct ClusterRecoveryTests {
    @Test func eachNodeStampsAndLogsWhatItDelivers() async throws {
        let bus = InMemoryBackplaneBus()
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        var configuration = SocketIOConfiguration()
        configuration.connectionStateRecovery = SocketIOConnectionStateRecovery()
        var servers: [SocketIOServer] = []
        var tasks: [Task<Void, Never>] = []
        for _ in 0..<2 {
            let adapter = ClusterAdapter(transport: bus.makeTransport(), logger: logger)
            servers.append(SocketIOServer(configuration: configuration, adapter: adapter, logger: logger))
            tasks.append(Task { try? await adapter.run() })
        }
        defer { for task in tasks { task.cancel() } }
        let inboxes = [Inbox(try await SocketIOTestClient(server: servers[0])), Inbox(try await SocketIOTestClient(server: servers[1]))]

        servers[0].emit("news", 1)
        var offsets: [String] = []
        for inbox in inboxes {
            let events = try await inbox.wait(for: 1)
            #expect(events.count == 1)
            let arguments = try #require(events.first?.arguments)
            // The node's own offset, one only: what travels between nodes carries none.
            #expect(arguments.count == 2)
            #expect(arguments.first == 1)
            offsets.append(try #require(arguments.last?.stringValue))
        }
        let stores = try servers.map { try #require($0.recovery?.memoryStore) }
        #expect(offsets[0].hasPrefix(stores[0].prefix + "."))
        #expect(offsets[1].hasPrefix(stores[1].prefix + "."))
        #expect(stores.map(\.packetCount) == [1, 1])
    }
}
