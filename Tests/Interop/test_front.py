"""The front users deploy (issue 13, items 3, 4, 9, 10, 11, 12), end to end on loopback.

`scripts/cluster up --workers 3 --queue redis` starts three socketio-demo workers behind the
project's nginx (generated from nginx/socketio.conf.template) on a free port. Through it:
python-socketio clients with default transports (polling, then a WebSocket upgrade whose
websocket-client handshake carries an `Origin`) and polling clients that send an `Origin`
connect and exchange events; a refused Origin gets an HTTP answer and nginx keeps routing to
that worker; a spoofed `X-Forwarded-For` does not reach handlers. Directly on a worker:
slowloris connections are closed, pipelined requests whose answers are never read leave the
worker's memory bounded, and the probes answer. Those tests run twice: with standalone workers
and with workers mounted on Hummingbird (`--server hummingbird`). Clients bind 127.0.N.1 source addresses so
that ip_hash (which keys on the /24) spreads them.

Every wait is bounded; nothing asserts on speed.
"""
from __future__ import annotations

import asyncio
import json
import os
import pathlib
import socket
import stat
import subprocess
import threading
import time

import aiohttp
import pytest
import socketio

from eio_support import async_wait_for, free_cluster_base
from conftest import REPO_ROOT, both_servers, demo_binary, server_args, start_server

CLUSTER = os.path.join(REPO_ROOT, "scripts", "cluster")
# Short limits on the workers, so that the slowloris checks take seconds (defaults: 60 s,
# 300 s and 5 s).
WORKER_ARGS = "--headers-timeout-ms 2000 --request-timeout-ms 3000 --keep-alive-timeout-ms 2000"

pytestmark = pytest.mark.timeout(300)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


class Front:
    def __init__(self, tmp: pathlib.Path, server_kind: str = "standalone"):
        self.tmp = tmp
        self.env = dict(
            os.environ,
            SOCKETIO_RUN_DIR=str(tmp),
            SOCKETIO_BIN_DIR=str(demo_binary().parent),
            SOCKETIO_WORKER_ARGS=" ".join((WORKER_ARGS, *server_args(server_kind))),
        )
        self.port = free_port()
        # Workers on base..base+2, redis on base+11000 (scripts/cluster).
        self.base = free_cluster_base(30000)
        self.url = self.cluster("up", "--workers", "3", "--queue", "redis",
                                "--listen", f"127.0.0.1:{self.port}", "--base-port", str(self.base))
        self.worker_ports = [self.base + i for i in range(3)]

    def cluster(self, *args: str) -> str:
        result = subprocess.run(["bash", CLUSTER, *args], env=self.env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"scripts/cluster {' '.join(args)} failed:\n{result.stderr[-3000:]}"
        return result.stdout.strip()

    def worker_pid(self, port: int) -> int:
        return int((self.tmp / "cluster" / "workers" / f"{port}.pid").read_text())

    def nginx_errors(self) -> str:
        path = self.tmp / "cluster" / "nginx" / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def down(self) -> None:
        subprocess.run(["bash", CLUSTER, "down"], env=self.env, capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def front(tmp_path_factory, server_kind):
    """The cluster behind nginx; its workers are standalone or mounted on Hummingbird (the
    tests marked `@both_servers("module")` run against both, one cluster each)."""
    front = Front(tmp_path_factory.mktemp("front"), server_kind)
    try:
        yield front
    finally:
        front.down()


def raw_exchange(port: int, request: bytes, source: str = "127.0.0.1", timeout: float = 10.0) -> bytes:
    """Sends `request` on a new connection from `source`; returns what came back until the
    server closed the connection or `timeout` passed."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0)) as sock:
        sock.sendall(request)
        data = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data:
                head, _, body = data.partition(b"\r\n\r\n")
                length = [int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
                if length and len(body) >= length[0]:
                    break
        return data


def status_of(answer: bytes) -> int | None:
    parts = answer.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[0].startswith(b"HTTP/") else None


class AsyncPeer:
    """A python-socketio AsyncClient from its own source address."""

    def __init__(self, url: str, address: str, polling_only: bool = False, headers: dict | None = None,
                 websocket_only: bool = False):
        self.url = url
        self.address = address
        self.polling_only = polling_only
        self.websocket_only = websocket_only
        self.headers = headers or {}
        self.responses: list = []
        self.session = None
        self.sio = None

    async def connect(self):
        connector = aiohttp.TCPConnector(local_addr=(self.address, 0))
        self.session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.sio = socketio.AsyncClient(http_session=self.session, reconnection=False)
        self.sio.on("my_response", lambda message: self.responses.append(message.get("data")))
        await self.sio.connect(self.url, headers=self.headers, wait_timeout=10,
                               transports=["polling"] if self.polling_only else ["websocket"] if self.websocket_only else None)

    async def info(self):
        return await self.sio.call("worker_info", timeout=10)

    async def close(self):
        if self.sio:
            try:
                await self.sio.disconnect()
            except Exception:
                pass
        if self.session:
            await self.session.close()


# ---------------------------------------------------------------------------
# item 10: real clients through the front
# ---------------------------------------------------------------------------

@both_servers("module")
def test_default_transport_and_origin_clients_connect_and_exchange_events(front):
    """12 default-transport clients (the WebSocket upgrade carries `Origin: http://host:port`,
    which only matches when nginx forwards Host with its port) and 12 clients that send an
    Origin on every request (half polling-only), spread over the workers."""
    lock = threading.Lock()
    sync_got: list[list] = []
    sync_clients = []
    try:
        for index in range(12):
            got: list = []
            sync_got.append(got)
            client = socketio.Client(reconnection=False)

            def on_response(message, got=got):
                with lock:
                    got.append(message.get("data"))

            client.on("my_response", on_response)
            client.connect(front.url, wait_timeout=10)
            sync_clients.append(client)
        assert all(client.transport() == "websocket" for client in sync_clients), [c.transport() for c in sync_clients]

        async def scenario():
            peers = [AsyncPeer(front.url, f"127.0.{index}.1", polling_only=index % 2 == 0, headers={"Origin": front.url})
                     for index in range(1, 13)]
            try:
                await asyncio.gather(*(peer.connect() for peer in peers))
                infos = await asyncio.gather(*(peer.info() for peer in peers))
                assert {info["node"] for info in infos} == {f"127.0.0.1:{port}" for port in front.worker_ports}
                assert [info["client"] for info in infos] == [peer.address for peer in peers]
                assert all(peer.sio.transport() == "polling" for peer in peers if peer.polling_only)
                assert all(peer.sio.transport() == "websocket" for peer in peers if not peer.polling_only)
                # Events both ways, across workers, until every client has seen one broadcast.
                for attempt in range(40):
                    tag = f"front {attempt}"
                    await peers[0].sio.emit("my_broadcast_event", {"data": tag})
                    if await async_wait_for(lambda: all(tag in peer.responses for peer in peers)
                                      and all(tag in got for got in sync_got), timeout=1):
                        break
                else:
                    raise AssertionError("a broadcast never reached every client")
                sync_clients[3].emit("my_event", {"data": "hello from sync"})
                assert await async_wait_for(lambda: "hello from sync" in sync_got[3])
            finally:
                await asyncio.gather(*(peer.close() for peer in peers), return_exceptions=True)

        asyncio.run(scenario())
    finally:
        for client in sync_clients:
            try:
                client.disconnect()
            except Exception:
                pass


@both_servers("module")
def test_refused_origin_gets_an_http_answer_and_the_worker_stays_in_rotation(front):
    source = "127.0.88.1"

    async def node():
        peer = AsyncPeer(front.url, source)
        try:
            await peer.connect()
            return (await peer.info())["node"]
        finally:
            await peer.close()

    before = asyncio.run(node())
    host = f"127.0.0.1:{front.port}"
    polling = (f"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: {host}\r\n"
               "Origin: http://evil.example\r\nConnection: close\r\n\r\n").encode()
    upgrade = (f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {host}\r\n"
               "Origin: http://evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()
    for _ in range(5):
        for request in (polling, upgrade):
            answer = raw_exchange(front.port, request, source=source)
            assert status_of(answer) == 400, answer[:300]
            head, _, body = answer.partition(b"\r\n\r\n")
            assert json.loads(body) == {"code": 3, "message": "Not an accepted origin"}
            # A refused request gets no CORS grant.
            assert b"access-control-allow-origin" not in head.lower()
            assert b"access-control-allow-credentials" not in head.lower()
    # nginx did not take the worker out of rotation for its clients' mistakes.
    assert asyncio.run(node()) == before
    assert "prematurely closed" not in front.nginx_errors()


@both_servers("module")
def test_spoofed_forwarded_for_does_not_reach_handlers(front):
    async def scenario():
        peers = [
            AsyncPeer(front.url, "127.0.90.1", headers={"X-Forwarded-For": "203.0.113.66", "X-Real-IP": "203.0.113.67"}),
            AsyncPeer(front.url, "127.0.91.1", polling_only=True, headers={"X-Forwarded-For": "203.0.113.66, 198.51.100.1"}),
        ]
        try:
            await asyncio.gather(*(peer.connect() for peer in peers))
            infos = await asyncio.gather(*(peer.info() for peer in peers))
            assert [info["client"] for info in infos] == ["127.0.90.1", "127.0.91.1"]
        finally:
            await asyncio.gather(*(peer.close() for peer in peers), return_exceptions=True)

    asyncio.run(scenario())


@both_servers()
def test_forwarded_for_counts_only_from_trusted_proxies(server_kind):
    """Reliability review F6: with `--trusted-proxies`, only those peers name the client;
    a client that reaches the worker directly is reported with its own address, whatever
    X-Forwarded-For it sends, on every transport's handshake."""
    server = start_server("--trusted-proxies", "127.0.80.1, 10.0.0.0/8", *server_args(server_kind))
    forwarded = {"X-Forwarded-For": "203.0.113.66"}

    async def scenario():
        peers = [
            AsyncPeer(server.url, "127.0.80.1", headers=forwarded),
            AsyncPeer(server.url, "127.0.80.1", headers=forwarded, websocket_only=True),
            AsyncPeer(server.url, "127.0.81.1", headers=forwarded),
            AsyncPeer(server.url, "127.0.81.2", headers=forwarded, polling_only=True),
            AsyncPeer(server.url, "127.0.81.3", headers=forwarded, websocket_only=True),
        ]
        try:
            await asyncio.gather(*(peer.connect() for peer in peers))
            infos = await asyncio.gather(*(peer.info() for peer in peers))
            assert [info["client"] for info in infos] == [
                "203.0.113.66", "203.0.113.66", "127.0.81.1", "127.0.81.2", "127.0.81.3"]
        finally:
            await asyncio.gather(*(peer.close() for peer in peers), return_exceptions=True)

    try:
        asyncio.run(scenario())
        server.assert_alive()
    finally:
        server.stop()
    refused = subprocess.run([demo_binary("socketio-demo"), "--trusted-proxies", "10.0.0.0/33", "--port", "0"],
                             capture_output=True, text=True, timeout=20)
    assert refused.returncode != 0 and "10.0.0.0/33" in refused.stderr, refused.stderr


# ---------------------------------------------------------------------------
# item 4: slowloris, directly on a worker (nginx has its own client timeouts)
# ---------------------------------------------------------------------------

def closed_by_server(sock: socket.socket, deadline: float) -> bool:
    """Whether the server closes `sock` before `deadline` (reads and drops what it sends)."""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            if not sock.recv(65536):
                return True
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            return True
    return False


@both_servers("module")
def test_slowloris_connections_are_closed(front):
    port = front.worker_ports[0]
    slow: list[socket.socket] = []
    try:
        for index in range(30):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            kind = index % 3
            if kind == 0:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # headers never finish
            elif kind == 1:
                pass  # sends nothing at all
            else:
                # A POST whose body never comes.
                sock.sendall(b"POST /socket.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n4")
            slow.append(sock)
        # An ordinary client is served meanwhile.
        assert status_of(raw_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")) == 200
        deadline = time.monotonic() + 20  # limits: 2 s and 3 s
        still_open = [index for index, sock in enumerate(slow) if not closed_by_server(sock, deadline)]
        assert not still_open, f"connections {still_open} were never closed"
    finally:
        for sock in slow:
            sock.close()

    # An idle kept-alive connection is closed after keepAliveTimeout.
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert closed_by_server(sock, time.monotonic() + 20)

    # Too many header fields or too many header bytes: 400 and the connection is closed.
    many = b"".join(b"X-Filler-%d: x\r\n" % index for index in range(300))
    answer = raw_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    assert status_of(answer) == 400, answer[:200]
    answer = raw_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40000 + b"\r\n\r\n")
    assert status_of(answer) == 400, answer[:200]


# ---------------------------------------------------------------------------
# item 3: pipelined requests whose answers are never read
# ---------------------------------------------------------------------------

@both_servers("module")
def test_pipelined_requests_never_read_keep_memory_bounded(front):
    port = front.worker_ports[1]
    pid = front.worker_pid(port)
    # Warm up (the page, the allocator) before the baseline.
    for _ in range(20):
        raw_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    before = rss_bytes(pid)
    chunk = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 2000  # 54 kB: 2000 requests for a 4 kB page each
    budget = 3 * 1024 * 1024  # per connection: ~115,000 requests, ~470 MB of answers
    sockets = []
    sent_total = 0
    try:
        for _ in range(2):
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.settimeout(5)
            sock.connect(("127.0.0.1", port))
            sockets.append(sock)
            sent = 0
            deadline = time.monotonic() + 30
            while sent < budget and time.monotonic() < deadline:
                try:
                    sock.sendall(chunk)
                except (socket.timeout, BrokenPipeError, ConnectionResetError):
                    break  # the worker stopped reading, or closed this connection
                sent += len(chunk)
            sent_total += sent
        time.sleep(1.0)
        grown = rss_bytes(pid) - before
    finally:
        for sock in sockets:
            sock.close()
    assert grown < 48 * 1024 * 1024, f"worker RSS grew by {grown / 2**20:.0f} MiB after {sent_total / 2**20:.1f} MiB of unread pipelined requests"
    # The worker still serves.
    assert status_of(raw_exchange(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")) == 200


# ---------------------------------------------------------------------------
# item 9: probes
# ---------------------------------------------------------------------------

@both_servers("module")
def test_readiness_and_liveness(front):
    for port in front.worker_ports:
        for path in ("/readyz", "/healthz"):
            answer = raw_exchange(port, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            assert status_of(answer) == 200, (port, path, answer[:200])
    # Through nginx too (the path does not collide with the page or the engine path).
    answer = raw_exchange(front.port, b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status_of(answer) == 200 and answer.endswith(b'{"status":"ready"}')
    page = raw_exchange(front.port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status_of(page) == 200 and b"<!DOCTYPE html>" in page


# ---------------------------------------------------------------------------
# item 11: scripts/cluster builds what it runs
# ---------------------------------------------------------------------------

def test_cluster_script_builds_release_when_no_binary_is_given(tmp_path):
    """Without SOCKETIO_BIN_DIR, `scripts/cluster up` runs `swift build -c release` and starts
    that build's socketio-demo (here a stand-in `swift` on PATH records the calls and "builds"
    a stand-in worker), instead of asking for a debug build."""
    fake_bin = tmp_path / "fake-bin"
    release = tmp_path / "release"
    fake_bin.mkdir()
    release.mkdir()
    calls = tmp_path / "swift-calls"
    swift = fake_bin / "swift"
    swift.write_text(f"""#!/usr/bin/env bash
echo "$*" >> {calls}
case "$*" in
*--show-bin-path*) case "$*" in *release*) echo {release} ;; *) echo {tmp_path}/debug ;; esac ;;
*"build -c release --product socketio-demo"*)
    cat > {release}/socketio-demo <<'EOF'
#!/usr/bin/env bash
port=""
while [ $# -gt 0 ]; do [ "$1" = --port ] && port="$2"; shift; done
echo "listening on http://127.0.0.1:$port"
exec sleep 120
EOF
    chmod +x {release}/socketio-demo ;;
esac
""")
    swift.chmod(swift.stat().st_mode | stat.S_IXUSR)
    env = dict(os.environ, SOCKETIO_RUN_DIR=str(tmp_path / "run"), PATH=f"{fake_bin}:{os.environ['PATH']}")
    env.pop("SOCKETIO_BIN_DIR", None)
    base = free_cluster_base(33000)
    up = subprocess.run(["bash", CLUSTER, "up", "--workers", "1", "--queue", "redis://127.0.0.1:1",
                         "--listen", f"127.0.0.1:{free_port()}", "--base-port", str(base)],
                        env=env, capture_output=True, text=True, timeout=120)
    try:
        assert up.returncode == 0, up.stderr
        assert "build -c release --product socketio-demo" in calls.read_text()
    finally:
        subprocess.run(["bash", CLUSTER, "down"], env=env, capture_output=True, timeout=60)


# ---------------------------------------------------------------------------
# item 12: the test fixture survives events with fewer arguments than it expects
# ---------------------------------------------------------------------------

def test_testserver_defaults_missing_arguments():
    server = start_server(binary="socketio-testserver")
    try:
        client = socketio.Client(reconnection=False)
        client.connect(f"http://{server.host}:{server.port}", transports=["websocket"], wait_timeout=10)
        try:
            for event in ("server_close_room", "server_join", "server_leave", "server_disconnect"):
                assert client.call(event, timeout=10) == "ok", event
            # server_ask with no target answers with an error instead of trapping.
            assert client.call("server_ask", timeout=15)[0] in ("answer", "error")
        finally:
            client.disconnect()
        server.assert_alive("after short events")
    finally:
        server.stop()
