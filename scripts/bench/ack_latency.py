#!/usr/bin/env python3
"""Ack round-trip latency over WebSocket, with and without a binary attachment.

A raw Engine.IO v4 / Socket.IO v5 client (websocket-client, TCP_NODELAY) connects to a
server running the interop fixture (`socketio-testserver`), then runs closed loops of
emit-with-ack on `echo_ack`, whose ack carries back the same arguments. Prints p50, p90,
p99 and max in milliseconds. A benchmark, not a test: it asserts nothing.

    python scripts/bench/ack_latency.py --url ws://127.0.0.1:PORT --count 2000
"""
import argparse
import json
import socket
import statistics
import time

import websocket


def connect(url):
    ws = websocket.create_connection(
        url.rstrip("/") + "/socket.io/?EIO=4&transport=websocket",
        sockopt=((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),),
    )
    opened = ws.recv()
    assert opened.startswith("0{"), opened
    ws.send("40")
    while True:
        frame = ws.recv()
        if isinstance(frame, str) and frame.startswith("40"):
            return ws
        if frame == "2":
            ws.send("3")


def round_trip(ws, ack_id, payload):
    if payload is None:
        ws.send('42%d["echo_ack","text",%d]' % (ack_id, ack_id))
        expected_frames = 1
    else:
        ws.send('451-%d["echo_ack",{"_placeholder":true,"num":0}]' % ack_id)
        ws.send_binary(payload)
        expected_frames = 2
    received = 0
    while received < expected_frames:
        frame = ws.recv()
        if frame == "2":
            ws.send("3")
            continue
        if received == 0 and isinstance(frame, str) and frame.startswith("42"):
            continue  # an event (the fixture's welcome), not our ack
        received += 1
        if received == 1:
            prefix = ("43%d" if payload is None else "461-%d") % ack_id
            assert isinstance(frame, str) and frame.startswith(prefix), frame
        else:
            assert frame == payload


def measure(url, count, payload):
    ws = connect(url)
    for i in range(200):  # warm-up
        round_trip(ws, i, payload)
    samples = []
    for i in range(count):
        start = time.perf_counter()
        round_trip(ws, 1000 + i, payload)
        samples.append((time.perf_counter() - start) * 1000)
    ws.close()
    samples.sort()
    pick = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))]
    return {
        "count": count,
        "p50_ms": round(pick(0.50), 3),
        "p90_ms": round(pick(0.90), 3),
        "p99_ms": round(pick(0.99), 3),
        "max_ms": round(samples[-1], 3),
        "mean_ms": round(statistics.fmean(samples), 3),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="e.g. ws://127.0.0.1:5000")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--size", type=int, default=1024, help="attachment bytes")
    args = parser.parse_args()
    results = {
        "text_ack": measure(args.url, args.count, None),
        "binary_ack": measure(args.url, args.count, bytes(range(256)) * (args.size // 256) or b"\x01"),
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
