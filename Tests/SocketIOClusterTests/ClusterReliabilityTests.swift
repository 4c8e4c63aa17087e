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
import SocketIOEmitter
import SocketIOMessageQueue
import SocketIOParser
import SocketIOTesting
import Testing

/// Counts what one node's adapter receives from the bus, per publisher (the client path is
/// covered by ClusterAdapterTests; here the numbers matter).
private func received(_ inbox: Inbox, event: String) -> [[Int]] {
    var perSender: [Int: [Int]] = [:]
    for item in inbox.events where item.name == event {
        guard item.arguments.count == 2, let sender = item.arguments[0].intValue, let n = item.arguments[1].intValue else { continue }
        perSender[sender, default: []].append(n)
    }
    return perSender.keys.sorted().map { perSender[$0]! }
}

/// Listens on the bus like another node and reports each publisher's sequence numbers in
/// the order they arrived.
private final class Tap: Sendable {
    let transport: InMemoryBackplaneTransport
    private let seen = NIOLockedValueBox<[String: [Int]]>([:])
    private let task: Task<Void, Never>

    init(bus: InMemoryBackplaneBus) {
        let transport = bus.makeTransport()
        let seen = self.seen
        self.transport = transport
        self.task = Task {
            for await message in transport.messages {
                guard case .emit(let emit)? = try? MessageQueueMessage.decode(message.payload), let sequence = emit.sequence else { continue }
                seen.withLockedValue { $0[emit.hostID, default: []].append(sequence) }
            }
        }
        Task { try? await transport.run() }
    }

    func sequences(of host: String) -> [Int] { self.seen.withLockedValue { $0[host] ?? [] } }
}

/// How many numbers arrived after a larger one (0: in order).
private func outOfOrder(_ numbers: [Int]) -> Int {
    zip(numbers, numbers.dropFirst()).filter { $0.0 > $0.1 }.count
}

/// Waits until `inbox` holds `count` events named `event` (bounded), then a little more.
private func settle(_ inbox: Inbox, event: String, count: Int) async throws {
    for _ in 0..<2000 where inbox.events.filter({ $0.name == event }).count < count {
        try await Task.sleep(for: .milliseconds(5))
    }
    try await Task.sleep(for: .milliseconds(50))
}

struct ClusterReliabilityTests {
    /// Item 5: emits from many tasks at once reach another node all, in per-sender order
    /// (a number stamped before another must be enqueued before it).
    @Test func concurrentBroadcastsArriveExactlyOnceInOrder() async throws {
        let nodes = ThreeNodes()
        defer { nodes.stop() }
        let remote = Inbox(try await SocketIOTestClient(server: nodes.servers[1]))
        let tap = Tap(bus: nodes.bus)
        let senders = 8
        let perSender = 250
        await withTaskGroup(of: Void.self) { group in
            for sender in 0..<senders {
                group.addTask {
                    for n in 0..<perSender {
                        nodes.servers[0].emit("burst", .int(sender), .int(n))
                    }
                }
            }
        }
        try await settle(remote, event: "burst", count: senders * perSender)
        let got = received(remote, event: "burst")
        #expect(got.count == senders)
        for numbers in got { #expect(numbers == Array(0..<perSender)) }
        // On the channel, numbers leave in the order they were given.
        let numbers = tap.sequences(of: nodes.adapters[0].hostID)
        #expect(numbers.count == senders * perSender)
        #expect(outOfOrder(numbers) == 0)
    }

    /// Item 5, the emitter: concurrent library callers' emits all arrive, in order each.
    @Test func concurrentEmitterCallsArriveExactlyOnceInOrder() async throws {
        let nodes = ThreeNodes()
        defer { nodes.stop() }
        let remote = Inbox(try await SocketIOTestClient(server: nodes.servers[2]))
        let tap = Tap(bus: nodes.bus)
        let emitter = SocketIOEmitter(transport: nodes.bus.makeTransport(role: .publishOnly))
        await withTaskGroup(of: Void.self) { group in
            for sender in 0..<8 {
                group.addTask {
                    for n in 0..<250 { emitter.emit("burst", .int(sender), .int(n)) }
                }
            }
        }
        try await settle(remote, event: "burst", count: 2000)
        let got = received(remote, event: "burst")
        #expect(got.count == 8)
        for numbers in got { #expect(numbers == Array(0..<250)) }
        #expect(tap.sequences(of: emitter.hostID).count == 2000)
        #expect(outOfOrder(tap.sequences(of: emitter.hostID)) == 0)
    }

    /// Item 7: a forged emit with a node's host id and a huge number does not silence it.
    @Test func aForgedHugeSequenceDoesNotSilenceANode() async throws {
        let nodes = ThreeNodes()
        defer { nodes.stop() }
        let remote = Inbox(try await SocketIOTestClient(server: nodes.servers[1]))
        nodes.servers[0].emit("real", 0)
        try await settle(remote, event: "real", count: 1)
        let host = nodes.adapters[0].hostID
        let epoch = nodes.adapters[0].epoch
        nodes.bus.inject(
            ByteBuffer(
                string: #"{"method":"emit","event":"forged","data":[],"binary":false,"namespace":"/","room":"nobody","skip_sid":null,"callback":null,"host_id":"\#(host)","seq":999999999999,"epoch":"\#(epoch)"}"#
            )
        )
        for n in 1...5 { nodes.servers[0].emit("real", .int(n)) }
        try await settle(remote, event: "real", count: 6)
        #expect(remote.events.filter { $0.name == "real" }.map { $0.arguments[0].intValue } == [0, 1, 2, 3, 4, 5])
    }

    /// Item 7: a binary message whose placeholders repeat an attachment is garbage.
    @Test func duplicatePlaceholdersOnTheChannelAreDropped() async throws {
        let nodes = ThreeNodes()
        defer { nodes.stop() }
        let remote = Inbox(try await SocketIOTestClient(server: nodes.servers[1]))
        let ph = #"{"_placeholder":true,"num":0}"#
        nodes.bus.inject(
            ByteBuffer(
                string: #"{"method":"emit","event":"bomb","data":[[\#(ph),\#(ph),\#(ph)],"AAAA"],"binary":true,"namespace":"/","room":null,"skip_sid":null,"callback":null,"host_id":"x"}"#
            )
        )
        nodes.servers[0].emit("after")
        try await settle(remote, event: "after", count: 1)
        #expect(remote.events.map(\.name) == ["after"])
    }

    /// Item 7: an emitter never subscribes (python's write_only).
    @Test func anEmitterDoesNotSubscribe() {
        let bus = InMemoryBackplaneBus()
        _ = bus.makeTransport()
        let before = bus.subscriberCount
        _ = SocketIOEmitter(transport: bus.makeTransport(role: .publishOnly))
        #expect(bus.subscriberCount == before)
        #expect(!bus.makeTransport(role: .publishOnly).isSubscribed)
    }

    /// Item 9: ready only while the subscription is up.
    @Test func readinessWaitsForTheFirstSubscriptionThenOutlivesABrokerOutage() async throws {
        let bus = InMemoryBackplaneBus()
        let transport = bus.makeTransport()
        let adapter = ClusterAdapter(transport: transport, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        #expect(!adapter.isReady)
        let task = Task { try await adapter.run() }
        defer { task.cancel() }
        for _ in 0..<400 where !adapter.isReady { try await Task.sleep(for: .milliseconds(5)) }
        #expect(adapter.isReady)
        #expect(adapter.isSubscribed)
        // The broker goes away: every worker loses it at once, so readiness stays (a load
        // balancer would otherwise have no worker left); the live state says it.
        transport.setDetached(true)
        #expect(adapter.isReady)
        #expect(!adapter.isSubscribed)
        transport.setDetached(false)
        #expect(adapter.isReady)
        #expect(adapter.isSubscribed)
    }

    @Test func aWorkerThatStartsDuringAnOutageIsNotReadyUntilItSubscribes() async throws {
        let bus = InMemoryBackplaneBus()
        let transport = bus.makeTransport()
        transport.setDetached(true)
        let adapter = ClusterAdapter(transport: transport, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let task = Task { try await adapter.run() }
        defer { task.cancel() }
        for _ in 0..<400 where !transport.isRunning { try await Task.sleep(for: .milliseconds(5)) }
        #expect(transport.isRunning)
        #expect(!adapter.isReady)
        transport.setDetached(false)
        #expect(adapter.isReady)
    }

    @Test func readinessLatchesWithoutAProbeWhileSubscribed() async throws {
        // The heartbeat loop reads readiness, so that a worker whose probe first asks during
        // an outage, after it was subscribed, is still ready.
        let bus = InMemoryBackplaneBus(recording: true)
        let transport = bus.makeTransport()
        let adapter = ClusterAdapter(transport: transport, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let task = Task { try await adapter.run() }
        defer { task.cancel() }
        // The first heartbeat goes out once the subscription is confirmed.
        func beat() -> Bool { bus.recordedMessages.contains { String(buffer: $0.payload).contains("\"heartbeat\"") } }
        for _ in 0..<400 where !beat() { try await Task.sleep(for: .milliseconds(5)) }
        #expect(beat())
        transport.setDetached(true)
        #expect(adapter.isReady)
    }

    /// Item 8: a transport that fails makes the adapter's run() throw (the worker exits).
    @Test func aFailedTransportFailsTheAdapter() async throws {
        let bus = InMemoryBackplaneBus()
        let transport = bus.makeTransport()
        let adapter = ClusterAdapter(transport: transport, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let task = Task { try await adapter.run() }
        try await Task.sleep(for: .milliseconds(50))
        transport.fail(BackplaneError(.fatal, "thread died"))
        await #expect(throws: BackplaneError.self) { try await task.value }
    }
}
