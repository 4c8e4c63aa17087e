"""The official Socket.IO JavaScript client against `socketio-testserver`.

The client is the socket.io-client v4 browser bundle that scripts/fetch-client-js.sh puts in
.cache/socket.io.min.js, run in Node (`--experimental-websocket` gives it `WebSocket`;
Tests/Interop/js/browser_shims.mjs gives it the XMLHttpRequest and FileReader it long-polls
with). Each test runs one scenario of Tests/Interop/js/scenarios.mjs through
js/run_scenario.mjs and checks what the client saw. The scenarios run over the client's default
transports (polling, then upgrade to websocket), over websocket only and over polling only.
Connection state recovery is in test_js_client_recovery.py.

Skipped, with the reason, only when Node or the bundle is missing (CI installs both).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess

import pytest

from conftest import REPO_ROOT, _finish, start_server

pytestmark = pytest.mark.timeout(120)

JS_DIR = REPO_ROOT / "Tests" / "Interop" / "js"
RUNNER = JS_DIR / "run_scenario.mjs"
CLIENT_JS = REPO_ROOT / ".cache" / "socket.io.min.js"
MODES = ["default", "websocket", "polling"]


def find_node() -> str | None:
    return os.environ.get("NODE_BIN") or shutil.which("node")


@functools.cache
def node_version(node: str) -> tuple[int, ...]:
    out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout
    return tuple(int(part) for part in out.strip().lstrip("v").split(".")[:2])


def require_client() -> str:
    node = find_node()
    if node is None:
        # Not a skip: issue 14's acceptance runs on these tests, and this machine kind has Node.
        pytest.fail("Node.js not found (no `node` on PATH, $NODE_BIN unset): the JS client tests need Node >= 20.10", pytrace=False)
    if not CLIENT_JS.is_file():
        pytest.fail(f"{CLIENT_JS} missing: run scripts/fetch-client-js.sh (scripts/install-deps.sh does)", pytrace=False)
    # An old Node is a broken setup, not a reason to skip (Debian bookworm's own nodejs is 18).
    if node_version(node) < (20, 10):
        pytest.fail(f"{node} is Node {node_version(node)}: the JS client needs >= 20.10 (--experimental-websocket)", pytrace=False)
    return node


def run_js(scenario: str, server, timeout_ms: int = 30000, **options) -> dict:
    """Runs `scenario` against `server` and returns what it returned; fails the test with the
    client's error and output when it threw."""
    node = require_client()
    options = {"bundle": str(CLIENT_JS), "timeoutMs": timeout_ms, **options}
    proc = subprocess.run(
        [node, "--experimental-websocket", str(RUNNER), scenario, server.url, json.dumps(options)],
        capture_output=True,
        text=True,
        timeout=timeout_ms / 1000 + 15,
        cwd=str(REPO_ROOT),
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if not lines:
        pytest.fail(
            f"JS scenario {scenario} printed no RESULT line (exit {proc.returncode})\n"
            f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}",
            pytrace=False,
        )
    outcome = json.loads(lines[-1][len("RESULT "):])
    if not outcome["ok"]:
        pytest.fail(
            f"JS scenario {scenario} {options.get('transports', 'default')} failed:\n{outcome['error']}\n"
            f"stderr:\n{proc.stderr[-4000:]}\nserver output:\n{server.output()[-4000:]}",
            pytrace=False,
        )
    return outcome["result"]


def binary(data: bytes, kind: str = "ArrayBuffer") -> dict:
    """How run_scenario.mjs describes a binary value the client received."""
    described = {"binary": kind, "length": len(data)}
    if len(data) <= 64:
        described["hex"] = data.hex()
    else:
        described["sha256"] = hashlib.sha256(data).hexdigest()
    return described


def pattern(length: int) -> bytes:
    return bytes((i * 7 + 3) % 256 for i in range(length))


# ---------------------------------------------------------------------------
# connect and transports
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_connect(sio_server, mode):
    seen = run_js("connect", sio_server, transports=mode)
    if mode == "default":
        assert seen["firstTransport"] == "polling"
        assert seen["upgrades"] == ["websocket"]
        assert seen["finalTransport"] == "websocket"
    else:
        assert seen["firstTransport"] == mode
        assert seen["upgrades"] == []
        assert seen["finalTransport"] == mode
    assert seen["welcome"] == {"sid": seen["id"], "auth": {"token": "js"}}
    # Socket.IO v5: the socket id is not the Engine.IO session id.
    assert seen["id"] and seen["engineId"] and seen["id"] != seen["engineId"]
    # No recovery offered (no `pid`): the client leaves `recovered` undefined, as with Node.
    assert seen["recovered"] is None
    assert seen["echo"] == ["after connect", {"n": 1}]


# ---------------------------------------------------------------------------
# acknowledgements
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_client_acks(sio_server, mode):
    seen = run_js("acks", sio_server, transports=mode)
    assert seen["callback"] == [1, "two", {"three": [3]}]
    assert seen["timeoutCallback"] == {"err": None, "args": ["x", None]}
    assert seen["withAck"] == {"nested": True}
    assert seen["withAckNoTimeout"] == "plain"
    assert seen["counts"] == [1, 2, 3]
    assert seen["concurrent"] == list(range(20))
    assert seen["joined"] == ["joined", sorted([seen["id"], "js-room"])]


@pytest.mark.parametrize("mode", MODES)
def test_server_asks_client_answers(sio_server, mode):
    seen = run_js("serverAck", sio_server, transports=mode)
    answer = [{"got": {"n": 1}}, "second", binary(b"\x01\x02\x03")]
    assert seen["answered"] == answer
    assert seen["byId"] == ["answer", [{"got": "q2"}, "second", binary(b"\x01\x02\x03")]]
    assert seen["questions"] == [[{"n": 1}], ["q2"]]


# ---------------------------------------------------------------------------
# binary
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_binary_both_ways(sio_server, mode):
    seen = run_js("binary", sio_server, transports=mode)
    # The browser build hands every binary value over as an ArrayBuffer, wherever it sits.
    assert seen["echoed"] == [
        "label",
        binary(bytes([0, 1, 2, 253, 254, 255])),
        {"nested": {"text": binary("héllo".encode())}, "list": [binary(pattern(3)), 7]},
        binary(pattern(100_000)),
    ]
    assert seen["acked"] == [binary(bytes([9, 8, 7])), {"b": binary(b"")}]


# ---------------------------------------------------------------------------
# refusals and disconnects
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_connect_refused(sio_server, mode):
    seen = run_js("refused", sio_server, transports=mode)
    assert seen["refuse"]["message"] == "not allowed"
    assert seen["refuse"]["data"] == {"reason": "bad token"}
    assert seen["false"]["message"] == "Connection rejected by server"
    assert seen["false"]["data"] is None
    assert seen["nope"]["message"] == "Invalid namespace"
    for label in ("refuse", "false", "nope"):
        # A refusal by the server is final: the client does not retry it.
        assert seen[label]["connected"] is False, label
        assert seen[label]["active"] is False, label
        assert seen[label]["connects"] == 0, label


@pytest.mark.parametrize("mode", MODES)
def test_disconnect_reasons(sio_server, mode):
    seen = run_js("disconnects", sio_server, transports=mode)
    # Disconnected by the server: the client does not reconnect on its own.
    assert seen["server"] == {"reason": "io server disconnect", "connected": False, "active": False}
    assert seen["byId"] == {"killed": "ok", "reason": "io server disconnect", "active": False}
    assert seen["client"] == {"reason": "io client disconnect", "active": False}
    multiplexed = seen["multiplexed"]
    assert multiplexed["sameEngine"] is True
    assert multiplexed["chatSid"] is True
    assert multiplexed["rootReason"] == "io server disconnect"
    assert multiplexed["chatConnected"] is True
    assert multiplexed["chatEcho"] == ["still here"]


# ---------------------------------------------------------------------------
# Date values
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_dates(sio_server, mode):
    seen = run_js("dates", sio_server, transports=mode)
    assert seen["plusSecond"] == "2026-11-29T18:30:01.123Z"
    assert seen["plusSecondMs"] == 1000
    assert seen["newYear"] == "2027-01-01T00:00:00.000Z"
    handshake = seen["handshake"]
    assert handshake["auth"] == {"token": "dates"}
    assert handshake["address"] == "127.0.0.1"
    # `issued` is wall-clock milliseconds taken while the client connected (a second of slack
    # for rounding), and `time` is the same instant as JavaScript's Date#toString writes it.
    assert seen["before"] - 1000 <= handshake["issued"] <= seen["after"] + 1000
    assert seen["timeParsed"] == handshake["issued"] // 1000 * 1000


# ---------------------------------------------------------------------------
# acks on demand, retries, middleware (socketio-testserver's API scenarios)
# ---------------------------------------------------------------------------
TIMED_OUT = {"error": "operation has timed out", "data": None}


@pytest.mark.parametrize("mode", MODES)
def test_acks_on_demand(sio_server, mode):
    seen = run_js("acksOnDemand", sio_server, transports=mode)
    # No ack packet for a handler that never answers: the client's timeout fires.
    assert seen["silent"] == "operation has timed out"
    assert seen["later"] == {"err": None, "args": ["late", 200]}
    assert seen["tooLate"] == "operation has timed out"
    assert seen["after"] == "still fine"


# Eleven ack timeouts of a second each: websocket and polling only (the upgrade is covered above).
@pytest.mark.parametrize("mode", ["websocket", "polling"])
def test_retries_then_answer_or_failure(sio_server, mode):
    seen = run_js("retries", sio_server, transports=mode)
    # retries: 3 means four tries of one packet, one after the other's timeout.
    assert seen["thirdRetry"] == {"err": None, "answer": [4]}
    assert seen["silent"] == {"err": TIMED_OUT, "answer": []}
    assert seen["exhausted"] == {"err": TIMED_OUT, "answer": []}
    assert seen["count"] == {"err": None, "answer": [9]}
    assert seen["withAck"] == "fine"


@pytest.mark.parametrize("mode", MODES)
def test_middleware_refusal(mode):
    # A server of its own: `guarded_stats` counts from zero.
    server = start_server(binary="socketio-testserver")
    try:
        seen = run_js("middleware", server, transports=mode)
        assert seen["refusal"] == {"message": "unauthorized", "data": {"code": 401}, "welcomes": 0, "active": False}
        # Refused before the socket existed: no connect handler ran, no socket joined /guarded.
        assert seen["before"] == {"connects": 0, "sockets": 0}
        assert seen["afterRefusal"] == {"connects": 0, "sockets": 0}
        # The admitted one went through the middleware (which marked its session) to the handler.
        assert seen["welcome"] == [True]
        assert seen["afterAdmission"] == {"connects": 1, "sockets": 1}
    finally:
        _finish(server)
