//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import NIOConcurrencyHelpers
import SocketIO
import SocketIOParser

/// The test server's fixtures for cluster-wide operations (issue 15): each `ops_*` event runs
/// one operation from the sender's node and acks its result as JSON, so that
/// Tests/Interop/test_cluster_ops.py can check it from a python-socketio client.
///
/// Requests are one object; every field is optional:
/// `{"namespace": "/", "rooms": [..], "except": [..], "local": bool, "timeout_ms": N, ...}`
/// (`rooms`: the addressed rooms or sids, everyone when absent; `timeout_ms`: how long other
/// nodes are waited for, 5000 by default). Results that come from the cluster carry
/// `"missing"` (live nodes that did not answer), `"non_members"` (hosts heard on the channel
/// that are not members, e.g. python workers) and `"complete"`.
///
/// | Event | Acks |
/// | --- | --- |
/// | `set_data` value | sets `socket.data`; `"ok"` |
/// | `ops_fetch_sockets` request | `{"sockets": [{"id", "namespace", "handshake", "rooms", "data", "node"}], …}` |
/// | `ops_fetch_socket_ids` request | `{"ids": [sorted sids], …}` |
/// | `ops_fetch_rooms` request | `{"rooms": {room: members}, …}` |
/// | `ops_remote` request + `sid`, `action` (`emit` + `event`, `args` / `join` + `room` / `leave` + `room` / `disconnect` + `close` / `ask` + `args`) | fetches the socket `sid` and acts on it wherever it lives; `{"found": bool, …}`; `ask` emits `question` args with an ack and acks `{"answer": [..]}` or `{"error"}` instead |
/// | `ops_sockets_join` / `ops_sockets_leave` request + `target` [rooms] | `"ok"` |
/// | `ops_disconnect_sockets` request + `close` | `"ok"` |
/// | `ops_server_side_emit` `{"event", "args"}` | `"ok"` |
/// | `ops_server_side_emit_ack` request + `event`, `args` | `{"answers": [[answer…]…], …}` |
/// | `ops_server_side_log` | the server-side emits this node received: `[[event, args…]…]` |
/// | `ops_broadcast_ack` request + `event`, `args` | `{"answers": [[ack args…]…], …}` (one per client that answered) |
/// | `ops_ask` `{"sid", "args", "timeout_ms"}` | emits `question` args[0] to `sid` (any node) with an ack: `{"answer": [..]}` or `{"error", "unknown_socket": bool, "timed_out": bool}` |
///
/// Every node handles the server-side emit `hello_nodes`: it logs it and, when asked, acks
/// `[its node id, the arguments…]`.
enum ClusterScenarios {
    /// The server-side emits this process received, in order.
    private static let serverSideLog = NIOLockedValueBox<[SocketIOValue]>([])

    static func install(on io: SocketIOServer) {
        let nodeID = io.adapter.nodeID
        io.onServerSideEmit("hello_nodes") { arguments, ack in
            serverSideLog.withLockedValue { $0.append(.array([.string("hello_nodes")] + arguments)) }
            ack(arguments: [.string(nodeID)] + arguments)
        }
        io.onWithAck("ops_server_side_log") { _, _ in [.array(serverSideLog.withLockedValue { $0 })] }
        io.onWithAck("set_data") { socket, arguments in
            socket.data = arguments.first ?? .null
            return ["ok"]
        }

        io.onWithAck("ops_fetch_sockets") { _, arguments in
            let request = OperationRequest(arguments)
            let result = await request.target(io).fetchSockets()
            return [report(result, "sockets", .array(result.value.map(describe)))]
        }
        io.onWithAck("ops_fetch_socket_ids") { _, arguments in
            let request = OperationRequest(arguments)
            let result = await request.target(io).fetchSocketIDs()
            return [report(result, "ids", .array(result.value.sorted().map { .string($0) }))]
        }
        io.onWithAck("ops_fetch_rooms") { _, arguments in
            let request = OperationRequest(arguments)
            let result = await request.target(io).fetchRooms()
            return [report(result, "rooms", try SocketIOValueCoder.encode(result.value))]
        }
        io.onWithAck("ops_remote") { _, arguments in
            let request = OperationRequest(arguments)
            let sid = request.string("sid")
            let result = await request.target(io).to([sid]).fetchSockets()
            guard let remote = result.value.first(where: { $0.id == sid }) else {
                return [report(result, "found", false)]
            }
            switch request.string("action") {
            case "emit": remote.emit(request.string("event"), arguments: request.value["args"]?.arrayValue ?? [])
            case "join": remote.join(request.string("room"))
            case "leave": remote.leave(request.string("room"))
            case "disconnect": remote.disconnect(close: request.value["close"]?.boolValue ?? false)
            case "ask":
                do {
                    let answer = try await remote.emitWithAck("question", arguments: request.value["args"]?.arrayValue ?? [], timeout: request.timeout)
                    return [report(result, "answer", .array(answer))]
                } catch {
                    return [report(result, "error", .string("\(error)"))]
                }
            default: return [["error": "unknown action"]]
            }
            return [report(result, "found", true)]
        }
        io.onWithAck("ops_sockets_join") { _, arguments in
            let request = OperationRequest(arguments)
            let target = request.target(io)
            for room in request.strings("target") { target.socketsJoin(room) }
            return ["ok"]
        }
        io.onWithAck("ops_sockets_leave") { _, arguments in
            let request = OperationRequest(arguments)
            let target = request.target(io)
            for room in request.strings("target") { target.socketsLeave(room) }
            return ["ok"]
        }
        io.onWithAck("ops_disconnect_sockets") { _, arguments in
            let request = OperationRequest(arguments)
            request.target(io).disconnectSockets(close: request.value["close"]?.boolValue ?? false)
            return ["ok"]
        }
        io.onWithAck("ops_server_side_emit") { _, arguments in
            let request = OperationRequest(arguments)
            request.target(io).serverSideEmit(request.string("event"), arguments: request.value["args"]?.arrayValue ?? [])
            return ["ok"]
        }
        io.onWithAck("ops_server_side_emit_ack") { _, arguments in
            let request = OperationRequest(arguments)
            let result = await request.target(io).serverSideEmitWithAck(request.string("event"), arguments: request.value["args"]?.arrayValue ?? [])
            return [report(result, "answers", .array(result.value.map { .array($0) }))]
        }
        io.onWithAck("ops_broadcast_ack") { _, arguments in
            let request = OperationRequest(arguments)
            let result = await request.target(io).emitWithAckResult(request.string("event"), arguments: request.value["args"]?.arrayValue ?? [])
            return [report(result, "answers", .array(result.value.map { .array($0) }))]
        }
        io.onWithAck("ops_ask") { _, arguments in
            let request = OperationRequest(arguments)
            do {
                let answer = try await io.emitWithAck(
                    "question",
                    request.value["args"]?.arrayValue?.first ?? .null,
                    to: request.string("sid"),
                    timeout: request.timeout
                )
                return [["answer": .array(answer)]]
            } catch {
                let ackError = error as? SocketIOAckError
                return [["error": .string("\(error)"), "unknown_socket": .bool(ackError == .unknownSocket), "timed_out": .bool(ackError == .timeout)]]
            }
        }
    }

    /// A result as JSON: `value` under `key`, and who did not answer.
    private static func report<Value>(_ result: SocketIOClusterResult<Value>, _ key: String, _ value: SocketIOValue) -> SocketIOValue {
        [
            key: value,
            "missing": .array(result.missingNodes.map { .string($0) }),
            "non_members": .array(result.nonMemberHosts.map { .string($0) }),
            "complete": .bool(result.isComplete),
        ]
    }

    private static func describe(_ socket: SocketIORemoteSocket) -> SocketIOValue {
        [
            "id": .string(socket.id),
            "namespace": .string(socket.namespace),
            "handshake": socket.handshake.value,
            "rooms": .array(socket.rooms.sorted().map { .string($0) }),
            "data": socket.data,
            "node": .string(socket.nodeID),
        ]
    }
}

/// The request object of an `ops_*` event.
private struct OperationRequest {
    let value: SocketIOValue

    init(_ arguments: [SocketIOValue]) {
        self.value = arguments.first ?? .null
    }

    func string(_ key: String) -> String {
        self.value[key]?.stringValue ?? ""
    }

    /// A list of strings, or one string.
    func strings(_ key: String) -> [String] {
        self.value[key]?.arrayValue?.compactMap(\.stringValue) ?? self.value[key]?.stringValue.map { [$0] } ?? []
    }

    var timeout: Duration { .milliseconds(self.value["timeout_ms"]?.intValue ?? 5_000) }

    /// The operator the request addresses.
    func target(_ io: SocketIOServer) -> SocketIOBroadcastOperator {
        let addressed = io.of(self.value["namespace"]?.stringValue ?? "/").broadcastOperator
            .to(self.strings("rooms"))
            .except(self.strings("except"))
            .timeout(self.timeout)
        return self.value["local"]?.boolValue == true ? addressed.local : addressed
    }
}
