//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import Logging
public import NIOCore
public import ServiceLifecycle
import UnixSignals

/// Runs one listening service the way the project's executables do: until SIGTERM or
/// SIGINT (graceful shutdown), printing `listening on http://HOST:PORT` to stdout once
/// bound. Scripts and tests wait for that exact line.
public enum ServiceRunner {
    public static func run(
        _ service: some Service,
        localAddress: @escaping @Sendable () async throws -> SocketAddress,
        logger: Logger
    ) async throws {
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                let address = try await localAddress()
                print("listening on http://\(address.ipAddress ?? "?"):\(address.port ?? 0)")
                // `nil` flushes every output stream without touching the global `stdout`.
                fflush(nil)
            }
            try await tasks.waitForAll()
        }
    }
}
