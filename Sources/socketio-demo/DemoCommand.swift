//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import ArgumentParser
import EngineIO
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// `socketio-demo`: the project's main job.
@main
struct DemoCommand: AsyncParsableCommand {
    enum Mode: String, ExpressibleByArgument, CaseIterable {
        /// Plain Engine.IO echo at `/engine.io/` (the Engine.IO protocol docs' reference server).
        case engineioEcho = "engineio-echo"
    }

    static let configuration = CommandConfiguration(
        commandName: "socketio-demo",
        abstract: "The swift-socketio demo server."
    )

    @Option(help: "What to serve: \(Mode.allCases.map(\.rawValue).joined(separator: ", ")).")
    var mode: Mode = .engineioEcho

    @Option(help: "Address to bind.")
    var host = "127.0.0.1"

    @Option(help: "Port to bind (0 picks a free one).")
    var port = 5000

    @Option(name: .customLong("ping-interval-ms"), help: "Ping interval in milliseconds (mode default if unset).")
    var pingIntervalMilliseconds: Int64?

    @Option(name: .customLong("ping-timeout-ms"), help: "Ping timeout in milliseconds (mode default if unset).")
    var pingTimeoutMilliseconds: Int64?

    @Option(help: "Largest accepted message or POST body in bytes.")
    var maxPayload = 1_000_000

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = self.logLevel
            return handler
        }
        let logger = Logger(label: "socketio-demo")
        let httpServer: EngineIOHTTPServer
        switch self.mode {
        case .engineioEcho:
            let configuration = EngineIOConfiguration(
                path: "/engine.io/",
                pingInterval: .milliseconds(self.pingIntervalMilliseconds ?? 300),
                pingTimeout: .milliseconds(self.pingTimeoutMilliseconds ?? 200),
                maxPayload: self.maxPayload,
                cors: .any
            )
            let engine = EngineIOServer(configuration: configuration, delegate: EngineIOEchoDelegate(), logger: logger)
            httpServer = EngineIOHTTPServer(
                engine: engine,
                address: .init(host: self.host, port: self.port),
                logger: logger
            )
        }
        try await Self.serve(httpServer, logger: logger)
    }

    /// Runs the server until SIGINT/SIGTERM, printing the bound address once listening.
    static func serve(_ server: some Service & AddressReporting, logger: Logger) async throws {
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: server)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                let address = try await server.localAddress
                // Scripts and tests wait for this exact line.
                print("listening on http://\(address.ipAddress ?? "?"):\(address.port ?? 0)")
                fflushStdout()
            }
            try await tasks.waitForAll()
        }
    }
}

/// A server that can tell where it listens.
protocol AddressReporting: Sendable {
    var localAddress: SocketAddress { get async throws }
}

extension EngineIOHTTPServer: AddressReporting {}

extension Logger.Level: @retroactive ExpressibleByArgument {}
