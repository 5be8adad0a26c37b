"""The web server's WebSocket protocol (server/ws.py): uvicorn's wsproto implementation with a
message size limit, and TCP keepalive on every accepted socket (server/serve.py).

Run against a real uvicorn server in a thread with a small ASGI app, as the deployment runs the
protocol: what a phone (or an attacker holding a token) can send, and what it gets back.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest
import uvicorn
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from server.serve import KEEPALIVE_IDLE_S, KEEPALIVE_INTERVAL_S, KEEPALIVE_PROBES, bind_reuseport, config_from, parse_args
from server.ws import CLOSE_MESSAGE_TOO_BIG, BoundedWSProtocol

LIMIT = 1024

pytestmark = pytest.mark.usefixtures("uvicorn_logging_kept")


async def echo(scope, receive, send) -> None:
    """Accepts with the first offered subprotocol and echoes what it receives, prefixed."""
    if scope["type"] != "websocket":
        return
    assert (await receive())["type"] == "websocket.connect"
    offered = scope.get("subprotocols") or []
    await send({"type": "websocket.accept", "subprotocol": offered[0] if offered else None})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await send({"type": "websocket.send", "text": "got " + str(len(message.get("text") or message.get("bytes") or ""))})


@pytest.fixture
def server():
    sock = bind_reuseport("127.0.0.1", 0, 64)
    port = sock.getsockname()[1]
    config = uvicorn.Config(echo, ws=BoundedWSProtocol, ws_max_size=LIMIT, lifespan="off", log_config=None)
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(instance.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not instance.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        yield port
    finally:
        instance.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_messages_within_the_limit_pass_and_the_subprotocol_is_agreed(server):
    with connect(f"ws://127.0.0.1:{server}/", subprotocols=["bearer", "token-value"]) as ws:
        assert ws.subprotocol == "bearer"
        ws.send('{"type": "ping"}')
        assert ws.recv(timeout=5) == "got 16"
        ws.send("x" * LIMIT)  # exactly the limit
        assert ws.recv(timeout=5) == f"got {LIMIT}"
        ws.send(b"\x00" * 10)
        assert ws.recv(timeout=5) == "got 10"


@pytest.mark.parametrize("payload", ["x" * (LIMIT + 1), b"\x00" * (LIMIT * 8)], ids=["text", "bytes"])
def test_a_message_over_the_limit_closes_the_socket_with_1009(server, payload):
    # The close may come while the client still sends: either call may raise.
    with connect(f"ws://127.0.0.1:{server}/", max_size=None) as ws, pytest.raises(ConnectionClosed) as closed:
        ws.send(payload)
        ws.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CLOSE_MESSAGE_TOO_BIG


def test_a_message_sent_in_fragments_counts_as_a_whole(server):
    # wsproto hands a fragmented message over piece by piece: the limit is on the sum.
    with connect(f"ws://127.0.0.1:{server}/", max_size=None) as ws, pytest.raises(ConnectionClosed) as closed:
        ws.send(iter(["x" * (LIMIT // 2), "x" * (LIMIT // 2), "x" * (LIMIT // 2)]))
        ws.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CLOSE_MESSAGE_TOO_BIG


def test_accepted_sockets_carry_tcp_keepalive(server):
    # Without server pings (wsproto sends none) TCP keepalive finds a vanished phone.
    import subprocess

    with connect(f"ws://127.0.0.1:{server}/") as ws:
        ws.send("hello")
        ws.recv(timeout=5)
        output = ""
        for _ in range(50):  # ss shows the retransmission timer while a frame is unacknowledged
            output = subprocess.run(
                ["ss", "-tnoH", "state", "established", f"( sport = :{server} )"], capture_output=True, text=True, check=True
            ).stdout
            if "timer:(keepalive" in output:
                break
            time.sleep(0.05)
    assert "timer:(keepalive" in output, output


def test_an_accepted_connection_inherits_the_keepalive_options():
    listener = bind_reuseport("127.0.0.1", 0, 8)
    client = socket.create_connection(listener.getsockname())
    accepted, _ = listener.accept()
    try:
        assert accepted.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == KEEPALIVE_IDLE_S
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT) == KEEPALIVE_PROBES
    finally:
        for item in (accepted, client, listener):
            item.close()


def test_the_listening_socket_options_are_the_documented_ones():
    sock = bind_reuseport("127.0.0.1", 0, 8)
    try:
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == KEEPALIVE_IDLE_S
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL) == KEEPALIVE_INTERVAL_S
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT) == KEEPALIVE_PROBES
    finally:
        sock.close()


def test_the_deployment_speaks_bounded_wsproto_unless_told_otherwise():
    config = config_from(parse_args([]))
    assert config.ws is BoundedWSProtocol and config.ws_max_size == 64 * 1024
    assert config_from(parse_args(["--ws", "websockets"])).ws == "websockets"
    assert config_from(parse_args(["--ws-max-size", "4096", "--backlog", "4096"])).ws_max_size == 4096
