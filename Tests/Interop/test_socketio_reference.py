"""The `socketio-demo --mode socketio-reference` server: the handlers of the Socket.IO
protocol documentation's reference server, checked with python-socketio and at the wire."""
import json

import pytest
import requests
import socketio

from conftest import start_server
from eio_support import wait_for


@pytest.fixture(scope="module")
def reference_server():
    server = start_server("--mode", "socketio-reference")
    yield server
    assert server.proc.poll() is None, "server died"
    server.stop()




@pytest.mark.timeout(30)
@pytest.mark.parametrize("transports", [["websocket"], ["polling"]])
def test_reference_handlers(reference_server, transports):
    client = socketio.Client(reconnection=False)
    got = {"/": [], "/custom": []}
    client.on("*", lambda event, *args: got["/"].append((event, args)))
    client.on("*", lambda event, *args: got["/custom"].append((event, args)), namespace="/custom")
    try:
        client.connect(reference_server.url, auth={"token": "123"}, transports=transports, namespaces=["/", "/custom"])
        assert wait_for(lambda: ("auth", ({"token": "123"},)) in got["/"])
        assert wait_for(lambda: ("auth", ({"token": "123"},)) in got["/custom"])
        client.emit("message", (1, "2", {"3": b"\x04"}))
        assert wait_for(lambda: ("message-back", (1, "2", {"3": b"\x04"})) in got["/"])
        assert client.call("message-with-ack", (1, "2", b"\x03")) == (1, "2", b"\x03")
    finally:
        client.disconnect()


@pytest.mark.timeout(30)
def test_reference_handshake_settings(reference_server):
    body = requests.get(reference_server.url + "/socket.io/?EIO=4&transport=polling", timeout=5).text
    opened = json.loads(body[1:])
    assert opened["pingInterval"] == 300 and opened["pingTimeout"] == 200 and opened["maxPayload"] == 1000000
    sid = opened["sid"]
    # Unknown namespace: the exact text the conformance suite expects.
    assert requests.post(reference_server.url + f"/socket.io/?EIO=4&transport=polling&sid={sid}", data="40/random,", timeout=5).text == "ok"
    reply = requests.get(reference_server.url + f"/socket.io/?EIO=4&transport=polling&sid={sid}", timeout=5).text
    assert reply == '44/random,{"message":"Invalid namespace"}'
