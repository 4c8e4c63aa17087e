//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import EngineIO
import EngineIOParser
import NIOConcurrencyHelpers
import NIOCore
import SocketIO
import SocketIOParser

/// The in-process transport of ``SocketIOTestClient``: records what the server sends.
final class TestTransport: SocketIOTransport {
    let eventLoop: any EventLoop
    let request: EngineIORequest
    /// The in-process client stands for a WebSocket client (its request says so).
    let transportName = "websocket"
    private let state = NIOLockedValueBox(State())

    struct State {
        var decoder = SocketIOPacketDecoder()
        var events: [String: [SocketIOTestClient.ReceivedEvent]] = [:]
        var pendingAcks: [String: [Int]] = [:]
        var sids: [String: String] = [:]
        var connectWaiters: [String: CheckedContinuation<SocketIOPacket, Never>] = [:]
        var connectOutcomes: [String: SocketIOPacket] = [:]
        var acks: [Int: [SocketIOValue]] = [:]
        var nextAckID = 0
        var closed = false
    }

    init(eventLoop: any EventLoop, request: EngineIORequest) {
        self.eventLoop = eventLoop
        self.request = request
    }

    func send(_ frames: [EngineIOFrame]) {
        self.state.withLockedValue { state in
            for frame in frames {
                let message: EngineIOMessage
                switch frame.kind {
                case .text:
                    var bytes = frame.bytes
                    guard bytes.readInteger(as: UInt8.self) == EngineIOPacketType.message.asciiDigit else { continue }
                    message = .text(bytes)
                case .binary:
                    message = .binary(frame.bytes)
                }
                guard let packet = try? state.decoder.decode(message) else { continue }
                Self.record(packet, in: &state)
            }
        }
    }

    private static func record(_ packet: SocketIOPacket, in state: inout State) {
        switch packet.type {
        case .connect, .connectError:
            if packet.type == .connect, let sid = packet.data?["sid"]?.stringValue {
                // Recorded in arrival order, so that a DISCONNECT right after clears it.
                state.sids[packet.namespace] = sid
            }
            if let waiter = state.connectWaiters.removeValue(forKey: packet.namespace) {
                waiter.resume(returning: packet)
            } else {
                state.connectOutcomes[packet.namespace] = packet
            }
        case .event, .binaryEvent:
            guard case .array(let data) = packet.data, let name = data.first?.stringValue else { return }
            state.events[packet.namespace, default: []].append(
                .init(name: name, arguments: Array(data.dropFirst()), namespace: packet.namespace)
            )
            if let id = packet.ackID { state.pendingAcks[packet.namespace, default: []].append(id) }
        case .ack, .binaryAck:
            if let id = packet.ackID { state.acks[id] = packet.data?.arrayValue ?? [] }
        case .disconnect:
            state.sids[packet.namespace] = nil
        }
    }

    func close() {
        self.closeAll()
    }

    // MARK: Client side

    func expectConnect(namespace: String) -> Task<SocketIOPacket, Never> {
        Task {
            await withCheckedContinuation { continuation in
                self.state.withLockedValue { state in
                    if let outcome = state.connectOutcomes.removeValue(forKey: namespace) {
                        continuation.resume(returning: outcome)
                    } else {
                        state.connectWaiters[namespace] = continuation
                    }
                }
            }
        }
    }

    func disconnected(namespace: String) {
        self.state.withLockedValue { $0.sids[namespace] = nil }
    }

    func closeAll() {
        self.state.withLockedValue { state in
            state.sids = [:]
            state.closed = true
        }
    }

    func sid(namespace: String) -> String? {
        self.state.withLockedValue { $0.sids[namespace] }
    }

    func nextAckID() -> Int {
        self.state.withLockedValue { state in
            defer { state.nextAckID += 1 }
            return state.nextAckID
        }
    }

    func takeAck(id: Int) -> [SocketIOValue]? {
        self.state.withLockedValue { $0.acks.removeValue(forKey: id) }
    }

    func takeEvents(namespace: String) -> [SocketIOTestClient.ReceivedEvent] {
        self.state.withLockedValue { state in
            defer { state.events[namespace] = [] }
            return state.events[namespace] ?? []
        }
    }

    func pendingAckIDs(namespace: String) -> [Int] {
        self.state.withLockedValue { $0.pendingAcks[namespace] ?? [] }
    }
}
