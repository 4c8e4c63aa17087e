//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import Logging
import NIOConcurrencyHelpers
import NIOCore
import SocketIO
import SocketIOMessageQueue
import SocketIOParser

/// Applying what other hosts publish.
extension ClusterAdapter {
    /// The methods whose `host_id` is their sender: when it is this node, the message is
    /// its own, echoed by the broker, and was applied when it was published.
    private static let senderMethods: Set<String> = [
        "emit", "disconnect", "enter_room", "leave_room", "close_room", "heartbeat", "goodbye", "request", "response",
        "sockets_join", "sockets_leave", "disconnect_sockets", "server_side_emit",
    ]

    /// Whether a message can be dropped from its top-level fields alone, before it is
    /// parsed in full: this node's own echo, or an answer addressed to another node.
    /// Anything the scan cannot read is parsed in full (internal for tests).
    func isSkippable(_ bytes: ByteBuffer) -> Bool {
        guard self.scansHeaders, let header = MessageQueueHeader.scan(bytes), let method = header.method, let host = header.hostID else { return false }
        switch method {
        case "callback", "callback_miss":
            // `host_id` is the addressee.
            return host != self.hostID
        case "response":
            return host == self.hostID || (header.to != nil && header.to != self.hostID)
        default:
            return host == self.hostID && Self.senderMethods.contains(method)
        }
    }

    /// Applies one channel message (internal for tests).
    func handle(_ bytes: ByteBuffer) {
        if self.isSkippable(bytes) { return }
        let message: MessageQueueMessage
        do {
            guard let decoded = try self.format.decode(bytes) else { return }
            message = decoded
        } catch {
            self.logOutsider(
                "dropped an invalid message-queue message",
                ["backplane.error": "\(error)", "backplane.message.bytes": "\(bytes.readableBytes)"]
            )
            return
        }
        switch message {
        case .callback(let host, _, _, let id, let arguments):
            if host == self.hostID { self.resolve(id: id, with: .success(arguments)) }
            return
        case .callbackMiss(let host, let from, _, _, let id):
            if host == self.hostID { self.candidateGone(from, id: id) }
            return
        case .response(let response):
            if response.to == self.hostID, response.hostID != self.hostID { self.receive(response) }
            return
        default:
            break
        }
        // Our own messages were applied when they were published.
        guard message.hostID != self.hostID else { return }
        switch message {
        case .heartbeat(let host, let interval):
            let change = self.peers.withLockedValue { peers in
                peers.nonMembers.becameMember(host)
                return peers.membership.heartbeat(host: host, interval: .milliseconds(interval), now: .now)
            }
            if change != nil {
                self.logMembership("a cluster node joined", host: host)
                // A newcomer knows nobody yet: beat at once so it learns of this node now,
                // not a whole interval later (as Node's cluster adapter answers an initial
                // heartbeat). It knows this node then, so the answer is not answered again.
                self.publishHeartbeat()
            }
        case .goodbye(let host):
            let change = self.peers.withLockedValue { $0.membership.goodbye(host: host, now: .now) }
            if change != nil {
                self.logMembership("a cluster node left", host: host)
                self.nodeLeft(host)
            }
        case .emit(let emit):
            switch self.windows.withLockedValue({ $0.check(host: emit.hostID, epoch: emit.epoch, sequence: emit.sequence) }) {
            case .repeated:
                self.logger.debug("dropped a repeated emit", metadata: ["backplane.host": "\(emit.hostID)"])
                return
            case .outsideWindow:
                self.logOutsider(
                    "emit numbered far outside its publisher's window: delivered, tracked apart (a long gap or a forged message)",
                    ["backplane.host": "\(emit.hostID)", "backplane.seq": "\(emit.sequence ?? 0)"]
                )
            case .newEpoch:
                self.logger.debug("a publisher restarted (new epoch)", metadata: ["backplane.host": "\(emit.hostID)"])
            case .unstamped:
                // python-socketio does not number its emits: a python host, unless it beats.
                self.heardPythonFormat(from: emit.hostID)
            case .new:
                break
            }
            self.deliver(emit)
        case .disconnect(let sid, let namespace, let host):
            self.heardPythonFormat(from: host)
            self.local.localSocket(sid: sid, namespace: namespace)?.disconnect()
        case .enterRoom(let sid, let room, let namespace, let host):
            self.heardPythonFormat(from: host)
            self.local.joinLocal(sid: sid, rooms: [room], namespace: namespace)
        case .leaveRoom(let sid, let room, let namespace, let host):
            self.heardPythonFormat(from: host)
            self.local.leaveLocal(sid: sid, rooms: [room], namespace: namespace)
        case .closeRoom(let room, let namespace, let host):
            self.heardPythonFormat(from: host)
            self.local.closeRoomLocal(room, namespace: namespace)
        case .request(let request):
            self.serve(request)
        case .sockets(let operation):
            self.apply(operation)
        case .serverSideEmit(let event, let arguments, _):
            let receiver = self.serverSideReceiver.withLockedValue { $0 }
            receiver?(event, arguments, SocketIOServerSideAck(reply: nil))
        case .callback, .callbackMiss, .response:
            break
        }
    }

    /// A message in python-socketio's format from `host`: remembered as a non-member host
    /// unless it is a live member (Swift nodes send those formats too).
    private func heardPythonFormat(from host: String) {
        self.peers.withLockedValue { peers in
            guard !peers.membership.isLive(host) else { return }
            peers.nonMembers.heard(host, now: .now)
        }
    }

    private func deliver(_ emit: MessageQueueMessage.Emit) {
        let packet = SocketIOPacket.event(emit.event, emit.arguments, namespace: emit.namespace)
        guard let callback = emit.callback else {
            // Stamped with an offset of this node's store when recovery is on.
            let target = SocketIOBroadcastTarget(namespace: emit.namespace, rooms: emit.rooms ?? [], except: emit.skip)
            self.local.deliverLocal(self.local.encode(packet, for: target), to: target)
            return
        }
        // An emit with an ack: it targets one sid; if it is ours, send it with a local ack
        // id and return the answer to the origin host; if not, say so, so that the origin
        // need not wait out its timeout when no node has it.
        let origin = emit.hostID
        guard let socket = self.local.localSocket(sid: callback.sid, namespace: emit.namespace) else {
            self.publishAnswer(
                .callbackMiss(hostID: origin, from: self.hostID, sid: callback.sid, namespace: callback.namespace, id: callback.id),
                to: origin
            )
            return
        }
        socket.send(packet, timeout: socket.defaultAckTimeout) { result in
            guard case .success(let arguments) = result else { return }
            self.publishAnswer(.callback(hostID: origin, sid: callback.sid, namespace: callback.namespace, id: callback.id, arguments: arguments), to: origin)
        }
    }
}
