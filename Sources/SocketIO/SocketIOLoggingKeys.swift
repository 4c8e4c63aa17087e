//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

/// Logging metadata keys of the Socket.IO layer (the engine's are in
/// `EngineIOLoggingKeys`).
public enum SocketIOLoggingKeys {
    /// The namespace of the socket concerned, e.g. `/chat`.
    public static let namespace = "socketio.namespace"
    /// The event name.
    public static let event = "socketio.event"
    /// The error a handler threw, or a parse error.
    public static let error = "socketio.error"
}
