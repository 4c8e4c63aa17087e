"""Interop: the reference Python Engine.IO client (python-engineio, PyPI)
against `socketio-demo --mode engineio-echo`.

The echo server speaks Engine.IO v4 at /engine.io/ and sends every message
back to the same session unchanged (text stays text, bytes stay bytes);
pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1000000.
"""

from __future__ import annotations

import os
import random
import time

import pytest
import requests

from eio_support import EchoClient, eio_url, wait_for

pytestmark = pytest.mark.timeout(60)

# name -> value for engineio.Client.connect(transports=...)
TRANSPORTS = {
    "polling": ["polling"],
    "websocket": ["websocket"],
    "upgrade": None,  # polling first, then upgrade to websocket
}
EXPECTED_TRANSPORT = {"polling": "polling", "websocket": "websocket", "upgrade": "websocket"}

TEXTS = ["hello", "héllo ☃ 😀", "a\u0000b", "line1\nline2\r\n\t", "x" * 100_000]
BLOBS = [b"\x00\x01\xff", b"hello bytes", bytes(range(256)), random.Random(1234).randbytes(100 * 1024)]


@pytest.fixture(params=list(TRANSPORTS))
def transport(request):
    return request.param


@pytest.fixture
def client(engineio_server, transport):
    c = EchoClient()
    c.connect(engineio_server.url, transports=TRANSPORTS[transport])
    if transport == "upgrade":
        assert wait_for(lambda: c.transport() == "websocket", 5.0), (
            f"no upgrade to websocket, transport={c.transport()}"
        )
    try:
        yield c
    finally:
        c.disconnect()
        engineio_server.assert_alive(f"after {transport} client")


def test_connect_handshake(client, transport):
    assert client.state == "connected"
    assert isinstance(client.sid, str) and len(client.sid) == 20, client.sid
    assert client.transport() == EXPECTED_TRANSPORT[transport]
    assert client.client.ping_interval == pytest.approx(0.3)
    assert client.client.ping_timeout == pytest.approx(0.2)


def test_distinct_sids(engineio_server, transport):
    clients = [EchoClient().connect(engineio_server.url, TRANSPORTS[transport]) for _ in range(3)]
    try:
        sids = {c.sid for c in clients}
        assert len(sids) == 3
        # Each session only gets its own echoes.
        for i, c in enumerate(clients):
            c.send(f"only-for-{i}")
        for i, c in enumerate(clients):
            c.expect(f"only-for-{i}")
            c.assert_inbox_empty(0.1)
    finally:
        for c in clients:
            c.disconnect()


@pytest.mark.parametrize("text", TEXTS, ids=["ascii", "non-ascii", "nul", "controls", "100k"])
def test_echo_text(client, text):
    client.echo(text)


@pytest.mark.parametrize("blob", BLOBS, ids=["00-01-ff", "ascii-bytes", "all-bytes", "100k-random"])
def test_echo_binary(client, blob):
    client.echo(blob)


def test_echo_empty_messages(client):
    client.echo("")
    client.echo(b"")


def test_messages_in_order(client, transport):
    rnd = random.Random(99)
    sent = []
    for i in range(60):
        if i % 3 == 0:
            sent.append(rnd.randbytes(rnd.randrange(1, 5000)))
        elif i % 3 == 1:
            sent.append(f"msg-{i}-ü-{'z' * rnd.randrange(0, 3000)}")
        else:
            sent.append(f"{i}")
    # python-engineio refuses to decode a polling payload holding more than
    # 16 packets (engineio.payload.Payload.max_decode_packets, a client-side
    # DoS guard), and a long-poll response carries every queued echo (plus
    # possibly a ping).  So over polling, send in bursts of 10 and drain.
    burst = 10 if transport == "polling" else len(sent)
    received = []
    for start in range(0, len(sent), burst):
        chunk = sent[start:start + burst]
        for m in chunk:
            client.send(m)
        received += [client.receive() for _ in chunk]
    for i, (s, r) in enumerate(zip(sent, received)):
        assert type(s) is type(r) and s == r, f"message {i} out of order or corrupted"
    client.assert_inbox_empty(0.2)


def test_survives_heartbeats(client, transport):
    # pingInterval is 300 ms: > 1 s means several ping/pong rounds.
    client.echo("before")
    deadline = time.monotonic() + 1.3
    while time.monotonic() < deadline:
        time.sleep(0.1)
        assert client.state == "connected", "server dropped a session that answers pings"
    assert client.transport() == EXPECTED_TRANSPORT[transport]
    client.echo("after ☃")
    client.echo(os.urandom(2048))
    assert not client.disconnected.is_set()


def test_clean_disconnect(engineio_server, transport):
    c = EchoClient().connect(engineio_server.url, TRANSPORTS[transport])
    if transport == "upgrade":
        assert wait_for(lambda: c.transport() == "websocket", 5.0)
    sid = c.sid
    c.echo("bye")
    c.disconnect()
    assert c.state == "disconnected"

    # The server must forget the session (close packet / websocket close).
    def forgotten():
        r = requests.get(eio_url(engineio_server, EIO=4, transport="polling", sid=sid), timeout=5)
        if r.status_code != 400:
            return False
        try:
            body = r.json()
        except ValueError:
            return False
        return isinstance(body, dict) and body.get("code") == 1

    assert wait_for(forgotten, 3.0, 0.1), f"session {sid} still known after disconnect"
    engineio_server.assert_alive()


def test_reconnect_after_disconnect(engineio_server, transport):
    for round_ in range(3):
        c = EchoClient().connect(engineio_server.url, TRANSPORTS[transport])
        try:
            c.echo(f"round {round_}")
            c.echo(bytes([round_]) * 10)
        finally:
            c.disconnect()
