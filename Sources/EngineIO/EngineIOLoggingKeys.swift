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
}
