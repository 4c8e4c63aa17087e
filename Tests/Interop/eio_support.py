"""Helpers shared by the Engine.IO interop and robustness tests."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import re
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

import engineio
import requests
from engineio import packet as eio_packet

EIO_PATH = "engine.io"
RECORD_SEPARATOR = b"\x1e"
DEFAULT_TIMEOUT = 10.0


# ---------------------------------------------------------------------------
# python-engineio client wrapper
# ---------------------------------------------------------------------------
class _RecordingClient(engineio.Client):
    """engineio.Client that records MESSAGE packets in arrival order.

    The stock client dispatches each 'message' event on its own thread, so
    handler invocation order is not the wire order.  Recording inside the
    reader loop (which processes packets sequentially) keeps the order.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.inbox: queue.Queue = queue.Queue()

    def _receive_packet(self, pkt):  # noqa: D401 - override of private hook
        if pkt.packet_type == eio_packet.MESSAGE:
            self.inbox.put(pkt.data)
        return super()._receive_packet(pkt)


class EchoClient:
    """Thin convenience layer over python-engineio's sync client."""

    def __init__(self, request_timeout: float = DEFAULT_TIMEOUT):
        self.client = _RecordingClient(
            request_timeout=request_timeout, handle_sigint=False
        )
        self.disconnected = threading.Event()
        self.client.on("disconnect", self._on_disconnect)

    def _on_disconnect(self, *args):
        self.disconnected.set()

    def connect(self, url: str, transports=None) -> "EchoClient":
        self.client.connect(url, transports=transports, engineio_path=EIO_PATH)
        return self

    @property
    def sid(self) -> str | None:
        return self.client.sid

    @property
    def state(self) -> str:
        return self.client.state

    def transport(self) -> str | None:
        return self.client.transport()

    def send(self, data) -> None:
        self.client.send(data)

    def receive(self, timeout: float = DEFAULT_TIMEOUT):
        try:
            return self.client.inbox.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(
                f"no message received within {timeout}s "
                f"(state={self.client.state}, transport={self.client.transport()})"
            ) from None

    def expect(self, expected, timeout: float = DEFAULT_TIMEOUT) -> None:
        got = self.receive(timeout)
        assert type(got) is type(expected), (
            f"echo changed type: sent {type(expected).__name__}, "
            f"got {type(got).__name__}: {_short(got)}"
        )
        assert got == expected, (
            f"echo mismatch: sent {_short(expected)}, got {_short(got)}"
        )

    def echo(self, data, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.send(data)
        self.expect(data, timeout)

    def assert_inbox_empty(self, wait: float = 0.2) -> None:
        try:
            extra = self.client.inbox.get(timeout=wait)
        except queue.Empty:
            return
        raise AssertionError(f"unexpected extra message: {_short(extra)}")

    def disconnect(self) -> None:
        if self.client.state == "connected":
            self.client.disconnect()


def _short(value, limit: int = 120) -> str:
    text = repr(value)
    if len(text) > limit:
        return f"{text[:limit]}... (len={len(value)})"
    return text


async def async_wait_for(predicate, timeout: float = 15.0, interval: float = 0.05) -> bool:
    """`wait_for` for coroutines: poll `predicate` without blocking the event loop."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(interval)


def wait_for(predicate, timeout: float = 5.0, interval: float = 0.01) -> bool:
    """Poll `predicate` until it is truthy or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def assert_server_healthy(server, context: str = "") -> None:
    """The process is alive and a brand-new client gets its echoes back."""
    server.assert_alive(context)
    c = EchoClient()
    try:
        c.connect(server.url)
        c.echo("health-check ✓")
        c.echo(b"\x00health\xff")
    finally:
        c.disconnect()
    server.assert_alive(context)


# ---------------------------------------------------------------------------
# Engine.IO polling over plain HTTP (requests)
# ---------------------------------------------------------------------------
def eio_url(server, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{server.url}/{EIO_PATH}/" + (f"?{query}" if query else "")


def split_payload(body: bytes) -> list[bytes]:
    return body.split(RECORD_SEPARATOR)


def polling_handshake(server, http=requests) -> tuple[str, dict]:
    r = http.get(eio_url(server, EIO=4, transport="polling"), timeout=DEFAULT_TIMEOUT)
    assert r.status_code == 200, f"handshake failed: {r.status_code} {r.content!r}"
    first = split_payload(r.content)[0]
    assert first[:1] == b"0", f"handshake body is not an open packet: {r.content!r}"
    info = json.loads(first[1:].decode("utf-8"))
    return info["sid"], info


def polling_url(server, sid: str) -> str:
    return eio_url(server, EIO=4, transport="polling", sid=sid)


def polling_post(server, sid: str, body: bytes, http=requests):
    return http.post(
        polling_url(server, sid),
        data=body,
        headers={"Content-Type": "text/plain;charset=UTF-8"},
        timeout=DEFAULT_TIMEOUT,
    )


def polling_receive_messages(server, sid: str, want: int = 1,
                             timeout: float = DEFAULT_TIMEOUT,
                             http=requests) -> list[bytes]:
    """GET until `want` message packets arrived; answers pings with pongs."""
    messages: list[bytes] = []
    deadline = time.monotonic() + timeout
    while len(messages) < want:
        assert time.monotonic() < deadline, (
            f"only got {messages!r} within {timeout}s"
        )
        r = http.get(polling_url(server, sid), timeout=DEFAULT_TIMEOUT)
        assert r.status_code == 200, f"poll GET: {r.status_code} {r.content!r}"
        for pkt in split_payload(r.content):
            if pkt == b"2":
                pr = polling_post(server, sid, b"3", http=http)
                assert pr.status_code == 200, f"pong POST: {pr.status_code}"
            elif pkt[:1] == b"4" or pkt[:1] == b"b":
                messages.append(pkt)
            elif pkt == b"6":
                continue
            else:
                raise AssertionError(f"unexpected packet {pkt!r} in {r.content!r}")
    return messages


# ---------------------------------------------------------------------------
# Raw sockets
# ---------------------------------------------------------------------------
@dataclass
class RawResponse:
    status: int | None  # None: connection closed/reset before a status line
    raw: bytes = b""
    reset: bool = False
    headers: dict = field(default_factory=dict)

    def body(self) -> bytes:
        head, sep, rest = self.raw.partition(b"\r\n\r\n")
        return rest if sep else b""


def _parse_head(raw: bytes) -> tuple[int | None, dict]:
    head, sep, _ = raw.partition(b"\r\n\r\n")
    if not sep:
        # A status line alone is still informative.
        head = raw
    lines = head.split(b"\r\n")
    status = None
    if lines and lines[0].startswith(b"HTTP/"):
        parts = lines[0].split(b" ", 2)
        if len(parts) >= 2 and parts[1].isdigit():
            status = int(parts[1])
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if colon:
            headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    return status, headers


def connect_raw(server, timeout: float = DEFAULT_TIMEOUT, rcvbuf: int | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(timeout)
    sock.connect((server.host, server.port))
    return sock


def abort_socket(sock: socket.socket) -> None:
    """Close with RST (SO_LINGER 0) instead of FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def exchange(server, data: bytes, timeout: float = DEFAULT_TIMEOUT,
             read_body: bool = False, half_close: bool = False) -> RawResponse:
    """Send `data` while concurrently reading, so a server that answers early
    (e.g. 413/431) and closes does not deadlock us.  Returns once a full
    response head has arrived (plus a Content-Length body if `read_body`),
    the peer closed, or the deadline passed.  With `half_close` the write
    side is shut down after the last byte, so a server waiting for more
    input sees EOF instead of making us wait for the deadline."""
    sock = connect_raw(server, timeout)
    sock.setblocking(False)
    out = memoryview(data)
    raw = b""
    reset = False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            wlist = [sock] if len(out) else []
            r, w, _ = select.select([sock], wlist, [], 0.2)
            if r:
                try:
                    chunk = sock.recv(65536)
                except BlockingIOError:
                    chunk = None
                except OSError:
                    reset = True
                    break
                if chunk == b"":
                    break
                if chunk:
                    raw += chunk
                    if b"\r\n\r\n" in raw:
                        if not read_body:
                            break
                        _, headers = _parse_head(raw)
                        length = int(headers.get("content-length", "0") or 0)
                        if len(raw.partition(b"\r\n\r\n")[2]) >= length:
                            break
            if w and len(out):
                try:
                    n = sock.send(out[:262144])
                    out = out[n:]
                    if half_close and not len(out):
                        sock.shutdown(socket.SHUT_WR)
                except BlockingIOError:
                    pass
                except OSError:
                    # Peer reset / stopped accepting input (EPIPE, ECONNRESET,
                    # ENOTCONN on shutdown); keep reading what it sent.
                    out = memoryview(b"")
                    reset = True
    finally:
        sock.close()
    status, headers = _parse_head(raw)
    return RawResponse(status=status, raw=raw, reset=reset, headers=headers)


def random_bytes(n: int, seed: int | None = None) -> bytes:
    if seed is None:
        return os.urandom(n)
    import random

    return random.Random(seed).randbytes(n)


def record_events_in_wire_order(client, on_event) -> None:
    """Calls `on_event(packet)` with every EVENT packet (`["name", args...]`) that
    python-socketio `client` receives, in the order its read loop receives them.

    python-engineio dispatches every message on its own thread (run_async=True), so handler
    order is not arrival order: order checks hook the read loop, before dispatch. Call it
    before `connect`."""
    eio = client.eio
    original = eio._receive_packet

    def recording(pkt):
        if pkt.packet_type == 4 and isinstance(pkt.data, str):
            match = re.match(r"^2\d*(\[.*)$", pkt.data, re.S)
            if match:
                on_event(json.loads(match.group(1)))
        return original(pkt)

    eio._receive_packet = recording


def free_cluster_base(start: int, workers: int = 5) -> int:
    """A `--base-port` for scripts/cluster whose ports are free now: the workers' ports
    (`base..base+workers`) and the broker's (`base+11000` and the two after it, which
    rabbitmq.sh also uses). Starts near `start` (spread by pid, so that parallel runs
    differ) and moves on past ports that are taken: a broker port inside the ephemeral
    range can be the local port of some other connection."""

    def free(port: int) -> bool:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
                return True
            except OSError:
                return False

    base = start + (os.getpid() % 300) * 5
    for _ in range(200):
        ports = [base + i for i in range(workers)] + [base + 11000 + i for i in range(3)]
        if all(free(port) for port in ports):
            return base
        base += 7
    raise AssertionError(f"no free block of cluster ports near {start}")
