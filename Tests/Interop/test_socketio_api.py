"""The Socket.IO nouns of issue 14 seen by python-socketio against
`socketio-testserver` (contract in Tests/Interop/README.md, section "API
scenarios"): acks only when the handler answers, broadcasts with acks,
middlewares that refuse before any handler or room, parent namespaces, the
operator's sender exclusion, the disconnecting handler, transport(sid) and the
room members of a node. Each runs over websocket, polling, and the default
(polling then upgrade)."""

from __future__ import annotations

import threading

import pytest
import socketio

from eio_support import wait_for

pytestmark = pytest.mark.timeout(60)

TRANSPORTS = {"websocket": ["websocket"], "polling": ["polling"], "upgrade": None}


class Client:
    """A python-socketio client recording events per namespace."""

    def __init__(self):
        self.sio = socketio.Client(reconnection=False)
        self.lock = threading.Lock()
        self.events: list[tuple[str, str, tuple]] = []
        self.connect_errors: list[tuple[str, tuple]] = []
        self.poll_answer = None
        self.sio.on("*", self._any, namespace="*")
        self.sio.on("connect_error", self._connect_error, namespace="*")
        self.sio.on("poll", self._poll, namespace="*")

    def _any(self, event, namespace, *args):
        with self.lock:
            self.events.append((namespace, event, args))

    def _connect_error(self, namespace, *args):
        with self.lock:
            self.connect_errors.append((namespace, args))

    def _poll(self, namespace, *args):
        return self.poll_answer

    def connect(self, server, transport, namespaces=("/",), auth=None):
        self.sio.connect(server.url, transports=TRANSPORTS[transport], namespaces=list(namespaces), auth=auth, wait_timeout=5)
        if transport == "upgrade":
            assert wait_for(lambda: self.sio.transport() == "websocket", 5.0)
        return self

    def received(self, namespace, event):
        with self.lock:
            return [args for ns, name, args in self.events if ns == namespace and name == event]

    def close(self):
        try:
            self.sio.disconnect()
        finally:
            self.sio.shutdown()


@pytest.fixture
def clients():
    made: list[Client] = []

    def make():
        made.append(Client())
        return made[-1]

    yield make
    for client in made:
        client.close()


@pytest.fixture(params=sorted(TRANSPORTS))
def transport(request):
    return request.param


def test_no_ack_unless_the_handler_answers(sio_server, clients, transport):
    client = clients().connect(sio_server, transport)
    # A handler registered without an ack form never answers: the client times out.
    with pytest.raises(socketio.exceptions.TimeoutError):
        client.sio.call("silent", timeout=1)
    # Answered later, after the handler awaited.
    assert list(client.sio.call("ack_later", 150, timeout=5)) == ["late", 150]
    # Silent twice, then an answer: what a client's retries see.
    for _ in range(2):
        with pytest.raises(socketio.exceptions.TimeoutError):
            client.sio.call("ack_maybe", 2, timeout=0.5)
    assert client.sio.call("ack_maybe", 2, timeout=5) == 3
    # Flask's style still answers with the return value.
    assert client.sio.call("count", timeout=5) == 1


def test_a_broadcast_with_acks_gathers_every_answer(sio_server, clients, transport):
    members = [clients().connect(sio_server, transport) for _ in range(3)]
    for index, member in enumerate(members):
        member.poll_answer = f"member-{index}"
        assert member.sio.call("join", "poll-room", timeout=5)[0] == "joined"
    asker = clients().connect(sio_server, transport)
    result = asker.sio.call("ask_all", "poll-room", timeout=10)
    assert result[0] == "answers"
    assert sorted(answer[0] for answer in result[1]) == ["member-0", "member-1", "member-2"]
    # A member that stays silent (its handler blocks past the timeout) makes the
    # whole broadcast time out.
    silent = clients().connect(sio_server, transport)
    silent.sio.on("poll", lambda *args: threading.Event().wait(5), namespace="/")
    assert silent.sio.call("join", "poll-room", timeout=5)[0] == "joined"
    result = asker.sio.call("ask_all", ("poll-room", 500), timeout=10)
    assert result[0] == "error" and "timed out" in result[1]


def test_a_refusing_middleware_runs_before_any_handler_or_room(sio_server, clients, transport):
    stats_client = clients().connect(sio_server, transport)
    before = stats_client.sio.call("guarded_stats", timeout=5)
    refused = clients()
    with pytest.raises(socketio.exceptions.ConnectionError):
        refused.connect(sio_server, transport, namespaces=("/guarded",), auth={"token": "wrong"})
    assert wait_for(lambda: refused.connect_errors, 5.0)
    namespace, args = refused.connect_errors[0]
    assert namespace == "/guarded"
    assert args[0] == {"message": "unauthorized", "data": {"code": 401}}
    after = stats_client.sio.call("guarded_stats", timeout=5)
    assert after["connects"] == before["connects"]
    assert after["sockets"] == before["sockets"]
    admitted = clients().connect(sio_server, transport, namespaces=("/guarded",), auth={"token": "let-me-in"})
    assert wait_for(lambda: admitted.received("/guarded", "guarded_welcome"), 5.0)
    assert admitted.received("/guarded", "guarded_welcome") == [(True,)]
    assert stats_client.sio.call("guarded_stats", timeout=5)["connects"] == before["connects"] + 1


def test_parent_namespaces_make_children_that_share_handlers(sio_server, clients, transport):
    a = clients().connect(sio_server, transport, namespaces=("/dyn-42",))
    b = clients().connect(sio_server, transport, namespaces=("/dyn-42",))
    assert wait_for(lambda: a.received("/dyn-42", "dyn_welcome") and b.received("/dyn-42", "dyn_welcome"), 5.0)
    assert a.received("/dyn-42", "dyn_welcome") == [("/dyn-42",)]
    # The broadcast of a socket leaves the sender out.
    assert a.sio.call("shout", "hey", namespace="/dyn-42", timeout=5) == "ok"
    assert wait_for(lambda: b.received("/dyn-42", "shout"), 5.0)
    assert not a.received("/dyn-42", "shout")
    # A name the pattern does not match whole is refused.
    refused = clients()
    with pytest.raises(socketio.exceptions.ConnectionError):
        refused.connect(sio_server, transport, namespaces=("/dyn-4x",))
    assert wait_for(lambda: refused.connect_errors, 5.0)
    assert refused.connect_errors[0][1][0] == {"message": "Invalid namespace"}


def test_disconnecting_handler_still_sees_the_rooms(sio_server, clients, transport):
    leaving = clients().connect(sio_server, transport, namespaces=("/lifecycle",))
    staying = clients().connect(sio_server, transport, namespaces=("/lifecycle",))
    for client in (leaving, staying):
        assert client.sio.call("join", "table", namespace="/lifecycle", timeout=5) == "ok"
    sid = leaving.sio.get_sid("/lifecycle")
    leaving.sio.disconnect()
    assert wait_for(lambda: staying.received("/lifecycle", "member_leaving"), 5.0)
    (left_sid, rooms, reason), = staying.received("/lifecycle", "member_leaving")
    assert (left_sid, rooms) == (sid, ["table"])
    # python-socketio sends the namespace DISCONNECT, then closes the transport: over
    # polling the close may be handled first.
    assert reason in ("client namespace disconnect", "transport close")


def test_transport_and_room_members(sio_server, clients, transport):
    client = clients().connect(sio_server, transport)
    expected = "polling" if transport == "polling" else "websocket"
    assert client.sio.call("transport", timeout=5) == expected
    other = clients().connect(sio_server, transport)
    for member in (client, other):
        member.sio.call("join", "members-room", timeout=5)
    assert sorted(client.sio.call("members", "members-room", timeout=5)) == sorted([client.sio.get_sid(), other.sio.get_sid()])
