"""Cluster-wide operations (issue 15, part 3) across 3 socketio-testserver workers on every
backplane (a real redis-server, a real rabbitmq-server, librdkafka's mock cluster and Tansu),
with python-socketio clients spread over the workers: fetchSockets and acting on a remote
socket, socketsJoin/socketsLeave/disconnectSockets, the cluster's rooms and one room's members,
serverSideEmit with and without acks, broadcasts with acks, emitWithAck to a remote sid and to
a sid no node owns, a node killed mid-request (a partial result that names it), a python
worker in the cluster (a non-member, not awaited), and the emitter's and CLI's operations.

Every test starts its own 3 workers on a channel of its own (on Kafka, a topic no other
running worker uses), so the members of its cluster are exactly its workers. The worker
events used here (`ops_*`) are documented in Sources/socketio-testserver/ClusterScenarios.swift."""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
import socketio

from conftest import REPO_ROOT, demo_binary, start_server
from eio_support import wait_for
from test_cluster import Broker, FlaskWorker

# Kafka topics are made when the broker starts, and librdkafka's mock makes many slowly: the
# Kafka tests take turns on a few (each test's workers are gone before the next one's start,
# and new consumers read from the end). The other brokers give each test a channel of its own.
KAFKA_TOPICS = [f"ops{n}" for n in range(4)]
HEARTBEAT_MS = 2000  # a silent member is dropped after 3 missed beats; room for a busy machine


class OpsBroker(Broker):
    """test_cluster's broker, with a few topics on Kafka and a channel per test."""

    def up(self):
        if self.kind == "kafka":
            args = [str(self.port), *(f"{topic}:3" for topic in KAFKA_TOPICS)]
        elif self.kind == "kafka-tansu":
            args = [str(self.port), str(self.port), *(f"{topic}:3" for topic in KAFKA_TOPICS)]
        else:
            args = [str(self.port)]
        try:
            url = self._script("up", *args)
        except RuntimeError:
            self.down()  # a half-started broker process goes too
            raise
        if self.is_kafka:
            self.bootstrap_port = int(url.rsplit(":", 1)[1])
        return url

    def next_channel(self):
        self.channels_taken = getattr(self, "channels_taken", 0) + 1
        if self.is_kafka:
            return KAFKA_TOPICS[self.channels_taken % len(KAFKA_TOPICS)]
        return f"ops{self.channels_taken}"


@pytest.fixture(scope="module", params=["redis", "amqp", "kafka", "kafka-tansu"])
def broker(request, tmp_path_factory):
    made = OpsBroker(request.param, tmp_path_factory.mktemp(request.param))
    yield made
    made.down()


class Client:
    """A python-socketio client that records events and answers `question` and `poll`."""

    def __init__(self, url, headers=None, query=None, auth=None, namespaces=None):
        self.events = []
        self.lock = threading.Lock()
        self.disconnected = threading.Event()
        self.client = socketio.Client(reconnection=False)
        self.client.on("*", self._record)
        self.client.on("*", self._record_chat, namespace="/chat")
        self.client.on("disconnect", lambda *args: self.disconnected.set())
        # A tuple answers with several arguments.
        self.client.on("question", lambda x: ("reply", x))
        self.client.on("poll", lambda *args: ("polled", self.sid, *args))
        target = url + (f"?{query}" if query else "")
        self.client.connect(target, headers=headers or {}, auth=auth, transports=["websocket"],
                            namespaces=namespaces or ["/"])
        assert wait_for(lambda: self.named("welcome"))
        self.sid = self.client.get_sid()

    def _record(self, event, *args):
        with self.lock:
            self.events.append((event, args))

    def _record_chat(self, event, *args):
        with self.lock:
            self.events.append(("/chat " + event, args))

    def named(self, name):
        with self.lock:
            return [args for event, args in self.events if event == name]

    def call(self, event, *args, timeout=30):
        return self.client.call(event, args if len(args) != 1 else args[0], timeout=timeout)

    def rooms(self):
        return self.client.call("rooms")

    def close(self):
        if self.client.connected:
            self.client.disconnect()


class Cluster:
    """3 (or `count`) workers on a channel of their own, once each knows every other one."""

    def __init__(self, broker, count=3, channel=None):
        self.broker = broker
        self.channel = channel or broker.next_channel()
        self.workers = []
        self.clients = []
        self.started = []
        try:
            for _ in range(count):
                self.workers.append(self.start_worker())
            probes = [self.connect(index) for index in range(count)]
            self.ids = [probe.call("cluster_nodes")["self"] for probe in probes]

            def everyone_known():
                return all(set(self.ids) <= set(probe.call("cluster_nodes")["nodes"]) for probe in probes)

            assert wait_for(everyone_known, timeout=60), [probe.call("cluster_nodes") for probe in probes]
            for probe in probes:
                probe.close()
            self.clients.clear()
        except BaseException:
            self.stop()
            raise

    def wait_until_settled(self):
        """Until every worker has been up for more than a heartbeat: a node that started less
        than a heartbeat ago may not know every member yet, so it never declares a sid
        unknown (it cannot tell a miss from a node it has not heard)."""
        youngest = max(self.started)
        time.sleep(max(0.0, youngest + 1.5 * HEARTBEAT_MS / 1000 - time.monotonic()))

    def start_worker(self):
        self.started.append(time.monotonic())
        worker = start_server("--message-queue", self.broker.url, "--channel", self.channel,
                              "--heartbeat-ms", str(HEARTBEAT_MS), binary="socketio-testserver",
                              env=self.broker.worker_env)
        self.broker.check_worker(worker)
        return worker

    def connect(self, index, **options):
        """A client on worker `index` (closed with the cluster)."""
        made = Client(self.workers[index].url, **options)
        self.clients.append(made)
        return made

    def stop(self):
        for made in self.clients:
            made.close()
        for worker in self.workers:
            worker.stop()


@pytest.fixture
def cluster(broker):
    made = Cluster(broker)
    yield made
    alive = [worker.proc.poll() is None for worker in made.workers]
    made.stop()
    assert all(alive), "a worker died"


class PythonWorker(FlaskWorker):
    """A python-socketio server (Flask-SocketIO, python's own manager) on the cluster's channel."""

    def __init__(self, broker_url, channel):
        super().__init__(broker_url, channel=channel)


def settle():
    time.sleep(0.3)  # room for a duplicate or a stray delivery to show up


def ids(sockets):
    return sorted(entry["id"] for entry in sockets)


def assert_complete(result):
    assert result["missing"] == [] and result["non_members"] == [] and result["complete"] is True, result


# MARK: fetchSockets and remote sockets


@pytest.mark.timeout(180)
def test_fetch_sockets_across_workers(cluster):
    a = cluster.connect(0)
    b = cluster.connect(1, headers={"X-Ops-Test": "bee"}, query="user=bob&tag=1&tag=2", auth={"token": "t-b"})
    c = cluster.connect(2)
    assert b.call("join", "team")[0] == "joined"
    assert b.call("set_data", {"name": "bob", "n": [1, 2]}) == "ok"

    result = a.call("ops_fetch_sockets", {})
    assert_complete(result)
    assert ids(result["sockets"]) == sorted([a.sid, b.sid, c.sid])
    remote = next(entry for entry in result["sockets"] if entry["id"] == b.sid)
    assert remote["namespace"] == "/"
    assert remote["rooms"] == sorted([b.sid, "team"])
    assert remote["data"] == {"name": "bob", "n": [1, 2]}
    assert remote["node"] == cluster.ids[1]
    handshake = remote["handshake"]
    assert handshake["headers"].get("x-ops-test") == "bee", handshake["headers"]
    assert handshake["query"]["user"] == "bob" and handshake["query"]["EIO"] == "4", handshake["query"]
    assert handshake["auth"] == {"token": "t-b"}
    assert handshake["address"] == "127.0.0.1"
    assert isinstance(handshake["issued"], int) and handshake["time"]
    # The remote handshake is the one the owner sees.
    local_view = b.call("handshake")
    assert handshake["issued"] == local_view["issued"] and handshake["time"] == local_view["time"]

    # A room selector, an exception, this node only.
    assert ids(a.call("ops_fetch_sockets", {"rooms": ["team"]})["sockets"]) == [b.sid]
    assert ids(a.call("ops_fetch_sockets", {"except": [b.sid]})["sockets"]) == sorted([a.sid, c.sid])
    assert ids(a.call("ops_fetch_sockets", {"local": True})["sockets"]) == [a.sid]
    assert ids(c.call("ops_fetch_sockets", {"rooms": ["nobody-here"]})["sockets"]) == []


@pytest.mark.timeout(180)
def test_acting_on_a_remote_socket(cluster):
    a = cluster.connect(0)
    b = cluster.connect(1)
    c = cluster.connect(2)

    result = a.call("ops_remote", {"sid": b.sid, "action": "emit", "event": "from_afar", "args": [1, {"k": "v"}]})
    assert result["found"] is True, result
    assert wait_for(lambda: b.named("from_afar"))
    settle()
    assert b.named("from_afar") == [(1, {"k": "v"})]
    assert a.named("from_afar") == [] and c.named("from_afar") == []

    assert a.call("ops_remote", {"sid": b.sid, "action": "ask", "args": ["q?"], "timeout_ms": 10000})["answer"] == ["reply", "q?"]

    assert a.call("ops_remote", {"sid": b.sid, "action": "join", "room": "far"})["found"] is True
    assert wait_for(lambda: "far" in b.rooms())
    assert a.call("ops_remote", {"sid": b.sid, "action": "leave", "room": "far"})["found"] is True
    assert wait_for(lambda: "far" not in b.rooms())

    assert a.call("ops_remote", {"sid": c.sid, "action": "disconnect"})["found"] is True
    assert c.disconnected.wait(10)
    settle()
    assert a.client.connected and b.client.connected
    assert a.call("ops_remote", {"sid": c.sid, "action": "emit", "event": "x"})["found"] is False


# MARK: socketsJoin, socketsLeave, disconnectSockets


@pytest.mark.timeout(180)
def test_sockets_join_and_leave_across_workers(cluster):
    a = cluster.connect(0)
    b = cluster.connect(1)
    c = cluster.connect(2)
    d = cluster.connect(2)
    for member in (b, c, d):
        member.call("join", "source")

    assert a.call("ops_sockets_join", {"rooms": ["source"], "except": [d.sid], "target": ["dest", "other"]}) == "ok"
    assert wait_for(lambda: {"dest", "other"} <= set(b.rooms()) and {"dest", "other"} <= set(c.rooms()))
    settle()
    assert "dest" not in d.rooms() and "dest" not in a.rooms()

    assert a.call("ops_sockets_leave", {"rooms": ["dest"], "target": ["other"]}) == "ok"
    assert wait_for(lambda: "other" not in b.rooms() and "other" not in c.rooms())
    assert "dest" in b.rooms() and "dest" in c.rooms()

    # Every socket of the namespace, the caller's included.
    assert b.call("ops_sockets_join", {"target": ["all"]}) == "ok"
    assert wait_for(lambda: all("all" in member.rooms() for member in (a, b, c, d)))


@pytest.mark.timeout(180)
def test_disconnect_sockets_across_workers(cluster):
    a = cluster.connect(0)
    keep = cluster.connect(1, namespaces=["/", "/chat"])
    closed = cluster.connect(2, namespaces=["/", "/chat"])
    bystander = cluster.connect(2)
    keep.call("join", "leaving")
    closed.call("join", "closing")

    # close false: the namespace only; the connection keeps its other namespace.
    assert a.call("ops_disconnect_sockets", {"rooms": ["leaving"], "close": False}) == "ok"
    assert keep.disconnected.wait(10)
    settle()
    assert keep.client.connected and "/chat" in keep.client.namespaces
    keep.client.emit("echo", ("still",), namespace="/chat")
    assert wait_for(lambda: keep.named("/chat echo"))

    # close true: the whole connection.
    assert a.call("ops_disconnect_sockets", {"rooms": ["closing"], "close": True}) == "ok"
    assert wait_for(lambda: not closed.client.connected, timeout=10)
    settle()
    assert a.client.connected and bystander.client.connected
    assert ids(a.call("ops_fetch_sockets", {})["sockets"]) == sorted([a.sid, bystander.sid])


# MARK: rooms of the cluster


@pytest.mark.timeout(180)
def test_cluster_rooms_with_counts_and_members(cluster):
    a = cluster.connect(0)
    b = cluster.connect(1)
    c = cluster.connect(2)
    a.call("join", "x")
    b.call("join", "x")
    b.call("join", "y")
    c.call("join", "y")
    c.call("join", "z")

    result = a.call("ops_fetch_rooms", {})
    assert_complete(result)
    assert result["rooms"] == {"x": 2, "y": 2, "z": 1}  # sid rooms are not rooms

    members = c.call("ops_fetch_socket_ids", {"rooms": ["y"]})
    assert_complete(members)
    assert members["ids"] == sorted([b.sid, c.sid])
    assert a.call("ops_fetch_socket_ids", {"rooms": ["x", "z"]})["ids"] == sorted([a.sid, b.sid, c.sid])
    assert a.call("ops_fetch_socket_ids", {})["ids"] == sorted([a.sid, b.sid, c.sid])


# MARK: serverSideEmit


@pytest.mark.timeout(180)
def test_server_side_emit_reaches_every_other_node(cluster):
    clients = [cluster.connect(index) for index in range(3)]
    assert clients[0].call("ops_server_side_emit", {"event": "hello_nodes", "args": [1, "two", {"three": 3}]}) == "ok"
    assert wait_for(lambda: all(client.call("ops_server_side_log") for client in clients[1:]))
    settle()
    for client in clients[1:]:
        assert client.call("ops_server_side_log") == [["hello_nodes", 1, "two", {"three": 3}]]
    assert clients[0].call("ops_server_side_log") == []  # not to the sender


@pytest.mark.timeout(180)
def test_server_side_emit_with_acks(cluster):
    clients = [cluster.connect(index) for index in range(3)]
    result = clients[1].call("ops_server_side_emit_ack", {"event": "hello_nodes", "args": ["q"], "timeout_ms": 10000})
    assert_complete(result)
    # One answer from each other node: [its host id, the arguments it got...].
    assert sorted(answer[0] for answer in result["answers"]) == sorted([cluster.ids[0], cluster.ids[2]])
    assert all(answer[1:] == ["q"] for answer in result["answers"]), result


# MARK: broadcasts with acks


@pytest.mark.timeout(180)
def test_broadcast_with_acks_across_the_cluster(cluster):
    clients = [cluster.connect(index % 3) for index in range(6)]
    result = clients[0].call("ops_broadcast_ack", {"event": "poll", "args": ["hi"], "timeout_ms": 10000})
    assert "error" not in result, result
    # One answer per client of every worker.
    assert sorted(answer[1] for answer in result["answers"]) == sorted(client.sid for client in clients)
    assert all(answer[0] == "polled" and answer[2:] == ["hi"] for answer in result["answers"]), result

    # A room with members on two workers, one left out.
    for client in clients[1:5]:
        client.call("join", "pollers")
    result = clients[5].call("ops_broadcast_ack", {"rooms": ["pollers"], "except": [clients[4].sid], "event": "poll",
                                                   "args": [], "timeout_ms": 10000})
    assert "error" not in result, result
    assert sorted(answer[1] for answer in result["answers"]) == sorted(client.sid for client in clients[1:4])


# MARK: emitWithAck to one sid


@pytest.mark.timeout(180)
def test_emit_with_ack_to_a_remote_sid(cluster):
    a = cluster.connect(0)
    b = cluster.connect(2)
    assert a.call("ops_ask", {"sid": b.sid, "args": ["q?"], "timeout_ms": 10000}) == {"answer": ["reply", "q?"]}


@pytest.mark.timeout(180)
def test_emit_with_ack_to_a_sid_no_node_owns(cluster):
    a = cluster.connect(0)
    cluster.connect(1)
    cluster.connect(2)
    cluster.wait_until_settled()
    # The server-side timeout is far longer than the client's wait: only a prompt "no such
    # socket" from the cluster can answer in time.
    result = a.call("ops_ask", {"sid": "no-such-sid-anywhere", "args": ["q?"], "timeout_ms": 120000}, timeout=60)
    assert "answer" not in result, result
    assert result["unknown_socket"] is True and result["timed_out"] is False, result


# MARK: partial results


@pytest.mark.timeout(180)
@pytest.mark.parametrize("operation", ["fetch_sockets", "fetch_rooms", "server_side_emit_ack", "broadcast_ack"])
def test_node_killed_mid_request_is_named_in_a_partial_result(cluster, operation):
    clients = [cluster.connect(index) for index in range(3)]
    for client in clients:
        client.call("join", "everyone")
    victim = cluster.workers[2]
    # Frozen first, so that it cannot answer before it is killed.
    victim.proc.send_signal(signal.SIGSTOP)
    answered = {}

    def request():
        event = "poll" if operation == "broadcast_ack" else "hello_nodes"
        answered["result"] = clients[0].call(f"ops_{operation}", {"event": event, "args": [], "timeout_ms": 4000}, timeout=60)

    caller = threading.Thread(target=request)
    caller.start()
    time.sleep(0.5)  # the request is on its way; the victim dies while it is awaited
    victim.proc.send_signal(signal.SIGKILL)
    victim.proc.wait(10)
    cluster.workers.remove(victim)  # gone: the fixture checks the others
    caller.join(60)
    result = answered["result"]
    assert result["missing"] == [cluster.ids[2]] and result["complete"] is False, result
    if operation == "fetch_sockets":
        assert ids(result["sockets"]) == sorted([clients[0].sid, clients[1].sid])
    elif operation == "fetch_rooms":
        assert result["rooms"] == {"everyone": 2}
    elif operation == "server_side_emit_ack":
        assert [answer[0] for answer in result["answers"]] == [cluster.ids[1]]
    else:
        assert sorted(answer[1] for answer in result["answers"]) == sorted([clients[0].sid, clients[1].sid])


# MARK: what was published before a node subscribed


@pytest.mark.timeout(180)
def test_a_new_node_hears_nothing_published_before_it_subscribed(broker):
    """A node hears what is published after it subscribes, never earlier messages: on Kafka it
    starts at the end of the topic, and Tansu 0.6 answers "the end" with the last batch's first
    offset + 1, which handed new nodes the rest of that batch (a dead node's last heartbeat
    made it a live member that every request then waited for; a server-side emit ran again).
    Here the stale heartbeat and server-side emit end a batch published 3 s (more than the
    2 s allowed for clock skew) before the node starts; the same ones published afterwards
    are heard, so the check is not vacuous."""
    channel = broker.next_channel()
    ghost = "0123456789abcdef0123456789abcdef"
    heartbeat = json.dumps({"method": "heartbeat", "host_id": ghost, "interval_ms": 10000}).encode()
    side_emit = json.dumps({"method": "server_side_emit", "host_id": ghost, "event": "hello_nodes",
                            "data": ["replayed"], "binary": False}).encode()
    filler = [json.dumps({"method": "emit", "event": "nobody", "data": [n], "namespace": "/",
                          "room": "nobody-here", "skip_sid": None, "callback": None, "host_id": ghost}).encode()
              for n in range(5)]
    broker.publish_batch(channel, [*filler, heartbeat, side_emit])
    time.sleep(3)
    cluster = Cluster(broker, count=1, channel=channel)
    try:
        client = cluster.connect(0)
        settle()
        time.sleep(1)  # a replay comes right after the subscription; room for it on a busy machine
        assert client.call("cluster_nodes")["nodes"] == cluster.ids, cluster.workers[0].output()[-3000:]
        assert client.call("ops_server_side_log") == []

        broker.publish_batch(channel, [heartbeat, side_emit])
        assert wait_for(lambda: ghost in client.call("cluster_nodes")["nodes"])
        assert wait_for(lambda: client.call("ops_server_side_log") == [["hello_nodes", "replayed"]])
        broker.publish_batch(channel, [json.dumps({"method": "goodbye", "host_id": ghost}).encode()])
        assert wait_for(lambda: client.call("cluster_nodes")["nodes"] == cluster.ids)
    finally:
        cluster.stop()


# MARK: a python worker in the cluster


@pytest.mark.timeout(180)
def test_python_worker_is_a_non_member_and_still_gets_broadcasts(broker, cluster):
    broker.require_python_peer()
    python_worker = PythonWorker(broker.url, cluster.channel)
    try:
        ours = [cluster.connect(index) for index in range(3)]
        theirs = Client(python_worker.url)
        cluster.clients.append(theirs)
        # The python worker is heard once it publishes.
        assert theirs.call("broadcast", "from python") == "sent"
        assert wait_for(lambda: all(client.named("broadcast_message") for client in ours))

        # Far longer than the client waits: a python worker that were awaited would fail the call.
        result = ours[0].call("ops_fetch_sockets", {"timeout_ms": 120000}, timeout=60)
        assert result["missing"] == [], result
        assert len(result["non_members"]) == 1 and result["non_members"][0] not in cluster.ids, result
        assert ids(result["sockets"]) == sorted(client.sid for client in ours)
        rooms = ours[1].call("ops_fetch_rooms", {"timeout_ms": 120000}, timeout=60)
        assert rooms["missing"] == [] and rooms["non_members"] == result["non_members"], rooms
        answers = ours[2].call("ops_server_side_emit_ack", {"event": "hello_nodes", "args": [], "timeout_ms": 120000},
                               timeout=60)
        assert answers["missing"] == [] and answers["non_members"] == result["non_members"], answers
        assert sorted(answer[0] for answer in answers["answers"]) == sorted(cluster.ids[:2])

        # Python clients still get the cluster's broadcasts.
        assert ours[2].call("broadcast", "from swift") == "sent"
        assert wait_for(lambda: ("from swift",) in theirs.named("broadcast_message"))
        assert ours[0].call("server_emit", {"event": "to_everyone", "args": [7]}) == "ok"
        assert wait_for(lambda: theirs.named("to_everyone") == [(7,)])
    finally:
        python_worker.stop()


# MARK: the emitter and socketio-emit


def run_emit_cli(cluster, *args, channel=None):
    """socketio-emit on the cluster's channel (or `channel`), which must succeed."""
    result = subprocess.run([str(demo_binary("socketio-emit")), "--message-queue", cluster.broker.url,
                             "--channel", channel or cluster.channel, *args], capture_output=True, text=True,
                            timeout=120, env=cluster.broker.worker_env)
    assert result.returncode == 0, result.stderr
    return result


def emit_cli(cluster, *args):
    """socketio-emit on the cluster's channel; its stdout."""
    return run_emit_cli(cluster, *args).stdout


@pytest.mark.timeout(240)
def test_emitter_sockets_join_leave_and_disconnect(cluster):
    clients = [cluster.connect(index) for index in range(3)]
    extra = cluster.connect(1)
    for client in clients:
        client.call("join", "src")

    emit_cli(cluster, "--sockets-join", "joined-by-cli", "--room", "src", "--skip", clients[0].sid)
    assert wait_for(lambda: all("joined-by-cli" in client.rooms() for client in clients[1:]))
    settle()
    assert "joined-by-cli" not in clients[0].rooms() and "joined-by-cli" not in extra.rooms()

    emit_cli(cluster, "--sockets-leave", "src", "--room", "joined-by-cli")
    assert wait_for(lambda: all("src" not in client.rooms() for client in clients[1:]))
    assert "src" in clients[0].rooms()

    emit_cli(cluster, "--disconnect-sockets", "--room", "joined-by-cli", "--close")
    assert wait_for(lambda: not clients[1].client.connected and not clients[2].client.connected, timeout=10)
    settle()
    assert clients[0].client.connected and extra.client.connected
    # The emitter is no server: not awaited, nor named as a non-member.
    assert_complete(clients[0].call("ops_fetch_sockets", {}))


@pytest.mark.timeout(240)
def test_emitter_server_side_emit(cluster):
    clients = [cluster.connect(index) for index in range(3)]
    emit_cli(cluster, "--server-side-emit", "hello_nodes", '{"from":"cli"}', "2")
    assert wait_for(lambda: all(client.call("ops_server_side_log") for client in clients))
    settle()
    for client in clients:
        assert client.call("ops_server_side_log") == [["hello_nodes", {"from": "cli"}, 2]]


@pytest.mark.timeout(240)
def test_emitter_counts_sockets_and_rooms_with_a_timeout(cluster):
    clients = [cluster.connect(index % 3) for index in range(5)]
    for client in clients[:3]:
        client.call("join", "counted")
    clients[4].call("join", "solo")
    ids_result = json.loads(emit_cli(cluster, "--fetch-socket-ids", "--room", "counted", "--skip", clients[1].sid,
                                     "--timeout-ms", "3000"))
    assert ids_result == {"ids": sorted([clients[0].sid, clients[2].sid]), "count": 2, "nodes": sorted(cluster.ids),
                          "complete": True}
    everyone = json.loads(emit_cli(cluster, "--fetch-socket-ids", "--timeout-ms", "3000"))
    assert everyone["ids"] == sorted(client.sid for client in clients) and everyone["count"] == 5
    rooms = run_emit_cli(cluster, "--fetch-rooms", "--timeout-ms", "3000")
    assert json.loads(rooms.stdout) == {"rooms": {"counted": 3, "solo": 1}, "nodes": sorted(cluster.ids), "complete": True}
    assert "no node answered" not in rooms.stderr

    # Where no worker listens, nobody answers: an empty result, and stderr says why.
    elsewhere = next(topic for topic in KAFKA_TOPICS if topic != cluster.channel) if cluster.broker.is_kafka else "empty"
    nothing = run_emit_cli(cluster, "--fetch-rooms", "--timeout-ms", "1000", channel=elsewhere)
    assert json.loads(nothing.stdout) == {"rooms": {}, "nodes": [], "complete": True}
    assert f"no node answered within 1000 ms on channel {elsewhere}" in nothing.stderr
