"""socket.handshake as Node has it, and Date values as JavaScript writes them,
seen by python-socketio against `socketio-testserver` (events `handshake` and
`date_plus_second`, Tests/Interop/README.md)."""

from __future__ import annotations

import re
import time

import pytest
import socketio

from conftest import start_server, _finish

pytestmark = pytest.mark.timeout(60)

TIME_FORM = re.compile(
    r"^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d\d \d{4} \d\d:\d\d:\d\d GMT\+0000 \(Coordinated Universal Time\)$"
)


def handshake(server, transports, headers=None):
    sio = socketio.Client(reconnection=False)
    try:
        before = int(time.time() * 1000)
        sio.connect(
            server.url + "/?tag=b&x=1&tag=a&tag=c%20d",
            transports=transports,
            headers=headers or {},
            auth={"token": "hs"},
            wait_timeout=5,
        )
        after = int(time.time() * 1000)
        fields = sio.call("handshake", timeout=5)
        assert sio.call("date_plus_second", "2026-11-29T18:30:00.123Z", timeout=5) == "2026-11-29T18:30:01.123Z"
        assert sio.call("date_plus_second", "2026-12-31T23:59:59Z", timeout=5) == "2027-01-01T00:00:00.000Z"
        return fields, before, after
    finally:
        sio.disconnect()
        sio.shutdown()


@pytest.mark.parametrize("transports", [["websocket"], ["polling"]])
def test_handshake_fields_and_dates(transports):
    server = start_server(binary="socketio-testserver")
    try:
        fields, before, after = handshake(server, transports, {"Cookie": "a=1; b=two", "X-Forwarded-Proto": "https"})
        tags = [value for name, value in fields["query"] if name == "tag"]
        assert tags == ["b", "a", "c d"]
        assert [name for name, _ in fields["query"]][:4] == ["tag", "x", "tag", "tag"]
        assert fields["url"].startswith("/socket.io/?tag=b&x=1&tag=a&tag=c%20d")
        assert fields["cookies"] == [["a", "1"], ["b", "two"]]
        assert fields["address"] == "127.0.0.1"
        assert fields["auth"] == {"token": "hs"}
        # Not behind a trusted proxy: the client cannot claim https.
        assert fields["secure"] is False
        # A wall-clock stamp taken while connecting (a second of slack for clocks' rounding).
        assert before - 1000 <= fields["issued"] <= after + 1000
        assert TIME_FORM.match(fields["time"]), fields["time"]
        assert time.strftime("%a %b %d %Y", time.gmtime(fields["issued"] / 1000)) in fields["time"]
    finally:
        _finish(server)


def test_secure_behind_trusted_proxy():
    server = start_server("--trust-proxy", binary="socketio-testserver")
    try:
        fields, _, _ = handshake(server, ["websocket"], {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
        assert fields["secure"] is True
        assert fields["address"] == "203.0.113.9"
        fields, _, _ = handshake(server, ["polling"], {"X-Forwarded-Proto": "http"})
        assert fields["secure"] is False
    finally:
        _finish(server)
