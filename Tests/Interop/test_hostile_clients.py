"""Hostile clients against `socketio-demo` (issue 13, items 1-4).

Each test starts a private demo server (`--threads 1`, so that every connection
shares one event loop and a frozen loop freezes everything), connects an
ordinary python-socketio client that keeps calling `echo` in the background,
then attacks the server with raw sockets. It checks:

- the protocol answer the attacker gets (a closed session, 403 JSON, `41`, a
  stalled connection);
- that server RSS (from /proc) stays bounded while the attack sends far more;
- that the ordinary client was served throughout, and a new client still is;
- that SIGTERM still stops the process.

Everything is loopback, bounded in count and time; no assertion is on time.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import select
import signal
import socket
import struct
import threading
import time

import aiohttp
import pytest
import requests
import socketio

from conftest import both_servers, server_args, start_server
from eio_support import wait_for

pytestmark = pytest.mark.timeout(120)

SIO_PATH = "socket.io"
MIB = 1024 * 1024
# Generous: the attacks below send 17 MB to 100+ MB; a bounded server grows far less.
RSS_GROWTH_LIMIT_KIB = 64 * 1024


# ---------------------------------------------------------------------------
# The ordinary client
# ---------------------------------------------------------------------------
class Bystander:
    """A python-socketio client (default transports) that calls `echo` in a
    loop on a thread for as long as the test runs."""

    def __init__(self, server):
        self.server = server
        self.client = socketio.Client(reconnection=False)
        self.calls = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bystander", daemon=True)

    def __enter__(self) -> "Bystander":
        self.client.connect(self.server.url, wait_timeout=10)
        self.echo("hello")
        self._thread.start()
        return self

    def echo(self, data) -> None:
        answer = self.client.call("echo", {"n": data}, timeout=10)
        assert answer == {"n": data}, f"echo answered {answer!r}"

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            n += 1
            try:
                self.echo(n)
                self.calls += 1
            except Exception as error:  # noqa: BLE001 - recorded and asserted on
                self.failures.append(f"call {n}: {error!r}")
                return
            self._stop.wait(0.05)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=15)
        try:
            self.client.disconnect()
        except Exception:  # noqa: BLE001
            pass

    def assert_served(self, context: str) -> None:
        assert not self.failures, f"the ordinary client was not served ({context}): {self.failures}"
        before = self.calls
        assert wait_for(lambda: self.calls > before + 2 or self.failures, timeout=20), (
            f"the ordinary client made no progress ({context})"
        )
        assert not self.failures, f"the ordinary client was not served ({context}): {self.failures}"
        # And a brand-new client connects and is answered.
        fresh = socketio.Client(reconnection=False)
        try:
            fresh.connect(self.server.url, wait_timeout=10)
            assert fresh.call("echo", "fresh", timeout=10) == "fresh"
        finally:
            fresh.disconnect()


@pytest.fixture
def demo(server_kind):
    """A private demo server on one event loop (standalone, or mounted on Hummingbird for
    the tests marked `@both_servers()`). Tests end by stopping it with SIGTERM themselves
    (that it still stops is part of what they check)."""
    server = start_server("--threads", "1", *server_args(server_kind))
    try:
        yield server
    finally:
        server.stop()


def assert_stops_on_sigterm(server) -> None:
    server.assert_alive("before SIGTERM")
    server.proc.send_signal(signal.SIGTERM)
    try:
        code = server.proc.wait(timeout=20)
    except Exception:  # noqa: BLE001
        server.proc.kill()
        raise AssertionError("SIGTERM did not stop the server within 20 s")
    assert code == 0, f"server exited with {code} on SIGTERM; output:\n{server.output()[-4000:]}"


def polling_url(server, sid: str | None = None) -> str:
    url = f"{server.url}/{SIO_PATH}/?EIO=4&transport=polling"
    return url + (f"&sid={sid}" if sid else "")


def polling_handshake(server, http) -> str:
    r = http.get(polling_url(server), timeout=10)
    assert r.status_code == 200 and r.content[:1] == b"0", (r.status_code, r.content[:200])
    return json.loads(r.content[1:].split(b"\x1e")[0])["sid"]


def polling_post(server, sid: str, body: bytes, http):
    return http.post(polling_url(server, sid), data=body, headers={"Content-Type": "text/plain;charset=UTF-8"}, timeout=30)


def rss_growth(server, baseline_kib: int) -> int:
    rss = server.rss_kib()
    assert rss is not None, "no /proc RSS for the server"
    return rss - baseline_kib


# ---------------------------------------------------------------------------
# Raw WebSocket (RFC 6455 client side, masked), reading under our control
# ---------------------------------------------------------------------------
def ws_frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if n < 4096 else _mask_fast(payload, mask)
    return head + mask + masked


def _mask_fast(payload: bytes, mask: bytes) -> bytes:
    key = int.from_bytes(mask * ((len(payload) + 3) // 4), "big") >> (8 * ((4 - len(payload) % 4) % 4))
    return (int.from_bytes(payload, "big") ^ key).to_bytes(len(payload), "big")


class RawWebSocket:
    """A WebSocket to the engine path; `recv_frame` reads only when asked."""

    def __init__(self, server, rcvbuf: int | None = None, eio_query: str = "EIO=4&transport=websocket"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(10)
        self.sock.connect((server.host, server.port))
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET /{SIO_PATH}/?{eio_query} HTTP/1.1\r\nHost: {server.host}:{server.port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            assert chunk, "closed during the WebSocket handshake"
            self.buffer += chunk
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head

    def send_text(self, text: str | bytes) -> None:
        self.sock.sendall(ws_frame(1, text.encode() if isinstance(text, str) else text))

    def send_binary(self, data: bytes) -> None:
        self.sock.sendall(ws_frame(2, data))

    def recv_frame(self, timeout: float = 10) -> tuple[int, bytes] | None:
        """One frame (opcode, payload), or None when the server closed."""
        deadline = time.monotonic() + timeout
        while True:
            frame = self._parse()
            if frame is not None:
                return frame
            remaining = deadline - time.monotonic()
            assert remaining > 0, "no frame from the server in time"
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                return None
            if not chunk:
                return None
            self.buffer += chunk

    def _parse(self) -> tuple[int, bytes] | None:
        b = self.buffer
        if len(b) < 2:
            return None
        n = b[1] & 0x7F
        offset = 2
        if n == 126:
            if len(b) < 4:
                return None
            n = struct.unpack("!H", b[2:4])[0]
            offset = 4
        elif n == 127:
            if len(b) < 10:
                return None
            n = struct.unpack("!Q", b[2:10])[0]
            offset = 10
        if len(b) < offset + n:
            return None
        self.buffer = b[offset + n:]
        return b[0] & 0x0F, b[offset:offset + n]

    def recv_text(self, timeout: float = 10) -> str | None:
        """The next text message, answering Engine.IO pings; None once closed."""
        while True:
            frame = self.recv_frame(timeout)
            if frame is None or frame[0] == 8:
                return None
            opcode, payload = frame
            if opcode == 1 and payload == b"2":
                self.send_text("3")
                continue
            if opcode == 1:
                return payload.decode()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def sio_over_websocket(server) -> RawWebSocket:
    ws = RawWebSocket(server)
    opened = ws.recv_text()
    assert opened and opened.startswith("0{"), opened
    ws.send_text("40")
    reply = ws.recv_text()
    assert reply and reply.startswith("40{"), reply
    return ws


# ---------------------------------------------------------------------------
# Item 1: the CONNECT reply that overflows the polling buffer (F1)
# ---------------------------------------------------------------------------
@both_servers()
def test_connect_reply_overflowing_the_polling_buffer_closes_only_that_session(demo):
    """A polling client that never GETs fills its buffer to 8 bytes below the
    16 MiB limit with "Invalid namespace" answers, then connects to `/`: the
    CONNECT reply overflows. The session closes (its sid is unknown after), the
    event loop keeps serving every other client, SIGTERM still stops the
    process. Before the fix the reply was sent under the socket's lock and the
    close re-entered it: a deadlock in release builds, a trap in debug builds."""
    server = demo
    http = requests.Session()
    with Bystander(server) as bystander:
        baseline = server.rss_kib()
        sid = polling_handshake(server, http)
        target = 16 * MIB - 8
        frame_overhead = 34  # `44` + namespace + `,{"message":"Invalid namespace"}`
        buffered = 0
        posts = 0
        while buffered < target:
            size = min(999_000, target - buffered - frame_overhead)
            assert size >= 2, "the fill does not come out exactly; adjust the chunk size"
            namespace = "/" + "a" * (size - 1)
            r = polling_post(server, sid, b"40" + namespace.encode(), http=http)
            assert r.status_code == 200, (r.status_code, r.content[:200])
            buffered += size + frame_overhead
            posts += 1
        assert buffered == target and posts == 17
        r = polling_post(server, sid, b"40", http=http)
        assert r.status_code == 200, (r.status_code, r.content[:200])

        # The session is gone: its sid is unknown (Engine.IO code 1).
        def session_gone():
            got = http.get(polling_url(server, sid), timeout=10)
            return got.status_code == 400 and got.json().get("code") == 1

        assert wait_for(session_gone, timeout=20), "the overflowing session is still open"
        bystander.assert_served("after the overflow")
        growth = rss_growth(server, baseline)
        print(f"CONNECT-reply overflow: {posts + 1} POSTs, {buffered} bytes buffered; RSS growth {growth} KiB")
        assert growth < RSS_GROWTH_LIMIT_KIB
    assert_stops_on_sigterm(server)


# ---------------------------------------------------------------------------
# Item 2: one attachment referenced many times (F2)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("placeholders", [
    pytest.param([0] * 256, id="one-attachment-256-times"),
    pytest.param([0, 0], id="twice"),
    pytest.param([1, 0, 2], id="out-of-range"),
    pytest.param([0], id="attachment-never-named"),
])
def test_placeholders_must_name_each_attachment_once(demo, placeholders):
    """`451-7["echo",{ph 0}×256]` + one 32 KiB attachment asked the server
    for 256 copies (8 MiB) in the ack; the server now closes the connection (a decode
    error, as Node does for an illegal attachment), and answers nothing."""
    server = demo
    with Bystander(server) as bystander:
        baseline = server.rss_kib()
        attachments = 2 if placeholders == [0] else max(placeholders) + (0 if placeholders == [1, 0, 2] else 1)
        ws = sio_over_websocket(server)
        refs = ",".join(json.dumps({"_placeholder": True, "num": n}) for n in placeholders)
        ws.send_text(f"45{attachments}-7[\"echo\",{refs}]")
        for _ in range(attachments):
            ws.send_binary(os.urandom(32 * 1024))
        # The answer is the close of the connection (`1` or a close frame), never an ack.
        while True:
            text = ws.recv_text(timeout=20)
            assert text is None or not text.startswith("46"), f"the server acked: {text[:120]!r}"
            if text is None or text == "1":
                break
        ws.close()
        # A well-formed binary echo still works for everyone else.
        assert bystander.client.call("echo", b"\x00\x01" * 1000, timeout=10) == b"\x00\x01" * 1000
        bystander.assert_served("after the placeholder attack")
        assert rss_growth(server, baseline) < RSS_GROWTH_LIMIT_KIB
    assert_stops_on_sigterm(server)


# ---------------------------------------------------------------------------
# Item 3: a WebSocket client that pings and never reads
# ---------------------------------------------------------------------------
@both_servers()
def test_websocket_ping_flood_from_a_client_that_does_not_read(demo):
    """Every WebSocket PING gets a PONG; a client that never reads used to make
    the server read on and queue pongs without limit (~90 MB for a flood).
    Now pongs count against the slow-reader cap and the server stops reading
    while it cannot write: the attacker's sends stall long before 100 MB."""
    server = demo
    with Bystander(server) as bystander:
        baseline = server.rss_kib()
        ws = RawWebSocket(server, rcvbuf=4096)
        ping = ws_frame(9, b"p" * 125)
        burst = ping * 512  # ~67 KB per send
        budget = 100 * MIB
        sent = 0
        ws.sock.setblocking(False)
        stalled_since = None
        deadline = time.monotonic() + 40
        while sent < budget and time.monotonic() < deadline:
            _, writable, _ = select.select([], [ws.sock], [], 0.2)
            if not writable:
                stalled_since = stalled_since or time.monotonic()
                if time.monotonic() - stalled_since > 3:
                    break
                continue
            stalled_since = None
            try:
                sent += ws.sock.send(burst)
            except BlockingIOError:
                continue
            except OSError:
                break  # the server dropped us: also a bounded answer
        growth = rss_growth(server, baseline)
        print(f"ping flood: {sent} bytes sent before the server stopped reading; RSS growth {growth} KiB")
        assert sent < budget, f"the server read all {sent} bytes of pings without reading stopping"
        assert growth < RSS_GROWTH_LIMIT_KIB, f"server grew by {growth} KiB during a ping flood of {sent} bytes"
        bystander.assert_served("during the ping flood")
        ws.close()
    assert_stops_on_sigterm(server)


# ---------------------------------------------------------------------------
# Item 4: unbounded per-client state
# ---------------------------------------------------------------------------
def test_pending_acks_per_socket_are_capped(demo):
    """`disconnect_request` makes the demo emit with an ack; a client that never
    acks used to hold one waiter and a 60 s timer per event. Past
    `maxPendingAcks` (1024) the emit fails at once with tooManyPendingAcks,
    and the demo's callback disconnects the socket: the client gets `41`."""
    server = demo
    with Bystander(server) as bystander:
        ws = sio_over_websocket(server)
        received = {"asks": 0, "disconnected": False}

        def read():
            while True:
                text = ws.recv_text(timeout=60)
                if text is None:
                    return
                if text.startswith("42"):
                    received["asks"] += 1
                if text == "41":
                    received["disconnected"] = True
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        for _ in range(1100):
            ws.send_text('42["disconnect_request"]')
        reader.join(timeout=60)
        assert received["disconnected"], (
            f"no DISCONNECT after 1100 unacked emits ({received['asks']} emits seen)"
        )
        assert received["asks"] <= 1100
        ws.close()
        bystander.assert_served("after the ack flood")
    assert_stops_on_sigterm(server)


def test_rooms_per_socket_are_capped_and_the_join_answer_is_bounded(demo):
    """1100 joins: the socket stays in at most `maxRoomsPerSocket` (1000)
    rooms, its own included, and the demo's answer stays about 4 KB instead
    of listing every room on every join."""
    server = demo
    with Bystander(server) as bystander:
        ws = sio_over_websocket(server)
        ws.recv_text()  # the demo's "Connected" my_response
        last = None
        for n in range(1100):
            ws.send_text('42["join",{"room":"room-%04d"}]' % n)
        seen = 0
        while seen < 1100:
            text = ws.recv_text(timeout=30)
            assert text is not None, "connection closed during the joins"
            if text.startswith('42["my_response"'):
                seen += 1
                last = json.loads(text[2:])[1]["data"]
                assert len(last.encode()) < 4200, f"join answer of {len(last)} bytes"
        listed = last[len("In rooms: "):].split(", ")
        more = re.search(r"… and (\d+) more$", last)
        total = len(listed) - (1 if more else 0) + (int(more.group(1)) if more else 0)
        assert total == 1000, f"the socket is in {total} rooms: {last[-200:]!r}"
        ws.close()
        bystander.assert_served("after the joins")
    assert_stops_on_sigterm(server)


def test_a_room_name_beyond_max_room_name_bytes_is_not_joined(demo):
    """A 100 KB room name is ignored (`maxRoomNameBytes`, 1 KiB by default):
    the socket stays in its own room and the short one, and the connection
    lives on."""
    server = demo
    with Bystander(server) as bystander:
        ws = sio_over_websocket(server)
        ws.recv_text()  # the demo's "Connected" my_response
        ws.send_text('42["join",{"room":"short"}]')
        ws.send_text('42["join",{"room":"%s"}]' % ("x" * 100_000))
        answers = []
        while len(answers) < 2:
            text = ws.recv_text(timeout=30)
            assert text is not None, "connection closed during the joins"
            if text.startswith('42["my_response"'):
                answers.append(json.loads(text[2:])[1]["data"])
        last = answers[-1]
        assert "xxxx" not in last and "more" not in last, last[:200]
        rooms = last[len("In rooms: "):].split(", ")
        assert len(rooms) == 2 and "short" in rooms, last[:200]
        ws.close()
        bystander.assert_served("after the long room name")
    assert_stops_on_sigterm(server)


@both_servers()
def test_half_open_polling_sessions_per_address_are_capped(demo):
    """Handshakes that never send a message cost a session each for 45 s.
    Past `maxHalfOpenSessionsPerAddress` (1000) the address gets the Engine.IO
    refusal `403 {"code":4,...}`; other addresses, and clients already
    connected, are served."""
    server = demo
    with Bystander(server) as bystander:
        baseline = server.rss_kib()
        http = requests.Session()
        url = polling_url(server)
        refused = None
        for n in range(1200):
            r = http.get(url, timeout=10)
            if r.status_code != 200:
                refused = (n, r.status_code, r.json())
                break
        assert refused is not None, "1200 half-open sessions from one address were all accepted"
        n, status, body = refused
        assert n == 1000 and status == 403, refused
        assert body.get("code") == 4 and body.get("message"), body
        # Another address (127.0.0.2 routes to loopback too) may still open a session.
        other = socket.create_connection((server.host, server.port), timeout=10, source_address=("127.0.0.2", 0))
        try:
            other.sendall(f"GET /{SIO_PATH}/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            head = other.recv(4096)
            assert head.startswith(b"HTTP/1.1 200"), head[:200]
        finally:
            other.close()
        assert not bystander.failures
        before = bystander.calls
        assert wait_for(lambda: bystander.calls > before + 2 or bystander.failures, timeout=20)
        assert not bystander.failures, bystander.failures
        growth = rss_growth(server, baseline)
        print(f"half-open sessions: refused at {n}; RSS growth {growth} KiB")
        assert growth < RSS_GROWTH_LIMIT_KIB
    assert_stops_on_sigterm(server)


# ---------------------------------------------------------------------------
# Many polling clients at once
# ---------------------------------------------------------------------------
async def _many_polling_clients(server, total: int) -> None:
    """`total` Socket.IO polling clients at once over 200 connections: each connects to `/`,
    calls `echo` and closes."""
    timeout = aiohttp.ClientTimeout(total=90)
    text_plain = {"Content-Type": "text/plain;charset=UTF-8"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200), timeout=timeout) as http:

        async def receive(sid: str, prefix: str) -> str:
            while True:
                async with http.get(polling_url(server, sid)) as r:
                    body = await r.read()
                    assert r.status == 200, f"GET: {r.status} {body[:200]!r}"
                for packet in body.decode().split("\x1e"):
                    if packet == "2":
                        async with http.post(polling_url(server, sid), data=b"3", headers=text_plain) as pong:
                            assert pong.status == 200
                    elif packet.startswith(prefix):
                        return packet
                    elif packet != "6":
                        raise AssertionError(f"unexpected packet {packet[:80]!r}")

        async def post(sid: str, body: str) -> None:
            async with http.post(polling_url(server, sid), data=body.encode(), headers=text_plain) as r:
                answer = await r.read()
                assert (r.status, answer) == (200, b"ok"), f"POST {body!r}: {r.status} {answer[:200]!r}"

        async def client(index: int) -> None:
            async with http.get(polling_url(server)) as r:
                body = await r.read()
                assert r.status == 200 and body[:1] == b"0", f"handshake {index}: {r.status} {body[:200]!r}"
            sid = json.loads(body[1:].split(b"\x1e")[0])["sid"]
            await post(sid, "40")
            await receive(sid, "40")
            await post(sid, f'421["echo","hello-{index}"]')
            assert await receive(sid, "431") == f'431["hello-{index}"]'
            await post(sid, "1")

        results = await asyncio.gather(*(client(index) for index in range(total)), return_exceptions=True)
        failures = [result for result in results if isinstance(result, BaseException)]
        assert not failures, f"{len(failures)}/{total} clients failed, e.g. {failures[:5]!r}"


@both_servers()
def test_many_polling_clients_at_once_are_served(demo):
    """800 polling clients at once (under the 1000 half-open sessions an address may hold)
    each connect, get their echo and leave; the ordinary client is served throughout."""
    server = demo
    with Bystander(server) as bystander:
        asyncio.run(_many_polling_clients(server, 800))
        bystander.assert_served("after 800 polling clients at once")
    assert_stops_on_sigterm(server)


# ---------------------------------------------------------------------------
# Item 3: many WebSocket clients that do not read, together (process budget)
# ---------------------------------------------------------------------------
@both_servers()
def test_websocket_readers_that_stall_together_are_bounded_by_the_process_budget(server_kind):
    """Each stalled WebSocket client stays under its own slow-reader cap (64 MiB
    here), but together they would hold far more than the process budget
    (`--max-total-buffered-bytes`, 8 MiB here): broadcasts pile up in every one
    of them. The sessions that push the total over the budget are dropped as
    slow readers; server memory stays bounded and the ordinary client is served."""
    server = start_server(
        "--threads", "1", "--max-buffered-bytes", str(64 * MIB), "--max-total-buffered-bytes", str(8 * MIB),
        *server_args(server_kind),
    )
    try:
        with Bystander(server) as bystander:
            baseline = server.rss_kib()
            stalled = []
            for _ in range(6):
                ws = RawWebSocket(server, rcvbuf=4096)
                opened = ws.recv_text()
                assert opened and opened.startswith("0{"), opened
                ws.send_text("40")
                reply = ws.recv_text()
                assert reply and reply.startswith("40{"), reply
                stalled.append(ws)  # never read again
            writer = socketio.Client(reconnection=False)
            writer.connect(server.url, transports=["websocket"], wait_timeout=10)
            try:
                blob = "b" * 400_000
                # 6 stalled clients x 40 x 400 KB = 96 MB if nothing bounded it.
                for _ in range(40):
                    writer.emit("my_broadcast_event", {"data": blob})
                    time.sleep(0.02)
                assert writer.call("echo", "after", timeout=20) == "after"
            finally:
                writer.disconnect()
            assert wait_for(lambda: "maxTotalBufferedBytes" in server.output(), timeout=20), (
                "no stalled session was dropped for the process budget"
            )
            growth = rss_growth(server, baseline)
            print(f"6 stalled WebSocket readers, 96 MB of broadcasts: RSS growth {growth} KiB")
            assert growth < RSS_GROWTH_LIMIT_KIB, f"server grew by {growth} KiB with stalled readers"
            bystander.assert_served("with stalled WebSocket readers")
            for ws in stalled:
                ws.close()
        assert_stops_on_sigterm(server)
    finally:
        server.stop()


# ---------------------------------------------------------------------------
# Garbage at the Socket.IO layer (the Engine.IO layer: test_engineio_robustness.py)
# ---------------------------------------------------------------------------
# (text frame, binary frames after it, what the sender gets)
SOCKETIO_GARBAGE = [
    ("49", [], "closed"),  # unknown packet type
    ("42", [], "closed"),  # EVENT without payload
    ('42["echo"', [], "closed"),  # truncated JSON
    ('42{"a":1}', [], "closed"),  # payload not an array
    ("42[[1]]", [], "closed"),  # event name neither a string nor a number
    ("42[]", [], "closed"),  # no event name
    ('42["connect"]', [], "closed"),  # reserved event name
    ("43", [], "closed"),  # ACK without id or data
    ("43[]", [], "closed"),  # ACK without id
    ('4211-["echo",{"_placeholder":true,"num":0}]', [], "closed"),  # more attachments than allowed
    ('451-["echo",{"_placeholder":true,"num":3}]', [b"x"], "closed"),  # placeholder out of range
    ('452-["echo",{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}]', [b"x", b"y"], "closed"),
    ('42["echo",' + "[" * 300 + "]" * 300 + "]", [], "closed"),  # nesting beyond the parser's depth
    ("4-1", [], "closed"),  # nonsense
    ("40/x" + "y" * 70_000, [], "44"),  # an unknown namespace with a huge name: CONNECT_ERROR
    ('42/nowhere,["echo"]', [], "closed"),  # a namespace the socket never joined (Node: "invalid state")
    ('42["echo","\\ud800"]', [], "open"),  # a lone surrogate escape: accepted, as JSON.parse does
]


def socketio_garbage_outcome(server, text: str, attachments: list[bytes]) -> str:
    """What the sender of `text` (and `attachments`) sees: the connection closed, a
    CONNECT_ERROR, or nothing (still open after 2 s)."""
    ws = sio_over_websocket(server)
    try:
        ws.send_text(text)
        for attachment in attachments:
            ws.send_binary(attachment)
        while True:
            try:
                message = ws.recv_text(timeout=2)
            except (AssertionError, TimeoutError):
                return "open"
            if message is None:
                return "closed"
            assert not message.startswith("43"), f"{text[:40]!r} was acknowledged: {message[:80]!r}"
            if message.startswith("44"):
                return "44"
    finally:
        ws.close()


@both_servers()
def test_socketio_garbage_closes_only_that_connection(demo):
    """A malformed Socket.IO packet closes the connection that sent it (Socket.IO v5: any
    decode or state error closes the Engine.IO connection) or is answered per protocol;
    the server never crashes, and the ordinary client is served throughout."""
    server = demo
    with Bystander(server) as bystander:
        outcomes = {text[:60]: socketio_garbage_outcome(server, text, attachments)
                    for text, attachments, _ in SOCKETIO_GARBAGE}
        expected = {text[:60]: outcome for text, _, outcome in SOCKETIO_GARBAGE}
        assert outcomes == expected
        bystander.assert_served("after Socket.IO garbage")
    assert_stops_on_sigterm(server)
