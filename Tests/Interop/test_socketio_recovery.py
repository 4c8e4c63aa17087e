"""Interop: connection state recovery (`socketio-testserver --recovery-ms N`).

The recovering client speaks raw Engine.IO long-polling (python-socketio's client does
not implement recovery): it reads the `pid` of the CONNECT reply and the offset of the
last event, closes its transport, and comes back on a new Engine.IO session with both in
its CONNECT's auth. A python-socketio client emits meanwhile. See Tests/Interop/README.md.
"""

from __future__ import annotations

import json
import time

import pytest
import requests
import socketio

from conftest import start_server
from eio_support import RECORD_SEPARATOR

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def recovery_server():
    server = start_server("--recovery-ms", "10000", binary="socketio-testserver")
    try:
        yield server
    finally:
        server.assert_alive("after the recovery test")
        server.stop()


def _packet(message: bytes) -> tuple[str, object]:
    """A Socket.IO packet from an Engine.IO message: its type digits and its JSON."""
    text = message.decode()
    assert text[0] == "4", text
    body = text[1:]
    index = 0
    while index < len(body) and body[index].isdigit():
        index += 1
    return body[:index], json.loads(body[index:])


def _url(server, sid: str | None = None) -> str:
    url = f"{server.url}/socket.io/?EIO=4&transport=polling"
    return url + (f"&sid={sid}" if sid else "")


def polling_handshake(server) -> tuple[str, dict]:
    r = requests.get(_url(server), timeout=5)
    assert r.status_code == 200, r.content
    info = json.loads(r.content.split(RECORD_SEPARATOR)[0][1:])
    return info["sid"], info


def _post(server, sid: str, packet: str) -> None:
    r = requests.post(_url(server, sid), data=packet.encode(), headers={"Content-Type": "text/plain;charset=UTF-8"}, timeout=5)
    assert r.status_code == 200, r.content


def polling_receive_messages(server, sid: str, want: int) -> list[bytes]:
    """GETs until `want` messages arrived; answers pings."""
    messages: list[bytes] = []
    deadline = time.monotonic() + 10
    while len(messages) < want:
        assert time.monotonic() < deadline, f"only got {messages!r}"
        r = requests.get(_url(server, sid), timeout=10)
        assert r.status_code == 200, r.content
        for packet in r.content.split(RECORD_SEPARATOR):
            if packet == b"2":
                _post(server, sid, "3")
            elif packet[:1] == b"4":
                messages.append(packet)
    return messages


def test_a_closed_transport_recovers_id_rooms_data_and_missed_events(recovery_server):
    server = recovery_server
    sid, _ = polling_handshake(server)
    _post(server, sid, "40")
    reply, welcome = (_packet(m) for m in polling_receive_messages(server, sid, want=2))
    assert reply[0] == "0" and set(reply[1]) == {"sid", "pid"}
    assert welcome[0] == "2" and welcome[1][0] == "welcome"
    _post(server, sid, '420["join","r"]')
    _post(server, sid, '421["count"]')
    acks = [_packet(m) for m in polling_receive_messages(server, sid, want=2)]
    assert [a[0] for a in acks] == ["30", "31"]
    assert acks[1][1] == [1]
    offset = welcome[1][-1]
    assert isinstance(offset, str)
    # The client closes its transport (reason `transport close`: recoverable).
    _post(server, sid, "1")

    other = socketio.Client()
    other.connect(server.url, transports=["polling"])
    try:
        assert other.call("to_room", {"room": "r", "data": "missed-1"}, timeout=5) is not None
        assert other.call("to_room", {"room": "elsewhere", "data": "not mine"}, timeout=5) is not None
        assert other.call("broadcast", "missed-2", timeout=5) is not None
    finally:
        other.disconnect()

    again, _ = polling_handshake(server)
    auth = json.dumps({"pid": reply[1]["pid"], "offset": offset})
    _post(server, again, "40" + auth)
    packets = [_packet(m) for m in polling_receive_messages(server, again, want=4)]
    assert packets[0] == ("0", reply[1])
    events = [(p[1][0], p[1][1]) for p in packets[1:]]
    assert events[:2] == [("room_message", "missed-1"), ("broadcast_message", "missed-2")]
    assert events[2][0] == "welcome"
    _post(server, again, '422["recovered"]')
    _post(server, again, '423["count"]')
    _post(server, again, '424["rooms"]')
    answers = [_packet(m) for m in polling_receive_messages(server, again, want=3)]
    assert answers[0] == ("32", [True])
    assert answers[1] == ("33", [2])
    assert "r" in answers[2][1][0]


def test_an_unknown_session_gets_a_new_one(recovery_server):
    server = recovery_server
    sid, _ = polling_handshake(server)
    _post(server, sid, '40{"pid":"nope","offset":"nope"}')
    reply, _welcome = (_packet(m) for m in polling_receive_messages(server, sid, want=2))
    assert reply[0] == "0" and set(reply[1]) == {"sid", "pid"}
    _post(server, sid, '420["recovered"]')
    assert _packet(polling_receive_messages(server, sid, want=1)[0]) == ("30", [False])
