"""End to end: uvicorn + Redis channel layer + a real Celery worker + two websockets clients.

The servers run in their own SQLite file (the test database is invisible to other
processes); everything else is the production path: POST /api/v1/posts commits the
post and its outbox row, the broker carries the delivery task to the worker, the
worker publishes through Redis pub/sub, and uvicorn's sockets forward the frame.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
import websockets
from websockets.asyncio.client import connect

pytestmark = [pytest.mark.e2e, pytest.mark.redis, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("E2E_REDIS_URL", "redis://127.0.0.1:6379/0")
ARRIVAL_BUDGET = 2.0
# The deployment's launcher (docs/realtime.md), one process: its WebSocket protocol
# (server/ws.py, wsproto), compression off, TCP keepalive on the sockets.
UVICORN = [sys.executable, "-m", "server.serve", "--host", "127.0.0.1", "--workers", "1", "--log-level", "warning"]
WORKER = [sys.executable, "-m", "celery", "-A", "server", "worker", "-P", "solo", "--without-gossip", "--without-mingle", "-l", "warning"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def wait_until_ready(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(url)


def wait_for_worker(environment: dict[str, str], process: subprocess.Popen, timeout: float = 45) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"worker exited with {process.returncode}")
        ping = subprocess.run(
            [sys.executable, "-m", "celery", "-A", "server", "inspect", "ping", "-d", environment["WORKER_NAME"], "-t", "1"],
            env=environment,
            cwd=ROOT,
            capture_output=True,
            check=False,
        )
        if ping.returncode == 0:
            return
    raise TimeoutError("celery worker")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    if not redis_reachable():
        pytest.skip(f"SKIPPED: no Redis at {REDIS_URL}")
    run_id = uuid.uuid4().hex[:10]
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'e2e.sqlite3'}",
        "REDIS_URL": REDIS_URL,
        # Other test runs share this Redis: pub/sub ignores database numbers, queues do not.
        "CHANNEL_LAYER_PREFIX": f"e2e{run_id}",
        "CELERY_TASK_DEFAULT_QUEUE": f"e2e-{run_id}",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "WORKER_NAME": f"e2e-{run_id}@localhost",
        "DEBUG": "true",
        "PYTHONPATH": str(ROOT),
        "LOG_LEVEL": "WARNING",
    }
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], env=environment, cwd=ROOT, check=True)
    world = json.loads(
        subprocess.run(
            [sys.executable, "-m", "tests.e2e.world"], env=environment, cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout
    )
    server = subprocess.Popen(
        [*UVICORN, "--port", str(port)],
        env=environment,
        cwd=ROOT,
    )
    worker = subprocess.Popen(
        [*WORKER, "-n", environment["WORKER_NAME"], "-Q", environment["CELERY_TASK_DEFAULT_QUEUE"]],
        env=environment,
        cwd=ROOT,
    )
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/healthz", server)
        wait_for_worker(environment, worker)
        yield {"http": f"http://127.0.0.1:{port}", "ws": f"ws://127.0.0.1:{port}/ws/v1/stream", **world}
    finally:
        for process in (server, worker):
            process.terminate()
        for process in (server, worker):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


async def frames_until(client, predicate, timeout: float) -> dict | None:
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            frame = json.loads(await asyncio.wait_for(client.recv(), left))
        except TimeoutError:
            return None
        if predicate(frame):
            return frame
    return None


def test_a_post_over_http_reaches_its_organisation_within_two_seconds_and_never_the_other(stack):
    async def scenario():
        # One client authenticates with the query string, the other with the subprotocol.
        async with (
            connect(f"{stack['ws']}?token={stack['colleague_token']}") as colleague,
            connect(stack["ws"], subprotocols=["bearer", stack["stranger_token"]]) as stranger,
        ):
            assert stranger.subprotocol == "bearer"
            for client in (colleague, stranger):
                await client.send(json.dumps({"type": "ping"}))
                assert json.loads(await asyncio.wait_for(client.recv(), 2)) == {"type": "pong"}

            body = f"Breakfast moved to 7:30 ({uuid.uuid4().hex[:6]}) @[user:{stack['colleague_id']}]"
            started = time.monotonic()
            async with httpx.AsyncClient(base_url=stack["http"]) as http:
                response = await http.post(
                    "/api/v1/posts", json={"body": body}, headers={"Authorization": f"Bearer {stack['leader_token']}"}
                )
            assert response.status_code == 201, response.text
            post_id = response.json()["id"]

            frame = await frames_until(colleague, lambda f: f["type"] == "post.created" and f["data"]["id"] == post_id, ARRIVAL_BUDGET)
            arrived_after = time.monotonic() - started
            assert frame is not None, "post.created did not arrive within 2 s"
            assert arrived_after < ARRIVAL_BUDGET
            print(f"post.created arrived {arrived_after * 1000:.0f} ms after the POST was sent")
            assert set(frame) == {"id", "type", "data", "at"}
            assert frame["data"]["my_reaction"] is None
            mention = await frames_until(colleague, lambda f: f["type"] == "notification.created", ARRIVAL_BUDGET)
            assert mention is not None and mention["data"]["unread_count"] == 1
            assert await frames_until(stranger, lambda f: True, 0.5) is None

    asyncio.run(scenario())


def test_a_bad_token_is_closed_with_4401_by_the_real_server(stack):
    async def scenario():
        async with connect(f"{stack['ws']}?token=wrong") as client:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(client.recv(), 2)
        assert closed.value.rcvd.code == 4401

    asyncio.run(scenario())
