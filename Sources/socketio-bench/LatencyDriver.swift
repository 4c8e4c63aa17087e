//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import NIOCore
import OrderedCollections
import SocketIOParser

/// Closed loops of emit-with-ack: each client sends `echo` with an ack id, waits for the
/// ack, and sends the next; the round trip of each is recorded. With `binaryBytes > 0` the
/// event carries one binary attachment of that size, which the ack returns.
///
/// The first `warmup` round trips of each client are not recorded. Confined to the
/// generator's loop.
final class LatencyDriver {
    private let swarm: BenchSwarm
    private let clients: [BenchWebSocketClient]
    private let perClient: Int
    private let warmup: Int
    private let attachment: ByteBuffer?
    private var sentAt: [UInt64]
    private var done: [Int]
    private var finishedClients = 0
    private var recorder: LatencyRecorder
    private var measureStart: UInt64 = 0
    private var counters: ProcessStats.PhaseCounters?
    private var promise: EventLoopPromise<SocketIOValue>?
    private var deadline: Scheduled<Void>?

    init(swarm: BenchSwarm, requests: Int, warmupPerClient: Int, binaryBytes: Int) {
        self.swarm = swarm
        self.clients = swarm.connectedClients
        let count = max(1, self.clients.count)
        self.perClient = max(1, requests / count)
        self.warmup = warmupPerClient
        self.attachment =
            binaryBytes > 0
            ? ByteBuffer(bytes: (0..<binaryBytes).map { UInt8(truncatingIfNeeded: $0) })
            : nil
        self.sentAt = Array(repeating: 0, count: swarm.clients.count)
        self.done = Array(repeating: 0, count: swarm.clients.count)
        self.recorder = LatencyRecorder(capacity: self.perClient * count)
    }

    func run(timeout: TimeAmount) -> EventLoopFuture<SocketIOValue> {
        let promise = self.swarm.loop.makePromise(of: SocketIOValue.self)
        self.promise = promise
        let this = NIOLoopBound(self, eventLoop: self.swarm.loop)
        self.swarm.onAck = { client, id in this.value.ackReceived(client, id: id) }
        self.swarm.onFailure = { reason in this.value.finish(error: "a client failed: \(reason)") }
        self.deadline = self.swarm.loop.scheduleTask(in: timeout) { this.value.finish(error: "timed out") }
        guard !self.clients.isEmpty else {
            self.finish(error: "no connected clients")
            return promise.futureResult
        }
        self.measureStart = monotonicNanoseconds()
        self.counters = ProcessStats.PhaseCounters()
        for client in self.clients { self.send(client) }
        return promise.futureResult
    }

    private func send(_ client: BenchWebSocketClient) {
        let id = self.done[client.index]
        self.sentAt[client.index] = monotonicNanoseconds()
        if let attachment = self.attachment {
            client.sendText("451-\(id)[\"echo\",{\"_placeholder\":true,\"num\":0}]", attachments: [attachment])
        } else {
            client.sendText("42\(id)[\"echo\",\(id)]")
        }
    }

    private func ackReceived(_ client: BenchWebSocketClient, id: Int) {
        let index = client.index
        guard id == self.done[index], self.sentAt[index] != 0 else { return }
        let now = monotonicNanoseconds()
        let completed = self.done[index] + 1
        self.done[index] = completed
        if completed > self.warmup { self.recorder.record(now &- self.sentAt[index]) }
        if completed < self.perClient + self.warmup {
            self.send(client)
        } else {
            self.sentAt[index] = 0
            self.finishedClients += 1
            if self.finishedClients == self.clients.count { self.finish(error: nil) }
        }
    }

    private func finish(error: String?) {
        guard let promise = self.promise else { return }
        self.promise = nil
        self.deadline?.cancel()
        self.swarm.onAck = nil
        self.swarm.onFailure = nil
        let elapsed = Double(monotonicNanoseconds() &- self.measureStart) / 1e9
        let acks = self.done.reduce(0, +)
        var result: OrderedJSON = [
            "clients": .int(self.clients.count),
            "binary_bytes": .int(self.attachment?.readableBytes ?? 0),
            "requests": .int(self.recorder.count),
            "warmup_per_client": .int(self.warmup),
            "elapsed_s": .double(elapsed),
            "acks_per_s": .double(elapsed > 0 ? (Double(acks) / elapsed).rounded() : 0),
            "rtt_ms": self.recorder.summary(),
        ]
        ProcessStats.PhaseCounters.report(self.counters, into: &result)
        if let error { result["error"] = .string(error) }
        promise.succeed(.object(result))
    }
}

@available(*, unavailable)
extension LatencyDriver: Sendable {}
