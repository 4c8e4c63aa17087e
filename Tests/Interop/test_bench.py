"""socketio-bench, the load generator, in small runs: every scenario against a real
socketio-demo (and a two-worker cluster over a real redis-server), checking that what it
reports adds up. Figures are not checked here: benchmarks print them (scripts/bench)."""

import json
import os
import subprocess

import pytest

from conftest import REPO_ROOT, demo_binary, start_server

SCRIPTS = os.path.join(REPO_ROOT, "scripts")


def bench(*args, expect_ok=True):
    """Runs socketio-bench with --json; returns its report (the last stdout line)."""
    proc = subprocess.run([str(demo_binary("socketio-bench")), *args, "--json", "--timeout-s", "60"],
                          capture_output=True, text=True, timeout=120)
    lines = proc.stdout.strip().splitlines()
    assert lines, f"no report; stderr:\n{proc.stderr[-4000:]}"
    report = json.loads(lines[-1])
    if expect_ok:
        assert proc.returncode == 0, f"exit {proc.returncode}: {report}\n{proc.stderr[-4000:]}"
    else:
        assert proc.returncode != 0, report
    return report


@pytest.fixture(scope="module")
def demo():
    server = start_server()
    yield server
    server.assert_alive("after the bench runs")
    server.stop()


def test_connect_over_websocket_reports_setup_and_server_memory(demo):
    report = bench("connect", "--url", demo.url, "--clients", "40", "--concurrency", "8",
                   "--server-pid", str(demo.proc.pid), "--hold-ms", "100")
    assert report["scenario"] == "connect" and report["transport"] == "websocket"
    assert (report["connected"], report["failed"]) == (40, 0)
    assert report["rate_per_s"] > 0 and report["connect_ms"]["p50"] <= report["connect_ms"]["max"]
    assert report["server_rss_kb_after"] > 0 and "rss_per_connection_kb" in report


def test_connect_over_polling(demo):
    report = bench("connect", "--url", demo.url, "--clients", "10", "--transport", "polling", "--hold-ms", "50")
    assert (report["connected"], report["failed"]) == (10, 0)


def test_connect_from_several_source_addresses(demo):
    report = bench("connect", "--url", demo.url, "--clients", "12", "--source-addresses", "3", "--hold-ms", "50")
    assert (report["connected"], report["failed"]) == (12, 0)


def test_fanout_counts_every_delivery(demo):
    report = bench("fanout", "--url", demo.url, "--clients", "15", "--window", "4", "--broadcasts", "30",
                   "--warmup", "5")
    assert report["completed"] == 30
    assert report["deliveries"] == 15 * 30
    assert report["stray_deliveries"] == 0
    assert report["deliveries_per_s"] > 0 and report["completion_ms"]["p99"] is not None


def test_rooms_deliver_each_message_to_its_room_only(demo):
    report = bench("rooms", "--url", demo.url, "--rooms", "6", "--room-size", "4", "--messages", "120",
                   "--warmup", "6")
    assert report["scenario"] == "rooms"
    assert report["clients"] == 24 and report["receivers"] == 4
    assert report["completed"] == 120
    # Every message reached exactly the 4 members of its room: a delivery to another
    # room's member would be a stray one (its count already reached zero) or a miss.
    assert report["deliveries"] == 120 * 4
    assert report["stray_deliveries"] == 0
    assert report["messages_per_s"] > 0


@pytest.mark.parametrize("binary_bytes", [0, 1000])
def test_latency_closed_loops_of_acks(demo, binary_bytes):
    report = bench("latency", "--url", demo.url, "--clients", "3", "--requests", "60", "--warmup", "2",
                   "--binary-bytes", str(binary_bytes))
    assert report["requests"] == 60 and report["binary_bytes"] == binary_bytes
    rtt = report["rtt_ms"]
    assert 0 < rtt["p50"] <= rtt["p90"] <= rtt["p99"] <= rtt["max"]


@pytest.fixture(scope="module")
def hummingbird_demo():
    """The same demo mounted on Hummingbird (`--server hummingbird`, same handlers and loops)."""
    server = start_server("--server", "hummingbird")
    yield server
    server.assert_alive("after the bench runs")
    server.stop()


@pytest.mark.parametrize("scenario", [
    ("fanout", "--clients", "10", "--window", "4", "--broadcasts", "20", "--warmup", "3"),
    ("latency", "--clients", "3", "--requests", "60", "--warmup", "2"),
    ("connect", "--clients", "10", "--transport", "polling", "--hold-ms", "50"),
], ids=["fanout", "latency", "connect-polling"])
def test_the_bench_runs_against_the_demo_on_hummingbird(hummingbird_demo, scenario):
    name, *args = scenario
    report = bench(name, "--url", hummingbird_demo.url, *args)
    if name == "fanout":
        assert report["completed"] == 20 and report["deliveries"] == 10 * 20 and report["stray_deliveries"] == 0
    elif name == "latency":
        assert report["requests"] == 60 and 0 < report["rtt_ms"]["p50"] <= report["rtt_ms"]["max"]
    else:
        assert (report["connected"], report["failed"]) == (10, 0)


def test_an_unreachable_server_is_a_clear_failure():
    report = bench("connect", "--url", "http://127.0.0.1:1", "--clients", "3", "--hold-ms", "0", expect_ok=False)
    assert report["failed"] == 3 and "error" in report
    assert any("connect" in reason for reason in report["failures"])


def test_a_bad_url_is_refused():
    proc = subprocess.run([str(demo_binary("socketio-bench")), "fanout", "--url", "nonsense"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "bad URL" in proc.stderr


@pytest.fixture(scope="module")
def redis_cluster(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("bench-redis")
    env = dict(os.environ, SOCKETIO_RUN_DIR=str(run_dir))
    port = "16398"
    url = subprocess.run(["bash", os.path.join(SCRIPTS, "redis.sh"), "up", port], env=env, check=True,
                         capture_output=True, text=True, timeout=120).stdout.strip()
    workers = [start_server("--message-queue", url + "/0", "--channel", "bench") for _ in range(2)]
    try:
        yield url + "/0", workers
    finally:
        for worker in workers:
            worker.stop()
        subprocess.run(["bash", os.path.join(SCRIPTS, "redis.sh"), "down", port], env=env, timeout=60)


@pytest.mark.parametrize("publisher", ["worker", "emitter"])
def test_cluster_fanout_through_redis(redis_cluster, publisher):
    url, workers = redis_cluster
    args = ["cluster", "--clients", "10", "--window", "4", "--broadcasts", "20", "--warmup", "5"]
    for worker in workers:
        args += ["--url", worker.url]
    if publisher == "emitter":
        args += ["--emitter", url, "--channel", "bench"]
    report = bench(*args)
    assert (report["workers"], report["publisher"]) == (2, publisher)
    assert report["deliveries"] == 10 * 20 and report["completed"] == 20
