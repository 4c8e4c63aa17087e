"""Robustness: hostile / broken / slow clients against
`socketio-demo --mode engineio-echo`, plus Engine.IO wire-format checks.

After every test an autouse fixture verifies that the server process is
still alive and that a brand-new python-engineio client still gets echoes.

The garbage, oversized and truncated-request tests also run against the server mounted on
Hummingbird (`socketio-demo --server hummingbird`, which serves Socket.IO modes only: the
reference mode at `/socket.io/`), through the `target` fixture.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
import time

import aiohttp
import pytest
import requests
import websocket
import yarl

from conftest import _finish, both_servers, server_args, start_server
from eio_support import (
    EchoClient,
    abort_socket,
    assert_server_healthy,
    connect_raw,
    eio_url,
    exchange,
    polling_handshake,
    polling_post,
    polling_receive_messages,
    polling_url,
    random_bytes,
    split_payload,
    wait_for,
)

pytestmark = pytest.mark.timeout(90)

LONG_PING_ARGS = ("--mode", "engineio-echo", "--ping-interval-ms", "25000", "--ping-timeout-ms", "20000")


@pytest.fixture(autouse=True)
def healthy_after(engineio_server):
    yield
    assert_server_healthy(engineio_server, "after test")


@pytest.fixture(scope="module")
def hummingbird_reference():
    server = start_server("--mode", "socketio-reference", *server_args("hummingbird"))
    try:
        yield server
    finally:
        _finish(server)


class Target:
    """A server under test and its engine path (`engine.io` or `socket.io`)."""

    def __init__(self, server, path: str):
        self.server = server
        self.path = path

    def request_line(self, method: str, query: str, version: str = "1.1") -> bytes:
        return f"{method} /{self.path}/?{query} HTTP/{version}\r\n".encode()

    def handshake(self) -> str:
        r = requests.get(f"{self.server.url}/{self.path}/?EIO=4&transport=polling", timeout=5)
        assert r.status_code == 200 and r.content[:1] == b"0", (r.status_code, r.content[:200])
        return json.loads(r.content.split(b"\x1e")[0][1:])["sid"]

    def assert_serves(self) -> None:
        self.server.assert_alive()
        self.handshake()


@pytest.fixture
def target(request, server_kind):
    """The echo server, or for `hummingbird` the mounted reference server; it must still
    serve a handshake after the test."""
    if server_kind == "hummingbird":
        target = Target(request.getfixturevalue("hummingbird_reference"), "socket.io")
    else:
        target = Target(request.getfixturevalue("engineio_server"), "engine.io")
    yield target
    target.assert_serves()


def _host_header(server) -> str:
    return f"{server.host}:{server.port}"


def _assert_error_or_closed(resp, what: str, also_ok: tuple[int, ...] = ()) -> None:
    if resp.status is not None:
        assert 400 <= resp.status < 500 or resp.status in also_ok, (
            f"{what}: expected a 4xx status or a closed connection, got "
            f"{resp.status}: {resp.raw[:300]!r}"
        )


# ---------------------------------------------------------------------------
# Garbage and broken requests
# ---------------------------------------------------------------------------
@both_servers()
@pytest.mark.parametrize("size", [1, 7, 100, 4096, 65536])
def test_random_bytes_on_tcp(target, size):
    for seed in range(3):
        data = random_bytes(size, seed=size * 10 + seed)
        resp = exchange(target.server, data, timeout=5.0, half_close=True)
        _assert_error_or_closed(resp, f"{size} random bytes")
    target.server.assert_alive()


# (request with ENGINE standing for the engine path, statuses also accepted)
MALFORMED_HTTP = [
    (b"GET /ENGINE/?EIO=4&transport=polling HTTP/1.1\r\n" + b"\x00\xff\xfe garbage \r\n\r\n", ()),
    # an HTTP parser may or may not accept an unknown minor/major version
    (b"GET /ENGINE/?EIO=4&transport=polling HTTP/9.9\r\nHost: x\r\n\r\n", (200,)),
    (b"POST /ENGINE/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", ()),
    (b"POST /ENGINE/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n"
     b"Transfer-Encoding: chunked\r\n\r\nZZZ\r\n", ()),
    (b"GET /ENGINE/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
     b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n", ()),  # no Sec-WebSocket-Key
    (b"\r\n\r\n\r\n\r\n", ()),
    (b"GET " + b"/" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", ()),
]


@both_servers()
@pytest.mark.parametrize(
    "data,also_ok",
    MALFORMED_HTTP,
    ids=["bad-header-bytes", "bad-version", "negative-length", "bad-chunk", "ws-no-key", "blank-lines", "huge-url"],
)
def test_malformed_http(target, data, also_ok):
    resp = exchange(target.server, data.replace(b"/ENGINE/", f"/{target.path}/".encode()), timeout=5.0, half_close=True)
    _assert_error_or_closed(resp, "malformed request", also_ok)


@both_servers()
def test_huge_header(target):
    data = (
        target.request_line("GET", "EIO=4&transport=polling")
        + b"Host: " + _host_header(target.server).encode() + b"\r\n"
        b"X-Big: " + b"a" * 200_000 + b"\r\n\r\n"
    )
    resp = exchange(target.server, data, timeout=10.0)
    _assert_error_or_closed(resp, "200 KB header")


@both_servers()
def test_many_headers(target):
    headers = b"".join(b"X-H-%d: %d\r\n" % (i, i) for i in range(10_000))
    data = target.request_line("GET", "EIO=4&transport=polling") + b"Host: x\r\n" + headers + b"\r\n"
    resp = exchange(target.server, data, timeout=10.0)
    if resp.status is not None:
        assert resp.status == 200 or 400 <= resp.status < 500, resp.raw[:200]


def test_truncated_polling_payload(engineio_server):
    sid, _ = polling_handshake(engineio_server)
    sock = connect_raw(engineio_server)
    try:
        sock.sendall(
            f"POST /engine.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\n"
            f"Host: {_host_header(engineio_server)}\r\n"
            "Content-Type: text/plain;charset=UTF-8\r\n"
            "Content-Length: 100\r\n\r\n".encode()
            + b"4truncated"  # 10 of the 100 declared bytes
        )
        time.sleep(0.05)
    finally:
        sock.close()
    # The session may be dead or alive now; either way the server answers.
    r = requests.get(polling_url(engineio_server, sid), timeout=5)
    assert r.status_code in (200, 400), r.status_code


def test_truncated_payload_then_rst(engineio_server):
    sid, _ = polling_handshake(engineio_server)
    sock = connect_raw(engineio_server)
    sock.sendall(
        f"POST /engine.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\n"
        f"Host: {_host_header(engineio_server)}\r\n"
        "Content-Length: 100000\r\n\r\n".encode()
        + b"4" + b"q" * 5000
    )
    time.sleep(0.05)
    abort_socket(sock)


@pytest.mark.parametrize(
    "partial",
    [
        b"GET /engine.io/?EIO=4&tra",
        b"GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Foo: ba",
        b"GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\n",
        b"POST /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n",
        b"GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
    ],
    ids=["request-line", "header-value", "no-blank-line", "post-no-body", "ws-upgrade"],
)
@pytest.mark.parametrize("close", ["fin", "rst"])
def test_disconnect_mid_request(engineio_server, partial, close):
    sock = connect_raw(engineio_server)
    sock.sendall(partial)
    time.sleep(0.05)
    if close == "rst":
        abort_socket(sock)
    else:
        sock.close()


def test_disconnect_during_long_poll(engineio_server):
    sid, _ = polling_handshake(engineio_server)
    sock = connect_raw(engineio_server)
    sock.sendall(
        f"GET /engine.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\n"
        f"Host: {_host_header(engineio_server)}\r\n\r\n".encode()
    )
    time.sleep(0.05)  # the GET is now parked waiting for packets
    abort_socket(sock)
    time.sleep(0.05)
    # Sending to the session must not blow up the server (the echo targets a
    # poll whose connection is gone).
    r = polling_post(engineio_server, sid, b"4after-abort")
    assert r.status_code in (200, 400), r.status_code


def test_websocket_abrupt_close_and_garbage_frames(engineio_server):
    url = f"{engineio_server.ws_url}/engine.io/?EIO=4&transport=websocket"
    # 1) open, then RST the TCP connection
    ws = websocket.create_connection(url, timeout=5)
    assert ws.recv().startswith("0{")
    abort_socket(ws.sock)
    # 2) open, then write random bytes below the WebSocket framing layer
    ws = websocket.create_connection(url, timeout=5)
    assert ws.recv().startswith("0{")
    try:
        ws.sock.sendall(random_bytes(4096, seed=5))
    except OSError:
        pass
    time.sleep(0.05)
    ws.sock.close()
    # 3) open, then send invalid Engine.IO packets in valid frames
    bad_text_frames = [b"zzz", b"", b"9", b"b!!!", b"4\xed\xa0\x80", b"4\xff\xfe"]  # last two: invalid UTF-8
    for bad in bad_text_frames:
        ws = websocket.create_connection(url, timeout=5)
        assert ws.recv().startswith("0{")
        try:
            ws.send(bad, opcode=websocket.ABNF.OPCODE_TEXT)
            ws.send_binary(b"\xff\x00")
        except (OSError, websocket.WebSocketException):
            pass
        time.sleep(0.02)
        ws.sock.close()


@pytest.mark.parametrize("bad", [b"4\xff\xfe", b"4\xed\xa0\x80", b"4\xc3\x28"], ids=["ff-fe", "surrogate", "truncated-seq"])
def test_websocket_invalid_utf8_text_not_echoed(engineio_server, bad):
    # RFC 6455 8.1: a text frame that is not valid UTF-8 fails the connection
    # (close 1007).  At the very least it must not be echoed back verbatim as
    # a text frame.
    url = f"{engineio_server.ws_url}/engine.io/?EIO=4&transport=websocket"
    ws = websocket.create_connection(url, timeout=3, skip_utf8_validation=True)
    try:
        assert ws.recv().startswith("0{")
        ws.send(bad, opcode=websocket.ABNF.OPCODE_TEXT)
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            try:
                opcode, data = ws.recv_data(control_frame=True)
            except (OSError, websocket.WebSocketException):
                return  # connection failed/closed: fine
            assert not (opcode == websocket.ABNF.OPCODE_TEXT and data == bad), (
                f"server echoed invalid UTF-8 text frame {bad!r} back verbatim"
            )
            if opcode == websocket.ABNF.OPCODE_TEXT and data == b"2":
                ws.send("3")  # answer heartbeat pings, keep waiting
                continue
            return  # close frame, close packet, ...: fine
    finally:
        ws.sock and ws.sock.close()


def test_websocket_upgrade_unknown_sid(engineio_server):
    # websocket upgrade for an unknown sid must be refused, not crash
    with pytest.raises(websocket.WebSocketException):
        websocket.create_connection(
            f"{engineio_server.ws_url}/engine.io/?EIO=4&transport=websocket&sid=AAAAAAAAAAAAAAAAAAAA",
            timeout=5,
        )


# ---------------------------------------------------------------------------
# Slow consumer (never reads)
# ---------------------------------------------------------------------------
def _slow_reader_scenario(server, messages: int = 200, size: int = 100 * 1024) -> None:
    url = f"{server.ws_url}/engine.io/?EIO=4&transport=websocket"
    ws = websocket.create_connection(
        url,
        timeout=5,
        sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),),
        enable_multithread=True,
    )
    assert ws.recv().startswith("0{")  # open packet; after this we never read
    ws.settimeout(2.0)
    payload = "4" + "s" * size
    sent = [0]
    stop = threading.Event()

    def blast():
        for _ in range(messages):
            if stop.is_set():
                return
            try:
                ws.send(payload)
            except Exception:  # timeout (server applies backpressure) or closed
                return
            sent[0] += 1

    sender = threading.Thread(target=blast, daemon=True)
    sender.start()
    other = EchoClient()
    try:
        other.connect(server.url, transports=["websocket"])
        # While the slow consumer clogs its connection, others are unaffected.
        for i in range(10):
            t0 = time.monotonic()
            other.echo(f"still-responsive-{i}", timeout=5)
            other.echo(os.urandom(1000), timeout=5)
            assert time.monotonic() - t0 < 5
            time.sleep(0.05)
        sender.join(timeout=30)
    finally:
        stop.set()
        sender.join(timeout=5)  # sends time out after 2 s without progress
        try:
            abort_socket(ws.sock)
        except Exception:
            pass
        sender.join(timeout=5)
        other.disconnect()
    server.assert_alive("after slow consumer")
    rss = server.rss_kib()
    print(f"slow consumer: sent {sent[0]} x {size} B; server RSS {rss} KiB")
    if rss is not None:
        assert rss < 2 * 1024 * 1024, f"server RSS grew to {rss} KiB"


def test_slow_consumer(engineio_server):
    # With the 300/200 ms heartbeat the session is dropped for not answering
    # pings while its outbound buffer is full.
    _slow_reader_scenario(engineio_server)


def test_slow_consumer_long_heartbeat(server_factory):
    # With a long heartbeat the session stays up: the server must apply
    # backpressure or buffer without falling over, and keep serving others.
    server = server_factory(*LONG_PING_ARGS)
    _slow_reader_scenario(server)
    assert_server_healthy(server)


# ---------------------------------------------------------------------------
# 1000 concurrent polling sessions (aiohttp)
# ---------------------------------------------------------------------------
GARBAGE_BODIES = [b"zzz", b"4\xff\xfe", b"\x1e\x1e", b"b!!!notbase64", b"9", b"4ok\x1e\xc3\x28"]


async def _thousand_sessions(server, total: int = 1000) -> None:
    base = f"{server.url}/engine.io/"
    connector = aiohttp.TCPConnector(limit=100)
    timeout = aiohttp.ClientTimeout(total=60)
    text_plain = {"Content-Type": "text/plain;charset=UTF-8"}

    def url(sid=None):
        q = "?EIO=4&transport=polling" + (f"&sid={sid}" if sid else "")
        return yarl.URL(base + q, encoded=True)

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def handshake(i):
            async with http.get(url()) as r:
                body = await r.read()
                assert r.status == 200, f"handshake {i}: {r.status} {body[:200]!r}"
            first = body.split(b"\x1e")[0]
            assert first[:1] == b"0", f"handshake {i}: {body[:200]!r}"
            return json.loads(first[1:])["sid"]

        sids = await asyncio.gather(*(handshake(i) for i in range(total)))
        assert len(set(sids)) == total, "duplicate sids"

        async def post(sid, body):
            async with http.post(url(sid), data=body, headers=text_plain) as r:
                return r.status, await r.read()

        async def bad(i, sid):
            body = GARBAGE_BODIES[i % len(GARBAGE_BODIES)]
            status, rb = await post(sid, body)
            assert status == 400, f"garbage {body!r} on session {i}: {status} {rb[:200]!r}"

        async def good(i, sid):
            msg = f"4hello-{i}".encode()
            status, rb = await post(sid, msg)
            assert (status, rb) == (200, b"ok"), f"POST {msg!r}: {status} {rb[:200]!r}"
            got = []
            while not got:
                async with http.get(url(sid)) as r:
                    body = await r.read()
                    assert r.status == 200, f"GET session {i}: {r.status} {body[:200]!r}"
                for pkt in body.split(b"\x1e"):
                    if pkt == b"2":
                        status, rb = await post(sid, b"3")
                        assert status == 200, f"pong session {i}: {status}"
                    elif pkt == b"6":
                        continue
                    elif pkt[:1] == b"4":
                        got.append(pkt)
                    else:
                        raise AssertionError(f"session {i}: unexpected packet {pkt!r}")
            assert got == [msg], f"session {i}: expected {msg!r}, got {got!r}"
            status, rb = await post(sid, b"1")  # close
            assert status == 200, f"close session {i}: {status} {rb[:200]!r}"

        half = total // 2
        bad_jobs = [bad(i, sid) for i, sid in enumerate(sids[:half])]
        good_jobs = [good(i, sid) for i, sid in enumerate(sids[half:], start=half)]
        results = await asyncio.gather(*bad_jobs, *good_jobs, return_exceptions=True)
        report = []
        for label, part in (("garbage POST", results[:half]), ("echo", results[half:])):
            failures = [r for r in part if isinstance(r, BaseException)]
            if failures:
                report.append(f"{len(failures)}/{len(part)} {label} sessions failed, e.g.:")
                report += [f"  {type(f).__name__}: {str(f).splitlines()[0]}" for f in failures[:8]]
        assert not report, "\n".join(report)


def test_thousand_polling_sessions(server_factory):
    server = server_factory(*LONG_PING_ARGS)
    t0 = time.monotonic()
    asyncio.run(_thousand_sessions(server))
    print(f"1000 sessions in {time.monotonic() - t0:.1f}s, server RSS {server.rss_kib()} KiB")
    assert_server_healthy(server, "after 1000 sessions")


# ---------------------------------------------------------------------------
# Engine.IO wire checks over plain HTTP
# ---------------------------------------------------------------------------
def _error(r, status, code, message):
    assert r.status_code == status, f"expected {status}, got {r.status_code}: {r.content[:300]!r}"
    try:
        body = r.json()
    except ValueError:
        raise AssertionError(f"error body is not JSON: {r.content[:300]!r}") from None
    assert body == {"code": code, "message": message}


def test_wire_handshake(engineio_server):
    r = requests.get(eio_url(engineio_server, EIO=4, transport="polling"), timeout=5)
    assert r.status_code == 200
    assert r.headers.get("Content-Type", "").startswith("text/plain"), r.headers
    packets = split_payload(r.content)
    assert packets[0][:1] == b"0", r.content
    info = json.loads(packets[0][1:])
    assert set(info) == {"sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"}, info
    assert isinstance(info["sid"], str) and len(info["sid"]) == 20
    assert info["upgrades"] == ["websocket"]
    assert info["pingInterval"] == 300
    assert info["pingTimeout"] == 200
    assert info["maxPayload"] == 1_000_000


def test_wire_unsupported_version(engineio_server):
    r = requests.get(eio_url(engineio_server, EIO=3, transport="polling"), timeout=5)
    _error(r, 400, 5, "Unsupported protocol version")


def test_wire_unknown_transport(engineio_server):
    _error(requests.get(eio_url(engineio_server, EIO=4), timeout=5), 400, 0, "Transport unknown")
    _error(
        requests.get(eio_url(engineio_server, EIO=4, transport="carrier-pigeon"), timeout=5),
        400, 0, "Transport unknown",
    )


def test_wire_unknown_sid(engineio_server):
    url = polling_url(engineio_server, "AAAAAAAAAAAAAAAAAAAA")
    _error(requests.get(url, timeout=5), 400, 1, "Session ID unknown")
    _error(requests.post(url, data=b"4x", timeout=5), 400, 1, "Session ID unknown")


def test_wire_post_without_sid(engineio_server):
    r = requests.post(eio_url(engineio_server, EIO=4, transport="polling"), data=b"4hi", timeout=5)
    _error(r, 400, 2, "Bad handshake method")


def test_wire_websocket_without_upgrade(engineio_server):
    r = requests.get(eio_url(engineio_server, EIO=4, transport="websocket"), timeout=5)
    _error(r, 400, 3, "Bad request")


def test_wire_post_message_and_poll_echo(engineio_server):
    sid, _ = polling_handshake(engineio_server)
    r = polling_post(engineio_server, sid, b"4hi")
    assert r.status_code == 200 and r.content == b"ok", (r.status_code, r.content)
    assert polling_receive_messages(engineio_server, sid) == [b"4hi"]
    # A batch of packets in one POST, text and base64 binary.
    r = polling_post(engineio_server, sid, b"4one\x1e4two \xe2\x98\x83\x1ebAAH/")
    assert r.status_code == 200 and r.content == b"ok"
    got = polling_receive_messages(engineio_server, sid, want=3)
    assert got == [b"4one", "4two ☃".encode(), b"bAAH/"], got
    polling_post(engineio_server, sid, b"1")


@pytest.mark.parametrize(
    "body",
    [b"zzz", b"9", b"\x1e\x1e", b"b!!!notbase64", b"4\xff\xfe", b"4ok\x1e4\xc3\x28", b"4\xed\xa0\x80"],
    ids=["letters", "type-9", "empty-packets", "bad-base64", "invalid-utf8", "invalid-utf8-2nd", "utf8-surrogate"],
)
def test_wire_garbage_post_rejected(engineio_server, body):
    # Polling payloads are UTF-8 text made of valid packets; anything else is
    # a 400 (and must never be echoed back as a non-UTF-8 poll response).
    sid, _ = polling_handshake(engineio_server)
    r = polling_post(engineio_server, sid, body)
    assert r.status_code == 400, f"POST {body!r}: expected 400, got {r.status_code} {r.content[:200]!r}"


def test_wire_cors(engineio_server):
    origin = "http://example.test:8080"
    r = requests.get(
        eio_url(engineio_server, EIO=4, transport="polling"), headers={"Origin": origin}, timeout=5
    )
    assert r.status_code == 200
    assert r.headers.get("Access-Control-Allow-Origin") in ("*", origin), r.headers


@both_servers()
def test_wire_payload_too_large(target):
    sid = target.handshake()
    body = b"4" + b"a" * 1_000_000  # 1_000_001 bytes > maxPayload
    head = (
        target.request_line("POST", f"EIO=4&transport=polling&sid={sid}")
        + f"Host: {_host_header(target.server)}\r\n"
        "Content-Type: text/plain;charset=UTF-8\r\n"
        f"Content-Length: {len(body)}\r\n\r\n".encode()
    )
    resp = exchange(target.server, head + body, timeout=10.0)
    assert resp.status == 413, f"expected 413, got {resp.status}: {resp.raw[:300]!r} (reset={resp.reset})"


@both_servers()
def test_wire_payload_too_large_chunked(target):
    sid = target.handshake()
    chunk = b"a" * 100_000
    body = b"%x\r\n4\r\n" % 1
    body += b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(11))
    body += b"0\r\n\r\n"
    head = (
        target.request_line("POST", f"EIO=4&transport=polling&sid={sid}")
        + f"Host: {_host_header(target.server)}\r\n"
        "Content-Type: text/plain;charset=UTF-8\r\n"
        "Transfer-Encoding: chunked\r\n\r\n".encode()
    )
    resp = exchange(target.server, head + body, timeout=10.0)
    # Must not be accepted; 413 preferred, any 4xx or a close is tolerated.
    _assert_error_or_closed(resp, "1.1 MB chunked POST")


def test_wire_payload_at_limit_accepted(engineio_server):
    sid, _ = polling_handshake(engineio_server)
    body = b"4" + b"m" * 999_999  # exactly maxPayload
    r = polling_post(engineio_server, sid, body)
    assert r.status_code == 200 and r.content == b"ok", (r.status_code, r.content[:200])
    assert polling_receive_messages(engineio_server, sid) == [body]
    polling_post(engineio_server, sid, b"1")


def test_wire_client_close(engineio_server):
    sid, _ = polling_handshake(engineio_server)
    r = polling_post(engineio_server, sid, b"1")
    assert r.status_code == 200, (r.status_code, r.content)

    def gone():
        r = requests.get(polling_url(engineio_server, sid), timeout=5)
        if r.status_code != 400:
            return False
        try:
            return r.json() == {"code": 1, "message": "Session ID unknown"}
        except ValueError:
            return False

    assert wait_for(gone, 3.0, 0.05), "session still usable after client close packet"
    _error(polling_post(engineio_server, sid, b"4late"), 400, 1, "Session ID unknown")
