"""Runs the scripts/bench scenarios against socketio-demo (Swift) and Flask-SocketIO, side by side.

For every scenario and server kind: start a fresh server pinned to the server core, wait for
its `listening on http://HOST:PORT` line, run socketio-bench pinned to the client core, read the
JSON object on the generator's last stdout line, and stop the server. The server's CPU time is
sampled from /proc during the generator run, so that each row can say which side was CPU-bound,
and each core's user time is checked for other processes that would skew the figures.

Prints one table (swift, flask, ratio, CPU-bound) and saves everything raw as JSON.
Normally started by scripts/bench, which builds the binaries and the venv first.
"""

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FLASK_APP = HERE / "flask_app.py"
REDIS_SCRIPT = ROOT / "scripts" / "redis.sh"
REDIS_PORT = 16390
CHANNEL = "socketio"

# A side whose CPU time covers more than this share of the measured wall time is CPU-bound.
CPU_BOUND_THRESHOLD = 0.85
MIN_CPU_WINDOW_S = 0.25
# A run is flagged when processes outside the benchmark took more user CPU than this on its cores.
FOREIGN_CPU_LIMIT_S = 0.1
FOREIGN_CPU_LIMIT_SHARE = 0.05
# Share of a core's time the hypervisor gave to other guests ("steal" in /proc/stat) above
# which a run is flagged: the vCPU stalls for milliseconds at a time, which shows in tails.
STEAL_LIMIT_SHARE = 0.03
SERVER_START_TIMEOUT_S = 30.0
SERVER_STOP_GRACE_S = 5.0

SIZES = {
    "full": {
        "connect_clients": 1000, "connect_concurrency": 100,
        "memory_clients": 10000, "memory_hold_ms": 1000,
        "fanout_clients": 1000, "window": 32, "broadcasts": 2000,
        "latency_clients": 50, "latency_requests": 20000,
        "binary_clients": 1, "binary_requests": 5000, "binary_bytes": 1024,
        "cluster_clients": 1000,
    },
    "quick": {
        "connect_clients": 100, "connect_concurrency": 100,
        "memory_clients": 1000, "memory_hold_ms": 1000,
        "fanout_clients": 100, "window": 32, "broadcasts": 200,
        "latency_clients": 50, "latency_requests": 2000,
        "binary_clients": 1, "binary_requests": 2000, "binary_bytes": 1024,
        "cluster_clients": 100,
    },
}

# --scenarios names and the runs each one expands to (every run is done once per server kind).
SCENARIO_GROUPS = {
    "connect": ["connect-ws", "connect-polling", "memory"],
    "fanout": ["fanout"],
    "latency": ["latency"],
    "latency-binary": ["latency-binary"],
    "cluster": ["cluster-single", "cluster-workers", "cluster-single-emitter", "cluster-emitter"],
}
ALL_RUNS = [run for runs in SCENARIO_GROUPS.values() for run in runs]


def log(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


# ---------------------------------------------------------------------------------------------
# Run plans: what to start and which generator command to run
# ---------------------------------------------------------------------------------------------

class Run:
    """One scenario variant: how many workers, with or without Redis, and the generator args."""

    def __init__(self, run_id, workers, redis, generator_args, publisher=None):
        self.id = run_id
        self.workers = workers  # server processes, all pinned to the server core
        self.redis = redis  # workers join over the Redis message queue
        self.generator_args = generator_args  # built per run from the worker URLs
        self.publisher = publisher


def plan(run_id, s):
    """The Run for run_id with sizes s."""
    fanout_args = ["--window", s["window"], "--broadcasts", s["broadcasts"]]
    if run_id == "connect-ws":
        return Run(run_id, 1, False, lambda urls, pids: [
            "connect", "--url", urls[0], "--clients", s["connect_clients"],
            "--concurrency", s["connect_concurrency"], "--transport", "websocket"])
    if run_id == "connect-polling":
        return Run(run_id, 1, False, lambda urls, pids: [
            "connect", "--url", urls[0], "--clients", s["connect_clients"],
            "--concurrency", s["connect_concurrency"], "--transport", "polling"])
    if run_id == "memory":
        return Run(run_id, 1, False, lambda urls, pids: [
            "connect", "--url", urls[0], "--clients", s["memory_clients"],
            "--concurrency", s["connect_concurrency"], "--transport", "websocket",
            "--server-pid", pids[0], "--hold-ms", s["memory_hold_ms"]])
    if run_id == "fanout":
        return Run(run_id, 1, False, lambda urls, pids: [
            "fanout", "--url", urls[0], "--clients", s["fanout_clients"], *fanout_args])
    if run_id == "latency":
        return Run(run_id, 1, False, lambda urls, pids: [
            "latency", "--url", urls[0], "--clients", s["latency_clients"],
            "--requests", s["latency_requests"]])
    if run_id == "latency-binary":
        return Run(run_id, 1, False, lambda urls, pids: [
            "latency", "--url", urls[0], "--clients", s["binary_clients"],
            "--requests", s["binary_requests"], "--binary-bytes", s["binary_bytes"]])

    # cluster-*: the same total clients on one worker or spread over two.
    def cluster_args(urls, emitter):
        args = ["cluster"]
        for url in urls:
            args += ["--url", url]
        args += ["--clients", s["cluster_clients"], *fanout_args]
        if emitter:
            args += ["--emitter", f"redis://127.0.0.1:{REDIS_PORT}/0", "--channel", CHANNEL]
        return args

    if run_id == "cluster-single":  # baseline: one worker, no message queue
        return Run(run_id, 1, False, lambda urls, pids: cluster_args(urls, False), "worker")
    if run_id == "cluster-workers":
        return Run(run_id, 2, True, lambda urls, pids: cluster_args(urls, False), "worker")
    if run_id == "cluster-single-emitter":  # the emitter needs Redis even for one worker
        return Run(run_id, 1, True, lambda urls, pids: cluster_args(urls, True), "emitter")
    if run_id == "cluster-emitter":
        return Run(run_id, 2, True, lambda urls, pids: cluster_args(urls, True), "emitter")
    raise ValueError(run_id)


# ---------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------

def proc_times(pid):
    """(utime, stime) of a live process (all its threads), in seconds; None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = stat[stat.rindex(")") + 2:].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick  # fields 14 and 15 of proc(5)


def proc_cpu_seconds(pid):
    times = proc_times(pid)
    return None if times is None else sum(times)


def core_ticks(core):
    """The clock-tick counters of one core since boot (its `cpuN` line of /proc/stat:
    user, nice, system, idle, iowait, irq, softirq, steal, ...), or None."""
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith(f"cpu{core} "):
                return [int(value) for value in line.split()[1:]]
    return None


def core_user_seconds(core):
    """User time (user + nice) the kernel has counted on one core since boot, in seconds."""
    ticks = core_ticks(core)
    return None if ticks is None else (ticks[0] + ticks[1]) / os.sysconf("SC_CLK_TCK")


class ForeignLoad:
    """User CPU time that processes outside the benchmark took on its two cores during a run.

    Each core's user time minus the user time of our processes pinned there: the servers on
    the server core; the generator, Redis and this script on the client core. Anything left
    (a compiler, another test) skews the figures, so the run is flagged.
    """

    def __init__(self, server_core, client_core, server_pids, redis_pid):
        self.cores = (server_core, client_core)
        self.server_pids, self.redis_pid = server_pids, redis_pid

    def _snapshot(self):
        def user(pid):
            times = proc_times(pid) if pid is not None else None
            return times[0] if times else 0.0
        return {
            "server_core": core_user_seconds(self.cores[0]),
            "client_core": core_user_seconds(self.cores[1]),
            "servers": sum(user(pid) for pid in self.server_pids),
            "redis": user(self.redis_pid),
            "self": resource.getrusage(resource.RUSAGE_SELF).ru_utime,
            "children": resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime,  # the generator, once reaped
        }

    def start(self):
        self.before = self._snapshot()

    def stop(self):
        """{"server_core_s": .., "client_core_s": ..}: foreign user seconds on each core."""
        after = self._snapshot()
        delta = {key: after[key] - self.before[key] for key in after}
        return {
            "server_core_s": delta["server_core"] - delta["servers"],
            "client_core_s": delta["client_core"] - delta["children"] - delta["redis"] - delta["self"],
        }


class StealMeter:
    """Share of each benchmark core's time that the hypervisor stole during a run.

    On a virtual machine the host can stop a vCPU to run other guests; /proc/stat counts
    that time as steal. It stalls whatever ran there, so latency tails taken while steal
    was high measure the host, not the server.
    """

    def __init__(self, server_core, client_core):
        self.cores = {"server_core": server_core, "client_core": client_core}

    @staticmethod
    def _ticks(core):
        """(steal, all ticks up to steal) of one core."""
        fields = core_ticks(core) or []
        return (fields[7] if len(fields) > 7 else 0), sum(fields[:8])

    def start(self):
        self.before = {name: self._ticks(core) for name, core in self.cores.items()}

    def stop(self):
        """{"server_core": share, "client_core": share} of the time since start()."""
        shares = {}
        for name, core in self.cores.items():
            steal, total = self._ticks(core)
            steal0, total0 = self.before[name]
            shares[name] = (steal - steal0) / (total - total0) if total > total0 else 0.0
        return shares


def children_cpu_seconds():
    """CPU time of all reaped children so far (the generator's, once it has been waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class CpuSampler:
    """Samples the CPU seconds of some processes every few ticks while the generator runs.

    The generator reports its own CPU time for its measured phase only (elapsed_s), which
    is shorter than its whole run (connecting clients first, closing them after). To compare
    the server over the same stretch, the samples let us take the server's busiest window of
    elapsed_s, which is where the measured phase falls when the server is the busy side.
    """

    INTERVAL_S = 0.02  # two clock ticks at the usual 100 Hz

    def __init__(self, groups):
        self.groups = groups  # {"server": [pid, ...], "redis": [pid]}
        self.samples = []  # (monotonic seconds, {group: cpu seconds summed over its pids})
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self):
        totals = {}
        for group, pids in self.groups.items():
            values = [proc_cpu_seconds(pid) for pid in pids]
            totals[group] = None if None in values else sum(values)
        self.samples.append((time.monotonic(), totals))

    def _run(self):
        while not self._stop.wait(self.INTERVAL_S):
            self._sample()

    def start(self):
        self._sample()
        self._thread.start()

    def stop(self):
        self.halt()
        self._sample()

    def halt(self):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def total(self, group):
        """CPU seconds of the group over the whole sampling."""
        first, last = self.samples[0][1].get(group), self.samples[-1][1].get(group)
        return None if first is None or last is None else last - first

    def busiest_window(self, group, length):
        """(start index, end index) of the shortest sample span of at least `length` seconds
        in which the group used the most CPU per second; the whole span if it is shorter."""
        best, best_rate = (0, len(self.samples) - 1), -1.0
        end = 0
        for start in range(len(self.samples)):
            while end < len(self.samples) and self.samples[end][0] - self.samples[start][0] < length:
                end += 1
            if end == len(self.samples):
                break
            a, b = self.samples[start][1].get(group), self.samples[end][1].get(group)
            if a is None or b is None:
                continue
            rate = (b - a) / (self.samples[end][0] - self.samples[start][0])
            if rate > best_rate:
                best, best_rate = (start, end), rate
        return best

    def usage(self, group, window):
        """(CPU seconds, wall seconds) of the group within a window from busiest_window."""
        (t0, a), (t1, b) = self.samples[window[0]], self.samples[window[1]]
        a, b = a.get(group), b.get(group)
        return (None if a is None or b is None else b - a), t1 - t0


def as_text(output):
    """subprocess output that may be None, bytes (after a timeout) or text."""
    if output is None:
        return ""
    return output.decode("utf-8", "replace") if isinstance(output, bytes) else output


def tail(path, limit=2000):
    try:
        data = Path(path).read_bytes()
    except OSError:
        return ""
    return data[-limit:].decode("utf-8", "replace")


class Server:
    """One pinned server process, started and stopped by this script."""

    def __init__(self, kind, command, core, log_path):
        self.kind = kind
        self.command = ["taskset", "-c", str(core)] + [str(a) for a in command]
        self.log_path = log_path
        self.process = None
        self.url = None

    def start(self):
        # taskset execs the server, so the pid is the server's own.
        with open(self.log_path, "wb") as stderr:
            self.process = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=stderr,
                                            stdin=subprocess.DEVNULL, cwd=ROOT)
        self._ready = threading.Event()
        threading.Thread(target=self._read_stdout, daemon=True).start()
        self._ready.wait(SERVER_START_TIMEOUT_S)
        if self.url is None:
            self.stop()
            raise RuntimeError(f"{self.kind} server did not print 'listening on' "
                               f"(exit {self.process.returncode}): {tail(self.log_path).strip()}")

    def _read_stdout(self):
        """Finds the readiness line, then keeps draining so the server never blocks on a full pipe."""
        for raw in self.process.stdout:
            line = raw.decode("utf-8", "replace")
            if self.url is None and line.startswith("listening on "):
                self.url = line.split("listening on ", 1)[1].strip()
                self._ready.set()
        self._ready.set()  # EOF: the server exited (url stays None if it never got ready)

    @property
    def pid(self):
        return self.process.pid

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def stop(self):
        """SIGTERM, then SIGKILL after the grace period; returns the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=SERVER_STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                log(f"{self.kind} server {self.pid} ignored SIGTERM for {SERVER_STOP_GRACE_S:.0f} s: SIGKILL")
                self.process.kill()
                self.process.wait()
        return self.process.returncode


class Redis:
    """The Redis of the cluster runs, through scripts/redis.sh, pinned to the client core."""

    def __init__(self, core):
        self.core = core
        self.started_here = False
        self.pid = None

    def _script(self, action):
        return subprocess.run(["bash", str(REDIS_SCRIPT), action, str(REDIS_PORT)], cwd=ROOT,
                              capture_output=True, text=True)

    def ensure_up(self):
        if self.pid is not None:
            return
        was_running = self._script("status").returncode == 0
        result = self._script("up")
        if result.returncode != 0:
            raise RuntimeError(f"redis did not start: {result.stderr.strip()}")
        self.started_here = not was_running
        run_dir = Path(os.environ.get("SOCKETIO_RUN_DIR", ROOT / ".run"))
        self.pid = int((run_dir / f"redis-{REDIS_PORT}" / "redis.pid").read_text().strip())
        # Pin every thread of the running redis-server (it may have been started before us).
        subprocess.run(["taskset", "-a", "-p", "-c", str(self.core), str(self.pid)],
                       check=True, stdout=subprocess.DEVNULL)
        log(f"redis on 127.0.0.1:{REDIS_PORT} (pid {self.pid}) pinned to core {self.core}")

    def down(self):
        if self.started_here:
            result = self._script("down")
            log(f"redis stopped ({result.stderr.strip()})")
        elif self.pid is not None:
            log(f"redis on port {REDIS_PORT} was already running before this run: left running")
        self.pid = None


# ---------------------------------------------------------------------------------------------
# One measured run
# ---------------------------------------------------------------------------------------------

def server_command(kind, args, redis):
    if kind == "swift":
        command = [Path(args.bin_dir) / "socketio-demo", "--host", "127.0.0.1", "--port", 0,
                   "--log-level", "error"]
    else:
        command = [sys.executable, FLASK_APP, "--host", "127.0.0.1", "--port", 0]
    if redis:
        command += ["--message-queue", f"redis://127.0.0.1:{REDIS_PORT}/0", "--channel", CHANNEL]
    return command


def parse_generator_json(stdout):
    """The JSON object on the last non-empty stdout line, or None."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    if not lines:
        return None
    try:
        value = json.loads(lines[-1])
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def verdict(server_util, client_util):
    """Which side ran out of CPU: server, generator, both or neither."""
    if server_util is None or client_util is None:
        return None
    server_bound = server_util >= CPU_BOUND_THRESHOLD
    client_bound = client_util >= CPU_BOUND_THRESHOLD
    return {(True, True): "both", (True, False): "server",
            (False, True): "generator", (False, False): "neither"}[(server_bound, client_bound)]


def measure(run, kind, args, redis, log_dir):
    """Starts the servers of one run, runs the generator, stops them; returns the raw record."""
    record = {"run": run.id, "server": kind, "workers": run.workers, "redis": run.redis,
              "publisher": run.publisher, "started_utc": utc_now().isoformat(), "error": None,
              "loadavg_before": Path("/proc/loadavg").read_text().strip()}
    servers = []
    sampler = None
    try:
        if run.redis:
            redis.ensure_up()
        for index in range(run.workers):
            server = Server(kind, server_command(kind, args, run.redis), args.server_core,
                            log_dir / f"{run.id}-{kind}-{index}.log")
            servers.append(server)
            server.start()
        record["server_commands"] = [s.command for s in servers]
        record["server_urls"] = [s.url for s in servers]
        record["server_pids"] = [s.pid for s in servers]

        generator = ["taskset", "-c", str(args.client_core), str(args.generator)]
        generator += [str(a) for a in run.generator_args([s.url for s in servers], [s.pid for s in servers])]
        generator.append("--json")
        record["generator_command"] = generator

        # Server (and Redis) CPU counters from just before to just after the generator's run.
        groups = {"server": [s.pid for s in servers]}
        if run.redis:
            groups["redis"] = [redis.pid]
        sampler = CpuSampler(groups)
        foreign = ForeignLoad(args.server_core, args.client_core, groups["server"],
                              redis.pid if run.redis else None)
        sampler.start()
        foreign.start()
        steal = StealMeter(args.server_core, args.client_core)
        steal.start()
        children_before = children_cpu_seconds()
        wall_start = time.monotonic()
        try:
            result = subprocess.run(generator, capture_output=True, text=True, cwd=ROOT,
                                    timeout=args.timeout, stdin=subprocess.DEVNULL)
            exit_code, stdout, stderr = result.returncode, result.stdout, result.stderr
        except subprocess.TimeoutExpired as timeout:  # run() has killed it already
            exit_code = None
            stdout, stderr = as_text(timeout.stdout), as_text(timeout.stderr)
            record["error"] = f"generator timed out after {args.timeout} s"
        wall_s = time.monotonic() - wall_start
        generator_rusage_cpu = children_cpu_seconds() - children_before
        record["foreign_user_cpu_s"] = foreign.stop()
        record["steal_share"] = steal.stop()
        sampler.stop()
        warnings = []
        busy = {core: seconds for core, seconds in record["foreign_user_cpu_s"].items()
                if seconds > max(FOREIGN_CPU_LIMIT_S, FOREIGN_CPU_LIMIT_SHARE * wall_s)}
        if busy:
            warnings.append("other processes used CPU on the benchmark's cores during this run ("
                            + ", ".join(f"{core} {seconds:.2f} s" for core, seconds in busy.items())
                            + "): its figures are suspect")
        stolen = {core: share for core, share in record["steal_share"].items() if share > STEAL_LIMIT_SHARE}
        if stolen:
            warnings.append("the hypervisor stole CPU from the benchmark's cores during this run ("
                            + ", ".join(f"{core} {share:.0%}" for core, share in stolen.items())
                            + "): latency tails and rates are suspect")

        record["generator_exit_code"] = exit_code
        record["generator_stdout_tail"] = stdout[-2000:]
        record["generator_stderr_tail"] = stderr[-4000:]
        record["generator_wall_s"] = wall_s
        record["generator_rusage_cpu_s"] = generator_rusage_cpu
        record["server_cpu_s"] = sampler.total("server")  # all workers, whole generator run
        if run.redis:
            record["redis_cpu_s"] = sampler.total("redis")

        figures = parse_generator_json(stdout)
        record["result"] = figures
        # A partial result (e.g. some clients failed to connect) keeps its figures, flagged.
        if figures is not None and figures.get("error"):
            warnings.append(f"the generator reported: {figures['error']}")
        if warnings:
            record["warning"] = "; ".join(warnings)
        dead = [s for s in servers if not s.alive()]
        if record["error"] is None:
            if exit_code != 0:
                reported = f" ({figures['error']})" if figures and figures.get("error") else ""
                record["error"] = f"generator exited with {exit_code}{reported}: {stderr.strip()[-500:]}"
            elif figures is None:
                record["error"] = "generator printed no JSON object on its last stdout line"
            elif dead:
                record["error"] = f"{kind} server exited during the run: {tail(dead[0].log_path, 500).strip()}"
        if record["error"] is None:
            record.update(utilisation(record, figures, sampler))
    except Exception as error:  # one failed run must not end the whole benchmark
        record["error"] = f"{type(error).__name__}: {error}"
    finally:
        if sampler is not None:
            sampler.halt()  # in case the run broke off between start and stop
        record["server_exit_codes"] = [s.stop() for s in servers]
        record["server_log_tails"] = [tail(s.log_path, 1000) for s in servers]
        record["finished_utc"] = utc_now().isoformat()
    return record


def utilisation(record, figures, sampler):
    """CPU shares of both sides over the generator's measured phase (elapsed_s long).

    Client side: the generator's own figure for the phase (generator_cpu_s), plus Redis when
    there is one (they share the client core). Server side: all workers (they share the
    server core) over their busiest elapsed_s window of the run (see CpuSampler).
    """
    elapsed = figures.get("elapsed_s")
    generator_cpu = figures.get("generator_cpu_s")
    wall = record["generator_wall_s"]
    shares = {
        # The same shares over the generator's whole process lifetime (setup included), for context.
        "server_util_whole_run": record["server_cpu_s"] / wall if wall and record["server_cpu_s"] is not None else None,
        "client_util_whole_run": (record["generator_rusage_cpu_s"] + (record.get("redis_cpu_s") or 0.0)) / wall
        if wall else None,
        "server_util": None, "client_util": None, "cpu_bound": None,
    }
    if not isinstance(elapsed, (int, float)) or elapsed <= 0 or not isinstance(generator_cpu, (int, float)):
        return shares
    # Clock ticks are 10 ms: a very short phase is judged over a slightly longer window.
    window = sampler.busiest_window("server", max(elapsed, MIN_CPU_WINDOW_S))
    server_cpu, window_s = sampler.usage("server", window)
    if server_cpu is None or window_s <= 0:
        return shares
    redis_cpu = sampler.usage("redis", window)[0] if "redis" in sampler.groups else None
    shares["server_util"] = server_cpu / window_s
    shares["client_util"] = generator_cpu / elapsed + ((redis_cpu or 0.0) / window_s)
    shares["server_util_window_s"] = window_s
    shares["redis_util"] = None if redis_cpu is None else redis_cpu / window_s
    shares["cpu_bound"] = verdict(shares["server_util"], shares["client_util"])
    return shares


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------

HIGHER, LOWER = "higher", "lower"


def metric_rows(s):
    """(run id, label, key path in the generator JSON, which direction is better)."""
    c, fc, cc = s["connect_clients"], s["fanout_clients"], s["cluster_clients"]
    lc, bc, bb = s["latency_clients"], s["binary_clients"], s["binary_bytes"]
    return [
        ("connect-ws", f"connect {c} ws clients: connects/s", "rate_per_s", HIGHER),
        ("connect-ws", f"connect {c} ws clients: p99 connect ms", "connect_ms.p99", LOWER),
        ("connect-polling", f"connect {c} polling clients: connects/s", "rate_per_s", HIGHER),
        ("connect-polling", f"connect {c} polling clients: p99 connect ms", "connect_ms.p99", LOWER),
        ("memory", f"memory {s['memory_clients']} idle ws conns: KB per conn", "rss_per_connection_kb", LOWER),
        ("fanout", f"fanout {fc} clients: deliveries/s", "deliveries_per_s", HIGHER),
        ("fanout", f"fanout {fc} clients: p99 completion ms", "completion_ms.p99", LOWER),
        ("latency", f"latency {lc} clients text: acks/s", "acks_per_s", HIGHER),
        ("latency", f"latency {lc} clients text: p50 ms", "rtt_ms.p50", LOWER),
        ("latency", f"latency {lc} clients text: p99 ms", "rtt_ms.p99", LOWER),
        ("latency-binary", f"latency {bc} client {bb} B binary: acks/s", "acks_per_s", HIGHER),
        ("latency-binary", f"latency {bc} client {bb} B binary: p50 ms", "rtt_ms.p50", LOWER),
        ("latency-binary", f"latency {bc} client {bb} B binary: p99 ms", "rtt_ms.p99", LOWER),
        ("cluster-single", f"cluster 1 worker {cc} clients: deliveries/s", "deliveries_per_s", HIGHER),
        ("cluster-workers", f"cluster 2 workers/redis {cc} clients: deliveries/s", "deliveries_per_s", HIGHER),
        ("cluster-workers", f"cluster 2 workers/redis {cc} clients: p99 completion ms", "completion_ms.p99", LOWER),
        ("cluster-single-emitter", f"cluster 1 worker + emitter {cc} clients: deliveries/s", "deliveries_per_s", HIGHER),
        ("cluster-emitter", f"cluster 2 workers + emitter {cc} clients: deliveries/s", "deliveries_per_s", HIGHER),
    ]


# Derived rows: 2 workers over 1 worker, per server kind (label, numerator run, denominator run).
SCALING_ROWS = [
    ("cluster scaling 2 workers / 1 worker (x)", "cluster-workers", "cluster-single"),
    ("cluster scaling with emitter 2 / 1 (x)", "cluster-emitter", "cluster-single-emitter"),
]


def lookup(figures, path):
    value = figures
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value if isinstance(value, (int, float)) else None


def figure(records, run_id, kind, path):
    record = records.get((run_id, kind))
    if record is None or record["error"] is not None:
        return None
    return lookup(record["result"], path)


def ratio(swift, flask, direction):
    """> 1 always means Swift is better."""
    if swift is None or flask is None:
        return None
    better, worse = (swift, flask) if direction == HIGHER else (flask, swift)
    return better / worse if worse else None


def build_table(records, sizes, kinds):
    rows = []
    for run_id, label, path, direction in metric_rows(sizes):
        if not any((run_id, kind) in records for kind in kinds):
            continue
        values = {kind: figure(records, run_id, kind, path) for kind in kinds}
        bound = {kind: (records.get((run_id, kind)) or {}).get("cpu_bound") for kind in kinds}
        suspect = any((records.get((run_id, kind)) or {}).get("warning") for kind in kinds)
        rows.append({"label": label, "run": run_id, "metric": path, "better": direction,
                     "values": values, "ratio": ratio(values.get("swift"), values.get("flask"), direction),
                     "cpu_bound": bound, "suspect": suspect})
    for label, top, bottom in SCALING_ROWS:
        if not any((top, kind) in records and (bottom, kind) in records for kind in kinds):
            continue
        values = {}
        for kind in kinds:
            a = figure(records, top, kind, "deliveries_per_s")
            b = figure(records, bottom, kind, "deliveries_per_s")
            values[kind] = a / b if a is not None and b else None
        suspect = any((records.get((run, kind)) or {}).get("warning") for run in (top, bottom) for kind in kinds)
        rows.append({"label": label, "run": f"{top}/{bottom}", "metric": "deliveries_per_s ratio",
                     "better": HIGHER, "values": values,
                     "ratio": ratio(values.get("swift"), values.get("flask"), HIGHER), "cpu_bound": {},
                     "suspect": suspect})
    return rows


def fmt_number(value):
    if value is None:
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def format_table(rows, kinds):
    header = ["scenario / metric", *kinds, "ratio", "CPU-bound (" + " / ".join(kinds) + ")"]
    lines = []
    for row in rows:
        bound = " / ".join(row["cpu_bound"].get(kind) or "-" for kind in kinds) if row["cpu_bound"] else "-"
        ratio_text = "n/a" if row["ratio"] is None else f"{row['ratio']:.2f}x"
        label = row["label"] + (" (!)" if row["suspect"] else "")
        lines.append([label, *(fmt_number(row["values"].get(k)) for k in kinds), ratio_text, bound])
    widths = [max(len(r[i]) for r in [header] + lines) for i in range(len(header))]

    def render(cells):
        # Left-align the labels and the verdicts, right-align the figures.
        out = [cells[0].ljust(widths[0])]
        out += [cell.rjust(widths[i]) for i, cell in enumerate(cells[1:-1], start=1)]
        out.append(cells[-1].ljust(widths[-1]))
        return "  ".join(out).rstrip()

    text = [render(header), "  ".join("-" * w for w in widths)]
    text += [render(cells) for cells in lines]
    return "\n".join(text)


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------

def expand_scenarios(text):
    runs = []
    for name in (part.strip() for part in text.split(",")):
        if not name:
            continue
        if name in SCENARIO_GROUPS:
            runs += SCENARIO_GROUPS[name]
        elif name in ALL_RUNS:
            runs.append(name)
        else:
            raise SystemExit(f"unknown scenario {name!r}: use {', '.join([*SCENARIO_GROUPS, *ALL_RUNS])}")
    return list(dict.fromkeys(runs))  # keep order, drop repeats


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin-dir", required=True, help="release bin folder (socketio-demo, socketio-bench)")
    parser.add_argument("--scenarios", default=",".join(SCENARIO_GROUPS),
                        help="comma list of " + ", ".join(SCENARIO_GROUPS) + " (or single runs: " + ", ".join(ALL_RUNS) + ")")
    parser.add_argument("--servers", default="swift,flask", help="comma list of swift, flask")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--out", default=None, help="raw results JSON (default bench-results/bench-<UTC>.json)")
    parser.add_argument("--server-core", type=int, default=0, help="CPU core for the server(s)")
    parser.add_argument("--client-core", type=int, default=1, help="CPU core for the generator (and Redis)")
    parser.add_argument("--generator", default=None, help="load generator binary (default BIN/socketio-bench)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds one generator run may take")
    args = parser.parse_args(argv)
    args.generator = Path(args.generator or Path(args.bin_dir) / "socketio-bench")
    args.kinds = [k.strip() for k in args.servers.split(",") if k.strip()]
    for kind in args.kinds:
        if kind not in ("swift", "flask"):
            raise SystemExit(f"unknown server {kind!r}: use swift, flask")
    args.runs = expand_scenarios(args.scenarios)
    return args


def check_environment(args):
    if shutil.which("taskset") is None:
        raise SystemExit("taskset not found (util-linux)")
    allowed = os.sched_getaffinity(0)
    for core in (args.server_core, args.client_core):
        if core not in allowed:
            raise SystemExit(f"core {core} is not available here (allowed: {sorted(allowed)})")
    if args.server_core == args.client_core:
        log("warning: server and generator share one core; the CPU-bound column means little")
    if not Path(args.generator).is_file():
        raise SystemExit(f"load generator not found: {args.generator}")
    if "swift" in args.kinds and not (Path(args.bin_dir) / "socketio-demo").is_file():
        raise SystemExit(f"socketio-demo not found in {args.bin_dir}")


def environment_info(args):
    def version(package):
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            return None

    def command_output(command):
        try:
            return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=30).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return None

    return {
        "uname": " ".join(platform.uname()),
        "uname_a": command_output(["uname", "-a"]),
        "nproc": command_output(["nproc"]),
        "cpu_count": os.cpu_count(),
        "loadavg": Path("/proc/loadavg").read_text().strip(),
        "cpu_model": next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                           if line.startswith("model name")), None),
        "fd_limit": resource.getrlimit(resource.RLIMIT_NOFILE),
        "python": sys.version,
        "packages": {p: version(p) for p in ("flask-socketio", "python-socketio", "python-engineio",
                                              "flask", "gevent", "gevent-websocket", "redis")},
        "git_commit": command_output(["git", "rev-parse", "HEAD"]),
        "git_dirty": bool(command_output(["git", "status", "--porcelain", "--untracked-files=no"])),
        "swift_version": command_output(["swift", "--version"]),
    }


def summary(record):
    """One progress line for a finished run."""
    head = f"{record['run']} {record['server']}"
    if record["error"] is not None:
        return f"{head}: FAILED: {record['error'][:300]}"
    figures = record["result"]
    keys = ("rate_per_s", "deliveries_per_s", "acks_per_s", "rss_per_connection_kb")
    shown = ", ".join(f"{k}={fmt_number(figures[k])}" for k in keys if isinstance(figures.get(k), (int, float)))
    if figures.get("failed"):
        shown += f", {figures['failed']} connects FAILED"
    util = ""
    if record.get("server_util") is not None:
        util = f"; CPU server {record['server_util']:.0%}, client {record['client_util']:.0%} -> {record['cpu_bound']}"
    if record.get("steal_share"):
        util += "; steal " + "/".join(f"{share:.0%}" for share in record["steal_share"].values())
    warning = f"\n[bench]   WARNING: {record['warning']}" if record.get("warning") else ""
    return f"{head}: {shown}{util}{warning}"


def main(argv=None):
    args = parse_args(argv)
    check_environment(args)
    environment = environment_info(args)  # before pinning: nproc counts the allowed cores
    # This script samples /proc while the generator runs: keep it off the server's core.
    os.sched_setaffinity(0, {args.client_core})
    sizes = SIZES["quick" if args.quick else "full"]
    started = utc_now()
    out = Path(args.out or ROOT / "bench-results" / f"bench-{started.strftime('%Y%m%dT%H%M%SZ')}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    log_dir = out.parent / (out.stem + "-logs")  # server stderr next to the JSON
    log_dir.mkdir(parents=True, exist_ok=True)

    log(f"runs: {', '.join(args.runs)}; servers: {', '.join(args.kinds)}; "
        f"server core {args.server_core}, generator core {args.client_core}; "
        f"{'quick' if args.quick else 'full'} sizes")
    raw = {"started_utc": started.isoformat(), "argv": sys.argv, "sizes": sizes,
           "server_core": args.server_core, "client_core": args.client_core,
           "cpu_bound_threshold": CPU_BOUND_THRESHOLD, "environment": environment, "runs": []}
    records = {}
    redis = Redis(args.client_core)
    try:
        for run_id in args.runs:
            run = plan(run_id, sizes)
            for kind in args.kinds:
                log(f"{run_id} {kind}: starting")
                record = measure(run, kind, args, redis, log_dir)
                records[(run_id, kind)] = record
                raw["runs"].append(record)
                log(summary(record))
    except KeyboardInterrupt:
        log("interrupted: writing what was measured so far")
        raw["interrupted"] = True
    finally:
        redis.down()

    raw["finished_utc"] = utc_now().isoformat()
    rows = build_table(records, sizes, args.kinds)
    raw["table"] = rows
    out.write_text(json.dumps(raw, indent=2, default=str) + "\n")

    print()
    print(f"swift-socketio vs Flask-SocketIO ({'quick' if args.quick else 'full'} run, "
          f"server on core {args.server_core}, generator on core {args.client_core})")
    print("ratio > 1 means Swift is better: swift/flask for rates, flask/swift for latencies and memory.")
    print(f"CPU-bound: the side whose CPU time was >= {CPU_BOUND_THRESHOLD:.0%} of the measured time "
          "(server = all workers; generator = generator + Redis).")
    print()
    print(format_table(rows, args.kinds))
    print()
    failed = [r for r in raw["runs"] if r["error"] is not None]
    for record in failed:
        print(f"n/a: {record['run']} {record['server']}: {record['error'][:300]}")
    if any(row["suspect"] for row in rows):
        print("(!) a run of that row has a warning:")
    for record in raw["runs"]:
        if record.get("warning"):
            print(f"    {record['run']} {record['server']}: {record['warning']}")
    print(f"raw results: {out}")
    print(f"server logs: {log_dir}")
    return 1 if failed and len(failed) == len(raw["runs"]) else 0


if __name__ == "__main__":
    sys.exit(main())
