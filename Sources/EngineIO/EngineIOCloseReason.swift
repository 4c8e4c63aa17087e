//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

/// Why an Engine.IO session ended. The descriptions are the reference server's strings.
public struct EngineIOCloseReason: Sendable, Hashable, CustomStringConvertible {
    private enum Code: String, Hashable, CaseIterable {
        case transportClose = "transport close"
        case transportError = "transport error"
        case pingTimeout = "ping timeout"
        case parseError = "parse error"
        case forcedClose = "forced close"
        case serverShuttingDown = "server shutting down"
    }

    private let code: Code

    /// The client closed the session (`1`) or its transport went away cleanly.
    public static let transportClose = EngineIOCloseReason(code: .transportClose)
    /// The transport failed (overlapping requests, a broken connection, a slow reader).
    public static let transportError = EngineIOCloseReason(code: .transportError)
    /// No pong within `pingTimeout`.
    public static let pingTimeout = EngineIOCloseReason(code: .pingTimeout)
    /// The client sent bytes that are not Engine.IO, or a packet not allowed in this state.
    public static let parseError = EngineIOCloseReason(code: .parseError)
    /// The server application closed the session.
    public static let forcedClose = EngineIOCloseReason(code: .forcedClose)
    /// The server is stopping.
    public static let serverShuttingDown = EngineIOCloseReason(code: .serverShuttingDown)

    /// Every reason, for metrics that are created once.
    public static let all: [EngineIOCloseReason] = Code.allCases.map { EngineIOCloseReason(code: $0) }

    public var description: String { self.code.rawValue }
}
