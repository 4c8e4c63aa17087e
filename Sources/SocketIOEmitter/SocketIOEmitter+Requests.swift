//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import Backplane
import NIOConcurrencyHelpers
import SocketIOMessageQueue

/// What the nodes that answered an emitter's request within its timeout said.
///
/// An emitter is not a cluster member and hears no heartbeats, so it cannot know which
/// nodes are missing: it waits the whole timeout and says who answered.
public struct SocketIOEmitterResult<Value: Sendable>: Sendable {
    /// The merged answers.
    public var value: Value
    /// The host ids of the nodes that answered, sorted.
    public var nodes: [String]
    /// `false` when a node sent less than it has (a response bound).
    public var isComplete: Bool

    public init(value: Value, nodes: [String], isComplete: Bool) {
        self.value = value
        self.nodes = nodes
        self.isComplete = isComplete
    }
}

extension SocketIOEmitterResult: Equatable where Value: Equatable {}

extension SocketIOEmitter.Operator {
    /// The ids of the addressed sockets on every node that answers within `timeout`
    /// (their count is the number of users online, in a room, …). Call it inside
    /// ``SocketIOEmitter/run(flushTimeout:_:)``: the answers arrive through the running
    /// transport. Waits up to `timeout` for the transport's subscription, then `timeout`
    /// for the answers.
    public func fetchSocketIDs(timeout: Duration) async -> SocketIOEmitterResult<[String]> {
        let responses = await self.emitter.request(.fetchSockets, namespace: self.namespace, rooms: self.rooms, except: self.excluded, timeout: timeout)
        var ids: Set<String> = []
        for response in responses {
            if case .sockets(let sockets) = response.payload { ids.formUnion(sockets.map(\.id)) }
        }
        return SocketIOEmitterResult(value: ids.sorted(), nodes: responses.map(\.hostID).sorted(), isComplete: responses.allSatisfy(\.complete))
    }

    /// The rooms of the namespace on every node that answers within `timeout`, with their
    /// member counts (rooms named after a socket id excluded). The operator's rooms and
    /// exceptions do not apply: a namespace's rooms are asked for. Call it inside
    /// ``SocketIOEmitter/run(flushTimeout:_:)``.
    public func fetchRooms(timeout: Duration) async -> SocketIOEmitterResult<[String: Int]> {
        let responses = await self.emitter.request(.fetchRooms, namespace: self.namespace, rooms: [], except: [], timeout: timeout)
        var rooms: [String: Int] = [:]
        for response in responses {
            guard case .rooms(let counts) = response.payload else { continue }
            for (room, count) in counts { rooms[room, default: 0] += count }
        }
        return SocketIOEmitterResult(value: rooms, nodes: responses.map(\.hostID).sorted(), isComplete: responses.allSatisfy(\.complete))
    }
}

extension SocketIOEmitter {
    /// The channel the nodes answer this emitter's requests on.
    public var replyChannel: String { self.publisher.format.replyChannel(mainChannel: self.transport.channel, hostID: self.hostID) }

    /// Publishes a request and gathers the responses that arrive within `timeout`.
    func request(
        _ kind: MessageQueueMessage.Request.Kind,
        namespace: String,
        rooms: [String],
        except: [String],
        timeout: Duration
    ) async -> [MessageQueueMessage.Response] {
        // Only the reply channel: the emitter never reads the cluster's traffic.
        self.transport.subscribe([.channel(self.replyChannel)])
        let subscribed = ContinuousClock.now + timeout
        while !self.transport.isSubscribed, ContinuousClock.now < subscribed {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let id = self.requests.withLockedValue { $0.start() }
        let milliseconds = Int(timeout.components.seconds * 1_000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        self.publisher.publish(
            .request(
                .init(
                    hostID: self.hostID,
                    requestID: id,
                    kind: kind,
                    namespace: namespace,
                    rooms: rooms.isEmpty ? nil : rooms,
                    except: except,
                    timeoutMilliseconds: milliseconds
                )
            )
        )
        try? await Task.sleep(for: timeout)
        return self.requests.withLockedValue { $0.finish(id) }
    }

    /// Hands the responses addressed to this emitter to its open requests, until the
    /// transport stops or the task is cancelled.
    func readResponses() async {
        for await message in self.transport.messages {
            guard case .response(let response)? = try? self.publisher.format.decode(message.payload), response.to == self.hostID else { continue }
            _ = self.requests.withLockedValue { $0.receive(response) }
        }
    }
}
