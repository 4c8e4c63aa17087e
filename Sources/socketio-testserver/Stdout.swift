//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Flushes stdout, so that a parent process reading a pipe sees lines at once.
func fflushStdout() {
    // `nil` flushes every output stream; it avoids touching the global `stdout` variable.
    fflush(nil)
}
