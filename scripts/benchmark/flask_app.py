"""The Flask-SocketIO side of scripts/bench: the same events and answers as socketio-demo.

Runs Flask-SocketIO with async_mode='gevent' on gevent's WSGI server, with gevent-websocket's
handler for the WebSocket transport (what Flask-SocketIO's own run() does when gevent-websocket
is installed). Prints `listening on http://HOST:PORT` on stdout once the socket accepts
connections, like socketio-demo does.

    python flask_app.py --port 5001 [--message-queue redis://127.0.0.1:16390/0] [--channel socketio]
"""

# Patch the standard library before anything else imports it: the Redis message queue
# blocks on sockets (its listener and every PUBLISH), which must yield to other greenlets;
# python-socketio refuses a Redis queue under gevent without it.
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402

import gevent  # noqa: E402
import socketio  # noqa: E402
from flask import Flask, session  # noqa: E402
from flask_socketio import SocketIO, emit, join_room, leave_room, rooms  # noqa: E402
from gevent import pywsgi  # noqa: E402
from geventwebsocket.handler import WebSocketHandler  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind")
    parser.add_argument("--port", type=int, default=5000, help="port to bind (0 picks a free one)")
    parser.add_argument("--message-queue", default=None,
                        help="message queue URL (e.g. redis://127.0.0.1:16379/0); none: one process")
    parser.add_argument("--channel", default="socketio",
                        help="message queue channel (Flask-SocketIO's default would be flask-socketio)")
    parser.add_argument("--stock-sockets", action="store_true",
                        help="keep gevent's socket defaults (listen backlog 128, Nagle on) instead of "
                             "socketio-demo's (backlog 1024, TCP_NODELAY)")
    return parser.parse_args(argv)


class NoDelayWSGIServer(pywsgi.WSGIServer):
    """gevent's WSGI server with TCP_NODELAY on every accepted connection, as socketio-demo has.

    Without it a message with a binary attachment (two WebSocket frames, two writes) waits
    for the peer's delayed ACK before its second frame leaves: about 40 ms per round trip.
    """

    def handle(self, sock, address):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().handle(sock, address)


def bump_count():
    """Counts this session's events, like Flask-SocketIO's example app."""
    session["receive_count"] = session.get("receive_count", 0) + 1
    return session["receive_count"]


# redis-py's pool allows 100 connections by default (older releases: unbounded). With a
# message queue every emit is a PUBLISH from its own greenlet, so a burst of connects (each
# greenlet emitting `my_response`) runs out of connections; python-socketio then reconnects,
# replacing its subscriber too, and broadcasts are lost. Allow as many as Redis accepts.
REDIS_MAX_CONNECTIONS = 10000


def message_queue_options(message_queue, channel):
    """The SocketIO() arguments for the message queue (none when there is none)."""
    if not message_queue:
        return {}
    if message_queue.startswith(("redis://", "rediss://")):
        # What Flask-SocketIO would build from message_queue=, with a larger Redis pool.
        manager = socketio.RedisManager(message_queue, channel=channel,
                                        redis_options={"max_connections": REDIS_MAX_CONNECTIONS})
        return {"client_manager": manager}
    return {"message_queue": message_queue, "channel": channel}


def create_app(message_queue=None, channel="socketio"):
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "bench"  # Flask's session needs one; nothing is signed here
    sio = SocketIO(
        app,
        async_mode="gevent",
        cors_allowed_origins="*",
        logger=False,
        engineio_logger=False,
        **message_queue_options(message_queue, channel),
    )

    @sio.on("connect")
    def on_connect():
        emit("my_response", {"data": "Connected", "count": 0})

    @sio.on("my_event")
    def on_my_event(message):
        emit("my_response", {"data": message.get("data"), "count": bump_count()})

    @sio.on("my_broadcast_event")
    def on_my_broadcast_event(message):
        # broadcast=True reaches every client of the namespace, the sender included.
        emit("my_response", {"data": message.get("data"), "count": bump_count()}, broadcast=True)

    @sio.on("echo")
    def on_echo(*args):
        # A returned tuple becomes the ack's argument list as is (python-socketio expands
        # tuples), so the ack carries exactly what arrived; bytes stay binary attachments.
        return args

    @sio.on("join")
    def on_join(message):
        join_room(message["room"])
        emit("my_response", {"data": "In rooms: " + ", ".join(rooms()), "count": bump_count()})

    @sio.on("leave")
    def on_leave(message):
        leave_room(message["room"])
        emit("my_response", {"data": "In rooms: " + ", ".join(rooms()), "count": bump_count()})

    return app, sio


def main(argv=None):
    args = parse_args(argv)
    # Quiet: logger=False above and log=None below; errors still reach stderr.
    app, _ = create_app(args.message_queue, args.channel)

    # What SocketIO.run() builds for gevent + gevent-websocket, built here so that the
    # readiness line can be printed between binding and serving. The socket settings match
    # socketio-demo's unless --stock-sockets (run() would pass backlog= through as well).
    if args.stock_sockets:
        server = pywsgi.WSGIServer((args.host, args.port), app, handler_class=WebSocketHandler, log=None)
    else:
        server = NoDelayWSGIServer((args.host, args.port), app, handler_class=WebSocketHandler,
                                   log=None, backlog=1024)
    server.start()  # binds and starts accepting
    host, port = server.address[:2]
    print(f"listening on http://{host}:{port}", flush=True)

    # SIGTERM/SIGINT: stop accepting and return, rather than dying mid-write.
    def stop():
        server.stop(timeout=1)

    gevent.signal_handler(signal.SIGTERM, stop)
    gevent.signal_handler(signal.SIGINT, stop)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
