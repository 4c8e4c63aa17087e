//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import ArgumentParser
import EngineIO
import ExecutableSupport
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import SocketIO
import SocketIOCluster
import SocketIOMessageQueue
import SocketIOParser

/// `socketio-testserver`: the fixture the interop suite (Tests/Interop) drives with
/// python-socketio clients. Each event exercises one server feature; see
/// Tests/Interop/README.md for the contract.
@main
struct TestServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "socketio-testserver")

    @Option var host = "127.0.0.1"
    @Option var port = 0
    @Option(name: .customLong("ping-interval-ms")) var pingInterval: Int64 = 25_000
    @Option(name: .customLong("ping-timeout-ms")) var pingTimeout: Int64 = 20_000
    @Flag(name: .customLong("always-connect")) var alwaysConnect = false
    @Option var messageQueue: String?
    @Flag var trustProxy = false
    @Option var channel = "socketio"
    /// Turns connection state recovery on with this `maxDisconnectionDuration` (off when
    /// absent): the official-JS-client recovery tests use it.
    @Option(name: .customLong("recovery-ms")) var recoveryMilliseconds: Int64?
    /// The cluster heartbeat interval (node membership); a peer is dropped after 3 missed.
    @Option(name: .customLong("heartbeat-ms")) var heartbeatMilliseconds: Int64 = 5_000

    func run() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let logger = Logger(label: "socketio-testserver")
        var adapter: (any SocketIOAdapter)?
        if let url = self.messageQueue {
            guard self.heartbeatMilliseconds > 0 else { throw ValidationError("--heartbeat-ms must be positive") }
            do {
                adapter = ClusterAdapter(
                    transport: try MessageQueueTransport.make(url: url, channel: self.channel, logger: logger),
                    heartbeatInterval: .milliseconds(self.heartbeatMilliseconds),
                    logger: logger
                )
            } catch {
                throw ValidationError("--message-queue: \(error)")
            }
        }
        var configuration = SocketIOConfiguration(
            engine: EngineIOConfiguration(
                pingInterval: .milliseconds(self.pingInterval),
                pingTimeout: .milliseconds(self.pingTimeout),
                cors: .any,
                trustForwardedFor: self.trustProxy
            ),
            alwaysConnect: self.alwaysConnect
        )
        if let recoveryMilliseconds = self.recoveryMilliseconds {
            guard recoveryMilliseconds > 0 else { throw ValidationError("--recovery-ms must be positive") }
            configuration.connectionStateRecovery = SocketIOConnectionStateRecovery(maxDisconnectionDuration: .milliseconds(recoveryMilliseconds))
        }
        let io = SocketIOServer(configuration: configuration, adapter: adapter, logger: logger)
        Self.installHandlers(io)
        let listener = io.httpServer(host: self.host, port: self.port)
        // The listener stops first (port closed, sessions drained), then the server.
        try await ServiceRunner.run([io, listener], localAddress: { try await listener.localAddress }, logger: logger)
    }

    struct Boom: Error, CustomStringConvertible {
        var description: String { "boom" }
    }

    static func installHandlers(_ io: SocketIOServer) {
        io.onConnectWithDecision { socket, auth in
            switch auth?["token"]?.stringValue {
            case "refuse": throw ConnectionRefused("not allowed", data: ["reason": "bad token"])
            case "false": return false
            default: break
            }
            // A recovered session keeps its data (--recovery-ms).
            if !socket.recovered { socket.session["count"] = 0 }
            socket.emit("welcome", ["sid": .string(socket.id), "auth": auth ?? .null])
            return true
        }
        io.on("echo") { socket, arguments in socket.emit("echo", arguments: arguments) }
        io.onWithAck("echo_ack") { _, arguments in SocketIOAck(arguments) }
        io.onWithAck("server_count") { _, _ in [.int(io.serverCount)] }
        // This node's host id and the live nodes' (for operators; tests tell nodes apart).
        let membership = io.adapter as? ClusterAdapter
        io.onWithAck("cluster_nodes") { _, _ in
            [["self": .string(membership?.hostID ?? ""), "nodes": .array((membership?.nodes ?? []).map { .string($0) })]]
        }
        io.onWithAck("join") { socket, arguments in
            socket.join(arguments.first?.stringValue ?? "")
            return ["joined", .array(socket.rooms.map { .string($0) })]
        }
        io.onWithAck("leave") { socket, arguments in
            socket.leave(arguments.first?.stringValue ?? "")
            return ["left", .array(socket.rooms.map { .string($0) })]
        }
        io.onWithAck("close_room") { socket, arguments in
            io.closeRoom(arguments.first?.stringValue ?? "")
            return ["closed"]
        }
        io.onWithAck("to_room") { socket, arguments in
            let request = arguments.first ?? .null
            let room = request["room"]?.stringValue ?? ""
            // `socket.to(room)` leaves the sender out (Node); the namespace's operator does not.
            let target = request["include_self"]?.boolValue == false ? socket.to(room) : socket.nsp.to(room)
            target.emit("room_message", request["data"] ?? .null)
            return ["sent"]
        }
        io.onWithAck("broadcast") { socket, arguments in
            let includeSelf = arguments.count < 2 || arguments[1].boolValue != false
            (includeSelf ? socket.nsp.broadcastOperator : socket.broadcast).emit("broadcast_message", arguments.first ?? .null)
            return ["sent"]
        }
        io.onWithAck("count") { socket, _ in
            let count = (socket.session.get("count", as: Int.self) ?? 0) + 1
            socket.session["count"] = count
            return [.int(count)]
        }
        io.on("fail") { _, _ in throw Boom() }
        io.onError { error, context in
            context.socket.emit("error_handled", ["event": .string(context.event), "args": .array(context.arguments), "message": .string("\(error)")])
        }
        io.on("ask_client") { socket, arguments in
            do {
                let answer = try await socket.emitWithAck("question", arguments.first ?? .null, timeout: .seconds(5))
                socket.emit("answer", arguments: answer)
            } catch {
                socket.emit("answer_error", .string("\(error)"))
            }
        }
        io.on("disconnect_me") { socket, _ in socket.disconnect() }
        io.onWithAck("rooms") { socket, _ in [.array(socket.rooms.map { .string($0) })] }
        io.onWithAck("recovered") { socket, _ in [.bool(socket.recovered)] }
        io.onWithAck("handshake") { socket, _ in
            let handshake = socket.handshake
            let fields: SocketIOValue = [
                "time": .string(handshake.time),
                "issued": .int(Int(handshake.issued)),
                "url": .string(handshake.url),
                "query": .array(handshake.queryItems.map { [.string($0.name), .string($0.value)] }),
                "cookies": .array(handshake.cookies.sorted { $0.key < $1.key }.map { [.string($0.key), .string($0.value)] }),
                "address": handshake.address.map { .string($0) } ?? .null,
                "secure": .bool(handshake.secure),
                "auth": handshake.auth ?? .null,
            ]
            return [fields]
        }
        io.onWithAck("date_plus_second") { _, arguments in
            let date = try SocketIOValueCoder.decode(Date.self, from: arguments.first ?? .null)
            return [try SocketIOValueCoder.encode(date.addingTimeInterval(1))]
        }
        // Server-side operations on any sid (cluster tests: the sid may live on another node).
        io.onWithAck("server_join") { _, arguments in
            io.joinRoom(sid: arguments.argument(0).stringValue ?? "", room: arguments.argument(1).stringValue ?? "")
            return ["ok"]
        }
        io.onWithAck("server_leave") { _, arguments in
            io.leaveRoom(sid: arguments.argument(0).stringValue ?? "", room: arguments.argument(1).stringValue ?? "")
            return ["ok"]
        }
        io.onWithAck("server_disconnect") { _, arguments in
            io.disconnect(sid: arguments.argument(0).stringValue ?? "")
            return ["ok"]
        }
        io.onWithAck("server_close_room") { _, arguments in
            io.closeRoom(arguments.argument(0).stringValue ?? "")
            return ["ok"]
        }
        io.onWithAck("server_emit") { _, arguments in
            let request = arguments.first ?? .null
            let rooms = request["to"]?.arrayValue?.compactMap(\.stringValue) ?? request["to"]?.stringValue.map { [$0] } ?? []
            let skip = request["skip"]?.arrayValue?.compactMap(\.stringValue) ?? []
            io.to(rooms).except(skip).emit(request["event"]?.stringValue ?? "server_event", arguments: request["args"]?.arrayValue ?? [])
            return ["ok"]
        }
        io.onWithAck("server_ask") { _, arguments in
            do {
                let answer = try await io.emitWithAck("question", arguments.argument(1), to: arguments.argument(0).stringValue ?? "", timeout: .seconds(5))
                return ["answer", .array(answer)]
            } catch {
                return ["error", .string("\(error)")]
            }
        }
        io.onAny { socket, event, arguments in
            socket.emit("unknown_event", .string(event), .array(arguments))
        }

        let chat = io.of("/chat")
        chat.onConnect { socket, _ in
            socket.emit("welcome_chat", ["sid": .string(socket.id)])
        }
        chat.on("echo") { socket, arguments in socket.emit("echo", arguments: arguments) }
        chat.on("fail") { _, _ in throw Boom() }
        APIScenarios.install(on: io)
        ClusterScenarios.install(on: io)
        io.onDefaultError { error, context in
            context.socket.emit("default_error", ["event": .string(context.event), "namespace": .string(context.socket.namespace)])
        }
    }
}

extension Array where Element == SocketIOValue {
    /// The argument at `index`, or `null` when the client sent fewer (as the handlers
    /// above default missing arguments): a short event must not trap the fixture.
    fileprivate func argument(_ index: Int) -> SocketIOValue {
        self.indices.contains(index) ? self[index] : .null
    }
}
