"""Interop: the reference Python Socket.IO client (python-socketio, PyPI,
sync `socketio.Client`) against the `socketio-testserver` fixture.

The fixture's event contract is documented in Tests/Interop/README.md.
Every test runs over three transport modes: websocket only, polling only,
and the default (HTTP long-polling, then upgrade to websocket).

Note: the sync python-socketio client runs every incoming message handler in
its own thread, so the order in which *handlers* run is not the wire order.
Tests that care about ordering therefore look at the raw Engine.IO messages,
recorded in the client's read loop before dispatch (`Peer.raw`).
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid

import engineio.payload
import pytest
import socketio

from eio_support import wait_for

pytestmark = pytest.mark.timeout(30)

# name -> value for socketio.Client.connect(transports=...)
TRANSPORTS = {
    "websocket": ["websocket"],
    "polling": ["polling"],
    "upgrade": None,  # polling first, then upgrade to websocket
}
EXPECTED_TRANSPORT = {"websocket": "websocket", "polling": "polling", "upgrade": "websocket"}

# How long a "must NOT receive" check waits for a stray message.
QUIET_PERIOD = 0.3




class Peer:
    """A python-socketio client that records everything it receives."""

    def __init__(self, name: str = "peer"):
        self.name = name
        self.sio = socketio.Client(reconnection=False)
        self._lock = threading.Lock()
        self._events: list[tuple[str, str, tuple]] = []  # (namespace, event, args)
        self._connects: list[str] = []
        self._disconnects: list[tuple[str, tuple]] = []
        self._connect_errors: list[tuple[str, tuple]] = []
        self.raw: list = []  # Engine.IO MESSAGE payloads in wire order
        # What the `question` handler returns (the ack for the server).
        self.answer_question = lambda namespace, *args: ["reply", *args]

        # All handlers live on namespace "*" so that the catch-all handler
        # sees every namespace (a handler registered for a concrete namespace
        # would shadow the "*" catch-all for that namespace).
        self.sio.on("*", self._on_any, namespace="*")
        self.sio.on("connect", self._on_connect, namespace="*")
        self.sio.on("disconnect", self._on_disconnect, namespace="*")
        self.sio.on("connect_error", self._on_connect_error, namespace="*")
        self.sio.on("question", self._on_question, namespace="*")

        eio = self.sio.eio
        original = eio._receive_packet

        def recording_receive(pkt):
            if pkt.packet_type == 4:  # Engine.IO MESSAGE
                with self._lock:
                    self.raw.append(pkt.data)
            return original(pkt)

        eio._receive_packet = recording_receive

    # -- handlers (run on python-socketio's threads) ----------------------
    def _on_any(self, event, namespace, *args):
        with self._lock:
            self._events.append((namespace, event, args))

    def _on_connect(self, namespace, *args):
        with self._lock:
            self._connects.append(namespace)

    def _on_disconnect(self, namespace, *args):
        with self._lock:
            self._disconnects.append((namespace, args))

    def _on_connect_error(self, namespace, *args):
        with self._lock:
            self._connect_errors.append((namespace, args))

    def _on_question(self, namespace, *args):
        with self._lock:
            self._events.append((namespace, "question", args))
        return self.answer_question(namespace, *args)

    # -- connection ---------------------------------------------------------
    def connect(self, server, transport: str, namespaces=("/",), auth=None) -> "Peer":
        self.sio.connect(
            server.url,
            transports=TRANSPORTS[transport],
            namespaces=list(namespaces),
            auth=auth,
            wait_timeout=5,
        )
        if transport == "upgrade":
            assert wait_for(lambda: self.sio.transport() == "websocket", 5.0), (
                f"{self.name}: no upgrade to websocket, transport={self.sio.transport()}"
            )
        assert self.sio.transport() == EXPECTED_TRANSPORT[transport]
        return self

    def close(self) -> None:
        try:
            self.sio.disconnect()
        except Exception:  # pragma: no cover - best effort teardown
            pass
        try:
            self.sio.shutdown()
        except Exception:  # pragma: no cover
            pass

    # -- inspection -----------------------------------------------------------
    def events(self, event: str | None = None, namespace: str | None = "/") -> list[tuple]:
        """Argument tuples of received events, in handler order."""
        with self._lock:
            return [
                args
                for ns, ev, args in self._events
                if (event is None or ev == event) and (namespace is None or ns == namespace)
            ]

    def all_events(self) -> list[tuple[str, str, tuple]]:
        with self._lock:
            return list(self._events)

    def wait_event(self, event: str, namespace: str = "/", count: int = 1, timeout: float = 5.0,
                   match=None) -> list[tuple]:
        """Wait until `count` events named `event` (optionally satisfying
        `match(args)`) arrived on `namespace`; return their argument tuples."""

        def matching():
            return [a for a in self.events(event, namespace) if match is None or match(a)]

        ok = wait_for(lambda: len(matching()) >= count, timeout)
        got = matching()
        assert ok, (
            f"{self.name}: expected {count} '{event}' event(s) on {namespace}, got {len(got)}; "
            f"all events: {self.all_events()!r}"
        )
        return got

    def disconnects(self) -> list[tuple[str, tuple]]:
        with self._lock:
            return list(self._disconnects)

    def connect_errors(self) -> list[tuple[str, tuple]]:
        with self._lock:
            return list(self._connect_errors)

    def raw_messages(self) -> list:
        with self._lock:
            return list(self.raw)


@pytest.fixture(autouse=True)
def _stock_client_payload_limit():
    """python-engineio's client refuses a long-polling response holding more
    than `Payload.max_decode_packets` (16) packets. The server caps each polling
    response at 16 packets by default (EngineIOConfiguration
    .maxPacketsPerPollResponse), so stock clients survive bursts: these tests
    run with the client's limit as shipped."""
    assert engineio.payload.Payload.max_decode_packets == 16


@pytest.fixture(params=list(TRANSPORTS))
def transport(request):
    return request.param


@pytest.fixture
def peers(sio_server, transport):
    """Factory for connected clients; all are disconnected at teardown and
    the server must still be alive."""
    created: list[Peer] = []

    def make(name: str = "peer", connect: bool = True, **kwargs) -> Peer:
        peer = Peer(name)
        created.append(peer)
        if connect:
            peer.connect(sio_server, transport, **kwargs)
        return peer

    try:
        yield make
    finally:
        for peer in created:
            peer.close()
        sio_server.assert_alive(f"after {transport} test")


@pytest.fixture
def client(peers):
    return peers("client")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def assert_quiet(peer: Peer, event: str, match, namespace: str = "/") -> None:
    """`peer` must not receive `event` matching `match` during a short grace period."""
    time.sleep(QUIET_PERIOD)
    stray = [a for a in peer.events(event, namespace) if match(a)]
    assert not stray, f"{peer.name} unexpectedly received {event} {stray!r}"


# --------------------------------------------------------------------------
# connection / auth
# --------------------------------------------------------------------------


def test_connect_with_auth_welcome(peers):
    auth = {"token": "abc", "user": "zoë", "n": 7, "nested": {"list": [1, 2]}}
    peer = peers("auth", auth=auth)
    sid = peer.sio.get_sid()
    assert isinstance(sid, str) and sid
    (args,) = peer.wait_event("welcome")
    assert args == ({"sid": sid, "auth": auth},)

    # On the wire the CONNECT packet must precede the welcome event.
    raw = peer.raw_messages()
    connect_idx = next(i for i, m in enumerate(raw) if isinstance(m, str) and m.startswith("0"))
    welcome_idx = next(i for i, m in enumerate(raw) if isinstance(m, str) and '"welcome"' in m)
    assert connect_idx < welcome_idx, raw
    assert json.loads(raw[connect_idx][1:])["sid"] == sid


def test_connect_without_auth_welcome(peers):
    # python-socketio sends `{}` as the CONNECT payload when no auth is given.
    peer = peers("noauth")
    (args,) = peer.wait_event("welcome")
    assert args == ({"sid": peer.sio.get_sid(), "auth": {}},)


def test_connect_refused_with_data(peers, sio_server, transport):
    peer = peers("refused", connect=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        peer.connect(sio_server, transport, auth={"token": "refuse"})
    assert wait_for(lambda: peer.connect_errors(), 5.0)
    assert peer.connect_errors() == [
        ("/", ({"message": "not allowed", "data": {"reason": "bad token"}},))
    ]
    assert not peer.sio.connected
    assert peer.events("welcome") == []


def test_connect_refused_false(peers, sio_server, transport):
    peer = peers("rejected", connect=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        peer.connect(sio_server, transport, auth={"token": "false"})
    assert wait_for(lambda: peer.connect_errors(), 5.0)
    [(namespace, args)] = peer.connect_errors()
    assert namespace == "/"
    assert len(args) == 1 and args[0]["message"] == "Connection rejected by server", args
    assert peer.events("welcome") == []


def test_unknown_namespace_refused(peers, sio_server, transport):
    peer = peers("nope", connect=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        peer.connect(sio_server, transport, namespaces=["/nope"])
    assert wait_for(lambda: peer.connect_errors(), 5.0)
    [(namespace, args)] = peer.connect_errors()
    assert namespace == "/nope"
    assert len(args) == 1 and args[0]["message"] == "Invalid namespace", args


# --------------------------------------------------------------------------
# events and acknowledgements
# --------------------------------------------------------------------------

ECHO_CASES = {
    "several_args": (1, "two", 3.5, -7, 0, True, False, None, [], {}),
    "unicode": ("héllo ☃ 😀 ünïcödé", {"ключ": "значение", "emoji": "👍🏽"}, "a\u0000b\n\t\"\\"),
    "nested": ({"a": [1, {"b": [None, True, {"c": "d"}]}], "e": {"f": {"g": [[], [[]]]}}},),
    "bytes": (b"\x00\x01\xff", bytes(range(256))),
    "bytes_nested": ({"bin": b"\x00bin", "list": [b"a", "text", {"deep": b"\xfe\xff"}]}, "after", b""),
    "single_string": ("just one",),
}


@pytest.mark.parametrize("case", list(ECHO_CASES))
def test_echo_event_roundtrip(client, case):
    payload = ECHO_CASES[case]
    marker = unique("echo")
    client.sio.emit("echo", (marker, *payload))
    (args,) = client.wait_event("echo", match=lambda a: a and a[0] == marker)
    assert args == (marker, *payload)


ACK_CASES = {
    "three_args_with_bytes": ((1, "two", b"\x01"), (1, "two", b"\x01")),
    "single_arg": ("single", "single"),
    "single_dict": ({"k": [1, b"\x02", {"u": "ü"}]}, {"k": [1, b"\x02", {"u": "ü"}]}),
    "single_list": ([1, [2, [3]], "x"], [1, [2, [3]], "x"]),
    "bytes_only": (b"\xff" * 10, b"\xff" * 10),
    "no_args": (None, None),
    "unicode_and_bytes": (("☃", b"\x00", {"b": b"\x01\x02"}), ("☃", b"\x00", {"b": b"\x01\x02"})),
}


@pytest.mark.parametrize("case", list(ACK_CASES))
def test_client_to_server_ack(client, case):
    sent, expected = ACK_CASES[case]
    assert client.sio.call("echo_ack", sent, timeout=5) == expected


def test_client_to_server_ack_concurrent(client):
    # Several acks in flight at once must each be matched to their own id.
    results = {}
    done = threading.Event()
    lock = threading.Lock()

    def callback_for(i):
        def cb(*args):
            with lock:
                results[i] = args
                if len(results) == 20:
                    done.set()
        return cb

    for i in range(20):
        client.sio.emit("echo_ack", (i, f"v{i}"), callback=callback_for(i))
    assert done.wait(5.0), f"only {len(results)} acks"
    assert results == {i: (i, f"v{i}") for i in range(20)}


SERVER_ACK_CASES = {
    "text": "hi",
    "bytes": b"\x00bin\xff",
    "nested_bytes": {"x": [b"\x01", "y"]},
    "unicode": "ünï 😀",
}


@pytest.mark.parametrize("case", list(SERVER_ACK_CASES))
def test_server_to_client_ack(client, case):
    x = SERVER_ACK_CASES[case]
    client.sio.emit("ask_client", x)
    (answer,) = client.wait_event("answer")
    assert client.events("question") == [(x,)]
    assert answer == (["reply", x],)
    assert client.events("answer_error") == []


def test_server_to_client_ack_multiple_args(client):
    # A tuple returned by the handler becomes several ack arguments.
    client.answer_question = lambda namespace, *args: ("first", 2, b"\x03", args[0])
    client.sio.emit("ask_client", "multi")
    (answer,) = client.wait_event("answer")
    assert answer == ("first", 2, b"\x03", "multi")


def test_server_to_client_ack_timeout(sio_server):
    # Only over websocket: this waits for the server's 5 s ack timeout.
    peer = Peer("no-ack")
    release = threading.Event()
    try:
        peer.connect(sio_server, "websocket")

        def late_ack(namespace, *args):
            # Hold the ack back until the server has given up on it; the
            # ack that then arrives late must be ignored by the server.
            release.wait(10.0)
            return ["too", "late"]

        peer.answer_question = late_ack
        peer.sio.emit("ask_client", "ignored")
        peer.wait_event("question")
        (err,) = peer.wait_event("answer_error", timeout=10.0)
        assert len(err) == 1 and isinstance(err[0], str), err
        release.set()
        # The late ack is dropped: no answer, and the socket keeps working.
        assert peer.sio.call("echo_ack", "still ok", timeout=5) == "still ok"
        time.sleep(QUIET_PERIOD)
        assert peer.events("answer") == []
    finally:
        release.set()
        peer.close()
    sio_server.assert_alive("after ack timeout test")


# --------------------------------------------------------------------------
# broadcast and rooms
# --------------------------------------------------------------------------


def test_broadcast(peers):
    a, b, c = peers("A"), peers("B"), peers("C")
    everyone = (a, b, c)
    chat_only = peers("chat-only", namespaces=["/chat"])

    data = {"msg": unique("all"), "bin": b"\x00\x01"}
    assert a.sio.call("broadcast", data, timeout=5) == "sent"
    for p in everyone:
        assert p.wait_event("broadcast_message", match=lambda args: args == (data,)) == [(data,)]

    data2 = unique("not-self")
    assert a.sio.call("broadcast", (data2, False), timeout=5) == "sent"
    for p in (b, c):
        assert p.wait_event("broadcast_message", match=lambda args: args == (data2,)) == [(data2,)]
    assert_quiet(a, "broadcast_message", lambda args: args == (data2,))

    data3 = unique("explicit-self")
    assert b.sio.call("broadcast", (data3, True), timeout=5) == "sent"
    for p in everyone:
        p.wait_event("broadcast_message", match=lambda args: args == (data3,))

    # A broadcast in "/" does not reach a client connected only to "/chat".
    time.sleep(QUIET_PERIOD)
    assert chat_only.events("broadcast_message", namespace=None) == []


def test_rooms(peers):
    a, b, c = peers("A"), peers("B"), peers("C")
    room = unique("r1")

    def joined(peer):
        reply = peer.sio.call("join", room, timeout=5)
        assert isinstance(reply, tuple) and len(reply) == 2, reply
        status, rooms = reply
        assert status == "joined"
        assert rooms == sorted(rooms), rooms
        assert set(rooms) == {room, peer.sio.get_sid()}, rooms

    joined(a)
    joined(b)
    assert c.sio.call("rooms", timeout=5) == [c.sio.get_sid()]

    def send(sender, tag, include_self=None):
        data = {"tag": unique(tag)}
        request = {"room": room, "data": data}
        if include_self is not None:
            request["include_self"] = include_self
        assert sender.sio.call("to_room", request, timeout=5) == "sent"
        return data

    def got(data):
        return lambda args: args == (data,)

    # From C (not a member): reaches A and B only.
    d1 = send(c, "from-c")
    a.wait_event("room_message", match=got(d1))
    b.wait_event("room_message", match=got(d1))

    # From A without include_self: reaches B only.
    d2 = send(a, "from-a", include_self=False)
    b.wait_event("room_message", match=got(d2))

    # From A with include_self (explicit true): A and B.
    d3 = send(a, "from-a-self", include_self=True)
    a.wait_event("room_message", match=got(d3))
    b.wait_event("room_message", match=got(d3))

    # B leaves: only A.
    assert b.sio.call("leave", room, timeout=5) == ("left", [b.sio.get_sid()])
    d4 = send(c, "after-leave")
    a.wait_event("room_message", match=got(d4))

    # close_room: nobody.
    assert c.sio.call("close_room", room, timeout=5) == "closed"
    assert a.sio.call("rooms", timeout=5) == [a.sio.get_sid()]
    d5 = send(c, "after-close")

    time.sleep(QUIET_PERIOD)
    assert c.events("room_message") == []
    def tags(peer):
        return sorted(args[0]["tag"] for args in peer.events("room_message"))

    assert tags(a) == sorted(d["tag"] for d in (d1, d3, d4))
    assert tags(b) == sorted(d["tag"] for d in (d1, d2, d3))
    assert d5["tag"] not in tags(a) + tags(b)


# --------------------------------------------------------------------------
# namespaces and disconnection
# --------------------------------------------------------------------------


def test_two_namespaces_one_connection(peers):
    peer = peers("multi", namespaces=["/", "/chat"])
    root_sid, chat_sid = peer.sio.get_sid("/"), peer.sio.get_sid("/chat")
    assert root_sid and chat_sid
    assert peer.wait_event("welcome") == [({"sid": root_sid, "auth": {}},)]
    assert peer.wait_event("welcome_chat", namespace="/chat") == [({"sid": chat_sid},)]

    root_marker, chat_marker = unique("root"), unique("chat")
    peer.sio.emit("echo", (root_marker, b"\x01"), namespace="/")
    peer.sio.emit("echo", (chat_marker, {"b": b"\x02"}), namespace="/chat")
    assert peer.wait_event("echo", namespace="/chat") == [(chat_marker, {"b": b"\x02"})]
    assert peer.wait_event("echo", namespace="/") == [(root_marker, b"\x01")]

    time.sleep(QUIET_PERIOD)
    assert peer.events("echo", namespace="/") == [(root_marker, b"\x01")]
    assert peer.events("echo", namespace="/chat") == [(chat_marker, {"b": b"\x02"})]
    # welcome is only for "/", welcome_chat only for "/chat"
    assert peer.events("welcome_chat", namespace="/") == []
    assert peer.events("welcome", namespace="/chat") == []


def test_server_initiated_disconnect(client):
    client.sio.emit("disconnect_me")
    assert wait_for(lambda: client.disconnects(), 5.0), client.all_events()
    assert [ns for ns, _ in client.disconnects()] == ["/"]
    (_, args) = client.disconnects()[0]
    assert args == (client.sio.reason.SERVER_DISCONNECT,), args
    assert wait_for(lambda: not client.sio.connected, 5.0)


def test_server_initiated_disconnect_keeps_other_namespace(peers):
    peer = peers("multi", namespaces=["/", "/chat"])
    peer.sio.emit("disconnect_me", namespace="/")
    assert wait_for(lambda: peer.disconnects(), 5.0), peer.all_events()
    assert peer.disconnects() == [("/", (peer.sio.reason.SERVER_DISCONNECT,))]
    assert peer.sio.connected
    assert "/chat" in peer.sio.namespaces and "/" not in peer.sio.namespaces

    marker = unique("still-here")
    peer.sio.emit("echo", marker, namespace="/chat")
    assert peer.wait_event("echo", namespace="/chat") == [(marker,)]
    time.sleep(QUIET_PERIOD)
    assert peer.disconnects() == [("/", (peer.sio.reason.SERVER_DISCONNECT,))]


# --------------------------------------------------------------------------
# session data, error handlers, unknown events
# --------------------------------------------------------------------------


def test_session_data(peers):
    a, b = peers("A"), peers("B")
    assert [a.sio.call("count", timeout=5) for _ in range(3)] == [1, 2, 3]
    # A separate connection has its own session.
    assert b.sio.call("count", timeout=5) == 1
    assert a.sio.call("count", timeout=5) == 4


def test_namespace_error_handler(client):
    args = [1, "x", {"k": "v"}, b"\x01"]
    client.sio.emit("fail", tuple(args))
    (err,) = client.wait_event("error_handled")
    assert err == ({"event": "fail", "args": args, "message": "boom"},)
    # the socket keeps working afterwards
    assert client.sio.call("echo_ack", "ok", timeout=5) == "ok"


def test_default_error_handler(peers):
    peer = peers("chat", namespaces=["/", "/chat"])
    peer.sio.emit("fail", ("a", 2), namespace="/chat")
    (err,) = peer.wait_event("default_error", namespace="/chat")
    assert err == ({"event": "fail", "namespace": "/chat"},)
    time.sleep(QUIET_PERIOD)
    assert peer.events("error_handled", namespace=None) == []
    assert peer.events("default_error", namespace="/") == []
    marker = unique("after-fail")
    peer.sio.emit("echo", marker, namespace="/chat")
    peer.wait_event("echo", namespace="/chat", match=lambda a: a == (marker,))


def test_unknown_event(client):
    name = unique("whatever")
    client.sio.emit(name, (1, "a", {"b": [2]}))
    (args,) = client.wait_event("unknown_event")
    assert args == (name, [1, "a", {"b": [2]}])

    client.sio.emit("no_args_event")
    client.wait_event("unknown_event", match=lambda a: a == ("no_args_event", []))


# --------------------------------------------------------------------------
# volume
# --------------------------------------------------------------------------


def test_many_messages_in_order(client):
    n = 200
    tag = unique("seq")
    for i in range(n):
        client.sio.emit("echo", (tag, i))
    client.wait_event("echo", count=n, timeout=15.0, match=lambda a: a[0] == tag)
    received = sorted(a[1] for a in client.events("echo") if a[0] == tag)
    assert received == list(range(n))

    # Wire order (before python-socketio's per-message handler threads).
    wire = []
    for m in client.raw_messages():
        if isinstance(m, str) and m.startswith("2[") and tag in m:
            event, got_tag, i = json.loads(m[1:])
            assert (event, got_tag) == ("echo", tag)
            wire.append(i)
    assert wire == list(range(n))


def test_large_binary_roundtrip(client):
    blob = random.Random(4242).randbytes(500 * 1024)
    assert client.sio.call("echo_ack", blob, timeout=20) == blob
    # with companions
    reply = client.sio.call("echo_ack", ("big", blob, {"tail": b"\x00"}), timeout=20)
    assert reply == ("big", blob, {"tail": b"\x00"})
