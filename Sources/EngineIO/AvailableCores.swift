//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// How many cores this process may run on: the smaller of NIO's count (which follows cgroup
/// quotas) and the CPU affinity mask (`taskset`, `cpuset`), which NIO does not read.
///
/// Size event loop groups with it: two loops on one allowed core take turns on it through
/// the scheduler, which shows as millisecond latency spikes.
public enum AvailableCores {
    public static var count: Int {
        max(1, min(System.coreCount, Self.affinityCount ?? System.coreCount))
    }

    /// The number of CPUs in `Cpus_allowed_list` of /proc/self/status (e.g. `0-3,6`).
    private static var affinityCount: Int? {
        #if os(Linux)
        guard let file = fopen("/proc/self/status", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 4096)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text.hasPrefix("Cpus_allowed_list:") else { continue }
            var count = 0
            for range in text.dropFirst("Cpus_allowed_list:".count).split(separator: ",") {
                let bounds = range.split(separator: "-").compactMap { Int($0.filter(\.isNumber)) }
                if bounds.count == 1 { count += 1 }
                if bounds.count == 2, bounds[1] >= bounds[0] { count += bounds[1] - bounds[0] + 1 }
            }
            return count > 0 ? count : nil
        }
        return nil
        #else
        return nil
        #endif
    }
}
