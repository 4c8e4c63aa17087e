//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import NIOCore
import OrderedCollections
import SocketIOParser


/// One publisher, every client of the swarm a receiver, at most `window` broadcasts in
/// flight. A broadcast is complete when every receiver has it; its completion time runs
/// from its publication to its last delivery.
///
/// Broadcasts are `my_response` events whose `data` is the broadcast's sequence number; any
/// other `my_response` (the demo's connect greeting, its timer event) has non-integer data
/// and is not counted. Confined to the generator's loop.
final class FanoutDriver {
    private let swarm: BenchSwarm
    private let receivers: Int
    private let window: Int
    private let warmup: Int
    private let total: Int
    private let publish: (Int) -> Void
    private var sentAt: [UInt64]
    private var remaining: [Int32]
    private var nextSeq = 0
    private var outstanding = 0
    private var completedCount = 0
    private var deliveries = 0
    private var strayDeliveries = 0
    private var completion: LatencyRecorder
    private var measureStart: UInt64 = 0
    private var measureEnd: UInt64 = 0
    private var counters: ProcessStats.PhaseCounters?
    private var promise: EventLoopPromise<SocketIOValue>?
    private var deadline: Scheduled<Void>?

    /// - Parameters:
    ///   - receiversPerBroadcast: how many clients get each broadcast (the members of its
    ///     room); `nil`: every connected client.
    ///   - publish: sends broadcast `seq` (a client's `my_broadcast_event` or
    ///     `my_room_event`, or the emitter).
    init(swarm: BenchSwarm, window: Int, broadcasts: Int, warmup: Int, receiversPerBroadcast: Int? = nil, publish: @escaping (Int) -> Void) {
        self.swarm = swarm
        self.receivers = receiversPerBroadcast ?? swarm.connectedClients.count
        self.window = max(1, window)
        self.warmup = warmup
        self.total = warmup + broadcasts
        self.publish = publish
        self.sentAt = Array(repeating: 0, count: self.total)
        self.remaining = Array(repeating: Int32(self.receivers), count: self.total)
        self.completion = LatencyRecorder(capacity: broadcasts)
    }

    func run(timeout: TimeAmount) -> EventLoopFuture<SocketIOValue> {
        let promise = self.swarm.loop.makePromise(of: SocketIOValue.self)
        self.promise = promise
        let this = NIOLoopBound(self, eventLoop: self.swarm.loop)
        self.swarm.onEvent = { _, payload in this.value.eventReceived(payload) }
        self.swarm.onFailure = { reason in this.value.finish(error: "a receiver failed: \(reason)") }
        self.deadline = self.swarm.loop.scheduleTask(in: timeout) { this.value.finish(error: "timed out") }
        if self.receivers == 0 || self.total == 0 {
            self.finish(error: self.receivers == 0 ? "no connected receivers" : nil)
        } else {
            self.fillWindow()
        }
        return promise.futureResult
    }

    private func fillWindow() {
        while self.outstanding < self.window, self.nextSeq < self.total {
            let seq = self.nextSeq
            self.nextSeq += 1
            self.outstanding += 1
            if seq == self.warmup {
                self.measureStart = monotonicNanoseconds()
                self.counters = ProcessStats.PhaseCounters()
            }
            self.sentAt[seq] = monotonicNanoseconds()
            self.publish(seq)
        }
    }

    private func eventReceived(_ payload: ByteBuffer) {
        guard let seq = Self.broadcastSequence(in: payload), seq < self.total else {
            return
        }
        guard self.remaining[seq] > 0 else {
            self.strayDeliveries += 1
            return
        }
        self.remaining[seq] -= 1
        if seq >= self.warmup { self.deliveries += 1 }
        if self.remaining[seq] == 0 {
            let now = monotonicNanoseconds()
            if seq >= self.warmup { self.completion.record(now &- self.sentAt[seq]) }
            self.outstanding -= 1
            self.completedCount += 1
            if self.completedCount == self.total {
                self.measureEnd = now
                self.finish(error: nil)
            } else {
                self.fillWindow()
            }
        }
    }

    private func finish(error: String?) {
        guard let promise = self.promise else { return }
        self.promise = nil
        self.deadline?.cancel()
        self.swarm.onEvent = nil
        self.swarm.onFailure = nil
        let end = self.measureEnd > 0 ? self.measureEnd : monotonicNanoseconds()
        let elapsed = self.measureStart > 0 ? Double(end &- self.measureStart) / 1e9 : 0
        var result: OrderedJSON = [
            "receivers": .int(self.receivers),
            "window": .int(self.window),
            "broadcasts": .int(self.total - self.warmup),
            "warmup_broadcasts": .int(self.warmup),
            "completed": .int(max(0, self.completedCount - self.warmup)),
            "deliveries": .int(self.deliveries),
            "stray_deliveries": .int(self.strayDeliveries),
            "elapsed_s": .double(elapsed),
            "deliveries_per_s": .double(elapsed > 0 ? (Double(self.deliveries) / elapsed).rounded() : 0),
            "completion_ms": self.completion.summary(),
        ]
        ProcessStats.PhaseCounters.report(self.counters, into: &result)
        if let error { result["error"] = .string(error) }
        promise.succeed(.object(result))
    }

    /// The integer after `"data":` in `["my_response",{"data":N,...}]`, or nil.
    static func broadcastSequence(in payload: ByteBuffer) -> Int? {
        payload.withUnsafeReadableBytes { bytes -> Int? in
            guard var index = Self.indexAfterDataKey(bytes) else { return nil }
            while index < bytes.count, bytes[index] == UInt8(ascii: " ") { index += 1 }
            var value = 0
            var digits = 0
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                value = value &* 10 &+ Int(bytes[index] - 48)
                digits += 1
                index += 1
            }
            // `1.5`, `"text"`, `-1`: not a broadcast of ours.
            guard digits > 0, index < bytes.count, bytes[index] == UInt8(ascii: ",") || bytes[index] == UInt8(ascii: "}") else {
                return nil
            }
            return value
        }
    }

    /// The index just past the first `"data":` in `bytes`.
    private static let dataKey: [UInt8] = Array("\"data\":".utf8)

    private static func indexAfterDataKey(_ bytes: UnsafeRawBufferPointer) -> Int? {
        let key = Self.dataKey
        guard bytes.count >= key.count else { return nil }
        var index = 0
        let last = bytes.count - key.count
        while index <= last {
            if bytes[index] == key[0] {
                var matched = 1
                while matched < key.count, bytes[index + matched] == key[matched] { matched += 1 }
                if matched == key.count { return index + key.count }
            }
            index += 1
        }
        return nil
    }
}

@available(*, unavailable)
extension FanoutDriver: Sendable {}
