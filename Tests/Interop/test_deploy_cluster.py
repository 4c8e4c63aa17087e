"""The cluster as users deploy it, end to end on one machine: `scripts/cluster up --workers 3`
(workers behind nginx ip_hash; Redis, RabbitMQ, and Kafka), 60 python-socketio AsyncClients connecting through
nginx from distinct source addresses (127.0.N.1, so that ip_hash, which keys on the /24,
spreads them); polling-only clients; broadcast, room emit and socketio-emit; add-node with
an nginx reload while clients stay connected; and the loss of a worker."""
import asyncio
import os
import signal
import socket
import subprocess

import aiohttp
import pytest
import socketio

from eio_support import async_wait_for, free_cluster_base
from conftest import REPO_ROOT, demo_binary

CLUSTER = os.path.join(REPO_ROOT, "scripts", "cluster")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    def __init__(self, index, url, polling_only):
        self.index = index
        self.address = f"127.0.{index}.1"
        self.url = url
        self.polling_only = polling_only
        self.responses = []
        self.session = None
        self.sio = None

    async def connect(self):
        connector = aiohttp.TCPConnector(local_addr=(self.address, 0), force_close=False)
        # unsafe=True: keep cookies set by an IP-address host (the sio_node cookie).
        self.session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.sio = socketio.AsyncClient(http_session=self.session, reconnection=True,
                                        reconnection_delay=0.2, reconnection_delay_max=1)
        self.sio.on("my_response", self._response)
        await self.sio.connect(self.url, transports=["polling"] if self.polling_only else None, wait_timeout=20)

    async def _response(self, message):
        self.responses.append(message["data"])

    async def info(self):
        return await self.sio.call("worker_info", timeout=10)

    def got(self, data):
        return self.responses.count(data)

    async def close(self):
        if self.sio:
            await self.sio.disconnect()
        if self.session:
            await self.session.close()


async def until_connected(clients):
    """Waits until the workers' backplane subscriptions are ready (Kafka consumers resolve
    their partitions' ends asynchronously after a worker starts): probes until a broadcast
    reaches every client."""
    for attempt in range(60):
        tag = f"probe {id(clients)} {attempt}"
        await clients[0].sio.emit("my_broadcast_event", {"data": tag})
        if await async_wait_for(lambda: all(tag in client.responses for client in clients), timeout=1):
            return
    raise AssertionError("the workers never saw each other's broadcasts")


def cluster(*args, env):
    return subprocess.run(["bash", CLUSTER, *args], env=env, check=True, capture_output=True, text=True, timeout=300).stdout.strip()


@pytest.mark.timeout(300)
@pytest.mark.parametrize("queue_kind", ["redis", "amqp", "kafka"])
def test_cluster_behind_nginx(queue_kind, tmp_path):
    env = dict(os.environ, SOCKETIO_RUN_DIR=str(tmp_path), SOCKETIO_BIN_DIR=str(demo_binary().parent))
    listen = f"127.0.0.1:{free_port()}"
    # Workers on base..base+4; the script puts redis on base+11000 and RabbitMQ on base+40000.
    base = free_cluster_base(20000 + ["redis", "amqp", "kafka"].index(queue_kind) * 3000)
    url = cluster("up", "--workers", "3", "--queue", queue_kind, "--listen", listen, "--base-port", str(base), env=env)
    queue = open(os.path.join(tmp_path, "cluster", "queue.url")).read().strip()
    try:
        asyncio.run(scenario(url, queue, env, tmp_path, base))
    finally:
        subprocess.run(["bash", CLUSTER, "down"], env=env, capture_output=True, timeout=120)


async def scenario(url, queue, env, tmp_path, base):
    clients = [Client(index, url, polling_only=index % 4 == 0) for index in range(1, 61)]
    try:
        await asyncio.gather(*(client.connect() for client in clients))
        infos = await asyncio.gather(*(client.info() for client in clients))
        nodes = {info["node"] for info in infos}
        # ip_hash spread the clients over every worker.
        assert nodes == {f"127.0.0.1:{base + i}" for i in range(3)}, nodes
        # The workers see the client address through X-Forwarded-For.
        assert [info["client"] for info in infos] == [client.address for client in clients]
        # Polling-only sessions work through nginx (every request of a session is sticky).
        assert all(client.sio.transport() == "polling" for client in clients if client.polling_only)

        await until_connected(clients)

        # A broadcast reaches everyone exactly once, across workers.
        await clients[0].sio.emit("my_broadcast_event", {"data": "to everyone"})
        assert await async_wait_for(lambda: all(client.got("to everyone") for client in clients))
        await asyncio.sleep(0.3)
        assert all(client.got("to everyone") == 1 for client in clients)

        # A room emit reaches exactly the room's members, on whichever worker they are.
        members = clients[1:11]
        for member in members:
            await member.sio.emit("join", {"room": "lobby"})
        await asyncio.sleep(0.5)
        await clients[20].sio.emit("my_room_event", {"room": "lobby", "data": "to lobby"})
        assert await async_wait_for(lambda: all(member.got("to lobby") == 1 for member in members))
        await asyncio.sleep(0.3)
        assert sum(client.got("to lobby") for client in clients) == len(members)

        # An emit from a batch job (socketio-emit) reaches everyone.
        subprocess.run([str(demo_binary("socketio-emit")), "--message-queue", queue, "my_response", '{"data":"from the emitter","count":0}'],
                       check=True, timeout=60)
        assert await async_wait_for(lambda: all(client.got("from the emitter") == 1 for client in clients))

        # Scale out: add a node while clients are connected; nginx reloads without dropping them.
        new_port = int(cluster("add-node", env=env))
        await asyncio.sleep(1.0)
        assert all(client.sio.connected for client in clients)
        newcomers = [Client(index, url, polling_only=False) for index in range(61, 81)]
        clients += newcomers
        await asyncio.gather(*(client.connect() for client in newcomers))
        new_infos = await asyncio.gather(*(client.info() for client in newcomers))
        assert any(info["node"] == f"127.0.0.1:{new_port}" for info in new_infos), new_infos
        await until_connected(clients)
        await clients[5].sio.emit("my_broadcast_event", {"data": "after scale out"})
        assert await async_wait_for(lambda: all(client.got("after scale out") == 1 for client in clients)), [
            (client.index, client.polling_only, client.got("after scale out"), client.sio.connected) for client in clients if client.got("after scale out") != 1]
        # Existing polling and WebSocket sessions survived the reload.
        assert await clients[3].info() and await clients[4].info()

        # Node loss: kill a worker; its clients reconnect through nginx to the others.
        victim_node = f"127.0.0.1:{base}"
        victims = [client for client, info in zip(clients, infos + new_infos) if info["node"] == victim_node]
        assert victims
        pid = int(open(os.path.join(tmp_path, "cluster", "workers", f"{base}.pid")).read())
        os.kill(pid, signal.SIGKILL)

        async def reconnected():
            for victim in victims:
                try:
                    info = await victim.info()
                except Exception:
                    return False
                if info["node"] == victim_node:
                    return False
            return True

        deadline = asyncio.get_running_loop().time() + 40
        while not await reconnected():
            assert asyncio.get_running_loop().time() < deadline, "victims did not reconnect"
            await asyncio.sleep(0.5)
        await clients[30].sio.emit("my_broadcast_event", {"data": "after node loss"})
        assert await async_wait_for(lambda: all(client.got("after node loss") == 1 for client in clients), timeout=20)
    finally:
        await asyncio.gather(*(client.close() for client in clients), return_exceptions=True)
