"""The Hummingbird example app (`socketio-hummingbird-chat`, issue 16) with python-socketio.

The example is a Hummingbird application with a login of its own (a cookie session on
Hummingbird's MemoryPersistDriver, filled into `AppRequestContext.user` by a middleware)
and a Socket.IO server mounted on the same port. These tests log in over HTTP with
`requests`, hand the session cookie to python-socketio clients (WebSocket only, polling
only, and the default polling-then-upgrade) and check that the application's context
reaches the Socket.IO handlers, that connections without a login are refused, that the
app's own routes work beside the engine, and the graceful shutdown.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time

import pytest
import requests
import socketio

from conftest import REPO_ROOT, ServerProcess, STARTUP_TIMEOUT, _finish, demo_binary, start_server
from eio_support import wait_for

pytestmark = pytest.mark.timeout(120)

BINARY = "socketio-hummingbird-chat"
CLIENT_JS = REPO_ROOT / ".cache" / "socket.io.min.js"
COOKIE = "chat_session"
PASSWORDS = {"alice": "wonderland", "bob": "builder"}
TRANSPORTS = {
    "websocket": ["websocket"],
    "polling": ["polling"],
    "upgrade": ["polling", "websocket"],
}
STEP = 10.0  # the longest a test waits for one expected event


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def http() -> requests.Session:
    """A requests session that never goes through a proxy (loopback only)."""
    session = requests.Session()
    session.trust_env = False
    return session


def start_chat(port: int | None = None) -> ServerProcess:
    """The example on an ephemeral port, or on `port` (a second server where the first was)."""
    extra = ("--client-js", str(CLIENT_JS)) if CLIENT_JS.is_file() else ()
    if port is None:
        return start_server(*extra, binary=BINARY)
    argv = [str(demo_binary(BINARY)), *extra, "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=str(REPO_ROOT)
    )
    server = ServerProcess(proc, tuple(argv[1:]))
    server._wait_listening(STARTUP_TIMEOUT)
    return server


def login(server, name: str, password: str | None = None) -> str:
    """Logs in over HTTP; returns the `Cookie` header value for the session."""
    with http() as session:
        answer = session.post(
            server.url + "/login",
            data={"name": name, "password": password or PASSWORDS[name]},
            allow_redirects=False,
            timeout=5,
        )
    assert answer.status_code == 303, (answer.status_code, answer.text)
    value = answer.cookies.get(COOKIE)
    assert value, answer.headers
    return f"{COOKIE}={value}"


def settle_until_poll_is_held() -> None:
    """Gives a polling client's next GET (sent as soon as its last one was answered) time to
    reach the server, so that a shutdown finds it held. Not a timing assertion."""
    time.sleep(0.5)


class ChatClient:
    """A python-socketio client that records what the chat sends it."""

    def __init__(self, server, cookie: str | None, transport: str = "websocket", **options):
        self.sio = socketio.Client(reconnection=options.pop("reconnection", False), **options)
        self.lock = threading.Lock()
        self.messages: list[dict] = []
        self.notifications: list[dict] = []
        self.disconnects: list[str] = []
        self.connects = 0
        self.connect_errors: list = []
        self.sio.on("message", lambda data: self._add(self.messages, data))
        self.sio.on("notification", lambda data: self._add(self.notifications, data))
        self.sio.on("disconnect", lambda reason=None: self._add(self.disconnects, reason))
        self.sio.on("connect_error", lambda data=None: self._add(self.connect_errors, data))
        self.sio.on("connect", self._connected)
        # Kept as one dict: python-socketio reconnects with the same object.
        self.headers = {"Cookie": cookie} if cookie else {}
        self.sio.connect(server.url, headers=self.headers, transports=TRANSPORTS[transport], wait_timeout=STEP)
        if transport == "upgrade":
            assert wait_for(lambda: self.sio.transport() == "websocket", timeout=STEP), self.sio.transport()

    def _connected(self):
        with self.lock:
            self.connects += 1

    def _add(self, into: list, item) -> None:
        with self.lock:
            into.append(item)

    def got(self, what: str) -> list:
        with self.lock:
            return list(getattr(self, what))

    def whoami(self) -> str:
        return self.sio.call("whoami", timeout=STEP)

    def close(self) -> None:
        try:
            self.sio.disconnect()
        except Exception:
            pass


@pytest.fixture(scope="module")
def chat():
    server = start_chat()
    try:
        yield server
    finally:
        _finish(server)


@pytest.fixture
def clients():
    """Makes `ChatClient`s and closes them at the end of the test."""
    made: list[ChatClient] = []

    def make(server, cookie, transport="websocket", **options) -> ChatClient:
        client = ChatClient(server, cookie, transport, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


# ---------------------------------------------------------------------------
# the application's routes beside the engine
# ---------------------------------------------------------------------------
def test_page_shows_login_form_then_chat(chat):
    with http() as session:
        page = session.get(chat.url + "/", timeout=5)
        assert page.status_code == 200
        assert page.headers["Content-Type"].startswith("text/html")
        assert 'id="login"' in page.text and 'id="user"' not in page.text
        assert '<script src="/socket.io/socket.io.js">' in page.text

        page = session.get(chat.url + "/", headers={"Cookie": login(chat, "alice")}, timeout=5)
        assert page.status_code == 200
        assert '<b id="user">alice</b>' in page.text and 'id="login"' not in page.text


def test_login_sets_an_http_only_session_cookie(chat):
    with http() as session:
        answer = session.post(
            chat.url + "/login", data={"name": "bob", "password": "builder"}, allow_redirects=False, timeout=5
        )
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/"
    set_cookie = answer.headers["Set-Cookie"]
    assert set_cookie.startswith(f"{COOKIE}="), set_cookie
    attributes = [part.strip().lower() for part in set_cookie.split(";")]
    assert "httponly" in attributes and "path=/" in attributes and "samesite=lax" in attributes, set_cookie


@pytest.mark.parametrize(
    "form",
    [
        {"name": "alice", "password": "wrong"},
        {"name": "alice", "password": "builder"},  # bob's password
        {"name": "mallory", "password": "wonderland"},
        {"name": "alice"},
    ],
    ids=["wrong-password", "other-users-password", "unknown-user", "no-password"],
)
def test_bad_login_is_refused(chat, form):
    with http() as session:
        answer = session.post(chat.url + "/login", data=form, allow_redirects=False, timeout=5)
    assert answer.status_code == 401, answer.status_code
    assert "Set-Cookie" not in answer.headers
    assert 'id="login-error"' in answer.text


def test_client_bundle_is_served(chat):
    if not CLIENT_JS.is_file():
        pytest.skip(f"{CLIENT_JS} missing (scripts/fetch-client-js.sh); the server redirects to the CDN then")
    with http() as session:
        bundle = session.get(chat.url + "/socket.io/socket.io.js", timeout=5, allow_redirects=False)
    assert bundle.status_code == 200
    assert "javascript" in bundle.headers["Content-Type"]
    assert bundle.content == CLIENT_JS.read_bytes()


def test_logout_ends_the_session_and_its_sockets(chat, clients):
    cookie = login(chat, "bob")
    bob = clients(chat, cookie)
    assert bob.whoami() == "bob"
    with http() as session:
        answer = session.post(chat.url + "/logout", headers={"Cookie": cookie}, allow_redirects=False, timeout=5)
    assert answer.status_code == 303
    assert answer.headers["Set-Cookie"].startswith(f"{COOKIE}=;"), answer.headers["Set-Cookie"]
    assert wait_for(lambda: bob.got("disconnects"), timeout=STEP), "bob's socket stayed after logout"
    with pytest.raises(socketio.exceptions.ConnectionError):
        clients(chat, cookie)


# ---------------------------------------------------------------------------
# Socket.IO with the application's login
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_whoami_answers_the_logged_in_user(chat, clients, transport):
    alice = clients(chat, login(chat, "alice"), transport)
    bob = clients(chat, login(chat, "bob"), transport)
    assert alice.whoami() == "alice"
    assert bob.whoami() == "bob"
    assert alice.sio.transport() == ("polling" if transport == "polling" else "websocket")


@pytest.mark.parametrize("transport", list(TRANSPORTS))
@pytest.mark.parametrize("cookie", [None, f"{COOKIE}=0123456789abcdef0123456789abcdef", f"{COOKIE}=junk"],
                         ids=["no-cookie", "unknown-session", "malformed"])
def test_connection_without_login_is_refused(chat, transport, cookie):
    sio = socketio.Client(reconnection=False)
    errors = []
    sio.on("connect_error", lambda data=None: errors.append(data))
    headers = {"Cookie": cookie} if cookie else {}
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):
            sio.connect(chat.url, headers=headers, transports=TRANSPORTS[transport], wait_timeout=STEP)
    finally:
        sio.disconnect()
    assert errors == [{"message": "unauthorized"}], errors
    chat.assert_alive("after a refused connection")


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_rooms_and_messages(chat, clients, transport):
    room = f"lobby-{transport}"
    alice = clients(chat, login(chat, "alice"), transport)
    alice_elsewhere = clients(chat, login(chat, "alice"), "websocket")
    bob = clients(chat, login(chat, "bob"), transport)

    assert alice.sio.call("join", {"room": room}, timeout=STEP) == {"rooms": [room]}
    assert bob.sio.call("join", {"room": room}, timeout=STEP) == {"rooms": [room]}
    # The server's private rooms cannot be joined (bob would get alice's notifications).
    assert bob.sio.call("join", {"room": "user:alice"}, timeout=STEP) == {"error": "invalid room"}
    assert bob.sio.call("join", {"room": "session:x"}, timeout=STEP) == {"error": "invalid room"}

    alice.sio.emit("message", {"room": room, "text": "hi bob"})
    expected = {"room": room, "text": "hi bob", "from": "alice"}
    assert wait_for(lambda: bob.got("messages") == [expected], timeout=STEP), bob.got("messages")
    assert wait_for(lambda: alice.got("messages") == [expected], timeout=STEP), alice.got("messages")

    # `from` is the server's: a client cannot pose as someone else.
    bob.sio.emit("message", {"room": room, "text": "hi", "from": "alice"})
    assert wait_for(lambda: alice.got("messages")[1:] == [{"room": room, "text": "hi", "from": "bob"}], timeout=STEP)

    assert bob.sio.call("leave", {"room": room}, timeout=STEP) == {"rooms": []}
    alice.sio.emit("message", {"room": room, "text": "bob left"})
    assert wait_for(lambda: len(alice.got("messages")) == 3, timeout=STEP)
    # alice's other socket never joined; bob left before the last one.
    assert alice_elsewhere.got("messages") == []
    assert len(bob.got("messages")) == 2


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_binary_payload_round_trip(chat, clients, transport):
    alice = clients(chat, login(chat, "alice"), transport)
    room = f"binary-{transport}"
    alice.sio.call("join", {"room": room}, timeout=STEP)
    blob = bytes(range(256)) * 40
    alice.sio.emit("message", {"room": room, "text": "file", "data": blob, "parts": [b"\x00", b"\xff\xfe"]})
    assert wait_for(lambda: alice.got("messages"), timeout=STEP)
    echoed = alice.got("messages")[0]
    assert echoed["data"] == blob
    assert echoed["parts"] == [b"\x00", b"\xff\xfe"]
    assert echoed["from"] == "alice" and echoed["text"] == "file"


def test_notify_reaches_every_socket_of_the_user_only(chat, clients):
    alice_ws = clients(chat, login(chat, "alice"), "websocket")
    alice_poll = clients(chat, login(chat, "alice"), "polling")
    bob = clients(chat, login(chat, "bob"), "upgrade")

    with http() as session:
        # Open by design (no cookie): it stands for a back-end event; see ChatRoutes.swift.
        answer = session.post(chat.url + "/notify/alice", params={"text": "a parcel + more"}, timeout=5)
        assert answer.status_code == 200, answer.text
        expected = [{"to": "alice", "text": "a parcel + more"}]
        assert wait_for(lambda: alice_ws.got("notifications") == expected, timeout=STEP), alice_ws.got("notifications")
        assert wait_for(lambda: alice_poll.got("notifications") == expected, timeout=STEP), alice_poll.got("notifications")

        # bob's own notification arrives after alice's would have: had alice's reached bob,
        # it would be first in his list.
        assert session.post(chat.url + "/notify/bob", timeout=5).status_code == 200
        assert wait_for(lambda: bob.got("notifications"), timeout=STEP)
        assert bob.got("notifications") == [{"to": "bob", "text": "Hello bob"}]

        assert session.post(chat.url + "/notify/nobody", timeout=5).status_code == 404


# ---------------------------------------------------------------------------
# graceful shutdown
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_shutdown_signal_disconnects_clients_and_exits_zero(clients, signum):
    server = start_chat()
    try:
        poller = clients(server, login(server, "alice"), "polling")
        websocket = clients(server, login(server, "bob"), "websocket")
        assert poller.whoami() == "alice" and websocket.whoami() == "bob"
        settle_until_poll_is_held()
        server.proc.send_signal(signum)
        # Below the ping interval (25 s): a held poll left unanswered would hold the
        # server's shutdown (Hummingbird waits for every connection) until then.
        code = server.proc.wait(timeout=15)
        assert code == 0, server.output()[-3000:]
        assert wait_for(lambda: poller.got("disconnects") and websocket.got("disconnects"), timeout=STEP), (
            poller.got("disconnects"),
            websocket.got("disconnects"),
        )
        # The drain ends each session as a lost transport (no Engine.IO close packet: a
        # WebSocket close 1001, a noop on the held poll), which python-socketio reports as
        # a transport error and reconnects after.
        assert websocket.got("disconnects") == [socketio.Client.reason.TRANSPORT_ERROR]
        assert poller.got("disconnects") == [socketio.Client.reason.TRANSPORT_ERROR]
    finally:
        server.stop()


# Design Q6: after a graceful shutdown clients reconnect to the next server: the drain
# ends sessions without the Engine.IO close packet (after which python-socketio would not).
@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_clients_reconnect_to_the_next_server(clients, transport):
    first = start_chat()
    port = first.port
    second = None
    try:
        alice = clients(first, login(first, "alice"), transport, reconnection=True,
                        reconnection_delay=0.2, reconnection_delay_max=0.5)
        assert alice.whoami() == "alice"
        settle_until_poll_is_held()
        first.proc.send_signal(signal.SIGTERM)
        assert first.proc.wait(timeout=15) == 0
        assert wait_for(lambda: alice.got("disconnects"), timeout=STEP)

        # The next server where the first was (what a load balancer would pick). Sessions
        # are in memory, one store per process: log in there and give the client the new
        # cookie (the headers dict python-socketio reconnects with), as a shared store
        # (Redis) would have done.
        second = start_chat(port)
        alice.headers["Cookie"] = login(second, "alice")
        assert wait_for(lambda: alice.connects >= 2 and alice.sio.connected, timeout=STEP), (
            f"no reconnection; disconnect reasons {alice.got('disconnects')}, "
            f"connect errors {alice.got('connect_errors')}"
        )
        assert alice.whoami() == "alice"
    finally:
        first.stop()
        if second is not None:
            second.stop()
