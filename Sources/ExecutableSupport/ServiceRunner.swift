//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
package import Logging
package import NIOCore
package import ServiceLifecycle
import UnixSignals

/// Runs services the way the project's executables do: in one `ServiceGroup` until SIGTERM
/// or SIGINT (graceful shutdown, in reverse order), printing
/// `listening on http://HOST:PORT` to stdout once the listener is bound. Scripts and tests
/// wait for that exact line. Libraries neither print nor trap signals: only executables
/// use this.
package enum ServiceRunner {
    /// - Parameters:
    ///   - services: started in this order, stopped in the reverse one: for Socket.IO,
    ///     `[io, listener]` (the listener drains its sessions before the server stops).
    ///   - localAddress: the listener's bound address, once listening.
    package static func run(
        _ services: [any Service],
        localAddress: @escaping @Sendable () async throws -> SocketAddress,
        logger: Logger
    ) async throws {
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
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
