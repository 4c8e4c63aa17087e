//===----------------------------------------------------------------------===//
// This source file is part of the swift-socketio open source project.
// SPDX-License-Identifier: MIT
//===----------------------------------------------------------------------===//

import OrderedCollections
import SocketIOParser

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What the generator reads about itself and about the server process.
enum ProcessStats {
    /// CPU seconds (user + system) this process has used.
    static func ownCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// The resident set of a process in KiB (`VmRSS` of /proc/PID/status), or nil.
    static func residentKiB(pid: Int32) -> Int? {
        guard let status = Self.read("/proc/\(pid)/status") else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.dropFirst(6).trimmingPrefix(while: { $0 == " " || $0 == "\t" }).prefix(while: \.isNumber))
        }
        return nil
    }

    /// CPU seconds (utime + stime) of a process, from /proc/PID/stat, or nil.
    static func cpuSeconds(pid: Int32) -> Double? {
        guard let stat = Self.read("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command name; utime and stime are fields 14 and 15 of the line.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Clock ticks of all CPUs so far, and how many of them the hypervisor stole for other
    /// guests (the `cpu` line of /proc/stat): steal stalls the server and the generator
    /// alike, so a run with much of it has tails that measure the host.
    struct CPUTicks {
        var steal: Int
        var total: Int

        static func now() -> CPUTicks? {
            guard let stat = ProcessStats.read("/proc/stat"),
                let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") })
            else { return nil }
            let fields = line.split(separator: " ").dropFirst().compactMap { Int($0) }
            guard fields.count >= 8 else { return nil }
            return CPUTicks(steal: fields[7], total: fields[0..<8].reduce(0, +))
        }

        /// The share of ticks stolen since `self`, or nil without /proc/stat.
        func stealShare() -> Double? {
            guard let now = CPUTicks.now(), now.total > self.total else { return nil }
            return Double(now.steal - self.steal) / Double(now.total - self.total)
        }
    }

    /// The generator's CPU time and the machine's ticks when a scenario's measured phase
    /// begins, to report both over the phase.
    struct PhaseCounters {
        let cpuSeconds = ProcessStats.ownCPUSeconds()
        let ticks = CPUTicks.now()

        /// Adds `generator_cpu_s` and (with /proc/stat) `steal_share` since `counters` were
        /// taken; `generator_cpu_s` is 0 when the measured phase never began (`nil`).
        static func report(_ counters: PhaseCounters?, into result: inout OrderedJSON) {
            guard let counters else {
                result["generator_cpu_s"] = .double(0)
                return
            }
            result["generator_cpu_s"] = .double(ProcessStats.ownCPUSeconds() - counters.cpuSeconds)
            if let steal = counters.ticks?.stealShare() {
                result["steal_share"] = .double((steal * 1000).rounded() / 1000)
            }
        }
    }

    /// Raises the soft open-file limit to the hard one: every client is a descriptor.
    @discardableResult
    static func raiseOpenFileLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        return Int(limit.rlim_cur)
    }

    private static func read(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
