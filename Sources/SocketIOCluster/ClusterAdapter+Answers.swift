//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import Logging
import NIOConcurrencyHelpers
import SocketIO
import SocketIOMessageQueue
import SocketIOParser
import Synchronization

/// Answering other hosts' cluster-wide requests.
extension ClusterAdapter {
    /// Answers another host's request (Swift nodes and emitters ask; anyone can, so what
    /// it costs is bounded).
    func serve(_ request: MessageQueueMessage.Request) {
        let origin = request.hostID
        let target = SocketIOBroadcastTarget(namespace: request.namespace, rooms: request.rooms ?? [], except: request.except)
        @Sendable func answer(_ payload: Response.Payload, complete: Bool = true) {
            self.publishReply(.response(.init(hostID: self.hostID, to: origin, requestID: request.requestID, payload: payload, complete: complete)), to: origin)
        }
        switch request.kind {
        case .fetchSockets:
            let sockets = self.local.localSockets(target)
            let limit = MessageQueueMessage.Limits.maxSocketsPerResponse
            let records = sockets.prefix(limit).map { socket in
                MessageQueueMessage.SocketRecord(
                    id: socket.id,
                    namespace: socket.namespace,
                    handshake: SocketIORemoteHandshake(socket.handshake).value,
                    rooms: self.local.rooms(sid: socket.id, namespace: socket.namespace),
                    data: socket.data
                )
            }
            answer(.sockets(Array(records)), complete: sockets.count <= limit)
        case .fetchRooms:
            let rooms = self.local.localRooms(namespace: request.namespace)
            let limit = MessageQueueMessage.Limits.maxRoomsPerResponse
            if rooms.count <= limit {
                answer(.rooms(rooms))
            } else {
                answer(.rooms(Dictionary(uniqueKeysWithValues: rooms.sorted { $0.key < $1.key }.prefix(limit).map { ($0.key, $0.value) })), complete: false)
            }
        case .serverSideEmit:
            guard let event = request.event, let receiver = self.serverSideReceiver.withLockedValue({ $0 }) else { return }
            receiver(event, request.arguments, SocketIOServerSideAck { arguments in answer(.arguments(arguments)) })
        case .broadcastAck:
            guard let event = request.event else { return }
            let recipients = self.local.localSockets(target)
            guard !recipients.isEmpty else { return answer(.answers([])) }
            let serving = self.servedAckRequests.wrappingAdd(1, ordering: .relaxed).newValue
            guard serving <= self.limits.maxServedAckRequests else {
                self.servedAckRequests.wrappingSubtract(1, ordering: .relaxed)
                self.logOutsider("too many broadcast-with-ack requests at once; answered empty", ["backplane.host": "\(origin)"])
                return answer(.answers([]), complete: false)
            }
            // The answer must reach the origin before its own deadline: collect for a
            // little less.
            let asked = min(Duration.milliseconds(request.timeoutMilliseconds), self.limits.maxRequestTimeout)
            let timeout = asked - min(asked / 10, .milliseconds(250))
            let packet = SocketIOPacket.event(event, request.arguments, namespace: request.namespace)
            InMemoryAdapter.collectAckResult(packet, from: recipients, timeout: timeout) { answers, complete in
                self.servedAckRequests.wrappingSubtract(1, ordering: .relaxed)
                let limit = MessageQueueMessage.Limits.maxAnswersPerResponse
                answer(.answers(Array(answers.prefix(limit))), complete: complete && answers.count <= limit)
            }
        }
    }
}
