"""The cluster chaos suite (issue 13, items 5-9): real brokers started by the project's
scripts on free loopback ports (redis-server, rabbitmq-server; librdkafka's mock cluster
where it allows), real worker processes, python-socketio clients.

- thousands of concurrent emits from several event loops (`socketio-demo --threads 2`) and
  several publishers (two workers and the `socketio-emit` CLI) across 3 workers: every
  client gets every event exactly once, in order per publisher;
- a quiet channel for 30 s: no reconnect, then emits arrive;
- a broker restart on the same port: emits arrive again, exactly once, in order;
- garbage, forged (a worker's host id and epoch with a huge sequence number) and oversized
  messages published straight on the channel: one log line each and nothing else;
- a message the broker refuses (Redis `proto-max-bulk-len`, RabbitMQ `max_message_size`):
  dropped after bounded tries with one log line, the messages behind it still go;
- `socketio-emit` never subscribes (no Redis subscriber, no AMQP queue).

Tests never assert on speed: every wait is bounded, and only what arrived is checked."""
import json
import os
import re
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest
import socketio

from conftest import demo_binary, start_server
from eio_support import record_events_in_wire_order, wait_for
from test_cluster import SCRIPTS, Broker, Peer, free_port_block, settle, wait_until_connected

# Log lines a worker writes for what outsiders publish on the channel (one each).
OUTSIDER_LINES = re.compile(
    r"dropped an invalid message-queue message|dropped an inbound backplane message|"
    r"emit numbered far outside its publisher's window"
)
RECONNECT_LINES = re.compile(r"lost its connection|resubscribed|reconnected|cannot connect")


class DemoPeer:
    """A python-socketio client of socketio-demo that records `my_response` payloads in the
    order the read loop receives them (python-engineio dispatches handlers on threads)."""

    def __init__(self, url, room=None):
        self.lock = threading.Lock()
        self.wire = []
        self.client = socketio.Client(reconnection=False)

        def recording(packet):
            if packet and packet[0] == "my_response":
                with self.lock:
                    self.wire.append(packet[1:])

        record_events_in_wire_order(self.client, recording)
        self.client.connect(url, transports=["websocket"])
        assert wait_for(lambda: self.responses(), timeout=10), "no connect greeting"
        if room:
            self.client.emit("join", {"room": room})
            assert wait_for(lambda: any("In rooms" in str(args[0].get("data")) for args in self.responses()), timeout=10)

    def responses(self):
        with self.lock:
            return list(self.wire)

    def numbered(self):
        """{publisher: [n, ...]} of the numbered events received, in arrival order."""
        found = {}
        for args in self.responses():
            first = args[0] if args else None
            if not isinstance(first, dict):
                continue
            data = first.get("data")
            if isinstance(data, dict) and "s" in data:
                # A client's my_room_event: {"data": {"s": sender, "n": n}, "count": c}.
                found.setdefault(data["s"], []).append(data["n"])
            elif data == "cli" and len(args) == 2:
                # socketio-emit --count: the number is appended as the last argument.
                found.setdefault("cli", []).append(args[1])
        return found

    def close(self):
        if self.client.connected:
            self.client.disconnect()


def start_demo(url, *extra):
    return start_server("--message-queue", url, "--threads", "2", *extra)


def start_demo_with_queue_in_environment(url):
    """A worker given its URL in SOCKETIO_MESSAGE_QUEUE, as every deployment file hands it
    over (out of argv)."""
    return start_server("--threads", "2", env=dict(os.environ, SOCKETIO_MESSAGE_QUEUE=url))


def serves_its_own_client(worker, text):
    """Whether a client of `worker` gets the answer to its own event (no backplane needed)."""
    peer = DemoPeer(worker.url)
    try:
        peer.client.emit("my_event", {"data": text})
        return wait_for(lambda: any(args[0].get("data") == text for args in peer.responses()), timeout=10)
    finally:
        peer.close()


def demo_ready(workers):
    """A broadcast from each worker reaches a client of every worker (subscriptions up)."""
    peers = [DemoPeer(worker.url) for worker in workers]
    try:
        for index, sender in enumerate(peers):
            def delivered():
                sender.client.emit("my_broadcast_event", {"data": f"probe{index}"})
                return wait_for(lambda: all(any(args[0].get("data") == f"probe{index}" for args in peer.responses())
                                                for peer in peers if peer is not sender), timeout=1)
            assert wait_for(delivered, timeout=30), "the workers never saw each other's broadcasts"
    finally:
        for peer in peers:
            peer.close()


@pytest.fixture(scope="module", params=["redis", "amqp", "kafka"])
def broker(request, tmp_path_factory):
    made = Broker(request.param, tmp_path_factory.mktemp(f"chaos-{request.param}"))
    yield made
    made.down()


@pytest.fixture(scope="module")
def demo_workers(broker):
    workers = [start_demo(broker.url) for _ in range(3)]
    try:
        demo_ready(workers)
        yield workers
        for worker in workers:
            worker.assert_alive("at teardown")
    finally:
        for worker in workers:
            worker.stop()


def check_exactly_once_in_order(peer, expected, label):
    got = peer.numbered()
    problems = []
    for publisher, count in expected.items():
        numbers = got.get(publisher, [])
        if numbers != list(range(count)):
            missing = sorted(set(range(count)) - set(numbers))
            problems.append(f"{label} from {publisher}: {len(numbers)} of {count}, {len(missing)} missing "
                            f"(first {missing[:5]}), {len(numbers) - len(set(numbers))} repeats, "
                            f"in order: {numbers == sorted(numbers)}")
    return problems


@pytest.mark.timeout(240)
def test_thousands_of_concurrent_emits_exactly_once_in_order(broker, demo_workers):
    """Items 5 and 7 (dedupe): 8 clients on worker A and 4 on worker B emit 250 room events
    each, all at once, while socketio-emit publishes 1000: a member of the room on each of
    the 3 workers gets all 4000, once each, in order per publisher. Baseline before the fix:
    1973 of 2000 on the remote worker (numbers stamped under a lock, enqueued after it)."""
    room = "sink"
    listeners = [DemoPeer(worker.url, room=room) for worker in demo_workers]
    senders = [(f"a{k}", DemoPeer(demo_workers[0].url)) for k in range(8)]
    senders += [(f"b{k}", DemoPeer(demo_workers[1].url)) for k in range(4)]
    per_sender = 250
    try:
        start = threading.Barrier(len(senders) + 1)

        def blast(name, peer):
            start.wait()
            for n in range(per_sender):
                peer.client.emit("my_room_event", {"room": room, "data": {"s": name, "n": n}})

        threads = [threading.Thread(target=blast, args=(name, peer)) for name, peer in senders]
        for thread in threads:
            thread.start()
        emitter = subprocess.Popen(
            [str(demo_binary("socketio-emit")), "--message-queue", broker.url, "--room", room, "--count", "1000",
             "my_response", '{"data":"cli"}'],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        start.wait()
        for thread in threads:
            thread.join(120)
        _, err = emitter.communicate(timeout=180)
        assert emitter.returncode == 0, err
        expected = {name: per_sender for name, _ in senders}
        expected["cli"] = 1000
        total = sum(expected.values())

        def received(peer):
            return sum(len(v) for v in peer.numbered().values())

        # One bounded wait for all of them (what is missing never comes).
        wait_for(lambda: all(received(listener) >= total for listener in listeners), timeout=90)
        settle()
        problems = []
        for index, listener in enumerate(listeners):
            problems += check_exactly_once_in_order(listener, expected, f"worker {index}")
        assert not problems, "\n".join(problems)
    finally:
        for peer in listeners + [peer for _, peer in senders]:
            peer.close()


@pytest.mark.timeout(120)
def test_garbage_forged_and_oversized_cost_one_line_each(broker, demo_workers):
    """Item 7: what outsiders publish on the channel costs each worker one log line per
    message and nothing else: a forged emit with worker A's host id, epoch and a huge
    number does not silence A; later emits arrive, once each, in order."""
    a, b, c = demo_workers
    watcher = DemoPeer(b.url, room="after")
    other = DemoPeer(c.url, room="after")
    sender = DemoPeer(a.url)
    try:
        garbage = [b"not json", b"[]", b'{"method":"emit","event":1}', b"{" * 50000, b"\xff\xfe",
                   b'{"method":"emit","event":"e","binary":true,"host_id":"x","data":'
                   b'[[{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}],"AAAA"]}']
        injected = list(garbage)
        # Oversized: above what a worker accepts (maxPayload 1,000,000 as base64 + envelope).
        injected.append(json.dumps({"method": "emit", "event": "big", "data": ["x" * 2_500_000], "namespace": "/",
                                    "room": "nobody", "skip_sid": None, "callback": None, "host_id": "y"}).encode())
        host, stamp = broker_identity(broker, sender) if broker.kind != "kafka" else (None, {})
        if host:
            # Worker A's host id (and epoch, where it has one) with a huge number.
            injected.append(json.dumps({"method": "emit", "event": "forged", "data": [], "namespace": "/",
                                        "room": "nobody", "skip_sid": None, "callback": None, "host_id": host,
                                        **stamp, "seq": 10 ** 15}).encode())
        before = len(OUTSIDER_LINES.findall(b.output()))
        for payload in injected:
            broker.publish_raw(payload)
        for n in range(50):
            sender.client.emit("my_room_event", {"room": "after", "data": {"s": "after", "n": n}})
        wait_for(lambda: all(len(peer.numbered().get("after", [])) >= 50 for peer in (watcher, other)), timeout=30)
        settle()
        problems = check_exactly_once_in_order(watcher, {"after": 50}, "worker B")
        problems += check_exactly_once_in_order(other, {"after": 50}, "worker C")
        assert not problems, "\n".join(problems)
        # One line each, no more (a budget bounds floods; these are well within it).
        wait_for(lambda: len(OUTSIDER_LINES.findall(b.output())) - before >= len(injected), timeout=10)
        assert len(OUTSIDER_LINES.findall(b.output())) - before == len(injected), b.output()[-3000:]
        for worker in demo_workers:
            worker.assert_alive("after garbage")
    finally:
        for peer in (watcher, other, sender):
            peer.close()


def stamp_of(body):
    """The host id and stamp fields of a numbered emit, or None."""
    if isinstance(body, (str, bytes)):
        body = json.loads(body)
    if body.get("method") == "emit" and "seq" in body:
        return body["host_id"], {key: body[key] for key in ("epoch",) if key in body}
    return None


def broker_identity(broker, client):
    """Worker A's host id (and epoch), read off the channel like any subscriber could."""
    if broker.kind == "redis":
        import redis
        pubsub = redis.Redis(host="127.0.0.1", port=broker.port).pubsub()
        pubsub.subscribe("socketio")
        pubsub.get_message(timeout=2)  # the subscribe confirmation
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                client.client.emit("my_broadcast_event", {"data": "identify"})
                message = pubsub.get_message(timeout=1)
                while message:
                    if message["type"] == "message" and stamp_of(message["data"]):
                        return stamp_of(message["data"])
                    message = pubsub.get_message(timeout=0.2)
        finally:
            pubsub.close()
        raise AssertionError("no stamped emit seen on the channel")
    import kombu
    with kombu.Connection(broker.url) as connection:
        exchange = kombu.Exchange("socketio", type="fanout", durable=False)
        queue = kombu.Queue("chaos-identify", exchange=exchange, auto_delete=True, exclusive=True)
        found = []
        with connection.Consumer(queue, accept=["text/plain", "json"],
                                 callbacks=[lambda body, message: (found.append(body), message.ack())]):
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not found:
                client.client.emit("my_broadcast_event", {"data": "identify"})
                try:
                    connection.drain_events(timeout=1)
                except Exception:  # socket.timeout: nothing yet
                    pass
        for body in found:
            if stamp_of(body):
                return stamp_of(body)
    raise AssertionError("no stamped emit seen on the channel")


@pytest.fixture(scope="module")
def quiet_brokers(tmp_path_factory):
    made = {kind: Broker(kind, tmp_path_factory.mktemp(f"quiet-{kind}")) for kind in ("redis", "amqp")}
    yield made
    for broker in made.values():
        broker.down()


@pytest.mark.timeout(180)
def test_quiet_channel_for_30s_then_emits(quiet_brokers):
    """Item 6 (Redis subscriber without receive timeout) and item 8 (idle RabbitMQ
    publisher keeps its connection): two workers per broker, nothing published for 30 s;
    no worker logs a reconnect, then a broadcast reaches the other worker."""
    groups = {kind: [start_server("--message-queue", broker.url, binary="socketio-testserver") for _ in range(2)]
              for kind, broker in quiet_brokers.items()}
    try:
        for workers in groups.values():
            wait_until_connected(workers)
        marks = {kind: [len(w.output()) for w in workers] for kind, workers in groups.items()}
        time.sleep(30)
        problems = []
        for kind, workers in groups.items():
            # Judged first: what the quiet period logged (the emit below may reconnect).
            for index, (worker, mark) in enumerate(zip(workers, marks[kind])):
                quiet_log = worker.output()[mark:]
                if RECONNECT_LINES.search(quiet_log):
                    problems.append(f"{kind} worker {index} reconnected while idle:\n{quiet_log[-1500:]}")
            peers = [Peer(worker.url) for worker in workers]
            try:
                assert peers[0].client.call("broadcast", (f"after quiet {kind}",)) == "sent"
                wait_for(lambda: peers[1].named("broadcast_message"), timeout=20)
                settle()
                if peers[1].named("broadcast_message") != [(f"after quiet {kind}",)]:
                    problems.append(f"{kind}: the other worker got {peers[1].named('broadcast_message')}")
            finally:
                for peer in peers:
                    peer.close()
            for worker, mark in zip(workers, marks[kind]):
                if re.search(r"amqp publisher lost its connection|redis subscriber lost its connection", worker.output()[mark:]):
                    problems.append(f"{kind}: the first emit after the quiet period found a dead connection")
        assert not problems, "\n".join(problems)
    finally:
        for workers in groups.values():
            for worker in workers:
                worker.stop()


def own_broker(kind, tmp_path, extra_conf=None, redis_password=None):
    made = Broker.__new__(Broker)
    made.kind = kind
    made.port = free_port_block()
    made.env = dict(os.environ, SOCKETIO_RUN_DIR=str(tmp_path))
    if extra_conf:
        made.env["SOCKETIO_RABBITMQ_EXTRA_CONF"] = extra_conf
    if redis_password:
        made.env["SOCKETIO_REDIS_PASSWORD"] = redis_password
    made.script = os.path.join(SCRIPTS, Broker.SCRIPT[kind])
    made.url = made.up()
    return made


@pytest.mark.parametrize("kind", ["redis", "amqp"])
@pytest.mark.timeout(240)
def test_broker_restart_then_emits_arrive(kind, tmp_path):
    """Broker restart on the same port: the workers reconnect and resubscribe by
    themselves; then 200 numbered broadcasts reach the other worker once each, in order."""
    restarted = own_broker(kind, tmp_path)
    workers = [start_demo(restarted.url) for _ in range(2)]
    peers = []
    try:
        demo_ready(workers)
        restarted.down()
        time.sleep(1.0)
        restarted.up()
        demo_ready(workers)  # bounded: the subscriptions are back
        peers = [DemoPeer(workers[0].url), DemoPeer(workers[1].url, room="r")]
        for n in range(200):
            peers[0].client.emit("my_room_event", {"room": "r", "data": {"s": "restart", "n": n}})
        wait_for(lambda: len(peers[1].numbered().get("restart", [])) >= 200, timeout=60)
        settle()
        problems = check_exactly_once_in_order(peers[1], {"restart": 200}, "worker B")
        assert not problems, "\n".join(problems)
        for worker in workers:
            worker.assert_alive("after the restart")
    finally:
        for peer in peers:
            peer.close()
        for worker in workers:
            worker.stop()
        restarted.down()


@pytest.mark.timeout(120)
def test_a_password_protected_redis(tmp_path):
    """The deployment files protect Redis with a password: workers given it in their URL
    form the cluster; one given a wrong one says why, is not ready, serves its own clients,
    and no password reaches any log."""
    broker = own_broker("redis", tmp_path, redis_password="s3cret-pw")
    assert broker.url.startswith("redis://:s3cret-pw@")
    wrong_url = broker.url.replace("s3cret-pw", "wrong-pw")
    workers = []
    try:
        for url in (broker.url, broker.url, wrong_url):
            workers.append(start_demo_with_queue_in_environment(url))
        right, wrong = workers[:2], workers[2]
        demo_ready(right)
        assert wait_for(lambda: "WRONGPASS" in wrong.output() or "AUTH failed" in wrong.output(), timeout=15), \
            wrong.output()[-2000:]
        assert readiness(wrong) == 503
        assert all(readiness(worker) == 200 for worker in right)
        assert serves_its_own_client(wrong, "local")
        for worker in workers:
            worker.assert_alive("with a password-protected broker")
            assert "s3cret-pw" not in worker.output() and "wrong-pw" not in worker.output()
    finally:
        for worker in workers:
            worker.stop()
        broker.down()


def readiness(worker):
    """The status code of the worker's `GET /readyz`."""
    try:
        with urllib.request.urlopen(worker.url + "/readyz", timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as refused:
        return refused.code


@pytest.mark.timeout(120)
def test_a_broker_outage_keeps_subscribed_workers_in_rotation(tmp_path):
    """Every worker loses the broker at once: if readiness followed the subscription, the
    load balancer would have no worker left and refuse every client. A worker that was
    subscribed stays ready and keeps serving its clients; one that starts during the outage
    is kept out of rotation until it hears the channel."""
    broker = own_broker("redis", tmp_path)
    first = start_demo(broker.url)
    late = None
    try:
        assert wait_for(lambda: readiness(first) == 200, timeout=30), "never ready"
        broker.down()
        late = start_demo_with_queue_in_environment(broker.url)
        with open(f"/proc/{late.proc.pid}/cmdline", "rb") as cmdline:
            assert broker.url.encode() not in cmdline.read()
        # Long enough for the subscriber to see the connection gone and to retry.
        time.sleep(3.0)
        assert readiness(first) == 200, "a broker outage took a subscribed worker out of rotation"
        assert readiness(late) == 503, "a worker that never subscribed reported ready"
        assert serves_its_own_client(first, "during the outage"), "a subscribed worker stopped serving its own clients"
        broker.up()
        assert wait_for(lambda: readiness(late) == 200, timeout=60), "the late worker never became ready"
        demo_ready([first, late])
        for worker in (first, late):
            worker.assert_alive("after the outage")
    finally:
        for worker in (first, late):
            if worker is not None:
                worker.stop()
        broker.down()


@pytest.mark.parametrize("kind", ["redis", "amqp"])
@pytest.mark.timeout(180)
def test_a_message_the_broker_refuses_is_dropped_and_the_rest_flows(kind, tmp_path):
    """Item 7 (poison): the broker refuses a ~1.2 MB broadcast (Redis proto-max-bulk-len
    and RabbitMQ max_message_size set to 1 MiB). The worker drops it after bounded tries
    with one log line and backoff, and the 20 broadcasts behind it arrive in order."""
    limited = own_broker(kind, tmp_path, extra_conf="max_message_size = 1048576" if kind == "amqp" else None)
    workers = []
    peers = []
    try:
        if kind == "redis":
            subprocess.run(["redis-cli", "-p", str(limited.port), "config", "set", "proto-max-bulk-len", "1048576"],
                           check=True, capture_output=True, timeout=10)
        workers = [start_demo(limited.url) for _ in range(2)]
        demo_ready(workers)
        peers = [DemoPeer(workers[0].url), DemoPeer(workers[1].url, room="r")]
        peers[0].client.emit("my_broadcast_event", {"data": b"\x01" * 900_000})
        for n in range(20):
            peers[0].client.emit("my_room_event", {"room": "r", "data": {"s": "behind", "n": n}})
        wait_for(lambda: len(peers[1].numbered().get("behind", [])) >= 20, timeout=60)
        settle()
        problems = check_exactly_once_in_order(peers[1], {"behind": 20}, "worker B")
        assert not problems, "\n".join(problems) + "\n" + workers[0].output()[-3000:]
        log = workers[0].output()
        assert log.count("backplane message refused by the broker: dropped") == 1, log[-3000:]
        for worker in workers:
            worker.assert_alive("after a refused message")
    finally:
        for peer in peers:
            peer.close()
        for worker in workers:
            worker.stop()
        limited.down()


@pytest.mark.timeout(120)
def test_the_emitter_does_not_subscribe(broker, demo_workers):
    """Item 7 (F10): socketio-emit publishes only (python's write_only): no Redis
    subscriber, no AMQP queue left behind; the workers' AMQP queues are bounded."""
    if broker.kind == "kafka":
        pytest.skip("Kafka consumers are not visible to the broker without a group; the Swift test covers the role")
    emit = str(demo_binary("socketio-emit"))
    if broker.kind == "redis":
        import redis
        client = redis.Redis(host="127.0.0.1", port=broker.port)
        emitter = subprocess.Popen([emit, "--message-queue", broker.url, "--count", "100", "--interval-ms", "20", "tick", "1"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        seen = set()
        while emitter.poll() is None:
            seen.add(client.pubsub_numsub("socketio")[0][1])
            time.sleep(0.05)
        assert emitter.returncode == 0
        assert seen == {len(demo_workers)}, seen
    else:
        def queues():
            out = subprocess.run(["bash", broker.script, "ctl", str(broker.port), "list_queues", "-q", "name"],
                                 env=broker.env, capture_output=True, text=True, timeout=60, check=True).stdout
            return sorted(line for line in out.split() if line)
        before = queues()
        subprocess.run([emit, "--message-queue", broker.url, "tick", "1"], check=True, timeout=60)
        assert queues() == before
        # The workers' queues are bounded (F10): a queue whose worker died stops growing.
        listing = subprocess.run(["bash", broker.script, "ctl", str(broker.port), "list_queues", "-q", "name", "arguments"],
                                 env=broker.env, capture_output=True, text=True, timeout=60, check=True).stdout
        worker_queues = [line for line in listing.splitlines() if line.startswith("swift-socketio.")]
        assert len(worker_queues) >= len(demo_workers), listing
        for line in worker_queues:
            assert "x-max-length" in line and "x-message-ttl" in line, line
