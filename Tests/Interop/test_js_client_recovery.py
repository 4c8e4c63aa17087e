"""Connection state recovery (issue 14) seen by the official JavaScript client, against
socketio-testserver started with `--recovery-ms N`.

The scenarios are in js/scenarios_recovery.mjs; the runner and helpers are test_js_client.py's.
What they assume of socketio-testserver:
- option `--recovery-ms N`: connection state recovery on, sessions kept N ms (Node's
  `connectionStateRecovery: {maxDisconnectionDuration: N}`, skipMiddlewares by default);
- `count` counts in what recovery restores (Node's `socket.data`): after a recovery it goes on;
- existing events: `join`, `rooms`, `count`, `to_room`, `broadcast`, `members`, `disconnect_me`;
- optional, for a server-side drop (add "server" to the `drop` parameters): `drop_transport`
  closes the sender's Engine.IO connection without a Socket.IO DISCONNECT (a dropped network,
  a recoverable reason, like Node's `socket.conn.close()`).
"""

from __future__ import annotations

import pytest

from conftest import _finish, start_server
from test_js_client import MODES, run_js

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def recovery_server():
    """Recovery on, sessions kept a minute."""
    server = start_server("--recovery-ms", "60000", binary="socketio-testserver")
    try:
        yield server
    finally:
        _finish(server)


@pytest.fixture(scope="module")
def short_recovery_server():
    """Recovery on, sessions kept 300 ms."""
    server = start_server("--recovery-ms", "300", binary="socketio-testserver")
    try:
        yield server
    finally:
        _finish(server)


# ---------------------------------------------------------------------------
# connection state recovery
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("drop", ["client"])
@pytest.mark.parametrize("mode", MODES)
def test_recovery_after_a_dropped_transport(recovery_server, mode, drop):
    seen = run_js("recovery", recovery_server, transports=mode, drop=drop)
    assert seen["first"]["recovered"] is False  # a pid came, but there was nothing to recover
    assert seen["second"] == {"id": seen["first"]["id"], "recovered": True}
    assert sorted(seen["rooms"]) == sorted([seen["first"]["id"], "r"])
    assert seen["membersOfR"] == [seen["first"]["id"]]
    assert seen["counts"] == [1, 2, 3]
    messages = [entry for entry in seen["log"] if entry != "<connect>"]
    assert messages == ["m0", "m1", "m2", "m3", "b1", "m4"]
    assert all(seen["offsets"]), seen["offsets"]


@pytest.mark.parametrize("mode", MODES)
def test_no_recovery_after_expiry(short_recovery_server, mode):
    seen = run_js("recovery", short_recovery_server, transports=mode, waitMs=1500)
    assert seen["second"]["id"] != seen["first"]["id"]
    assert seen["second"]["recovered"] is False
    assert seen["rooms"] == [seen["second"]["id"]]
    assert seen["membersOfR"] == []
    assert seen["counts"] == [1, 2, 1]  # a new session
    # Nothing missed is replayed and the new socket is not in r.
    assert [entry for entry in seen["log"] if entry != "<connect>"] == ["m0"]


@pytest.mark.parametrize("mode", ["websocket", "polling"])
def test_no_recovery_after_server_disconnect(recovery_server, mode):
    seen = run_js("recoveryNotAfterServerDisconnect", recovery_server, transports=mode)
    assert seen["reason"] == "io server disconnect"
    assert seen["second"] != seen["first"]
    assert seen["recovered"] is False
