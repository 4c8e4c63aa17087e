//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

package import Logging

extension LoggingSystem {
    /// The executables' logging: every logger writes to standard error at `level` (standard
    /// output carries only the `listening on` line that scripts and tests wait for).
    package static func bootstrapStandardError(level: Logger.Level) {
        self.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
