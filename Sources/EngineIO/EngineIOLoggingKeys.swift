//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

/// Logging metadata keys of the engine.
public enum EngineIOLoggingKeys {
    public static let sid = "engineio.sid"
    public static let transport = "engineio.transport"
    public static let reason = "engineio.reason"
    public static let error = "engineio.error"
    public static let remoteAddress = "engineio.remote_address"
    /// Outbound bytes a connection holds for a client that does not read.
    public static let bufferedBytes = "engineio.buffered_bytes"
    /// The address a listener is bound to.
    public static let httpAddress = "http.address"
    /// The configuration name of a limit that was hit (both layers' limits).
    public static let limit = "limit"
    /// How many times that limit was hit so far.
    public static let limitHits = "limit.hits"
}
