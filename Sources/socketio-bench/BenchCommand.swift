//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import ArgumentParser
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import OrderedCollections
import SocketIOEmitter
import SocketIOParser

/// An ordered JSON object: the report keeps its fields in the order they are written.
typealias OrderedJSON = OrderedDictionary<String, SocketIOValue>

/// `socketio-bench`: a SwiftNIO load generator for Engine.IO v4 / Socket.IO v5 servers.
///
/// Every client runs on one event loop (one thread), so that the generator can be pinned to
/// one core beside the server and still say how much of that core it used.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "socketio-bench",
        abstract: "Load generator for Socket.IO servers: connect, fanout, latency, cluster and rooms scenarios.",
        discussion: """
            Scenarios use the events of socketio-demo (and of Flask-SocketIO's example app): \
            `my_broadcast_event` for broadcasts, `join` and `my_room_event` for rooms, `echo` (acknowledged \
            with its arguments) for round trips. \
            With --json the result is printed as one JSON object on the last line of standard output.
            """,
        subcommands: [ConnectScenario.self, FanoutScenario.self, LatencyScenario.self, ClusterScenario.self, RoomsScenario.self]
    )
}

/// Options every scenario shares.
struct CommonOptions: ParsableArguments {
    @Option(name: .customLong("url"), help: "Server URL (repeat for a cluster), e.g. http://127.0.0.1:5000")
    var urls: [String] = ["http://127.0.0.1:5000"]

    @Option(help: "Engine.IO path.")
    var path = "/socket.io/"

    @Option(help: "Socket.IO namespace.")
    var namespace = "/"

    @Option(help: "Bind clients to this many source addresses 127.0.N.1 (N = 1…); 0 lets the kernel choose.")
    var sourceAddresses = 0

    @Option(help: "How many clients open at once.")
    var concurrency = 200

    @Option(help: "Give up after this many seconds.")
    var timeoutS = 120

    @Flag(help: "Print the result as one JSON object.")
    var json = false

    func targets() throws -> [BenchTarget] {
        try self.urls.map { url in
            guard let parsed = Self.split(url) else { throw ValidationError("bad URL \(url): expected http://HOST:PORT") }
            let address: SocketAddress
            do {
                address = try SocketAddress.makeAddressResolvingHost(parsed.host, port: parsed.port)
            } catch {
                throw ValidationError("cannot resolve \(parsed.host): \(error)")
            }
            var path = self.path
            if !path.hasSuffix("/") { path += "/" }
            return BenchTarget(host: parsed.host, port: parsed.port, path: path, namespace: self.namespace, address: address)
        }
    }

    func sources() throws -> [SocketAddress] {
        guard self.sourceAddresses > 0 else { return [] }
        guard self.sourceAddresses <= 255 else { throw ValidationError("--source-addresses is at most 255") }
        return try (1...self.sourceAddresses).map { try SocketAddress(ipAddress: "127.0.\($0).1", port: 0) }
    }

    private static func split(_ url: String) -> (host: String, port: Int)? {
        var rest = Substring(url)
        for scheme in ["http://", "ws://"] where rest.hasPrefix(scheme) { rest = rest.dropFirst(scheme.count) }
        rest = rest.prefix(while: { $0 != "/" })
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]), port > 0, port < 65536
        else { return nil }
        let host = rest[..<colon]
        return host.isEmpty ? nil : (String(host), port)
    }

    /// Runs `body` on the generator's loop with a fresh swarm, closes the swarm, prints the
    /// report, and fails the command when the report carries an error.
    func run(
        scenario: String,
        fields: OrderedJSON,
        _ body: @escaping @Sendable (NIOLoopBound<BenchSwarm>) -> EventLoopFuture<SocketIOValue>
    ) async throws {
        ProcessStats.raiseOpenFileLimit()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let targets = try self.targets()
        let sources = try self.sources()
        let report = try await loop.flatSubmit {
            let swarm = BenchSwarm(loop: loop, targets: targets, sourceAddresses: sources)
            let bound = NIOLoopBound(swarm, eventLoop: loop)
            return body(bound).always { _ in bound.value.closeAll() }
        }.get()
        var object: OrderedJSON = ["scenario": .string(scenario)]
        object.merge(fields) { $1 }
        if case .object(let fields) = report { object.merge(fields) { $1 } }
        // Give the close frames a moment to leave before the loop stops.
        try? await Task.sleep(for: .milliseconds(100))
        try? await group.shutdownGracefully()
        self.print(object)
        if let error = object["error"]?.stringValue {
            throw BenchError(message: error)
        }
    }

    private func print(_ report: OrderedJSON) {
        if self.json {
            Swift.print(SocketIOValue.object(report).jsonString)
        } else {
            for (key, value) in report {
                Swift.print("\(key.padding(26)) \(value.stringValue ?? value.jsonString)")
            }
        }
    }
}

struct BenchError: Error, CustomStringConvertible {
    let message: String
    var description: String { self.message }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        self.count >= width ? self : self + String(repeating: " ", count: width - self.count)
    }
}

/// The connect-phase fields every scenario reports.
extension BenchSwarm {
    func connectReport() -> OrderedJSON {
        var report: OrderedJSON = ["connected": .int(self.connected), "failed": .int(self.failed)]
        if !self.failureReasons.isEmpty {
            report["failures"] = .object(OrderedJSON(uniqueKeysWithValues: self.failureReasons.map { ($0.key, .int($0.value)) }))
        }
        return report
    }

    /// Opens the clients and fails the scenario unless all of them connected.
    func openAll(count: Int, concurrency: Int, timeout: TimeAmount) -> EventLoopFuture<Void> {
        let this = NIOLoopBound(self, eventLoop: self.loop)
        return self.open(count: count, concurrency: concurrency, timeout: timeout).flatMapThrowing {
            let swarm = this.value
            guard swarm.failed == 0 else {
                throw BenchError(message: "\(swarm.failed) of \(count) clients failed to connect: \(swarm.failureReasons)")
            }
        }.flatMap {
            // Let connect-time traffic (greetings) drain before measuring.
            this.value.loop.scheduleTask(in: .milliseconds(200)) {}.futureResult
        }
    }
}

// MARK: - connect

struct ConnectScenario: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect",
        abstract: "Open N clients at a given concurrency and hold them: setup rate, connect latency, server RSS per connection."
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Number of clients.")
    var clients = 1000

    @Option(help: "websocket or polling.")
    var transport = "websocket"

    @Option(help: "Server pid, to read its RSS from /proc before and after.")
    var serverPid: Int32?

    @Option(help: "Hold the connections this long (ms) before reading the server's RSS and closing.")
    var holdMs = 1000

    func validate() throws {
        guard ["websocket", "polling"].contains(self.transport) else { throw ValidationError("--transport websocket|polling") }
    }

    func run() async throws {
        let count = self.clients
        let concurrency = self.common.concurrency
        let polling = self.transport == "polling"
        let hold = TimeAmount.milliseconds(Int64(self.holdMs))
        let timeout = TimeAmount.seconds(Int64(self.common.timeoutS))
        let pid = self.serverPid
        let before = pid.flatMap { ProcessStats.residentKiB(pid: $0) }
        if let pid, before == nil { throw ValidationError("no process \(pid)") }
        try await self.common.run(scenario: "connect", fields: ["transport": .string(self.transport), "clients": .int(count)]) {
            swarm in
            let loop = swarm.value.loop
            let started = monotonicNanoseconds()
            let cpuStart = ProcessStats.ownCPUSeconds()
            return swarm.value.open(count: count, concurrency: concurrency, polling: polling, timeout: timeout).flatMap {
                let elapsed = Double(monotonicNanoseconds() &- started) / 1e9
                let cpu = ProcessStats.ownCPUSeconds() - cpuStart
                return loop.scheduleTask(in: hold) {
                    let swarm = swarm.value
                    var report = swarm.connectReport()
                    report["elapsed_s"] = .double(elapsed)
                    report["rate_per_s"] = .double((Double(swarm.connected) / max(elapsed, 1e-9)).rounded())
                    report["connect_ms"] = swarm.connectLatency.summary()
                    if let pid, let before, let after = ProcessStats.residentKiB(pid: pid) {
                        report["server_rss_kb_before"] = .int(before)
                        report["server_rss_kb_after"] = .int(after)
                        let perConnection = Double(after - before) / Double(max(1, swarm.connected))
                        report["rss_per_connection_kb"] = .double((perConnection * 100).rounded() / 100)
                    }
                    report["generator_cpu_s"] = .double(cpu)
                    if swarm.failed > 0 { report["error"] = .string("\(swarm.failed) clients failed to connect") }
                    return .object(report)
                }.futureResult
            }
        }
    }
}

// MARK: - fanout

/// The options of a fan-out run (the `fanout` and `cluster` scenarios), and the run itself.
struct FanoutOptions: ParsableArguments {
    @Option(help: "Number of clients, spread round robin over the --url servers (client 0 also sends, unless the emitter publishes).")
    var clients = 1000

    @Option(help: "Broadcasts in flight.")
    var window = 8

    @Option(help: "Measured broadcasts.")
    var broadcasts = 2000

    @Option(help: "Unmeasured broadcasts first.")
    var warmup = 100

    /// Opens the clients and runs one fan-out: broadcast `seq` is client 0's
    /// `my_broadcast_event`, or, with `emitter`, a `my_response` published by the emitter.
    func run(_ common: CommonOptions, scenario: String, fields: OrderedJSON, emitter: SocketIOEmitter? = nil) async throws {
        let (count, concurrency, window, broadcasts, warmup) = (
            self.clients, common.concurrency, self.window, self.broadcasts, self.warmup
        )
        let timeout = TimeAmount.seconds(Int64(common.timeoutS))
        try await common.run(scenario: scenario, fields: fields) { swarm in
            swarm.value.openAll(count: count, concurrency: concurrency, timeout: timeout).flatMap {
                let publish: (Int) -> Void
                if let emitter {
                    publish = { emitter.emit("my_response", ["data": .int($0)]) }
                } else {
                    let sender = swarm.value.clients[0]
                    publish = { sender.sendText("42[\"my_broadcast_event\",{\"data\":\($0)}]") }
                }
                return FanoutDriver(swarm: swarm.value, window: window, broadcasts: broadcasts, warmup: warmup, publish: publish)
                    .run(timeout: timeout)
            }
        }
    }
}

struct FanoutScenario: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fanout",
        abstract: "One sender, N receivers, W broadcasts in flight: deliveries/s and completion latency."
    )

    @OptionGroup var common: CommonOptions
    @OptionGroup var fanout: FanoutOptions

    func run() async throws {
        try await self.fanout.run(self.common, scenario: "fanout", fields: ["clients": .int(self.fanout.clients)])
    }
}

// MARK: - latency

struct LatencyScenario: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latency",
        abstract: "C clients in closed loops of emit-with-ack (`echo`): acks/s and round-trip percentiles."
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Number of clients.")
    var clients = 50

    @Option(help: "Measured round trips in all.")
    var requests = 20000

    @Option(help: "Unmeasured round trips per client first.")
    var warmup = 20

    @Option(help: "Size of a binary attachment carried by each event (0: text only).")
    var binaryBytes = 0

    func run() async throws {
        let (count, concurrency, requests, warmup, binary) = (
            self.clients, self.common.concurrency, self.requests, self.warmup, self.binaryBytes
        )
        let timeout = TimeAmount.seconds(Int64(self.common.timeoutS))
        try await self.common.run(scenario: "latency", fields: [:]) { swarm in
            swarm.value.openAll(count: count, concurrency: concurrency, timeout: timeout).flatMap {
                LatencyDriver(swarm: swarm.value, requests: requests, warmupPerClient: warmup, binaryBytes: binary)
                    .run(timeout: timeout)
            }
        }
    }
}

// MARK: - cluster

struct ClusterScenario: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Fan-out through a cluster: clients spread over the workers (--url each), broadcasts published by a client of the first worker or by the emitter library (--emitter URL)."
    )

    @OptionGroup var common: CommonOptions
    @OptionGroup var fanout: FanoutOptions

    @Option(help: "Publish with the emitter library through this message queue (redis://, amqp://, kafka://) instead of a worker.")
    var emitter: String?

    @Option(help: "The cluster's channel (with --emitter).")
    var channel = "socketio"

    func run() async throws {
        let fields: OrderedJSON = [
            "clients": .int(self.fanout.clients),
            "workers": .int(self.common.urls.count),
            "publisher": .string(self.emitter == nil ? "worker" : "emitter"),
        ]
        guard let url = self.emitter else {
            try await self.fanout.run(self.common, scenario: "cluster", fields: fields)
            return
        }
        var logger = Logger(label: "socketio-bench.emitter")
        logger.logLevel = .warning
        let emitter: SocketIOEmitter
        do {
            emitter = try SocketIOEmitter(url: url, channel: self.channel, logger: logger)
        } catch {
            throw ValidationError("--emitter: \(error)")
        }
        let (common, fanout) = (self.common, self.fanout)
        try await emitter.run(flushTimeout: .seconds(5)) {
            try await fanout.run(common, scenario: "cluster", fields: fields, emitter: emitter)
        }
    }
}

// MARK: - rooms

struct RoomsScenario: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rooms",
        abstract: "Many small rooms, a sender in every room: clients spread round robin over the --url servers (so a room's members sit on different workers of a cluster); messages/s, deliveries/s, completion latency."
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Number of rooms.")
    var rooms = 200

    @Option(help: "Clients per room (client 0 of each room sends; every member, sender included, receives).")
    var roomSize = 10

    @Option(help: "Messages in flight over all rooms (default: one per room, every room's sender busy).")
    var window: Int?

    @Option(help: "Measured messages (sent by the rooms in turn).")
    var messages = 20000

    @Option(help: "Unmeasured messages first.")
    var warmup = 200

    func validate() throws {
        guard self.rooms > 0, self.roomSize > 0 else { throw ValidationError("--rooms and --room-size must be positive") }
    }

    func run() async throws {
        let (rooms, size, window, messages, warmup, concurrency) = (
            self.rooms, self.roomSize, self.window ?? self.rooms, self.messages, self.warmup, self.common.concurrency
        )
        let timeout = TimeAmount.seconds(Int64(self.common.timeoutS))
        let fields: OrderedJSON = [
            "clients": .int(rooms * size), "rooms": .int(rooms), "room_size": .int(size),
            "workers": .int(self.common.urls.count),
        ]
        try await self.common.run(scenario: "rooms", fields: fields) { swarm in
            swarm.value.openAll(count: rooms * size, concurrency: concurrency, timeout: timeout).flatMap {
                RoomsSetup.joinAll(swarm.value, roomSize: size, timeout: timeout)
            }.flatMap { () -> EventLoopFuture<SocketIOValue> in
                let clients = swarm.value.connectedClients
                guard clients.count == rooms * size else {
                    return swarm.value.loop.makeSucceededFuture(["error": "not every client connected"])
                }
                return FanoutDriver(
                    swarm: swarm.value,
                    window: window,
                    broadcasts: messages,
                    warmup: warmup,
                    receiversPerBroadcast: size
                ) { seq in
                    // Rooms send in turn; the room's first member sends (the demo's
                    // `my_room_event` emits `my_response` to the room, sender included).
                    let room = seq % rooms
                    clients[room * size].sendText("42[\"my_room_event\",{\"data\":\(seq),\"room\":\"r\(room)\"}]")
                }.run(timeout: timeout).map { result in
                    guard case .object(var fields) = result, let elapsed = fields["elapsed_s"]?.doubleValue, elapsed > 0,
                        let completed = fields["completed"]?.intValue
                    else { return result }
                    fields["messages_per_s"] = .double((Double(completed) / elapsed).rounded())
                    return .object(fields)
                }
            }
        }
    }
}

/// Puts client i in room `r(i / roomSize)` with the demo's `join` and waits for every
/// answer (`my_response` "In rooms: …"). Clients are spread round robin over the servers,
/// so the members of a room sit on different workers.
enum RoomsSetup {
    static func joinAll(_ swarm: BenchSwarm, roomSize: Int, timeout: TimeAmount) -> EventLoopFuture<Void> {
        let clients = swarm.connectedClients
        let promise = swarm.loop.makePromise(of: Void.self)
        var answered = 0
        let expected = clients.count
        let marker = Array("In rooms".utf8)
        let deadline = swarm.loop.scheduleTask(in: timeout) { promise.fail(BenchError(message: "joins timed out")) }
        swarm.onEvent = { _, payload in
            let isJoinAnswer = payload.withUnsafeReadableBytes { bytes in
                bytes.count >= marker.count && (0...(bytes.count - marker.count)).contains { start in
                    marker.indices.allSatisfy { bytes[start + $0] == marker[$0] }
                }
            }
            guard isJoinAnswer else { return }
            answered += 1
            if answered == expected {
                deadline.cancel()
                swarm.onEvent = nil
                promise.succeed(())
            }
        }
        for (index, client) in clients.enumerated() {
            client.sendText("42[\"join\",{\"room\":\"r\(index / roomSize)\"}]")
        }
        if expected == 0 { promise.succeed(()) }
        return promise.futureResult
    }
}
