//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

package import NIOCore

/// The address a server bound, handed from its "server running" callback (Hummingbird's
/// `onServerRunning`) to ``ServiceRunner``'s `localAddress`, which prints it.
package struct BoundAddress: Sendable {
    private let stream: AsyncStream<SocketAddress>
    private let sink: AsyncStream<SocketAddress>.Continuation

    package init() {
        (self.stream, self.sink) = AsyncStream<SocketAddress>.makeStream()
    }

    /// For `onServerRunning`: records the listening channel's address (once).
    package func serverRunning(_ channel: any Channel) {
        if let address = channel.localAddress { self.sink.yield(address) }
        self.sink.finish()
    }

    /// The bound address, once the server runs.
    /// - Throws: `CancellationError` when the server stopped without binding.
    package func address() async throws -> SocketAddress {
        for await address in self.stream { return address }
        throw CancellationError()
    }
}
