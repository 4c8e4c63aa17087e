//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import NIOConcurrencyHelpers

/// Per-connection storage (Flask's `session`), safe from any task.
public final class SocketIOSessionStorage: Sendable {
    private let values = NIOLockedValueBox<[String: any Sendable]>([:])

    init() {}

    /// Reads or writes one value.
    public subscript(key: String) -> (any Sendable)? {
        get { self.values.withLockedValue { $0[key] } }
        set { self.values.withLockedValue { $0[key] = newValue } }
    }

    /// Reads a value of a given type.
    public func get<Value: Sendable>(_ key: String, as type: Value.Type = Value.self) -> Value? {
        self.values.withLockedValue { $0[key] as? Value }
    }

    /// Changes the storage atomically.
    public func update<Result>(_ body: (inout [String: any Sendable]) throws -> Result) rethrows -> Result {
        try self.values.withLockedValue(body)
    }
}
