"""W6, the reconnect storm: every socket is dropped at once (a server restart) and comes back
with the app's back-off, catching up over REST while posts are being made.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/feedapp_bench REDIS_URL=redis://127.0.0.1:6379/5 \
        .venv/bin/python bench/storm.py [--sockets 10000] [--workers 4] [--small]

Server: the deployment's launcher (`python -m server.serve --workers N`, production settings as
in bench/ws_bench.py) and one Celery worker, so posts go the real way (API → outbox → Celery →
channel layer → sockets). Load: `storm.py client` processes (websockets + httpx + uvloop), each
holding a slice of the sockets with real tokens of the seeded organisation (bench/ws_bench.py's
tokens: employees cycled when there are fewer than sockets).

1. Connect rate of one process: one `server.serve --workers 1`, `--rate-sockets` sockets opened
   as fast as 64 concurrent handshakes per client allow (no back-off): sockets per second.
2. The storm: N sockets on `--workers` processes, two live posts, then the server is stopped
   (SIGTERM: uvicorn closes every socket with 1012) and started again. Each socket reconnects as
   docs/realtime.md tells the app to (full-jitter exponential back-off, base 1 s, cap 10 s), then
   catches up: `GET /api/v1/feed/updates?since=<cursor>` right after the socket opens (paged while
   `has_more`), and once more when the 5 s settle window has passed over the moment it opened
   only if the answer was not `up_to_date` (a burst of changes). Meanwhile the admin
   posts (org-wide) through the API every `--post-interval` seconds during the first
   `--post-seconds` after the drop, and once more when every socket is back.
3. Every post made after the sockets first opened must reach every socket, on the socket or in a
   catch-up ("lost" counts the (socket, post) pairs that did not); a frame id twice on one socket
   counts as a duplicate. Server RSS is sampled throughout against its bound.

Writes the "Reconnect storm (W6)" section of docs/benchmarks.md, its summary row and
bench/.data/storm.json.
"""

# ruff: noqa: E501 - the report lines are long Markdown table rows

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lib import DATA_DIR, ROOT, command_line, free_port, load_average, percentile, save_rows, stamp, wait_for, write_section
from bench.ws_bench import ClientProcess, django_setup, make_tokens, raise_nofile, rss_kib, server_env

# The app's back-off (docs/realtime.md "Reconnect with backoff"): a delay drawn uniformly from
# [0, min(CAP, BASE * 2 ** attempt)), attempt counting the failures since the last open socket.
BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 10.0
HEALTHY_AFTER_S = 60.0  # an open socket this old resets the attempts
# /feed/updates keeps its cursor behind changes younger than this (feed.selectors.feed.UPDATES_SETTLE):
# an answer not `up_to_date` is followed by one more call once this has passed.
SETTLE_S = 5.0
CONNECT_CONCURRENCY = 64
HTTP_CONNECTIONS = 32
# A fresh server process before its first socket, plus W1's 50 KiB per socket, plus room for
# the catch-up requests in flight: above this a process is over its memory bound.
REQUEST_HEADROOM_MIB = 64
KIB_PER_SOCKET_BOUND = 50


def backoff_delay(attempt: int, rng: random.Random) -> float:
    return rng.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempt))


# --- Load generator process ------------------------------------------------------------------


def client_main(args: argparse.Namespace) -> None:
    """Hold `count` sockets that reconnect and catch up like the app; driven over stdin/stdout."""
    raise_nofile()
    import httpx
    import orjson
    import uvloop
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    tokens = Path(args.tokens).read_text().split()[args.offset : args.offset + args.count]
    url, base = args.url, args.base
    rng = random.Random(args.offset)

    class Socket:
        __slots__ = (
            "attempts",
            "catchup_ms",
            "caught",
            "caught_at",
            "caught_late",
            "codes",
            "cursor",
            "dup",
            "http_retries",
            "live",
            "open_at",
            "opens",
            "refused",
            "second_at",
            "token",
        )

        def __init__(self, token: str) -> None:
            self.token = token
            self.live: set[int] = set()  # post ids seen on the socket
            self.caught: set[int] = set()  # post ids seen in a catch-up
            self.caught_late: set[int] = set()  # of those, seen only in the second call after a reopen
            self.dup = 0
            self.opens: list[float] = []
            self.open_at = self.caught_at = self.second_at = 0.0
            self.attempts = 0
            self.codes: list[int] = []
            self.catchup_ms: list[float] = []
            self.cursor = ""
            self.refused = 0
            self.http_retries = 0

    sockets = [Socket(token) for token in tokens]
    state = {"storm": False}

    async def catch_up(http: httpx.AsyncClient, sock: Socket, *, late: bool = False) -> bool:
        """The app's catch-up, paged; true when the server said it is up to date."""
        started = time.perf_counter()
        body: dict = {}
        before = set(sock.caught)
        for _page in range(50):
            for retry in range(20):
                try:
                    response = await http.get(
                        "/api/v1/feed/updates", params={"since": sock.cursor}, headers={"Authorization": f"Bearer {sock.token}"}
                    )
                    break
                except httpx.TransportError:
                    # A keep-alive connection to the stopped server, or a worker going away:
                    # the app retries the call (counted).
                    sock.http_retries += 1
                    await asyncio.sleep(backoff_delay(retry, rng))
            response.raise_for_status()
            body = response.json()
            sock.caught.update(item["id"] for item in body["results"])
            sock.cursor = body["cursor"]
            if not body["has_more"]:
                break
        if late:
            sock.caught_late |= sock.caught - before
        sock.catchup_ms.append((time.perf_counter() - started) * 1000)
        return bool(body.get("up_to_date"))

    async def hold(http: httpx.AsyncClient, sock: Socket, gate: asyncio.Semaphore | None) -> None:
        """One phone: open, read frames, on a close back off and reopen, catch up after each open."""
        seen_frames: set[str] = set()
        attempt = 0
        while True:
            try:
                if gate is not None:
                    async with gate:
                        ws = await connect(
                            url, subprotocols=["bearer", sock.token], compression=None, ping_interval=None, open_timeout=60, max_queue=None
                        )
                else:
                    ws = await connect(
                        url, subprotocols=["bearer", sock.token], compression=None, ping_interval=None, open_timeout=60, max_queue=None
                    )
            except Exception:
                sock.refused += 1
                await asyncio.sleep(backoff_delay(attempt, rng))
                attempt += 1
                sock.attempts += 1
                continue
            gate = None
            sock.open_at = time.time()
            sock.opens.append(sock.open_at)
            if state["storm"]:
                # The app's catch-up: right away, and once more when the settle window has
                # passed over the moment the socket opened (changes committed in the 5 s before
                # it are not handed out yet, and their frames may have gone before it opened).
                async def both(sock: Socket = sock, opened: float = sock.open_at) -> None:
                    up_to_date = await catch_up(http, sock)
                    sock.caught_at = time.time()
                    if not up_to_date:  # a burst of changes in the last seconds: once more after the window
                        await asyncio.sleep(max(0.0, opened + SETTLE_S + 0.5 - time.time()))
                        await catch_up(http, sock, late=True)
                    sock.second_at = time.time()

                asyncio.get_running_loop().create_task(both())
            try:
                async for raw in ws:
                    message = orjson.loads(raw)
                    frame_id = str(message.get("id"))
                    if frame_id in seen_frames:
                        sock.dup += 1
                        continue
                    seen_frames.add(frame_id)
                    if message.get("type") == "post.created":
                        sock.live.add(message["data"]["id"])
            except ConnectionClosed:
                pass
            sock.codes.append(ws.close_code or 1006)
            if ws.close_code in (4401, 4403):
                return  # the app stops: log in again / account gone
            if time.time() - sock.open_at >= HEALTHY_AFTER_S:
                attempt = 0
            await asyncio.sleep(backoff_delay(attempt, rng))
            attempt += 1

    async def run() -> None:
        limits = httpx.Limits(max_connections=HTTP_CONNECTIONS, max_keepalive_connections=HTTP_CONNECTIONS)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as http:
            # First start: /feed/updates without `since` gives the current cursor (the same
            # for everyone: the settle horizon), as the app stores it.
            cursor = (await http.get("/api/v1/feed/updates", headers={"Authorization": f"Bearer {tokens[0]}"})).json()["cursor"]
            for sock in sockets:
                sock.cursor = cursor
            gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
            started = time.perf_counter()
            for sock in sockets:
                asyncio.get_running_loop().create_task(hold(http, sock, gate))
            while sum(1 for sock in sockets if sock.opens) < len(sockets) and time.perf_counter() - started < 600:
                await asyncio.sleep(0.05)
            ready = sum(1 for sock in sockets if sock.opens)
            print(
                json.dumps(
                    {"ready": ready, "failed": len(sockets) - ready, "seconds": round(time.perf_counter() - started, 2), "errors": []}
                ),
                flush=True,
            )
            loop = asyncio.get_running_loop()
            while True:
                line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
                if line == "storm":
                    state["storm"] = True
                    print(json.dumps({"ok": True}), flush=True)
                elif line == "status":
                    dropped = [s for s in sockets if s.codes]
                    print(
                        json.dumps(
                            {
                                "dropped": len(dropped),
                                "reopened": sum(1 for s in dropped if len(s.opens) >= 2),
                                "caught_up": sum(1 for s in dropped if s.caught_at),
                                "second": sum(1 for s in dropped if s.second_at),
                            }
                        ),
                        flush=True,
                    )
                elif line.startswith("report "):
                    posts = json.loads(line[7:])
                    print(json.dumps(summary(posts)), flush=True)
                elif line in ("quit", ""):
                    return

    def summary(posts: list[int]) -> dict:
        lost_pairs, sockets_with_loss, via_socket, via_catchup, via_second = 0, 0, 0, 0, 0
        codes: dict[str, int] = {}
        for sock in sockets:
            missing = [post for post in posts if post not in sock.live and post not in sock.caught]
            lost_pairs += len(missing)
            sockets_with_loss += bool(missing)
            via_socket += sum(1 for post in posts if post in sock.live)
            via_catchup += sum(1 for post in posts if post not in sock.live and post in sock.caught)
            via_second += sum(1 for post in posts if post not in sock.live and post in sock.caught_late)
            for code in sock.codes:
                codes[str(code)] = codes.get(str(code), 0) + 1
        return {
            "sockets": len(sockets),
            "reopen_at": [sock.opens[1] for sock in sockets if len(sock.opens) >= 2],
            "caught_at": [sock.caught_at for sock in sockets if sock.caught_at],
            "catchup_ms": [ms for sock in sockets for ms in sock.catchup_ms[:1]],
            "second_catchup_ms": [ms for sock in sockets for ms in sock.catchup_ms[1:2]],
            "second_calls": sum(max(0, len(sock.catchup_ms) - 1) for sock in sockets),
            "failed_attempts": sum(sock.refused for sock in sockets),
            "http_retries": sum(sock.http_retries for sock in sockets),
            "extra_opens": sum(max(0, len(sock.opens) - 2) for sock in sockets),
            "lost_pairs": lost_pairs,
            "sockets_with_loss": sockets_with_loss,
            "via_socket": via_socket,
            "via_catchup": via_catchup,
            "via_second": via_second,
            "duplicates": sum(sock.dup for sock in sockets),
            "close_codes": codes,
        }

    uvloop.run(run())


class StormClient(ClientProcess):
    def __init__(self, *, url: str, base: str, tokens: Path, offset: int, count: int) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "client",
                "--url",
                url,
                "--base",
                base,
                "--tokens",
                str(tokens),
                "--offset",
                str(offset),
                "--count",
                str(count),
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.count = count

    def ask(self, command: str, timeout: float = 120) -> dict:
        self.send(command)
        return self.line(timeout)


# --- Servers ---------------------------------------------------------------------------------


def serve_argv(port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "server.serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--ws-per-message-deflate",
        "false",
        "--no-access-log",
        "--log-level",
        "warning",
    ]


# Environment for the servers on top of ws_bench's (the CI smoke test points them at its database).
EXTRA_ENV: dict[str, str] = {}


def storm_env(prefix: str, port: int, workers: int) -> dict:
    # ws_bench's server settings (persistent connection for the consumers' thread); a small
    # pool per process for the catch-up requests: PostgreSQL's 100 connections are shared.
    # One pool connection more than the HTTP threads: the consumers' thread-sensitive thread
    # takes one too, and must not wait behind the catch-up requests.
    return {**server_env(prefix, port), "DATABASE_POOL_MAX_SIZE": "5", "HTTP_THREADS": "4", **EXTRA_ENV}


def start_server(port: int, workers: int, env: dict) -> subprocess.Popen:
    return subprocess.Popen(serve_argv(port, workers), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, preexec_fn=raise_nofile)


def worker_pids(supervisor: subprocess.Popen) -> list[int]:
    try:
        children = Path(f"/proc/{supervisor.pid}/task/{supervisor.pid}/children").read_text().split()
    except OSError:
        return []
    # The supervisor's children: its workers, and multiprocessing's resource tracker (not a server).
    return [int(pid) for pid in children if b"resource_tracker" not in _cmdline(int(pid))]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def wait_workers(supervisor: subprocess.Popen, workers: int, timeout: float = 60) -> list[int]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        pids = worker_pids(supervisor)
        if len(pids) >= workers:
            return pids
        time.sleep(0.05)
    raise RuntimeError("server workers did not start")


def stop_server(supervisor: subprocess.Popen) -> None:
    workers = worker_pids(supervisor) if supervisor.poll() is None else []
    if supervisor.poll() is None:
        supervisor.send_signal(signal.SIGTERM)
    try:
        supervisor.wait(timeout=30)
    except subprocess.TimeoutExpired:
        supervisor.kill()
        supervisor.wait()
    # A worker still draining thousands of sockets outlives its supervisor (seen: four orphans at
    # 100 % CPU and 1.2 GB each after a run, spoiling the next measurement): no survivors.
    deadline = time.time() + 10
    for pid in workers:
        while Path(f"/proc/{pid}").exists() and time.time() < deadline:
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def celery_worker(env: dict) -> subprocess.Popen:
    argv = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "server",
        "worker",
        "-Q",
        env["CELERY_TASK_DEFAULT_QUEUE"],
        "--concurrency",
        "1",
        "--loglevel",
        "WARNING",
    ]
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)


def spawn(url: str, base: str, tokens: Path, total: int, processes: int) -> tuple[list[StormClient], dict]:
    per = -(-total // processes)
    clients = [
        StormClient(url=url, base=base, tokens=tokens, offset=i * per, count=min(per, total - i * per))
        for i in range(processes)
        if total - i * per > 0
    ]
    started = time.perf_counter()
    ready = [client.line(900) for client in clients]
    seconds = time.perf_counter() - started
    done = sum(r["ready"] for r in ready)
    return clients, {
        "ready": done,
        "failed": sum(r["failed"] for r in ready),
        "seconds": round(seconds, 2),
        "per_s": round(done / seconds, 1),
    }


def stop_clients(clients: list[StormClient]) -> None:
    for client in clients:
        client.stop()


# --- Scenario --------------------------------------------------------------------------------


def connect_rate(*, tokens: Path, sockets: int, prefix: str, clients: int) -> dict:
    """Sockets per second one server process accepts (authenticated, subscribed) flat out."""
    port = free_port()
    env = storm_env(prefix, port, 1)
    server = start_server(port, 1, env)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", timeout=60)
        pid = wait_workers(server, 1)[0] if worker_pids(server) else server.pid
        cpu_before = _cpu(pid)
        holders, connect = spawn(f"ws://127.0.0.1:{port}/ws/v1/stream", f"http://127.0.0.1:{port}", tokens, sockets, clients)
        connect["server_cpu_s"] = round(_cpu(pid) - cpu_before, 2)
        connect["server_cpu_ms_per_connect"] = round(connect["server_cpu_s"] * 1000 / max(1, connect["ready"]), 2)
        stop_clients(holders)
        return connect
    finally:
        stop_server(server)


def _cpu(pid: int) -> float:
    from bench.ws_bench import cpu_seconds

    try:
        return cpu_seconds(pid)
    except OSError:
        return 0.0


def storm(*, tokens: Path, admin_token: str, args, prefix: str) -> dict:
    import httpx

    port = free_port()
    env = storm_env(prefix, port, args.workers)
    url, base = f"ws://127.0.0.1:{port}/ws/v1/stream", f"http://127.0.0.1:{port}"
    server = start_server(port, args.workers, env)
    # Without a worker, delivery runs eagerly in the server process after the post's commit.
    worker = celery_worker(env) if env.get("CELERY_TASK_ALWAYS_EAGER") != "True" else None
    clients: list[StormClient] = []
    rss_peak: dict[int, int] = {}
    try:
        wait_for(base + "/healthz", timeout=60)
        pids = wait_workers(server, args.workers)
        time.sleep(2)
        fresh_mib = max(rss_kib(pid) for pid in pids) / 1024
        clients, first = spawn(url, base, tokens, args.sockets, args.clients)
        admin = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {admin_token}"}, timeout=60)
        time.sleep(3 if worker is not None else 0.5)  # the Celery worker is connected to the broker
        posts: list[int] = []

        def post(label: str) -> None:
            for _ in range(600):
                try:
                    response = admin.post("/api/v1/posts", json={"body": f"W6 {label} {len(posts)}", "kind": "post"})
                except httpx.TransportError:
                    time.sleep(0.05)  # the server is restarting: the admin's app retries too
                    continue
                response.raise_for_status()
                posts.append(response.json()["id"])
                return
            raise RuntimeError("could not post during the storm")

        post("before")
        post("before")
        time.sleep(2)
        for client in clients:
            client.ask("storm")
        before_pids = worker_pids(server)
        dropped_at = time.time()
        stop_server(server)
        stopped_at = time.time()
        server = start_server(port, args.workers, env)
        admin.close()
        admin = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {admin_token}"}, timeout=60)
        up_at = None
        deadline = dropped_at + args.timeout
        next_post = time.time()
        status: dict = {}
        storm_posts_until = None
        peak_sockets: dict[int, int] = {}
        next_split = 0.0
        trace: list[dict] = []  # one sample a second: what the clients see, what each process holds
        while time.time() < deadline:
            split = None
            if time.time() >= next_split:
                split = _split(port)
                for pid, count in split.items():
                    peak_sockets[pid] = max(peak_sockets.get(pid, 0), count)
                next_split = time.time() + 1
            for pid in worker_pids(server):
                rss_peak[pid] = max(rss_peak.get(pid, 0), rss_kib(pid) if Path(f"/proc/{pid}").exists() else 0)
            if up_at is None:
                try:
                    if httpx.get(base + "/healthz", timeout=0.5).status_code == 200:
                        up_at = time.time()
                except httpx.HTTPError:
                    pass
            # Posts during the storm's first `--post-seconds` only: a slow storm must not make
            # every later catch-up heavier with posts of its own.
            if time.time() >= next_post and time.time() < dropped_at + args.post_seconds:
                post("storm")
                next_post += args.post_interval
            replies = [client.ask("status") for client in clients]
            status = {key: sum(reply[key] for reply in replies) for key in replies[0]}
            if split is not None:
                pids = worker_pids(server)
                trace.append(
                    {
                        "t": round(time.time() - dropped_at, 1),
                        **status,
                        "held": [split.get(pid, 0) for pid in pids],
                        "rss_mib": [round(rss_kib(pid) / 1024) if Path(f"/proc/{pid}").exists() else 0 for pid in pids],
                        "cpu_s": [round(_cpu(pid), 1) for pid in pids],
                        "posts": len(posts),
                    }
                )
            if storm_posts_until is None and status["caught_up"] >= args.sockets:
                storm_posts_until = time.time()  # everyone is back; then wait for the second catch-ups
            if storm_posts_until is not None and status["second"] >= args.sockets and time.time() > dropped_at + args.post_seconds:
                break
            time.sleep(0.2)
        post("after")  # once everyone is back: a live frame to every socket
        time.sleep(3)  # the last posts' frames
        reports = [client.ask("report " + json.dumps(posts), timeout=300) for client in clients]
        spread = _split(port)
        admin.close()
    finally:
        stop_clients(clients)
        stop_server(server)
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
    reopen = sorted(t for r in reports for t in r["reopen_at"])
    caught = sorted(t for r in reports for t in r["caught_at"])
    catchup = [ms for r in reports for ms in r["catchup_ms"]]
    second = [ms for r in reports for ms in r["second_catchup_ms"]]
    codes: dict[str, int] = {}
    for r in reports:
        for code, n in r["close_codes"].items():
            codes[code] = codes.get(code, 0) + n
    # Connect rate while the sockets came back: the busiest second after the server was up.
    per_second: dict[int, int] = {}
    for at in reopen:
        per_second[int(at - dropped_at)] = per_second.get(int(at - dropped_at), 0) + 1
    for pid, count in spread.items():
        peak_sockets[pid] = max(peak_sockets.get(pid, 0), count)
    bound_mib = {pid: fresh_mib + KIB_PER_SOCKET_BOUND * peak_sockets.get(pid, 0) / 1024 + REQUEST_HEADROOM_MIB for pid in rss_peak}
    return {
        "sockets": args.sockets,
        "workers": args.workers,
        "first_connect": first,
        "posts": len(posts),
        "restart_s": round((up_at or time.time()) - dropped_at, 2),
        "stop_s": round(stopped_at - dropped_at, 2),
        "reconnected": len(reopen),
        "all_reconnected_s": round(reopen[-1] - dropped_at, 2) if reopen else None,
        "all_caught_up_s": round(caught[-1] - dropped_at, 2) if caught else None,
        "caught_up": len(caught),
        "peak_connects_per_s": max(per_second.values()) if per_second else 0,
        "peak_connects_per_s_per_process": round((max(per_second.values()) if per_second else 0) / args.workers, 1),
        "mean_connects_per_s": round(len(reopen) / max(1.0, reopen[-1] - reopen[0]), 1) if reopen else 0,
        "catchup_p50_ms": percentile(catchup, 50),
        "catchup_p99_ms": percentile(catchup, 99),
        "second_catchup_p99_ms": percentile(second, 99),
        "second_calls": sum(r.get("second_calls", 0) for r in reports),
        "lost_pairs": sum(r["lost_pairs"] for r in reports),
        "sockets_with_loss": sum(r["sockets_with_loss"] for r in reports),
        "expected_pairs": len(posts) * args.sockets,
        "via_socket": sum(r["via_socket"] for r in reports),
        "via_catchup": sum(r["via_catchup"] for r in reports),
        "via_second": sum(r["via_second"] for r in reports),
        "duplicates": sum(r["duplicates"] for r in reports),
        "failed_attempts": sum(r["failed_attempts"] for r in reports),
        "http_retries": sum(r["http_retries"] for r in reports),
        "extra_opens": sum(r["extra_opens"] for r in reports),
        "close_codes": codes,
        "reopened_per_second": [per_second.get(second, 0) for second in range(max(per_second) + 1)] if per_second else [],
        "sockets_per_process": sorted(spread.values(), reverse=True),
        "fresh_rss_mib": round(fresh_mib, 1),
        "rss_peak_mib": sorted((round(kib / 1024, 1) for kib in rss_peak.values()), reverse=True),
        "over_bound": sum(1 for pid, kib in rss_peak.items() if kib / 1024 > bound_mib[pid]),
        "bound_mib": sorted((round(v, 1) for v in bound_mib.values()), reverse=True),
        "old_workers": len(before_pids),
        # More pids than --workers: uvicorn's supervisor replaced a worker (it kills one that
        # does not answer its ping within 5 s), whose sockets then storm again.
        "worker_pids_seen": len(rss_peak),
        "trace": trace,
        "load": load_average(),
    }


def _split(port: int) -> dict[int, int]:
    output = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"], capture_output=True, text=True).stdout
    counts: dict[int, int] = {}
    import re

    for pid in re.findall(r"pid=(\d+)", output):
        counts[int(pid)] = counts.get(int(pid), 0) + 1
    return counts


def server_cpu_s(s: dict) -> float | None:
    """CPU seconds the new server processes used from their start to the end of the storm
    (importing the application included), from the last sample of the trace."""
    trace = s.get("trace") or []
    return round(sum(trace[-1]["cpu_s"]), 1) if trace else None


def floor_text(s: dict) -> str:
    """What the storm costs the server, and the shortest storm two cores of its own could give:
    the restart, then that CPU spread over both (the load generators here share the cores)."""
    cpu = server_cpu_s(s)
    if cpu is None:
        return ""
    return (
        f"server CPU {cpu:.0f} s ({cpu * 1000 / max(1, s['sockets']):.1f} ms per socket: connect + catch-up); "
        f"on 2 cores of its own ≥ restart + {cpu / 2:.0f} s"
    )


def fmt(value) -> str:
    if value is None or value != value:
        return "n/a"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def report(result: dict, args) -> str:
    s = result["storm"]
    rate = result.get("rate") or {"per_s": float("nan"), "ready": 0, "server_cpu_ms_per_connect": "n/a"}
    ok_correct = s["lost_pairs"] == 0 and s["reconnected"] == s["sockets"] and s["over_bound"] == 0
    t_all = max(s["all_reconnected_s"] or 1e9, s["all_caught_up_s"] or 1e9)
    verdict = ("pass" + (" (stretch)" if t_all <= 10 else "")) if ok_correct and t_all <= 20 else "**miss**"
    row = (
        f"| W6 | reconnect storm: {s['sockets']:,} sockets on {s['workers']} processes dropped (restart) and back with the app's back-off + catch-up, posts during it | "
        f"all back and caught up ≤ 20 s (stretch 10), 0 lost, memory bound | reconnected {s['reconnected']:,} in {fmt(s['all_reconnected_s'])} s, caught up in {fmt(s['all_caught_up_s'])} s "
        f"(restart {fmt(s['restart_s'])} s); lost {s['lost_pairs']}/{s['expected_pairs']:,}, dup {s['duplicates']}; connects {fmt(rate['per_s'])}/s for one process flat out | "
        f"{floor_text(s)} | | {verdict} | {s['load']} |"
    )
    lines = [
        stamp(),
        "",
        f"Command: `{command_line()}`. Server: `python -m server.serve --workers {s['workers']}` (production settings, PostgreSQL, Redis",
        "pub/sub channel layer) and one Celery worker; posts go API → outbox → Celery → sockets. Load: `bench/storm.py client` processes",
        "(websockets + httpx + uvloop) on the same 2 cores; each socket has a real token of the seeded organisation (employees cycled).",
        f"Back-off as docs/realtime.md tells the app: full jitter, base {BACKOFF_BASE_S:g} s, cap {BACKOFF_CAP_S:g} s; catch-up `GET /api/v1/feed/updates?since=` right",
        f"after each reopen (paged), and {SETTLE_S:g} s later only when the answer was not `up_to_date`. Catch-up requests share {HTTP_CONNECTIONS} keep-alive connections per client process.",
        f"Posts: org-wide, by the admin through the API, every {args.post_interval:g} s during the first {args.post_seconds:g} s after the drop and once when all are back.",
        "",
        "| id | what | target | measured | floor | ratio | verdict | load avg |",
        "|---|---|---|---|---|---|---|---|",
        row,
        "",
        "| measure | value |",
        "|---|---|",
        f"| connect rate, one process flat out ({rate['ready']:,} sockets, 64 handshakes in flight per client) | {fmt(rate['per_s'])}/s; server CPU {rate['server_cpu_ms_per_connect']} ms per connect |",
        f"| first connect of the storm's sockets ({s['workers']} processes) | {s['first_connect']['ready']:,} in {s['first_connect']['seconds']} s ({fmt(s['first_connect']['per_s'])}/s) |",
        f"| server stopped (SIGTERM → exit) / answering again | {fmt(s['stop_s'])} s / {fmt(s['restart_s'])} s after the drop |",
        f"| all reconnected / all caught up (first catch-up done), from the drop | {fmt(s['all_reconnected_s'])} s / {fmt(s['all_caught_up_s'])} s |",
        f"| connects during the storm: busiest second, all processes (per process) | {s['peak_connects_per_s']:,}/s ({fmt(s['peak_connects_per_s_per_process'])}/s); mean {fmt(s['mean_connects_per_s'])}/s from the first reopen to the last |",
        f"| sockets reopened in each second after the drop | {' '.join(str(n) for n in s['reopened_per_second'])} |",
        f"| refused attempts (server down) / extra reopens / catch-up calls retried | {s['failed_attempts']:,} / {s['extra_opens']:,} / {s['http_retries']:,} |",
        f"| catch-up (first call, paging included) p50 / p99; second calls (answer not `up_to_date`) made, p99 | {fmt(s['catchup_p50_ms'])} / {fmt(s['catchup_p99_ms'])} ms; {s.get('second_calls', 0):,}, {fmt(s['second_catchup_p99_ms'])} ms |",
        f"| posts during the test / (socket, post) pairs: on the socket, only by catch-up, lost | {s['posts']} / {s['via_socket']:,}, {s['via_catchup']:,} (of which {s['via_second']:,} only by the second call), **{s['lost_pairs']}** ({s['sockets_with_loss']} sockets) |",
        f"| frames twice on one socket | {s['duplicates']} |",
        f"| close codes seen | {', '.join(f'{code}: {n:,}' for code, n in sorted(s['close_codes'].items()))} |",
        f"| sockets per process after the storm; worker processes seen (more than {s['workers']}: the supervisor replaced some) | {' / '.join(str(n) for n in s['sockets_per_process'])}; {s.get('worker_pids_seen', '?')} |",
        f"| RSS peak per process (bound: fresh {s['fresh_rss_mib']} MiB + {KIB_PER_SOCKET_BOUND} KiB per socket at its peak + {REQUEST_HEADROOM_MIB} MiB) | {' / '.join(str(m) for m in s['rss_peak_mib'])} MiB; over bound: {s['over_bound']} |",
    ]
    if s.get("trace"):
        lines += [
            "",
            "The storm second by second (clients' view: dropped, reopened, first and second catch-up done; the new processes: sockets held, RSS, CPU seconds since start):",
            "",
            "| s after drop | dropped | reopened | caught up | done (second call when due) | sockets held per process | RSS MiB | CPU s | posts |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for sample in _thin(s["trace"], 40):
            lines.append(
                f"| {sample['t']} | {sample['dropped']:,} | {sample['reopened']:,} | {sample['caught_up']:,} | {sample['second']:,} | "
                f"{' / '.join(str(n) for n in sample['held'])} | {' / '.join(str(n) for n in sample['rss_mib'])} | "
                f"{' / '.join(str(n) for n in sample['cpu_s'])} | {sample['posts']} |"
            )
    return "\n".join(lines)


def _thin(samples: list[dict], most: int) -> list[dict]:
    """At most `most` samples, evenly spread, the last one always kept."""
    if len(samples) <= most:
        return samples
    step = len(samples) / (most - 1)
    return [samples[int(i * step)] for i in range(most - 1)] + [samples[-1]]


def prepare_tokens(count: int) -> tuple[Path, str]:
    """ws_bench's tokens, as phones that were connected before hold them: used a moment ago
    (no `last_used_at` write due on the reconnect)."""
    from django.utils import timezone

    from accounts.models import AuthToken
    from bench.ws_bench import TOKEN_DEVICE

    tokens, _organization_id, admin_token = make_tokens(count)
    AuthToken.objects.filter(device_name=TOKEN_DEVICE).update(last_used_at=timezone.now())
    return tokens, admin_token


def run(args, prefix: str) -> dict:
    tokens, admin_token = prepare_tokens(max(args.sockets, args.rate_sockets))
    result: dict = {"args": vars(args)}
    if args.rate_sockets:
        result["rate"] = connect_rate(tokens=tokens, sockets=args.rate_sockets, prefix=prefix, clients=args.clients)
        print(json.dumps(result["rate"]), flush=True)
    result["storm"] = storm(tokens=tokens, admin_token=admin_token, args=args, prefix=prefix)
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    client = sub.add_parser("client")
    client.add_argument("--url", required=True)
    client.add_argument("--base", required=True)
    client.add_argument("--tokens", required=True)
    client.add_argument("--offset", type=int, default=0)
    client.add_argument("--count", type=int, required=True)
    parser.add_argument("--sockets", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=4, help="server processes (the deployment's two per core)")
    parser.add_argument("--clients", type=int, default=4, help="load-generator processes")
    parser.add_argument("--rate-sockets", type=int, default=2_000, help="sockets for the one-process connect rate")
    parser.add_argument("--post-interval", type=float, default=1.0, help="seconds between the admin's posts during the storm")
    parser.add_argument("--post-seconds", type=float, default=20, help="post during this long after the drop")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--small", action="store_true", help="a quick run with few sockets")
    parser.add_argument("--no-report", action="store_true", help="print, do not write docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.small:
        args.sockets, args.rate_sockets, args.workers = min(args.sockets, 500), min(args.rate_sockets, 500), min(args.workers, 2)
    return args


def main() -> None:
    args = parse_args()
    if args.command == "client":
        client_main(args)
        return
    raise_nofile()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    prefix = f"storm{os.getpid()}"
    django_setup(prefix)
    result = run(args, prefix)
    DATA_DIR.mkdir(exist_ok=True)
    (DATA_DIR / "storm.json").write_text(json.dumps(result, indent=1, default=str))
    text = report(result, args)
    if not args.no_report:
        save_rows("storm", [line for line in text.splitlines() if line.startswith("| W6")])
        write_section("Reconnect storm (W6)", text)
    print(text)
    from accounts.models import AuthToken
    from bench.ws_bench import TOKEN_DEVICE

    AuthToken.objects.filter(device_name=TOKEN_DEVICE).delete()


if __name__ == "__main__":
    main()
