"""The demo page in a real browser.

`socketio-demo --mode demo` serves a page at `/` that loads the official
socket.io-client bundle from `/socket.io/socket.io.js`. Here headless Chromium
(Debian package `chromium`, installed by scripts/install-deps.sh) opens that
page and the test drives its forms through the Chrome DevTools Protocol,
checking that the server's answers show up in the page's log. A python-socketio
client joins the same server to check that broadcasts cross between the two.

The client bundle is the file scripts/fetch-client-js.sh puts in
.cache/socket.io.min.js (fetched on demand when missing).

A screenshot of the page at the end of the browser test is written to
/tmp/demo-page.png (override with $DEMO_SCREENSHOT).
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import pathlib
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import pytest
import requests
import socketio
import websocket

from conftest import REPO_ROOT, _finish, start_server

pytestmark = pytest.mark.timeout(90)

CLIENT_JS = REPO_ROOT / ".cache" / "socket.io.min.js"
FETCH_SCRIPT = REPO_ROOT / "scripts" / "fetch-client-js.sh"
CDN_URL = "https://cdn.socket.io/4.8.1/socket.io.min.js"
SCREENSHOT = pathlib.Path(os.environ.get("DEMO_SCREENSHOT", "/tmp/demo-page.png"))

STEP_TIMEOUT = 10.0  # each check of the page polls at most this long
BROWSER_START_TIMEOUT = 30.0


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def find_chromium() -> str:
    """The Chromium executable; the test FAILS (never skips) without one."""
    override = os.environ.get("CHROMIUM_BIN")
    candidates = [override] if override else []
    candidates += [shutil.which("chromium"), "/usr/bin/chromium"]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(
        "Chromium not found (looked for $CHROMIUM_BIN, `chromium` on PATH, "
        "/usr/bin/chromium). The browser test needs it: CI installs the Debian "
        "package `chromium` via scripts/install-deps.sh "
        "(or run: apt-get install chromium).",
        pytrace=False,
    )


def http() -> requests.Session:
    """A requests session that never goes through a proxy (loopback only)."""
    session = requests.Session()
    session.trust_env = False
    return session


class CDP:
    """A minimal Chrome DevTools Protocol client over one target's websocket.

    `call` sends a command with the next id and reads messages until the answer
    with that id arrives; events read in between are kept in `events` (only the
    console / exception / log ones, to stay small)."""

    KEPT_EVENTS = ("Runtime.consoleAPICalled", "Runtime.exceptionThrown", "Log.entryAdded")

    def __init__(self, ws_url: str, timeout: float = 15.0):
        # Chromium refuses websocket handshakes that carry an Origin it does
        # not know, so none is sent.
        self.ws = websocket.create_connection(ws_url, timeout=timeout, suppress_origin=True)
        self._ids = itertools.count(1)
        self.events: list[dict] = []

    def call(self, method: str, params: dict | None = None, timeout: float = 15.0) -> dict:
        msg_id = next(self._ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"CDP {method}: no answer within {timeout:.0f}s")
            self.ws.settimeout(remaining)
            message = json.loads(self.ws.recv())
            if message.get("id") == msg_id:
                if "error" in message:
                    raise RuntimeError(f"CDP {method} failed: {message['error']}")
                return message.get("result", {})
            if message.get("method") in self.KEPT_EVENTS:
                self.events.append(message)

    def evaluate(self, expression: str):
        """Evaluate JS in the page and return its (JSON) value."""
        result = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise RuntimeError(f"JS error evaluating {expression!r}: {text}")
        return result.get("result", {}).get("value")

    def console_summary(self) -> str:
        lines = []
        for event in self.events:
            params = event["params"]
            if event["method"] == "Runtime.consoleAPICalled":
                args = " ".join(
                    str(a.get("value", a.get("description", ""))) for a in params.get("args", [])
                )
                lines.append(f"console.{params.get('type')}: {args}")
            elif event["method"] == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                text = details.get("exception", {}).get("description") or details.get("text")
                lines.append(f"exception: {text}")
            else:
                entry = params.get("entry", {})
                lines.append(f"log.{entry.get('level')} [{entry.get('source')}]: {entry.get('text')} {entry.get('url', '')}")
        return "\n".join(lines) or "(none)"

    def exceptions(self) -> list[dict]:
        return [e for e in self.events if e["method"] == "Runtime.exceptionThrown"]

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:
            pass


class Browser:
    """A headless Chromium process with its own throw-away profile."""

    def __init__(self, executable: str):
        self.profile = tempfile.mkdtemp(prefix="demo-chromium-")
        self.stderr_path = pathlib.Path(self.profile) / "chromium-stderr.log"
        argv = [
            executable,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--window-size=1000,780",
            f"--user-data-dir={self.profile}",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "about:blank",
        ]
        with open(self.stderr_path, "wb") as err:
            # Own process group, so teardown can stop the renderer/GPU helpers too.
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                start_new_session=True,
            )
        self.port = self._wait_devtools_port()

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text("utf-8", "replace")[-5000:]
        except OSError:
            return ""

    def _wait_devtools_port(self) -> int:
        port_file = pathlib.Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + BROWSER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"chromium exited with code {self.proc.returncode} during startup; "
                    f"stderr:\n{self.stderr()}"
                )
            try:
                first_line = port_file.read_text().splitlines()[0].strip()
                if first_line.isdigit():
                    return int(first_line)
            except (OSError, IndexError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"chromium wrote no {port_file} within {BROWSER_START_TIMEOUT:.0f}s; "
            f"stderr:\n{self.stderr()}"
        )

    def page_ws_url(self) -> str:
        """The DevTools websocket URL of the (first) page target."""
        deadline = time.monotonic() + 10.0
        with http() as session:
            while True:
                targets = session.get(f"http://127.0.0.1:{self.port}/json", timeout=5).json()
                pages = [t for t in targets if t.get("type") == "page" and t.get("webSocketDebuggerUrl")]
                if pages:
                    return pages[0]["webSocketDebuggerUrl"]
                if time.monotonic() > deadline:
                    raise RuntimeError(f"chromium lists no page target: {targets}")
                time.sleep(0.1)

    def _close_gracefully(self) -> None:
        """Ask the browser to quit through its DevTools endpoint."""
        try:
            with http() as session:
                info = session.get(f"http://127.0.0.1:{self.port}/json/version", timeout=2).json()
            cdp = CDP(info["webSocketDebuggerUrl"], timeout=2)
            try:
                cdp.call("Browser.close", timeout=2)
            finally:
                cdp.close()
            self.proc.wait(timeout=5)
        except Exception:
            pass  # the signals below take over

    def stop(self) -> None:
        if self.proc.poll() is None and getattr(self, "port", None):
            self._close_gracefully()
        if self.proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        # Helpers left in the group (the leader may exit first) go too.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        shutil.rmtree(self.profile, ignore_errors=True)


class PythonPeer:
    """A python-socketio client on the demo server that records `my_response`."""

    def __init__(self, url: str):
        self.sio = socketio.Client(reconnection=False)
        self._lock = threading.Lock()
        self.responses: list[dict] = []
        self.sio.on("my_response", self._on_response)
        self.sio.connect(url, wait_timeout=10)

    def _on_response(self, message):
        with self._lock:
            self.responses.append(message)

    def received(self) -> list[dict]:
        with self._lock:
            return list(self.responses)

    def wait_for(self, predicate, what: str, timeout: float = STEP_TIMEOUT, since: int = 0) -> dict:
        """The first message (from index `since` on) matching `predicate`."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self.received()[since:]:
                if predicate(message):
                    return message
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"python client: no {what} within {timeout:.0f}s; got {self.received()}"
                )
            time.sleep(0.02)

    def close(self) -> None:
        try:
            self.sio.disconnect()
        except Exception:
            pass


# ---------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client_js() -> pathlib.Path:
    if not CLIENT_JS.is_file():
        proc = subprocess.run(
            ["bash", str(FETCH_SCRIPT)], capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 0, (
            f"{FETCH_SCRIPT} failed ({proc.returncode}):\n{proc.stderr}"
        )
    assert CLIENT_JS.is_file(), f"{CLIENT_JS} missing after running {FETCH_SCRIPT}"
    return CLIENT_JS


@pytest.fixture(scope="module")
def demo_server(client_js):
    server = start_server("--mode", "demo", "--client-js", str(client_js))
    try:
        yield server
    finally:
        _finish(server)


@pytest.fixture(scope="module")
def browser():
    executable = find_chromium()
    chromium = Browser(executable)
    try:
        yield chromium
    finally:
        chromium.stop()


@pytest.fixture
def page(browser):
    cdp = CDP(browser.page_ws_url())
    for domain in ("Page", "Runtime", "Log"):
        cdp.call(f"{domain}.enable")
    try:
        yield cdp
    finally:
        # A picture for humans, taken whatever the outcome.
        try:
            shot = cdp.call("Page.captureScreenshot", {"format": "png"})
            SCREENSHOT.write_bytes(base64.b64decode(shot["data"]))
        except Exception as exc:  # pragma: no cover - best effort only
            print(f"screenshot failed: {exc}")
        cdp.close()


# ---------------------------------------------------------------------------
# plain HTTP
# ---------------------------------------------------------------------------
def test_page_and_bundle_over_http(demo_server, client_js):
    with http() as session:
        index = session.get(demo_server.url + "/", timeout=5)
        assert index.status_code == 200
        assert index.headers["Content-Type"].startswith("text/html")
        assert '<script src="/socket.io/socket.io.js">' in index.text

        bundle = session.get(demo_server.url + "/socket.io/socket.io.js", timeout=5, allow_redirects=False)
        assert bundle.status_code == 200
        assert "javascript" in bundle.headers["Content-Type"]
        assert bundle.content.startswith(b"/*!")
        assert b"Socket.IO v4" in bundle.content[:512]
        assert bundle.content == client_js.read_bytes()


def test_bundle_redirects_to_cdn_without_client_js():
    server = start_server("--mode", "demo")
    try:
        with http() as session:
            answer = session.get(server.url + "/socket.io/socket.io.js", timeout=5, allow_redirects=False)
        assert answer.status_code == 302, answer.text
        assert answer.headers["Location"] == CDN_URL
        server.assert_alive("after the redirect")
    finally:
        server.stop()


# ---------------------------------------------------------------------------
# the page in Chromium
# ---------------------------------------------------------------------------
LOG_LINES_JS = "Array.from(document.querySelectorAll('#log > div'), d => d.textContent)"


class DemoPage:
    """Drives the demo page's forms and waits for its log."""

    def __init__(self, cdp: CDP, server):
        self.cdp = cdp
        self.server = server

    def log_lines(self) -> list[str]:
        return self.cdp.evaluate(LOG_LINES_JS) or []

    def text(self, element_id: str) -> str:
        return self.cdp.evaluate(f"document.getElementById({json.dumps(element_id)}).textContent")

    def diagnostics(self) -> str:
        try:
            lines = "\n  ".join(self.log_lines())
            transport = self.text("transport")
        except Exception as exc:  # the page itself may be gone
            lines, transport = f"(unavailable: {exc})", "?"
        return (
            f"page log:\n  {lines}\ntransport: {transport}\n"
            f"browser console:\n{self.cdp.console_summary()}\n"
            f"server output (tail):\n{self.server.output()[-3000:]}"
        )

    def wait_until(self, check, what: str, timeout: float = STEP_TIMEOUT):
        """Poll `check()` until it returns something truthy; fail with context."""
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() >= deadline:
                if self.server is not None:  # None: a test stopped it on purpose
                    self.server.assert_alive(f"while waiting for {what}")
                raise AssertionError(f"{what}: not seen within {timeout:.0f}s\n{self.diagnostics()}")
            time.sleep(0.05)

    def wait_line(self, predicate, what: str) -> str:
        def find():
            return next((line for line in self.log_lines() if predicate(line)), None)

        return self.wait_until(find, f"log line {what}")

    def wait_exact(self, line: str) -> str:
        return self.wait_line(lambda l: l == line, repr(line))

    def submit(self, form_id: str, **fields: str) -> None:
        script = "".join(
            f"document.getElementById({json.dumps(k)}).value = {json.dumps(v)};" for k, v in fields.items()
        )
        script += f"document.getElementById({json.dumps(form_id)}).requestSubmit(); true"
        assert self.cdp.evaluate(script) is True


def test_demo_page_in_chromium(page, demo_server):
    demo = DemoPage(page, demo_server)
    page.call("Page.navigate", {"url": demo_server.url + "/"})
    demo.wait_until(
        lambda: page.evaluate(
            "document.readyState === 'complete' && location.href.startsWith('http') "
            "&& typeof io === 'function' && !!window.demoSocket"
        ),
        "page loaded with the socket.io client (io() and window.demoSocket)",
    )

    # -- connection, upgrade, latency readout ------------------------------
    demo.wait_exact("Received #0: Connected")
    demo.wait_until(lambda: page.evaluate("window.demoSocket.connected"), "socket connected")
    demo.wait_until(lambda: demo.text("transport") == "websocket", "transport upgraded to 'websocket'")
    assert page.evaluate("window.demoSocket.io.engine.transport.name") == "websocket"

    def ping_readout():
        text = demo.text("ping-pong")
        try:
            return float(text) >= 0
        except (TypeError, ValueError):
            return False

    demo.wait_until(ping_readout, "a number in the ping/pong latency readout")

    # Every form below makes the server bump this session's receive count.
    count = 0

    def expect(data: str) -> str:
        return demo.wait_exact(f"Received #{count}: {data}")

    # -- echo ----------------------------------------------------------------
    demo.submit("emit", emit_data="hello browser")
    count += 1
    expect("hello browser")

    # -- rooms -----------------------------------------------------------------
    demo.submit("join", join_room="lobby")
    count += 1
    joined = demo.wait_line(lambda l: l.startswith(f"Received #{count}: In rooms:"), "join answer")
    assert "lobby" in [r.strip() for r in joined.split("In rooms:", 1)[1].split(",")], joined

    demo.submit("send_room", room_name="lobby", room_data="room msg")
    count += 1
    expect("room msg")

    # -- a second client: python-socketio ----------------------------------------
    peer = PythonPeer(demo_server.url)
    try:
        peer.wait_for(lambda m: m == {"data": "Connected", "count": 0}, "'Connected' greeting")

        # Browser broadcast: the browser itself and the python client get it.
        demo.submit("broadcast", broadcast_data="to all")
        count += 1
        expect("to all")
        peer.wait_for(lambda m: m == {"data": "to all", "count": count}, "browser broadcast 'to all'")

        # Python broadcast: shows up in the page (counted in python's session).
        peer.sio.emit("my_broadcast_event", {"data": "from python"})
        demo.wait_exact("Received #1: from python")
        peer.wait_for(lambda m: m == {"data": "from python", "count": 1}, "its own broadcast")

        # -- leave ---------------------------------------------------------------
        demo.submit("leave", leave_room="lobby")
        count += 1
        left = demo.wait_line(lambda l: l.startswith(f"Received #{count}: In rooms:"), "leave answer")
        assert "lobby" not in left, left

        # -- close room: python is in it, the browser no longer is --------------
        peer.sio.emit("join", {"room": "lobby"})
        peer.wait_for(
            lambda m: m["count"] == 2 and m["data"].startswith("In rooms:") and "lobby" in m["data"],
            "join answer listing lobby",
        )
        demo.submit("close", close_room="lobby")
        count += 1
        peer.wait_for(lambda m: m == {"data": "Room lobby is closing.", "count": count}, "room closing notice")

        # The room is gone: python's room list (asked via a no-op leave) drops it.
        def python_rooms_without_lobby():
            before = len(peer.received())
            peer.sio.emit("leave", {"room": "no-such-room"})
            answer = peer.wait_for(lambda m: m["data"].startswith("In rooms:"), "leave answer", since=before)
            return "lobby" not in answer["data"]

        deadline = time.monotonic() + 3.0
        while not python_rooms_without_lobby():
            assert time.monotonic() < deadline, f"python client still in lobby after close_room: {peer.received()}"
            time.sleep(0.1)

        # The closing notice went to the room only: not to the browser.
        assert not any("is closing" in line for line in demo.log_lines()), demo.diagnostics()

        # -- disconnect ----------------------------------------------------------
        demo.submit("disconnect")
        count += 1
        expect("Disconnected!")
        reason = demo.wait_line(lambda l: l.startswith("Disconnected: "), "'Disconnected: <reason>'")
        assert reason == "Disconnected: io server disconnect", (
            f"expected a server-side namespace disconnect, got {reason!r}\n{demo.diagnostics()}"
        )
        assert page.evaluate("window.demoSocket.connected") is False
        # The python client is unaffected and the server is still fine.
        assert peer.sio.connected
        peer.sio.emit("my_event", {"data": "still here"})
        peer.wait_for(lambda m: m["data"] == "still here", "echo after the browser left")
    finally:
        peer.close()

    print(f"browser console:\n{page.console_summary()}")
    assert not page.exceptions(), f"uncaught JS exceptions:\n{page.console_summary()}"
    demo_server.assert_alive("after the browser test")
