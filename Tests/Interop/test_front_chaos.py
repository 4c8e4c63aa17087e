"""Kill -9 behind the front (issue 13, cluster chaos suite: the front's part).

`scripts/cluster up --workers 3 --queue redis` (nginx on a free port). Connected through
nginx: python-socketio AsyncClients with default transports from 127.0.N.1 (ip_hash spreads
them over the workers), python-socketio sync clients (their WebSocket handshake carries an
`Origin`), and the demo page in headless Chromium. The worker that serves the browser is
killed with SIGKILL; every client reconnects (to another worker: nginx passes over the dead one
and the sio_node cookie's map falls back to the others) and keeps receiving broadcasts, from
`socketio-emit` and from a client's broadcast event.

Bounded: each wait has a deadline; the whole test takes well under three minutes.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import threading
import time

import aiohttp
import pytest
import socketio

from conftest import REPO_ROOT, demo_binary
from eio_support import free_cluster_base
from test_demo_browser import CDP, CLIENT_JS, FETCH_SCRIPT, Browser, find_chromium
from test_front import free_port

CLUSTER = os.path.join(REPO_ROOT, "scripts", "cluster")
pytestmark = pytest.mark.timeout(240)


class Peer:
    """An AsyncClient with default transports from its own source address; it reconnects."""

    def __init__(self, url: str, address: str):
        self.url = url
        self.address = address
        self.responses: list = []
        self.session = None
        self.sio = None

    async def connect(self):
        connector = aiohttp.TCPConnector(local_addr=(self.address, 0))
        self.session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.sio = socketio.AsyncClient(http_session=self.session, reconnection=True,
                                        reconnection_delay=0.2, reconnection_delay_max=1)
        self.sio.on("my_response", lambda message: self.responses.append(message.get("data")))
        await self.sio.connect(self.url, wait_timeout=10)

    async def node(self):
        return (await self.sio.call("worker_info", timeout=5))["node"]

    async def close(self):
        if self.sio:
            try:
                await self.sio.disconnect()
            except Exception:
                pass
        if self.session:
            await self.session.close()


class SyncPeer:
    """A sync python-socketio client (websocket-client: the upgrade sends an Origin)."""

    def __init__(self, url: str):
        self.lock = threading.Lock()
        self.responses: list = []
        self.sio = socketio.Client(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1)
        self.sio.on("my_response", self._on_response)
        self.sio.connect(url, wait_timeout=10)

    def _on_response(self, message):
        with self.lock:
            self.responses.append(message.get("data"))

    def got(self, tag) -> bool:
        with self.lock:
            return tag in self.responses


def page_log(cdp: CDP) -> list[str]:
    return cdp.evaluate("Array.from(document.querySelectorAll('#log > div'), d => d.textContent)") or []


def page_got(cdp: CDP, tag: str) -> bool:
    return any(line.endswith(": " + tag) for line in page_log(cdp))


@pytest.fixture(scope="module")
def client_js():
    if not CLIENT_JS.is_file():
        subprocess.run(["bash", str(FETCH_SCRIPT)], check=True, capture_output=True, timeout=120)
    assert CLIENT_JS.is_file()
    return CLIENT_JS


def test_kill_9_worker_behind_the_front(tmp_path, client_js):
    env = dict(os.environ, SOCKETIO_RUN_DIR=str(tmp_path), SOCKETIO_BIN_DIR=str(demo_binary().parent),
               SOCKETIO_WORKER_ARGS=f"--client-js {client_js}")
    base = free_cluster_base(36000)
    url = subprocess.run(["bash", CLUSTER, "up", "--workers", "3", "--queue", "redis", "--listen",
                          f"127.0.0.1:{free_port()}", "--base-port", str(base)],
                         env=env, check=True, capture_output=True, text=True, timeout=300).stdout.strip()
    queue = (tmp_path / "cluster" / "queue.url").read_text().strip()
    browser = None
    cdp = None
    sync_peers: list[SyncPeer] = []
    try:
        browser = Browser(find_chromium())
        cdp = CDP(browser.page_ws_url())
        for domain in ("Page", "Runtime"):
            cdp.call(f"{domain}.enable")
        cdp.call("Page.navigate", {"url": url + "/"})

        def wait(check, what, timeout=30.0):
            deadline = time.monotonic() + timeout
            while not check():
                if time.monotonic() > deadline:
                    raise AssertionError(f"{what}: not within {timeout:.0f}s; page log: {page_log(cdp)[-10:]}")
                time.sleep(0.1)

        def page_connected():
            try:
                return cdp.evaluate("!!(window.demoSocket && window.demoSocket.connected)") is True
            except RuntimeError:
                return False

        wait(page_connected, "the page connected")
        wait(lambda: cdp.evaluate("window.demoSocket.io.engine.transport.name") == "websocket", "the page upgraded")
        browser_node = cdp.evaluate("window.demoSocket.emitWithAck('worker_info').then(info => info.node)")
        browser_sid = cdp.evaluate("window.demoSocket.id")
        sync_peers = [SyncPeer(url) for _ in range(3)]
        assert all(peer.sio.transport() == "websocket" for peer in sync_peers)

        async def scenario():
            peers = [Peer(url, f"127.0.{index}.1") for index in range(1, 10)]
            try:
                await asyncio.gather(*(peer.connect() for peer in peers))
                nodes = await asyncio.gather(*(peer.node() for peer in peers))
                assert len(set(nodes)) == 3, nodes

                async def everyone_gets(tag: str, send, timeout: float = 30.0):
                    """Sends `tag` (again each second until it arrives) until every client has it."""
                    deadline = asyncio.get_running_loop().time() + timeout
                    while True:
                        await send(tag)
                        for _ in range(20):
                            if (all(tag in peer.responses for peer in peers) and all(p.got(tag) for p in sync_peers)
                                    and page_got(cdp, tag)):
                                return
                            await asyncio.sleep(0.05)
                        assert asyncio.get_running_loop().time() < deadline, (
                            f"{tag!r} missing: peers {[tag in p.responses for p in peers]}, "
                            f"sync {[p.got(tag) for p in sync_peers]}, page {page_got(cdp, tag)}")

                async def broadcast(tag):
                    await peers[0].sio.emit("my_broadcast_event", {"data": tag})

                async def emitter(tag):
                    await asyncio.to_thread(subprocess.run, [
                        str(demo_binary("socketio-emit")), "--message-queue", queue, "my_response",
                        json.dumps({"data": tag, "count": 0})], check=True, capture_output=True, timeout=60)

                await everyone_gets("before the kill", broadcast)

                victim_port = int(browser_node.rsplit(":", 1)[1])
                pid = int((tmp_path / "cluster" / "workers" / f"{victim_port}.pid").read_text())
                os.kill(pid, signal.SIGKILL)

                # Everyone reconnects; the victim's clients land on the other workers.
                deadline = asyncio.get_running_loop().time() + 60
                while True:
                    try:
                        moved = [await peer.node() for peer in peers]
                        page_node = await asyncio.to_thread(
                            cdp.evaluate, "window.demoSocket.connected ? window.demoSocket.emitWithAck('worker_info')"
                                          ".then(info => info.node) : null")
                        sync_ok = all(p.sio.connected for p in sync_peers)
                    except Exception:
                        moved, page_node, sync_ok = [browser_node], None, False
                    if browser_node not in moved and page_node not in (None, browser_node) and sync_ok:
                        break
                    assert asyncio.get_running_loop().time() < deadline, (moved, page_node, sync_ok)
                    await asyncio.sleep(0.5)
                assert cdp.evaluate("window.demoSocket.id") != browser_sid

                await everyone_gets("from the emitter after the kill", emitter)
                await everyone_gets("broadcast after the kill", broadcast)
            finally:
                await asyncio.gather(*(peer.close() for peer in peers), return_exceptions=True)

        asyncio.run(scenario())
    finally:
        for peer in sync_peers:
            try:
                peer.sio.disconnect()
            except Exception:
                pass
        if cdp:
            cdp.close()
        if browser:
            browser.stop()
        subprocess.run(["bash", CLUSTER, "down"], env=env, capture_output=True, timeout=120)
