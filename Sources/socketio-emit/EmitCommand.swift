//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import ArgumentParser
import Backplane
import Foundation
import Logging
import SocketIOEmitter
import SocketIOParser

/// `socketio-emit`: publish to a Socket.IO cluster from a shell or a batch job.
///
///     socketio-emit --message-queue redis://127.0.0.1:6379 --room lobby news '{"n":1}' '"two"'
///     socketio-emit --message-queue redis://… --close-room lobby
///     socketio-emit --message-queue redis://… --room lobby --sockets-join vip
///     socketio-emit --message-queue redis://… --room lobby --disconnect-sockets --close
///     socketio-emit --message-queue redis://… --server-side-emit refresh '{"n":1}'
///     socketio-emit --message-queue redis://… --room lobby --fetch-socket-ids --timeout-ms 2000
///     socketio-emit --message-queue redis://… --fetch-rooms
@main
struct EmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "socketio-emit",
        abstract: "Publish emits, room operations, disconnects and server-side emits onto a Socket.IO cluster's message queue."
    )

    @Option(help: "Message queue URL, e.g. redis://127.0.0.1:6379; default: $SOCKETIO_MESSAGE_QUEUE (keeps a password out of the process list).")
    var messageQueue: String?

    private static let noQueue = "give --message-queue URL or set \(BackplaneURL.environmentVariable)"

    /// The URL from the option or the environment (``validate()`` checks there is one).
    private var queue: (url: String, source: String)? {
        BackplaneURL.fromOptionOrEnvironment(self.messageQueue, optionName: "--message-queue")
    }

    @Option(help: "Channel (python-socketio: socketio; Flask-SocketIO: flask-socketio).")
    var channel = "socketio"

    @Option(help: "Namespace.")
    var namespace = "/"

    // Socket ids are base64url and may start with "-": such values are taken as they come.
    @Option(parsing: .unconditionalSingleValue, help: "Target room or sid (repeatable); none: everyone in the namespace.")
    var room: [String] = []

    @Option(parsing: .unconditionalSingleValue, help: "A sid to skip (repeatable).")
    var skip: [String] = []

    @Option(help: "Instead of emitting: close this room everywhere.")
    var closeRoom: String?

    @Option(parsing: .unconditional, help: "Instead of emitting: disconnect this sid.")
    var disconnect: String?

    @Option(name: .customLong("enter-room"), help: "Instead of emitting: put --sid in this room.")
    var enterRoom: String?

    @Option(name: .customLong("leave-room"), help: "Instead of emitting: take --sid out of this room.")
    var leaveRoom: String?

    @Option(parsing: .unconditional, help: "The sid for --enter-room / --leave-room.")
    var sid: String?

    @Option(name: .customLong("sockets-join"), help: "Instead of emitting: put the sockets of --room (all when none), minus --skip, in this room (repeatable).")
    var socketsJoin: [String] = []

    @Option(name: .customLong("sockets-leave"), help: "Instead of emitting: take the sockets of --room (all when none), minus --skip, out of this room (repeatable).")
    var socketsLeave: [String] = []

    @Flag(name: .customLong("disconnect-sockets"), help: "Instead of emitting: disconnect the sockets of --room (all when none), minus --skip.")
    var disconnectSockets = false

    @Flag(help: "With --disconnect-sockets: also close their connections.")
    var close = false

    @Flag(name: .customLong("server-side-emit"), help: "Send EVENT [JSON...] to the servers' onServerSideEmit handlers instead of to clients.")
    var serverSideEmit = false

    @Flag(
        name: .customLong("fetch-socket-ids"),
        help: "Instead of emitting: print {\"ids\":[...],\"count\":N,\"nodes\":[...],\"complete\":bool} for the sockets of --room (all when none), minus --skip, on the nodes that answer within --timeout-ms."
    )
    var fetchSocketIDs = false

    @Flag(
        name: .customLong("fetch-rooms"),
        help: "Instead of emitting: print {\"rooms\":{room: members},\"nodes\":[...],\"complete\":bool} for the namespace, from the nodes that answer within --timeout-ms."
    )
    var fetchRooms = false

    @Option(name: .customLong("timeout-ms"), help: "With --fetch-socket-ids / --fetch-rooms: how long the nodes' answers are waited for.")
    var timeoutMilliseconds: Int = 2_000

    @Option(help: "Emit the event this many times, with the sequence number appended as the last argument.")
    var count: Int = 1

    @Option(name: .customLong("interval-ms"), help: "With --count: milliseconds between emits.")
    var intervalMilliseconds: Int = 0

    @Argument(help: "The event name, then its arguments as JSON values.")
    var event: [String] = []

    func validate() throws {
        guard self.queue != nil else {
            throw ValidationError(Self.noQueue)
        }
        let operations = [
            self.closeRoom != nil, self.disconnect != nil, self.enterRoom != nil, self.leaveRoom != nil, !self.socketsJoin.isEmpty,
            !self.socketsLeave.isEmpty, self.disconnectSockets, self.fetchSocketIDs, self.fetchRooms, !self.event.isEmpty,
        ]
        guard operations.filter({ $0 }).count == 1 else {
            throw ValidationError(
                "give exactly one of: EVENT [JSON...], --close-room, --disconnect, --enter-room, --leave-room, --sockets-join, --sockets-leave, --disconnect-sockets, --fetch-socket-ids, --fetch-rooms"
            )
        }
        if self.serverSideEmit && (self.event.isEmpty || self.count != 1) {
            throw ValidationError("--server-side-emit needs EVENT [JSON...] and no --count")
        }
        if self.close && !self.disconnectSockets {
            throw ValidationError("--close goes with --disconnect-sockets")
        }
        if self.timeoutMilliseconds <= 0 {
            throw ValidationError("--timeout-ms must be positive")
        }
        if (self.enterRoom != nil || self.leaveRoom != nil) && self.sid == nil {
            throw ValidationError("--enter-room and --leave-room need --sid")
        }
    }

    func run() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let logger = Logger(label: "socketio-emit")
        guard let queue = self.queue else { throw ValidationError(Self.noQueue) }
        let emitter: SocketIOEmitter
        do {
            emitter = try SocketIOEmitter(url: queue.url, channel: self.channel, logger: logger)
        } catch {
            throw ValidationError("\(queue.source): \(error)")
        }
        var arguments: [SocketIOValue] = []
        for text in self.event.dropFirst() {
            do {
                arguments.append(try JSONParser.parse(text))
            } catch {
                throw ValidationError("argument \(text) is not JSON: \(error)")
            }
        }
        let flushed = try await emitter.run(flushTimeout: .seconds(120)) { [self, arguments] in
            if let room = self.closeRoom {
                emitter.closeRoom(room, namespace: self.namespace)
            } else if let sid = self.disconnect {
                emitter.disconnect(sid: sid, namespace: self.namespace)
            } else if let room = self.enterRoom, let sid = self.sid {
                emitter.enterRoom(sid: sid, room: room, namespace: self.namespace)
            } else if let room = self.leaveRoom, let sid = self.sid {
                emitter.leaveRoom(sid: sid, room: room, namespace: self.namespace)
            } else if !self.socketsJoin.isEmpty {
                emitter.of(self.namespace).to(self.room).except(self.skip).socketsJoin(self.socketsJoin)
            } else if !self.socketsLeave.isEmpty {
                emitter.of(self.namespace).to(self.room).except(self.skip).socketsLeave(self.socketsLeave)
            } else if self.disconnectSockets {
                emitter.of(self.namespace).to(self.room).except(self.skip).disconnectSockets(close: self.close)
            } else if self.fetchSocketIDs {
                let result = await emitter.of(self.namespace).to(self.room).except(self.skip).fetchSocketIDs(timeout: .milliseconds(self.timeoutMilliseconds))
                let report: SocketIOValue = [
                    "ids": .array(result.value.map { .string($0) }), "count": .int(result.value.count),
                    "nodes": .array(result.nodes.map { .string($0) }), "complete": .bool(result.isComplete),
                ]
                print(report.jsonString)
                self.warnIfNobodyAnswered(result.nodes)
            } else if self.fetchRooms {
                let result = await emitter.of(self.namespace).fetchRooms(timeout: .milliseconds(self.timeoutMilliseconds))
                let rooms = result.value.sorted { $0.key < $1.key }.map { "\(SocketIOValue.string($0.key).jsonString):\($0.value)" }
                let nodes = SocketIOValue.array(result.nodes.map { .string($0) }).jsonString
                print(#"{"rooms":{\#(rooms.joined(separator: ","))},"nodes":\#(nodes),"complete":\#(result.isComplete)}"#)
                self.warnIfNobodyAnswered(result.nodes)
            } else if self.serverSideEmit, let name = self.event.first {
                emitter.serverSideEmit(name, arguments: arguments)
            } else if let name = self.event.first {
                for sequence in 0..<max(1, self.count) {
                    let values = self.count > 1 ? arguments + [.int(sequence)] : arguments
                    emitter.of(self.namespace).to(self.room).except(self.skip).emit(name, arguments: values)
                    if self.intervalMilliseconds > 0 {
                        try await Task.sleep(for: .milliseconds(self.intervalMilliseconds))
                    }
                }
            }
        }
        if !flushed {
            throw ValidationError("could not publish everything to \(BackplaneURL.redacted(queue.url)) in time")
        }
    }

    /// An empty answer from no node at all is not a count of zero: say so on stderr (the JSON
    /// on stdout stays as it is, for scripts).
    private func warnIfNobodyAnswered(_ nodes: [String]) {
        guard nodes.isEmpty else { return }
        let text = "socketio-emit: no node answered within \(self.timeoutMilliseconds) ms on channel \(self.channel) (no worker running there, or the broker unreachable)\n"
        FileHandle.standardError.write(Data(text.utf8))
    }
}
