"""Shared pytest fixtures for the Engine.IO / Socket.IO interop suite.

The servers under test are the `socketio-demo` and `socketio-testserver`
executables built by SwiftPM. Their location is taken from $SOCKETIO_BIN_DIR
(set by scripts/test.sh to the output of `swift build --show-bin-path`),
falling back to .build/debug.
"""

from __future__ import annotations

import collections
import os
import pathlib
import re
import signal
import subprocess
import threading
import time

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
LISTENING_RE = re.compile(r"listening on http://([0-9.]+):(\d+)")
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def demo_binary(binary: str = "socketio-demo") -> pathlib.Path:
    bin_dir = os.environ.get("SOCKETIO_BIN_DIR")
    if bin_dir:
        return pathlib.Path(bin_dir) / binary
    return REPO_ROOT / ".build" / "debug" / binary


class ServerProcess:
    """A running socketio-demo process listening on loopback."""

    def __init__(self, proc: subprocess.Popen, args: tuple[str, ...]):
        self.proc = proc
        self.args = args
        self.host: str | None = None
        self.port: int | None = None
        # Only the most recent lines are kept so a chatty server cannot make
        # the test process grow without bound.
        self._lines: collections.deque[str] = collections.deque(maxlen=5000)
        self._lock = threading.Lock()
        self._listening = threading.Event()
        self._eof = threading.Event()
        self._reader = threading.Thread(
            target=self._drain, name="socketio-demo-stdout", daemon=True
        )
        self._reader.start()

    # -- stdout handling -------------------------------------------------
    def _drain(self) -> None:
        assert self.proc.stdout is not None
        try:
            for raw in iter(self.proc.stdout.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                with self._lock:
                    self._lines.append(line)
                if not self._listening.is_set():
                    m = LISTENING_RE.search(line)
                    if m:
                        self.host = m.group(1)
                        self.port = int(m.group(2))
                        self._listening.set()
        except (OSError, ValueError):
            pass
        finally:
            self._eof.set()

    def output(self) -> str:
        with self._lock:
            return "\n".join(self._lines)

    def _wait_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._listening.wait(0.05):
                return
            if self.proc.poll() is not None:
                # Let the reader pick up whatever the process printed last.
                self._eof.wait(2.0)
                if self._listening.is_set():
                    return
                raise RuntimeError(
                    f"socketio-demo {' '.join(self.args)} exited with code "
                    f"{self.proc.returncode} before listening; output:\n{self.output()}"
                )
        self.stop()
        raise RuntimeError(
            f"socketio-demo {' '.join(self.args)} did not print 'listening on "
            f"http://HOST:PORT' within {timeout:.0f}s; output:\n{self.output()}"
        )

    # -- public API ----------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def assert_alive(self, context: str = "") -> None:
        rc = self.proc.poll()
        if rc is not None:
            self._eof.wait(2.0)
            where = f" ({context})" if context else ""
            raise AssertionError(
                f"socketio-demo died{where} with exit code {rc}; "
                f"last output:\n{self.output()[-20000:]}"
            )

    def rss_kib(self) -> int | None:
        """Resident set size of the server in KiB (Linux only)."""
        try:
            with open(f"/proc/{self.proc.pid}/status", encoding="ascii") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_TIMEOUT)
            except ProcessLookupError:
                pass
        self._eof.wait(2.0)
        if self.proc.stdout is not None:
            try:
                self.proc.stdout.close()
            except OSError:
                pass

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"<ServerProcess pid={self.proc.pid} url={self.url}>"


def start_server(*args: str, binary: str = "socketio-demo", env: dict | None = None) -> ServerProcess:
    """Launch `binary` (socketio-demo by default, or socketio-testserver) with
    `args` on an ephemeral loopback port (`env`: the process environment, default
    inherited)."""
    path = demo_binary(binary)
    if not path.exists():
        raise RuntimeError(
            f"{binary} binary not found at {path}; build it with "
            "`swift build` or set SOCKETIO_BIN_DIR"
        )
    argv = [str(path), *args, "--host", "127.0.0.1", "--port", "0"]
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=str(REPO_ROOT),
        env=env,
    )
    server = ServerProcess(proc, tuple(argv[1:]))
    server._wait_listening(STARTUP_TIMEOUT)
    return server


def _finish(server: ServerProcess) -> None:
    """Teardown: the server must have survived the tests, then stop it."""
    try:
        server.assert_alive("at fixture teardown")
        assert server.proc.poll() is None
    finally:
        server.stop()


# The two front ends of the same server: the engine's own listener, and the server mounted
# on a Hummingbird application (`socketio-demo --server hummingbird`, Socket.IO modes only).
# Tests that matter for both take `server_kind` and are marked `@both_servers`; fixtures
# that start demo servers pass `server_args(server_kind)`.
SERVER_KINDS = ("standalone", "hummingbird")


def server_args(kind: str) -> tuple[str, ...]:
    """The socketio-demo arguments that select the front end `kind`."""
    return ("--server", "hummingbird") if kind == "hummingbird" else ()


def both_servers(scope: str = "function"):
    """Parametrises a test over both front ends (`scope="module"` for module fixtures)."""
    return pytest.mark.parametrize("server_kind", SERVER_KINDS, scope=scope)


@pytest.fixture(scope="session")
def server_kind() -> str:
    """The front end under test where a test is not parametrised over both."""
    return "standalone"


@pytest.fixture(scope="module")
def engineio_server():
    server = start_server("--mode", "engineio-echo")
    try:
        yield server
    finally:
        _finish(server)


@pytest.fixture(scope="module")
def sio_server():
    """The Socket.IO fixture server (see Tests/Interop/README.md)."""
    server = start_server(binary="socketio-testserver")
    try:
        yield server
    finally:
        _finish(server)


@pytest.fixture
def server_factory():
    """Start extra, test-private servers; they are checked and stopped at
    the end of the test."""
    started: list[ServerProcess] = []

    def factory(*args: str) -> ServerProcess:
        srv = start_server(*args)
        started.append(srv)
        return srv

    try:
        yield factory
    finally:
        errors = []
        for srv in started:
            try:
                _finish(srv)
            except AssertionError as exc:
                errors.append(exc)
        if errors:
            raise errors[0]
