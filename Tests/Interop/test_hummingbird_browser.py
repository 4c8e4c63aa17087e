"""The Hummingbird example app (`socketio-hummingbird-chat`) in a real browser.

Headless Chromium (driven through the Chrome DevTools Protocol with the helpers of
test_demo_browser.py) opens the page, logs in with the form (the server sets an HttpOnly
session cookie), connects with the official socket.io-client bundle, joins a room, sends a
message and receives a notification that an HTTP route (`POST /notify/alice`) emits. A
second page in its own browser context (no cookie) shows the server's refusal. After a
graceful shutdown the page's client reconnects to the next server (design Q6).

Skips only when Chromium is absent. A screenshot of the chat page is written to
/tmp/hummingbird-chat.png (override with $CHAT_SCREENSHOT).
"""

from __future__ import annotations

import base64
import json
import os
import pathlib
import signal
import subprocess

import pytest

from conftest import _finish, start_server
from test_demo_browser import CDP, CLIENT_JS, FETCH_SCRIPT, Browser, DemoPage, find_chromium, http
from test_hummingbird import settle_until_poll_is_held, start_chat

pytestmark = pytest.mark.timeout(120)

SCREENSHOT = pathlib.Path(os.environ.get("CHAT_SCREENSHOT", "/tmp/hummingbird-chat.png"))


def chromium_or_skip() -> str:
    """test_demo_browser's finder, but a missing Chromium skips this file."""
    try:
        return find_chromium()
    except pytest.fail.Exception as exc:
        pytest.skip(f"Chromium absent: {exc}")


@pytest.fixture(scope="module")
def client_js() -> pathlib.Path:
    if not CLIENT_JS.is_file():
        proc = subprocess.run(["bash", str(FETCH_SCRIPT)], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, f"{FETCH_SCRIPT} failed ({proc.returncode}):\n{proc.stderr}"
    assert CLIENT_JS.is_file(), f"{CLIENT_JS} missing after running {FETCH_SCRIPT}"
    return CLIENT_JS


@pytest.fixture(scope="module")
def browser():
    chromium = Browser(chromium_or_skip())
    try:
        yield chromium
    finally:
        chromium.stop()


@pytest.fixture(scope="module")
def chat(client_js, browser):
    server = start_server("--client-js", str(client_js), binary="socketio-hummingbird-chat")
    try:
        yield server
    finally:
        _finish(server)


class ChatTab(DemoPage):
    """One page of the chat, driven through CDP (the demo page's form and wait helpers)."""

    def __init__(self, cdp: CDP, server):
        super().__init__(cdp, server)
        for domain in ("Page", "Runtime", "Log"):
            cdp.call(f"{domain}.enable")

    def evaluate(self, expression: str):
        """`None` while the page navigates (its execution context is gone)."""
        try:
            return self.cdp.evaluate(expression)
        except RuntimeError:
            return None

    def text(self, element_id: str):
        return self.evaluate(f"(document.getElementById({json.dumps(element_id)}) || {{}}).textContent")

    def lines(self, element_id: str) -> list[str]:
        return self.evaluate(
            f"Array.from(document.querySelectorAll('#{element_id} > div'), d => d.textContent)"
        ) or []

    def open(self, url: str) -> None:
        self.cdp.call("Page.navigate", {"url": url})
        self.wait_until(
            lambda: self.evaluate("document.readyState === 'complete' && typeof io === 'function' && !!window.chatSocket"),
            "page loaded with the socket.io client",
        )

    def wait_text(self, element_id: str, expected: str) -> None:
        self.wait_until(lambda: self.text(element_id) == expected, f"#{element_id} == {expected!r}")

    def diagnostics(self) -> str:
        body = self.evaluate("document.body && document.body.innerText")
        return (
            f"page text:\n{body}\nbrowser console:\n{self.cdp.console_summary()}\n"
            f"server output (tail):\n{self.server.output()[-3000:] if self.server else '(stopped)'}"
        )

    def screenshot(self) -> None:
        try:
            shot = self.cdp.call("Page.captureScreenshot", {"format": "png"})
            SCREENSHOT.write_bytes(base64.b64decode(shot["data"]))
        except Exception as exc:  # pragma: no cover - best effort only
            print(f"screenshot failed: {exc}")


def isolated_page_ws_url(browser: Browser, url: str) -> str:
    """A new page in its own browser context (its own cookie jar: not logged in)."""
    with http() as session:
        version = session.get(f"http://127.0.0.1:{browser.port}/json/version", timeout=5).json()
    root = CDP(version["webSocketDebuggerUrl"])
    try:
        context = root.call("Target.createBrowserContext")["browserContextId"]
        target = root.call("Target.createTarget", {"url": url, "browserContextId": context})["targetId"]
    finally:
        root.close()
    return f"ws://127.0.0.1:{browser.port}/devtools/page/{target}"


def test_login_chat_and_notification_in_chromium(browser, chat):
    tab = ChatTab(CDP(browser.page_ws_url()), chat)
    try:
        tab.open(chat.url + "/")
        # Logged out: the login form, and the page's connection attempt refused.
        tab.wait_text("status", "refused: unauthorized")
        assert tab.text("user") is None

        tab.submit("login", name="alice", password="wonderland")
        tab.wait_text("user", "alice")
        tab.wait_until(lambda: tab.evaluate("!!window.chatSocket && window.chatSocket.connected"), "socket connected")
        tab.wait_text("status", "connected as alice")
        tab.wait_until(
            lambda: tab.evaluate("window.chatSocket.io.engine.transport.name") == "websocket",
            "transport upgraded to 'websocket'",
        )
        # The session cookie is HttpOnly: the page's script cannot read it.
        assert "chat_session" not in (tab.evaluate("document.cookie") or "")

        tab.submit("join", room="lobby")
        tab.wait_text("rooms", "lobby")
        tab.submit("send", msg_room="lobby", msg_text="hello from the browser")
        tab.wait_until(lambda: "[lobby] alice: hello from the browser" in tab.lines("messages"), "own room message")

        with http() as session:
            answer = session.post(chat.url + "/notify/alice", params={"text": "you have mail"}, timeout=5)
        assert answer.status_code == 200, answer.text
        tab.wait_until(lambda: tab.lines("notifications") == ["you have mail"], "the notification")
        tab.screenshot()
        print(f"browser console:\n{tab.cdp.console_summary()}")
        assert not tab.cdp.exceptions(), f"uncaught JS exceptions:\n{tab.cdp.console_summary()}"
    finally:
        tab.cdp.close()

    # A second page, without the cookie: the server refuses its connection.
    stranger = ChatTab(CDP(isolated_page_ws_url(browser, "about:blank")), chat)
    try:
        stranger.open(chat.url + "/")
        stranger.wait_text("status", "refused: unauthorized")
        assert stranger.text("user") is None
        assert stranger.evaluate("window.chatSocket.connected") is False
    finally:
        stranger.cdp.close()
    chat.assert_alive("after the browser test")


def test_page_reconnects_to_the_next_server_after_shutdown(browser, client_js):
    """Design Q6 for the JavaScript client: after the graceful shutdown it reconnects (to a
    second server on the same port). Sessions are in memory, one store per process, so the
    second server refuses the old cookie: the page's `refused: unauthorized` shows that the
    client came back and was answered by the new server."""
    first = start_chat()
    second = None
    tab = ChatTab(CDP(isolated_page_ws_url(browser, "about:blank")), first)
    try:
        tab.open(first.url + "/")
        tab.submit("login", name="alice", password="wonderland")
        tab.wait_text("status", "connected as alice")
        settle_until_poll_is_held()
        # The page's status line is overwritten by the first reconnect attempt's
        # `connect_error` (0.5 to 1.5 s after the disconnect, while this server may still be
        # exiting), so the disconnect's reason is recorded where nothing overwrites it.
        tab.evaluate("window.disconnects = []; "
                     "window.chatSocket.on('disconnect', (r) => window.disconnects.push(r)); true")
        first.proc.send_signal(signal.SIGTERM)
        assert first.proc.wait(timeout=15) == 0, first.output()[-3000:]
        tab.server = None  # stopped on purpose: its exit is not a failure to report
        reasons = tab.wait_until(lambda: tab.evaluate("window.disconnects"), "the disconnect")
        # An Engine.IO close is a "transport close" for socket.io-client: it reconnects.
        assert reasons == ["transport close"], reasons

        second = start_chat(first.port)
        tab.server = second
        tab.wait_text("status", "refused: unauthorized")
    finally:
        tab.cdp.close()
        first.stop()
        if second is not None:
            second.stop()
