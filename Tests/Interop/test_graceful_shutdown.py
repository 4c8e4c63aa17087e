"""Graceful shutdown drains Socket.IO sessions so that clients reconnect (issue 16, Q6).

A `socketio-testserver` gets SIGTERM while python-socketio clients (reconnection on) are
connected over WebSocket and over long-polling. Each must first receive what the server
emitted to it before the shutdown, then take the end of its session for a lost transport (not
a `server disconnect`, after which python-socketio does not reconnect), and reconnect to the
next server started on the same port: its connect handler runs again.
"""

from __future__ import annotations

import socket
import subprocess
import threading

import pytest
import socketio

from conftest import REPO_ROOT, STARTUP_TIMEOUT, ServerProcess, _finish, demo_binary
from eio_support import wait_for

pytestmark = pytest.mark.timeout(90)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_testserver(port: int) -> ServerProcess:
    """`socketio-testserver` on a given loopback port (conftest's `start_server` picks one)."""
    argv = [str(demo_binary("socketio-testserver")), "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=str(REPO_ROOT))
    server = ServerProcess(proc, tuple(argv[1:]))
    server._wait_listening(STARTUP_TIMEOUT)
    return server


class Client:
    """A python-socketio client that records, in order, what happened to it."""

    def __init__(self, url: str, transport: str):
        self.transport = transport
        self.events: list[tuple] = []
        self.lock = threading.Lock()
        self.sio = socketio.Client(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=0.5, randomization_factor=0)

        @self.sio.event
        def connect():
            self.record("connect", self.sio.transport())

        @self.sio.event
        def disconnect(reason):
            self.record("disconnect", reason)

        @self.sio.on("goodbye")
        def goodbye(text):
            self.record("goodbye", text)

        self.sio.connect(url, transports=[transport], wait_timeout=10)

    def record(self, *event) -> None:
        with self.lock:
            self.events.append(event)

    def seen(self) -> list[tuple]:
        with self.lock:
            return list(self.events)

    def kinds(self) -> list[str]:
        return [event[0] for event in self.seen()]


def test_clients_reconnect_to_the_next_server_after_sigterm():
    port = free_port()
    first = start_testserver(port)
    second = None
    clients: list[Client] = []
    try:
        url = f"http://127.0.0.1:{port}"
        clients = [Client(url, "websocket"), Client(url, "polling")]
        assert wait_for(lambda: all(c.kinds() == ["connect"] for c in clients), timeout=10), [c.seen() for c in clients]
        assert clients[0].sio.transport() == "websocket" and clients[1].sio.transport() == "polling"

        # The server emits to every client; once it has acknowledged, the emit is queued on
        # each session ahead of the shutdown below.
        answer = clients[0].sio.call("server_emit", {"event": "goodbye", "args": ["last words"]}, timeout=10)
        assert answer == "ok"
        first.proc.send_signal(subprocess.signal.SIGTERM)
        assert first.proc.wait(timeout=20) == 0, first.output()[-4000:]

        for client in clients:
            assert wait_for(lambda: "disconnect" in client.kinds(), timeout=10), (client.transport, client.seen())
        for client in clients:
            events = client.seen()
            kinds = client.kinds()
            assert ("goodbye", "last words") in events, (client.transport, events)
            assert kinds.index("goodbye") < kinds.index("disconnect"), (client.transport, events)
            reason = events[kinds.index("disconnect")][1]
            # A lost transport, not `server disconnect` (after which python-socketio gives up).
            assert reason == "transport error", (client.transport, events)

        second = start_testserver(port)
        for client in clients:
            assert wait_for(lambda: client.kinds().count("connect") == 2, timeout=20), (client.transport, client.seen())
            assert wait_for(lambda: client.sio.connected, timeout=10), (client.transport, client.seen())
            # The new session serves: an ack round trip on the second server.
            assert client.sio.call("echo_ack", "again", timeout=10) == "again"
    finally:
        for client in clients:
            client.sio.disconnect()
        if first.proc.poll() is None:
            first.stop()
        if second is not None:
            _finish(second)


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_js_client_reconnects_to_the_next_server_after_sigterm(transport):
    """The same with the official JavaScript client (scenario `shutdownReconnect` in
    js/scenarios.mjs, which sends the SIGTERM itself once the server has emitted)."""
    import json

    from test_js_client import CLIENT_JS, RUNNER, require_client

    node = require_client()
    port = free_port()
    first = start_testserver(port)
    second = None
    options = {"bundle": str(CLIENT_JS), "timeoutMs": 40000, "transports": transport, "serverPid": first.proc.pid}
    proc = subprocess.Popen(
        [node, "--experimental-websocket", str(RUNNER), "shutdownReconnect", first.url, json.dumps(options)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=str(REPO_ROOT),
    )
    try:
        assert first.proc.wait(timeout=30) == 0, first.output()[-4000:]
        second = start_testserver(port)
        stdout, stderr = proc.communicate(timeout=50)
        lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
        assert lines, f"no RESULT (exit {proc.returncode})\nstdout:\n{stdout[-4000:]}\nstderr:\n{stderr[-4000:]}"
        outcome = json.loads(lines[-1][len("RESULT "):])
        assert outcome["ok"], outcome["error"]
        result = outcome["result"]
        events = result["events"]
        kinds = [event[0] for event in events]
        assert result["answer"] == "ok" and result["echoed"] == "again", result
        assert kinds == ["connect", "goodbye", "disconnect", "connect"], events
        # A lost transport: `transport close` (WebSocket) or `transport error` (the next poll
        # finds the session gone), not `io server disconnect`.
        expected = "transport close" if transport == "websocket" else "transport error"
        assert events[2] == ["disconnect", expected], events
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        if first.proc.poll() is None:
            first.stop()
        if second is not None:
            _finish(second)
