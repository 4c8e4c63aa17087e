//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import AMQPBackplane
import Backplane
import CRdKafka
import Foundation
import Glibc
import KafkaBackplane
import Logging
import NIOConcurrencyHelpers
import NIOCore
import RedisBackplane
import Testing

private let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

/// Issue 15, part 1: channels beside the main one, on every broker.
struct BackplaneChannelTests {
    // MARK: Globs

    @Test func globsMatchStarAndQuestionMarkOnly() {
        let pattern = BackplaneSubscription.pattern("socketio#*")
        #expect(pattern.matches("socketio#"))
        #expect(pattern.matches("socketio#node-1"))
        #expect(!pattern.matches("socketio"))
        #expect(!pattern.matches("flask-socketio#a"))
        #expect(BackplaneSubscription.pattern("a?c").matches("abc"))
        #expect(!BackplaneSubscription.pattern("a?c").matches("ac"))
        #expect(BackplaneSubscription.pattern("*a*b*").matches("xxaxxbxx"))
        #expect(!BackplaneSubscription.pattern("*a*b*").matches("xxbxxaxx"))
        #expect(BackplaneSubscription.pattern("*").matches(""))
        // Brackets are plain characters.
        #expect(BackplaneSubscription.pattern("[ab]").matches("[ab]"))
        #expect(!BackplaneSubscription.pattern("[ab]").matches("a"))
        #expect(BackplaneSubscription.channel("a*").matches("a*") && !BackplaneSubscription.channel("a*").matches("ab"))
    }

    // MARK: Every transport

    @Test func inMemoryBusRoutesByChannel() async throws {
        let bus = InMemoryBackplaneBus(recording: true)
        let emitter = bus.makeTransport(role: .publishOnly)
        #expect(bus.subscriberCount == 0)
        emitter.subscribe([.channel("socketio#b")])
        #expect(bus.subscriberCount == 1)
        try await checkRouting(main: bus.makeTransport(), replyOnly: emitter, pattern: bus.makeTransport())
        #expect(bus.recordedMessages.contains(BackplaneMessage(channel: "socketio#b", payload: ByteBuffer(string: "X"))))
    }

    @Test func redisRoutesByChannel() async throws {
        let broker = try ScriptedBroker(script: "redis.sh")
        defer { broker.down() }
        let url = try BackplaneURL(broker.url)
        func make(_ role: BackplaneRole) -> RedisBackplane { RedisBackplane(configuration: .init(url: url, role: role), logger: quiet) }
        try await checkRouting(main: make(.publishAndSubscribe), replyOnly: make(.publishOnly), pattern: make(.publishAndSubscribe))
    }

    @Test func amqpRoutesByChannel() async throws {
        let broker = try ScriptedBroker(script: "rabbitmq.sh")
        defer { broker.down() }
        let url = try BackplaneURL(broker.url)
        func make(_ role: BackplaneRole) -> AMQPBackplane {
            AMQPBackplane(configuration: .init(url: url, role: role, resubscribeWait: .zero), logger: quiet)
        }
        try await checkRouting(main: make(.publishAndSubscribe), replyOnly: make(.publishOnly), pattern: make(.publishAndSubscribe))
    }

    @Test func kafkaRoutesByChannel() async throws {
        let mock = try #require(CRdKafka_newMock())
        defer { CRdKafka_destroyMock(mock) }
        #expect(CRdKafka_mockCreateTopic(mock, "socketio", 2) == 0)
        let url = try BackplaneURL("kafka://" + String(cString: CRdKafka_mockBootstrap(mock)))
        func make(_ role: BackplaneRole) throws -> KafkaBackplane { try KafkaBackplane(configuration: .init(url: url, role: role), logger: quiet) }
        try await checkRouting(main: make(.publishAndSubscribe), replyOnly: make(.publishOnly), pattern: make(.publishAndSubscribe))
    }
}

/// Three nodes: `main` subscribes to the main channel only; `replyOnly` (an emitter) to
/// `socketio#b` only; `pattern` to the main channel, `socketio#*` and `socketio#b` (so that
/// `socketio#b` matches twice and must still arrive once). `main` publishes X and Y on
/// `socketio#b` and M on the main channel: each node gets exactly its channels, in order.
private func checkRouting(main: any BackplaneTransport, replyOnly: any BackplaneTransport, pattern: any BackplaneTransport) async throws {
    replyOnly.subscribe([.channel("socketio#b")])
    pattern.subscribe([.pattern("socketio#*"), .channel("socketio#b")])
    let nodes = [main, replyOnly, pattern]
    let heard = nodes.map { _ in NIOLockedValueBox<[String]>([]) }
    try await withThrowingTaskGroup(of: Void.self) { group in
        for (node, log) in zip(nodes, heard) {
            group.addTask { try await node.run() }
            group.addTask {
                for await message in node.messages {
                    log.withLockedValue { $0.append("\(message.channel):\(String(buffer: message.payload))") }
                }
            }
        }
        defer { group.cancelAll() }
        func allSubscribed() -> Bool { nodes.allSatisfy { $0.isSubscribed } }
        for _ in 0..<2000 where !allSubscribed() { try await Task.sleep(for: .milliseconds(10)) }
        #expect(allSubscribed())
        // A subscription confirmed is not always a fetch position resolved (Kafka): publish
        // warm-ups until every node heard one.
        for _ in 0..<400 {
            main.publish(ByteBuffer(string: "warm"))
            main.publish(ByteBuffer(string: "warm"), to: "socketio#b")
            if heard.allSatisfy({ !$0.withLockedValue { $0 }.isEmpty }) { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        main.publish(ByteBuffer(string: "X"), to: "socketio#b")
        main.publish(ByteBuffer(string: "M"))
        main.publish(ByteBuffer(string: "Y"), to: "socketio#b")
        main.publish(ByteBuffer(string: "end"))
        main.publish(ByteBuffer(string: "end"), to: "socketio#b")
        let expected = [
            ["socketio:M", "socketio:end"],
            ["socketio#b:X", "socketio#b:Y", "socketio#b:end"],
            ["socketio#b:X", "socketio:M", "socketio#b:Y", "socketio:end", "socketio#b:end"],
        ]
        func real(_ index: Int) -> [String] { heard[index].withLockedValue { $0 }.filter { !$0.hasSuffix(":warm") } }
        for _ in 0..<1000 where (0..<3).contains(where: { real($0).count < expected[$0].count }) {
            try await Task.sleep(for: .milliseconds(10))
        }
        // Anything misrouted would have arrived before the last "end".
        try await Task.sleep(for: .milliseconds(200))
        for index in 0..<3 { #expect(real(index) == expected[index], "node \(index)") }
    }
}

/// A broker started by the project's script (scripts/redis.sh, scripts/rabbitmq.sh) on a
/// loopback port of its own, in a run directory of its own; a broker that cannot start
/// fails the test (never a skip).
final class ScriptedBroker: Sendable {
    let script: String
    let port: Int
    let runDirectory: String
    let url: String

    init(script: String) throws {
        self.script = script
        self.port = Int.random(in: 20_000..<40_000)
        self.runDirectory = NSTemporaryDirectory() + "swift-socketio-\(script)-\(self.port)"
        self.url = try Self.run(script: script, ["up", String(self.port)], runDirectory: self.runDirectory)
    }

    func down() {
        _ = try? Self.run(script: self.script, ["down", String(self.port)], runDirectory: self.runDirectory)
        try? FileManager.default.removeItem(atPath: self.runDirectory)
    }

    /// Runs a script to its end and returns its standard output. Spawned by hand: the
    /// broker it starts outlives it, so it must start with no signal blocked or ignored
    /// (this process's threads block most; a broker that inherited that mask would ignore
    /// the script's SIGTERM) and none of this process's descriptors open.
    private static func run(script: String, _ arguments: [String], runDirectory: String) throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent("scripts").appendingPathComponent(script).path
        var pipe: [Int32] = [0, 0]
        guard pipe.withUnsafeMutableBufferPointer({ Glibc.pipe($0.baseAddress!) }) == 0 else { throw BackplaneError(.fatal, "pipe failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGTERM, SIGUSR1, SIGUSR2, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let environment = ProcessInfo.processInfo.environment.merging(["SOCKETIO_RUN_DIR": runDirectory]) { $1 }.map { "\($0.key)=\($0.value)" }
        // The shell closes every inherited descriptor above 2 before it runs the script.
        let closeInherited = #"for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done 2>/dev/null; exec bash "$0" "$@""#
        let argv = ["/bin/bash", "-c", closeInherited, path] + arguments
        var pid: pid_t = 0
        let status = withCStrings(argv) { argv in
            withCStrings(environment) { environment in posix_spawn(&pid, "/bin/bash", &actions, &attributes, argv, environment) }
        }
        close(pipe[1])
        defer { close(pipe[0]) }
        guard status == 0 else { throw BackplaneError(.fatal, "cannot run \(script): \(status)") }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(pipe[0], $0.baseAddress, $0.count) }
            if count > 0 { output += chunk[0..<count] } else if count == 0 || errno != EINTR { break }
        }
        var exit: Int32 = 0
        while waitpid(pid, &exit, 0) == -1 && errno == EINTR {}
        guard exit == 0 else { throw BackplaneError(.fatal, "\(script) \(arguments.joined(separator: " ")) failed (status \(exit))") }
        return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Calls `body` with a NULL-terminated C array of copies of `strings`.
private func withCStrings<Result>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> Result) -> Result {
    let copies = strings.map { strdup($0) } + [nil]
    defer { for copy in copies { free(copy) } }
    return body(copies)
}
