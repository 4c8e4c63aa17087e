//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import Backplane
import Logging
import NIOConcurrencyHelpers
import NIOCore
import SocketIO
@testable import SocketIOCluster
import Testing

/// Node membership end to end: three adapters beating on an in-memory bus.
struct ClusterAdapterMembershipTests {
    private let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Waits until `condition` holds (or a generous deadline passes).
    private func eventually(_ condition: () -> Bool) async throws -> Bool {
        for _ in 0..<400 where !condition() {
            try await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    @Test func nodesSeeEachOtherAndLeaveByGoodbyeOrSilence() async throws {
        let bus = InMemoryBackplaneBus()
        let transports = (0..<3).map { _ in bus.makeTransport() }
        let adapters = transports.map {
            ClusterAdapter(transport: $0, heartbeatInterval: .milliseconds(50), membership: .init(missedBeats: 3), logger: self.logger)
        }
        let servers = adapters.map { SocketIOServer(adapter: $0, logger: self.logger) }
        let tasks = adapters.map { adapter in Task { try? await adapter.run() } }
        defer { for task in tasks { task.cancel() } }

        #expect(try await eventually { servers.allSatisfy { $0.serverCount == 3 } })
        #expect(adapters[0].nodes == adapters.map(\.hostID).sorted())

        // A graceful stop: its goodbye removes it long before the missed beats would.
        tasks[2].cancel()
        #expect(try await eventually { adapters[0].serverCount == 2 && adapters[1].serverCount == 2 })
        #expect(adapters[0].nodes == [adapters[0].hostID, adapters[1].hostID].sorted())

        // Silence: node 1 stops beating without a goodbye (its link is cut).
        transports[1].setDetached(true)
        #expect(try await eventually { adapters[0].serverCount == 1 })
        #expect(adapters[0].nodes == [adapters[0].hostID])
    }

    @Test func aLateJoinerLearnsTheClusterAtOnceNotAnIntervalLater() async throws {
        // Beats every minute: without the peers' answer to a newcomer's first beat, the
        // newcomer would know nobody for a minute.
        let bus = InMemoryBackplaneBus()
        func node() -> ClusterAdapter {
            ClusterAdapter(transport: bus.makeTransport(), heartbeatInterval: .seconds(60), logger: self.logger)
        }
        let first = [node(), node()]
        let tasks = first.map { adapter in Task { try? await adapter.run() } }
        defer { for task in tasks { task.cancel() } }
        #expect(try await eventually { first.allSatisfy { $0.serverCount == 2 } })
        // The two have beaten; the third joins the bus only now and heard none of it.
        let adapters = first + [node()]
        let late = Task { try? await adapters[2].run() }
        defer { late.cancel() }
        #expect(try await eventually { adapters.allSatisfy { $0.serverCount == 3 } })
        #expect(adapters[2].nodes == adapters.map(\.hostID).sorted())
    }

    @Test func aGracefulStopSaysGoodbyeOnTheChannel() async throws {
        let bus = InMemoryBackplaneBus()
        let listener = bus.makeTransport()
        let heard = NIOLockedValueBox<[MessageQueueMessageSummary]>([])
        let listening = Task {
            for await message in listener.messages {
                heard.withLockedValue { $0.append(MessageQueueMessageSummary(message.payload)) }
            }
        }
        let runner = Task { try? await listener.run() }
        let adapter = ClusterAdapter(transport: bus.makeTransport(), heartbeatInterval: .seconds(60), logger: self.logger)
        let task = Task { try? await adapter.run() }
        // The first heartbeat is published at once; then nothing but the goodbye.
        #expect(try await eventually { heard.withLockedValue { $0 } == [.heartbeat] })
        task.cancel()
        await task.value
        #expect(try await eventually { heard.withLockedValue { $0 } == [.heartbeat, .goodbye] })
        runner.cancel()
        await listening.value
    }

    @Test func peersBeatsAndFutureMethodsAreNotLoggedAsGarbage() {
        let log = CapturedLog()
        let adapter = ClusterAdapter(transport: InMemoryBackplaneBus().makeTransport(), logger: Logger(label: "test", factory: { _ in log }))
        adapter.handle(ByteBuffer(string: #"{"method":"heartbeat","host_id":"peer","interval_ms":5000}"#))
        adapter.handle(ByteBuffer(string: #"{"method":"goodbye","host_id":"peer"}"#))
        adapter.handle(ByteBuffer(string: #"{"method":"a_future_method","host_id":"peer","whatever":[1]}"#))
        #expect(log.lines.filter { $0.level >= .warning }.isEmpty)
        #expect(log.lines.map(\.message) == ["a cluster node joined", "a cluster node left"])
        // Garbage still is (one line, within the budget).
        adapter.handle(ByteBuffer(string: "not json"))
        #expect(log.lines.filter { $0.level >= .warning }.map(\.message) == ["dropped an invalid message-queue message"])
    }
}

/// A log handler that keeps what it is given.
struct CapturedLog: LogHandler {
    private let box = NIOLockedValueBox<[(level: Logger.Level, message: String)]>([])
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    var lines: [(level: Logger.Level, message: String)] { self.box.withLockedValue { $0 } }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        self.box.withLockedValue { $0.append((event.level, "\(event.message)")) }
    }
}

/// Just the method of a channel message, for comparisons.
enum MessageQueueMessageSummary: Hashable {
    case heartbeat, goodbye, other

    init(_ bytes: ByteBuffer) {
        let text = String(buffer: bytes)
        if text.contains(#""method":"heartbeat""#) {
            self = .heartbeat
        } else if text.contains(#""method":"goodbye""#) {
            self = .goodbye
        } else {
            self = .other
        }
    }
}
