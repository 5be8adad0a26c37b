"""WebSocket scenarios of the performance issue (W1, W3, W4, W5) and their floor.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/feedapp_bench REDIS_URL=redis://127.0.0.1:6379/5 \
        .venv/bin/python bench/ws_bench.py [--small] [--w4-seconds 60]

Servers: uvicorn in its production configuration (DEBUG off, PostgreSQL, Redis
channel layer `RedisPubSubChannelLayer`, permessage-deflate off), one process per
port. Clients: separate load-generator processes (`ws_bench.py client ...`), each
holding thousands of `websockets` connections authenticated with real tokens of
the seeded organisation; the report says how many cores they took.

- W1: server RSS before and after N idle sockets, divided by N.
- W3: one process, 1,000 clients; a broadcast is published the way delivery does
  (`group_send` of a pre-rendered post card to the organisation's group) and its
  latency is the time until the *last* client read it.
- W4: two server processes sharing the Redis layer, 10,000 clients split between
  them, one broadcast per second sustained; last-delivery latency per broadcast,
  and the trend from the first to the last third (a growing backlog shows there).
- W5: every client counts every broadcast (100% expected); plus real posts made
  through the API (outbox -> Celery -> channel layer) reach every client, and
  clients that were disconnected while posts were made recover all of them
  through `GET /api/v1/feed/updates?since=` after reconnecting.
- Floor: the same clients and the same broadcast (Redis publish) through
  `bench/ws_floor.py`, a bare ASGI app with one subscription per process.

Writes the "WebSockets" section of docs/benchmarks.md and bench/.data/ws.json.
"""

# ruff: noqa: E501 - the report lines are long Markdown table rows

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import resource
import select
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lib import DATA_DIR, ROOT, command_line, free_port, percentile, save_rows, stamp, wait_for, write_section

TOKEN_DEVICE = "bench-ws"
CONNECT_CONCURRENCY = 64


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for wanted in (1_048_576, 262_144, 65_536, hard):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, max(wanted, hard)))
            return wanted
        except (ValueError, OSError):
            continue
    return soft


def frame_key(message: dict) -> str:
    """Real post events are keyed by post id (their frame id is the outbox event's), the rest by frame id."""
    if message.get("type") == "post.created":
        return f"post:{message.get('data', {}).get('id')}"
    return str(message.get("id"))


# --- Load generator process ------------------------------------------------------------------


def client_main(args: argparse.Namespace) -> None:
    """Hold `count` sockets; on stdin `dump` print what each frame reached, `quit` to stop."""
    raise_nofile()
    import orjson
    import uvloop
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    tokens = Path(args.tokens).read_text().split()[args.offset : args.offset + args.count]
    urls = args.urls.split(",")
    frames: dict[str, list[float]] = {}
    sockets: list = []
    failures: list[str] = []

    async def reader(ws) -> None:
        try:
            async for raw in ws:
                now = time.time()
                key = frame_key(orjson.loads(raw))
                record = frames.get(key)
                if record is None:
                    frames[key] = [1, now, now]
                else:
                    record[0] += 1
                    if now > record[2]:
                        record[2] = now
        except ConnectionClosed:
            pass

    async def open_one(index: int, token: str, gate: asyncio.Semaphore) -> None:
        async with gate:
            for attempt in range(6):
                try:
                    ws = await connect(
                        urls[index % len(urls)],
                        subprotocols=["bearer", token],
                        compression=None,
                        ping_interval=None,
                        open_timeout=120,
                        max_queue=None,
                    )
                except Exception as error:
                    if attempt == 5:
                        failures.append(repr(error)[:200])
                        return
                    await asyncio.sleep(0.5 * (attempt + 1))
                    continue
                sockets.append(ws)
                asyncio.get_running_loop().create_task(reader(ws))
                return

    async def run() -> None:
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        started = time.perf_counter()
        await asyncio.gather(*(open_one(index + args.offset, token, gate) for index, token in enumerate(tokens)))
        print(
            json.dumps(
                {"ready": len(sockets), "failed": len(failures), "seconds": round(time.perf_counter() - started, 1), "errors": failures[:3]}
            ),
            flush=True,
        )
        loop = asyncio.get_running_loop()
        while True:
            line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
            if line == "dump":
                open_count = sum(1 for ws in sockets if ws.state.name == "OPEN")
                print(json.dumps({"frames": frames, "open": open_count}), flush=True)
                frames.clear()
            elif line in ("quit", ""):
                await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
                return

    uvloop.run(run())


class ClientProcess:
    """A load-generator process, driven over its stdin/stdout."""

    def __init__(self, *, urls: list[str], tokens: Path, offset: int, count: int) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "client",
                "--urls",
                ",".join(urls),
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

    def line(self, timeout: float) -> dict:
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            raise TimeoutError("load generator did not answer")
        text = self.process.stdout.readline()
        if not text:
            raise RuntimeError("load generator exited")
        return json.loads(text)

    def send(self, command: str) -> None:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def dump(self) -> dict:
        self.send("dump")
        return self.line(120)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.process.pid)

    def stop(self) -> None:
        try:
            self.send("quit")
            self.process.wait(timeout=60)
        except (OSError, subprocess.TimeoutExpired, BrokenPipeError):
            self.process.kill()
            self.process.wait()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# --- Servers ---------------------------------------------------------------------------------


class Processes:
    def __init__(self) -> None:
        self.items: list[subprocess.Popen] = []

    def start(self, argv: list[str], env: dict) -> subprocess.Popen:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, preexec_fn=raise_nofile)
        self.items.append(process)
        return process

    def stop(self) -> None:
        for process in self.items:
            if process.poll() is None:
                process.terminate()
        for process in self.items:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.items.clear()


def stack_argv(port: int) -> list[str]:
    """Our stack as deployed (server/serve.py), one process: its WebSocket protocol (wsproto,
    server/ws.py), compression off, TCP keepalive."""
    return [
        sys.executable,
        "-m",
        "server.serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--no-access-log",
        "--log-level",
        "warning",
        "--backlog",
        "4096",
    ]


def uvicorn_argv(app: str, port: int) -> list[str]:
    """The floor app on plain uvicorn, with the protocol implementation our stack uses."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--ws-per-message-deflate",
        "false",
        "--no-access-log",
        "--log-level",
        "warning",
        "--backlog",
        "4096",
        "--ws",
        "wsproto",
    ]


# --- Orchestration ---------------------------------------------------------------------------


def django_setup(prefix: str) -> None:
    os.environ["CHANNEL_LAYER_PREFIX"] = prefix
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
    import django

    django.setup()


def make_tokens(count: int) -> tuple[Path, int, str]:
    """`count` tokens of employees of the benchmark organisation (cycled if fewer), and an admin token."""
    from django.conf import settings
    from django.utils import timezone

    from accounts.authentication import hash_token, new_raw_token
    from accounts.models import AuthToken, User

    AuthToken.objects.filter(device_name=TOKEN_DEVICE).delete()
    users = list(
        User.objects.filter(organization__slug="bench-retail", role="employee", is_active=True)
        .order_by("id")
        .values_list("pk", flat=True)[:count]
    )
    admin = User.objects.get(organization__slug="bench-retail", email="user0@bench.example")
    raws, rows = [], []
    expires = timezone.now() + settings.AUTH_TOKEN_TTL
    for index in range(count + 1):
        raw = new_raw_token()
        user_id = admin.pk if index == count else users[index % len(users)]
        raws.append(raw)
        rows.append(AuthToken(user_id=user_id, key_hash=hash_token(raw), device_name=TOKEN_DEVICE, expires_at=expires))
    AuthToken.objects.bulk_create(rows, batch_size=5000)
    DATA_DIR.mkdir(exist_ok=True)
    path = DATA_DIR / "ws-tokens.txt"
    path.write_text("\n".join(raws[:count]) + "\n")
    return path, admin.organization_id, raws[count]


def event_text() -> str:
    """A realistic frame: the viewer-neutral card of a recent org-wide post, as delivery renders it."""
    from feed.cards import post_card
    from feed.models import Post

    post = Post.objects.filter(organization__slug="bench-retail", org_wide=True).order_by("-published_at").first()
    return json.dumps(post_card(post=post, viewer=None), default=str)


class Publisher:
    """Publishes a broadcast the way each stack receives it and remembers when."""

    def __init__(self, *, floor: bool, organization_id: int, card_json: str) -> None:
        self.floor = floor
        self.organization_id = organization_id
        self.card_json = card_json
        self.sent: dict[str, float] = {}

    async def publish(self, seq: int) -> None:
        from notifications import realtime

        frame_id = str(uuid.uuid4())
        text = f'{{"id":"{frame_id}","type":"bench.broadcast","data":{{"seq":{seq},"card":{self.card_json}}},"at":null}}'
        if self.floor:
            loop = asyncio.get_running_loop()
            if getattr(self, "redis_loop", None) is not loop:
                import redis.asyncio as redis

                # One client per event loop (each scenario runs its own loop).
                self.redis, self.redis_loop = redis.from_url(os.environ["REDIS_URL"]), loop
            self.sent[frame_id] = time.time()
            await self.redis.publish(os.environ.get("WS_FLOOR_CHANNEL", "bench-floor"), text)
        else:
            from channels.layers import get_channel_layer

            layer = get_channel_layer()
            self.sent[frame_id] = time.time()
            group = realtime.org_group(self.organization_id)
            await layer.group_send(group, realtime.event_message(group=group, frame_id=frame_id, text=text))


def collect(clients: list[ClientProcess], sent: dict[str, float]) -> tuple[list[float], list[int], int]:
    """(last-delivery latency ms per broadcast, receivers per broadcast, open sockets)."""
    merged: dict[str, list[float]] = {}
    open_sockets = 0
    for client in clients:
        dump = client.dump()
        open_sockets += dump["open"]
        for key, (count, _first, last) in dump["frames"].items():
            record = merged.setdefault(key, [0, 0.0])
            record[0] += count
            record[1] = max(record[1], last)
    latencies, received = [], []
    for frame_id, at in sent.items():
        count, last = merged.get(frame_id, [0, at])
        received.append(int(count))
        latencies.append((last - at) * 1000 if count else float("inf"))
    return latencies, received, open_sockets


async def broadcasts(publisher: Publisher, *, count: int, interval: float) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    for seq in range(count):
        await asyncio.sleep(max(0.0, start + seq * interval - loop.time()))
        await publisher.publish(seq)


def run_broadcasts(publisher: Publisher, clients: list[ClientProcess], *, count: int, interval: float, settle: float = 3.0) -> dict:
    publisher.sent.clear()
    cpu_before = sum(client.cpu_seconds() for client in clients)
    started = time.perf_counter()
    asyncio.run(broadcasts(publisher, count=count, interval=interval))
    time.sleep(settle)
    wall = time.perf_counter() - started
    cpu = sum(client.cpu_seconds() for client in clients) - cpu_before
    latencies, received, open_sockets = collect(clients, publisher.sent)
    third = max(1, len(latencies) // 3)
    finite = [value for value in latencies if value != float("inf")]
    return {
        "broadcasts": count,
        "interval_s": interval,
        "p50_ms": percentile(finite, 50),
        "p99_ms": percentile(finite, 99),
        "max_ms": max(finite) if finite else float("nan"),
        "first_third_p50_ms": percentile(latencies[:third], 50),
        "last_third_p50_ms": percentile(latencies[-third:], 50),
        "received": sum(received),
        "expected": open_sockets * count,
        "complete": sum(received) == open_sockets * count,
        "open_sockets": open_sockets,
        "client_cores": round(cpu / wall, 2),
        "load": load_average(),
    }


def spawn_clients(urls: list[str], tokens: Path, total: int, processes: int, offset: int = 0) -> tuple[list[ClientProcess], dict]:
    per = -(-total // processes)
    clients = []
    for index in range(processes):
        count = min(per, total - index * per)
        if count > 0:
            clients.append(ClientProcess(urls=urls, tokens=tokens, offset=offset + index * per, count=count))
    started = time.perf_counter()
    ready = [client.line(900) for client in clients]
    seconds = time.perf_counter() - started
    summary = {"ready": sum(r["ready"] for r in ready), "failed": sum(r["failed"] for r in ready), "seconds": round(seconds, 1)}
    summary["connects_per_s"] = round(summary["ready"] / seconds, 0) if seconds else 0
    summary["errors"] = [e for r in ready for e in r["errors"]][:3]
    return clients, summary


def warm_socket(url: str, token: str) -> None:
    """One connect and close, so the baseline RSS already has the code paths loaded."""
    from websockets.sync.client import connect

    with connect(url, subprotocols=["bearer", token], compression=None, open_timeout=30) as ws:
        ws.send('{"type":"ping"}')
        ws.recv(timeout=10)


def server_env(prefix: str, port: int) -> dict:
    from bench.api_bench import PRODUCTION_ENV

    # A persistent connection here (unlike api_bench): a consumer's database calls all run on
    # the process's one thread-sensitive thread, so one connection serves every socket's
    # connect. With CONN_MAX_AGE=0 each connect opened two PostgreSQL connections and
    # connecting 10,000 sockets took minutes (about 20/s on the loaded machine).
    return {
        **os.environ,
        **PRODUCTION_ENV,
        "CONN_MAX_AGE": "60",
        "CHANNEL_LAYER_PREFIX": prefix,
        "CELERY_TASK_DEFAULT_QUEUE": f"wsbench-{port}",
    }


def stack_scenarios(*, floor: bool, args, tokens: Path, organization_id: int, card: str, prefix: str) -> dict:
    """W3 then W1 on one server process of `floor` or our stack."""
    processes = Processes()
    port = free_port()
    env = server_env(prefix, port)
    if floor:
        env["WS_FLOOR_CHANNEL"] = f"{prefix}-floor"
        os.environ["WS_FLOOR_CHANNEL"] = env["WS_FLOOR_CHANNEL"]
        server = processes.start([*uvicorn_argv("bench.ws_floor:app", port), "--lifespan", "off"], env)
        url = f"ws://127.0.0.1:{port}/"
    else:
        server = processes.start(stack_argv(port), env)
        url = f"ws://127.0.0.1:{port}/ws/v1/stream"
    result: dict = {}
    clients: list[ClientProcess] = []
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", timeout=60)
        if not floor:
            warm_socket(url, tokens.read_text().split()[-1])
        time.sleep(2)
        rss_before = rss_kib(server.pid)
        publisher = Publisher(floor=floor, organization_id=organization_id, card_json=card)
        # W3: 1,000 clients on one process.
        batch, connect = spawn_clients([url], tokens, args.w3_clients, 1)
        clients += batch
        result["w3_connect"] = connect
        asyncio.run(broadcasts(publisher, count=3, interval=0.5))  # warm the path
        time.sleep(2)
        collect(clients, {})
        result["w3"] = run_broadcasts(publisher, clients, count=args.w3_broadcasts, interval=0.5)
        if not floor and not args.skip_w5:
            # W5 on the W3 clients: real posts reach all of them; reconnecting ones catch up.
            result["w5"] = w5_real_posts(port=port, url=url, tokens=tokens, clients=clients, env=env, processes=processes, args=args)
        # W1: add idle sockets up to the target on the same process.
        more = args.w1_clients - args.w3_clients
        if more > 0:
            batch, connect = spawn_clients([url], tokens, more, 2, offset=args.w3_clients)
            clients += batch
            result["w1_connect"] = connect
        time.sleep(5)
        rss_after = rss_kib(server.pid)
        connected = sum(c.count for c in clients) - result.get("w1_connect", {}).get("failed", 0) - result["w3_connect"]["failed"]
        result["w1"] = {
            "sockets": connected,
            "rss_before_mib": round(rss_before / 1024, 1),
            "rss_after_mib": round(rss_after / 1024, 1),
            "kib_per_socket": round((rss_after - rss_before) / max(1, connected), 1),
            "load": load_average(),
        }
        # For the record: one broadcast to all of them from this one process.
        result["w1_broadcast"] = run_broadcasts(publisher, clients, count=10, interval=2.0, settle=8.0)
    finally:
        for client in clients:
            client.stop()
        processes.stop()
    return result


def w4(*, floor: bool, args, tokens: Path, organization_id: int, card: str, prefix: str) -> dict:
    processes = Processes()
    ports = [free_port(), free_port()]
    urls = []
    for port in ports:
        env = server_env(prefix, port)
        if floor:
            env["WS_FLOOR_CHANNEL"] = f"{prefix}-floor"
            os.environ["WS_FLOOR_CHANNEL"] = env["WS_FLOOR_CHANNEL"]
            processes.start([*uvicorn_argv("bench.ws_floor:app", port), "--lifespan", "off"], env)
            urls.append(f"ws://127.0.0.1:{port}/")
        else:
            processes.start(stack_argv(port), env)
            urls.append(f"ws://127.0.0.1:{port}/ws/v1/stream")
    clients: list[ClientProcess] = []
    try:
        for port in ports:
            wait_for(f"http://127.0.0.1:{port}/healthz", timeout=60)
        clients, connect = spawn_clients(urls, tokens, args.w4_clients, 2)
        publisher = Publisher(floor=floor, organization_id=organization_id, card_json=card)
        asyncio.run(broadcasts(publisher, count=3, interval=1.0))
        time.sleep(3)
        collect(clients, {})
        result = run_broadcasts(publisher, clients, count=args.w4_seconds, interval=1.0, settle=10.0)
        result["connect"] = connect
        result["server_rss_mib"] = [round(rss_kib(p.pid) / 1024, 1) for p in processes.items]
        return result
    finally:
        for client in clients:
            client.stop()
        processes.stop()


def w5_real_posts(*, port: int, url: str, tokens: Path, clients: list[ClientProcess], env: dict, processes: Processes, args) -> dict:
    """Real posts through the API reach every socket; reconnecting sockets catch up over REST."""
    import httpx
    from websockets.sync.client import connect

    processes.start(
        [
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
        ],
        env,
    )
    base = f"http://127.0.0.1:{port}"
    admin_token = (DATA_DIR / "ws-admin-token.txt").read_text().strip()
    admin = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {admin_token}"}, timeout=30)
    time.sleep(5)  # the worker connects to the broker
    collect(clients, {})

    # Live: N posts while every client is connected.
    sent: dict[str, float] = {}
    for index in range(args.w5_posts):
        at = time.time()
        response = admin.post("/api/v1/posts", json={"body": f"W5 live {index}", "kind": "post"})
        response.raise_for_status()
        sent[f"post:{response.json()['id']}"] = at
        time.sleep(1.0)
    time.sleep(8)
    latencies, received, open_sockets = collect(clients, sent)
    live = {
        "posts": len(sent),
        "received": sum(received),
        "expected": open_sockets * len(sent),
        "post_to_last_p50_ms": percentile([v for v in latencies if v != float("inf")], 50),
        "post_to_last_max_ms": max(latencies) if latencies else float("nan"),
    }

    # Reconnect: sockets that were away while posts were made recover them by catch-up.
    reconnect_tokens = tokens.read_text().split()[: args.w5_reconnect]
    cursors = {}
    sockets = []
    for token in reconnect_tokens:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            cursors[token] = client.get("/api/v1/feed/updates").json()["cursor"]
        sockets.append(connect(url, subprotocols=["bearer", token], compression=None, open_timeout=30))
    for ws in sockets:
        ws.close()  # forced disconnect
    missed = []
    for index in range(args.w5_missed):
        response = admin.post("/api/v1/posts", json={"body": f"W5 missed {index}", "kind": "post"})
        response.raise_for_status()
        missed.append(response.json()["id"])
    time.sleep(6.5)  # catch-up hands out changes older than its 5 s settle window
    recovered_all, errors = 0, []
    for token in reconnect_tokens:
        try:
            reconnected = connect(url, subprotocols=["bearer", token], compression=None, open_timeout=60)
        except Exception as error:  # counted: a client that cannot reconnect has not recovered
            errors.append(repr(error)[:200])
            continue
        with reconnected:
            seen: set[int] = set()
            since = cursors[token]
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
                for _page in range(100):
                    body = client.get("/api/v1/feed/updates", params={"since": since}).json()
                    seen.update(item["id"] for item in body["results"])
                    since = body["cursor"]
                    if not body.get("has_more"):
                        break
        recovered_all += all(post_id in seen for post_id in missed)
    admin.close()
    return {
        "live": live,
        "reconnect": {
            "clients": len(reconnect_tokens),
            "missed_posts": len(missed),
            "clients_recovered_all": recovered_all,
            "errors": errors[:3],
        },
        "load": load_average(),
    }


def fmt(value: float) -> str:
    return "n/a" if value != value or value == float("inf") else (f"{value:.0f}" if value >= 100 else f"{value:.1f}")


def w1_sockets_possible() -> int:
    """Sockets one process can hold here: its file-descriptor hard limit, less what the server
    needs besides (database, Redis, listening socket, logs)."""
    return resource.getrlimit(resource.RLIMIT_NOFILE)[1] - 100


def w1_verdict(w1: dict, args) -> str:
    enough = w1["sockets"] >= min(args.w1_target, w1_sockets_possible())
    if not enough or w1["kib_per_socket"] > 36:
        return "**miss**"
    limited = " at the fd limit" if w1["sockets"] < args.w1_target else ""
    return ("pass (stretch)" if w1["kib_per_socket"] <= 32 else "pass") + limited


def report(results: dict, args) -> str:
    ours, floor = results["ours"], results["floor"]
    v = lambda ok: "pass" if ok else "**miss**"  # noqa: E731
    w1, fw1 = ours["w1"], floor["w1"]
    w3, fw3 = ours["w3"], floor["w3"]
    lines = [
        stamp(),
        "",
        f"Command: `{command_line()}`. Server: `server.serve --workers 1` (uvicorn, wsproto: server/ws.py; permessage-deflate off), `DEBUG=False`, PostgreSQL,",
        "Redis `RedisPubSubChannelLayer`; each socket authenticates with a real token and joins its user, token,",
        "organisation and group channels. Load: separate `ws_bench.py client` processes (websockets + uvloop) on 127.0.0.1;",
        "latency = time from the publish until the **last** client read the frame (a ~1 KiB post card).",
        "Floor: the same clients and publish through `bench/ws_floor.py` (bare ASGI app on uvicorn with wsproto, one Redis subscription per process).",
        f"File-descriptor limit here: hard {resource.getrlimit(resource.RLIMIT_NOFILE)[1]:,} per process (a container that may not raise it), which caps one process at {w1_sockets_possible():,} sockets.",
        "",
        "| id | what | target | measured | floor | ratio | verdict | load avg |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines.append(
        f"| W1 | {w1['sockets']:,} idle sockets, one process: RSS per socket | 20,000 at ≤ 36 KiB (stretch 32; first round 10,000 at ≤ 50) | {w1['kib_per_socket']} KiB "
        f"({w1['rss_before_mib']} → {w1['rss_after_mib']} MiB) | {fw1['kib_per_socket']} KiB | {w1['kib_per_socket'] / max(fw1['kib_per_socket'], 0.1):.1f}× | "
        f"{w1_verdict(w1, args)} | {w1['load']} |"
    )
    lines.append(
        f"| W3 | broadcast → last of {w3['open_sockets']:,} clients, one process ({w3['broadcasts']} broadcasts) | p99 ≤ 250 ms | "
        f"p50 {fmt(w3['p50_ms'])}, p99 {fmt(w3['p99_ms'])} ms | p50 {fmt(fw3['p50_ms'])}, p99 {fmt(fw3['p99_ms'])} ms | "
        f"{w3['p99_ms'] / max(fw3['p99_ms'], 0.1):.1f}× | {v(w3['p99_ms'] <= 250)} | {w3['load']} |"
    )
    if results.get("w4"):
        w4r, fw4 = results["w4"]["ours"], results["w4"]["floor"]
        growing = w4r["last_third_p50_ms"] > 2 * max(w4r["first_third_p50_ms"], 50)
        lines.append(
            f"| W4 | broadcast → last of {w4r['open_sockets']:,} clients, two processes, 1/s for {w4r['broadcasts']} s | ≤ 2.5 s, no growing backlog | "
            f"p50 {fmt(w4r['p50_ms'])}, p99 {fmt(w4r['p99_ms'])} ms (first third p50 {fmt(w4r['first_third_p50_ms'])}, last {fmt(w4r['last_third_p50_ms'])}) | "
            f"p50 {fmt(fw4['p50_ms'])}, p99 {fmt(fw4['p99_ms'])} ms | {w4r['p99_ms'] / max(fw4['p99_ms'], 0.1):.1f}× | "
            f"{v(w4r['p99_ms'] <= 2500 and not growing and w4r['open_sockets'] >= args.w4_target)} | {w4r['load']} |"
        )
    complete = w3["complete"] and ours["w1_broadcast"]["complete"] and (results.get("w4", {}).get("ours", {}).get("complete", True))
    w5 = ours.get("w5")
    if w5:
        live, again = w5["live"], w5["reconnect"]
        ok = complete and live["received"] == live["expected"] and again["clients_recovered_all"] == again["clients"]
        lines.append(
            f"| W5 | every broadcast reaches every client; catch-up after a reconnect | 100% | broadcasts {w3['received']:,}/{w3['expected']:,} (W3)"
            f"{', W4 ' + format(results['w4']['ours']['received'], ',') + '/' + format(results['w4']['ours']['expected'], ',') if 'w4' in results else ''}"
            f", W1 ({ours['w1']['sockets']:,} in one process) {ours['w1_broadcast']['received']:,}/{ours['w1_broadcast']['expected']:,}; "
            f"real posts via API → {live['received']:,}/{live['expected']:,} (post → last client p50 {fmt(live['post_to_last_p50_ms'])}, max {fmt(live['post_to_last_max_ms'])} ms); "
            f"reconnect: {again['clients_recovered_all']}/{again['clients']} clients recovered all {again['missed_posts']} missed posts | | | {v(ok)} | {w5['load']} |"
        )
    lines += [
        "",
        "Connecting: "
        + "; ".join(
            f"{name} {data['ready']:,} sockets in {data['seconds']} s ({data['connects_per_s']:.0f}/s, {data['failed']} failed)"
            for name, data in (
                ("W3", ours["w3_connect"]),
                ("W1", ours.get("w1_connect")),
                ("W4", results.get("w4", {}).get("ours", {}).get("connect")),
            )
            if data
        )
        + ".",
        f"Load generators: {ours['w3']['client_cores']} cores during W3, "
        + (f"{results['w4']['ours']['client_cores']} cores during W4 (two processes); " if "w4" in results else "")
        + "the servers, Redis and the generators share the machine's 2 cores, with other work running on it.",
        f"One process broadcasting to all {ours['w1_broadcast']['open_sockets']:,} W1 sockets: p50 {fmt(ours['w1_broadcast']['p50_ms'])}, "
        f"p99 {fmt(ours['w1_broadcast']['p99_ms'])} ms (floor p50 {fmt(floor['w1_broadcast']['p50_ms'])}, p99 {fmt(floor['w1_broadcast']['p99_ms'])} ms), "
        f"{ours['w1_broadcast']['received']:,}/{ours['w1_broadcast']['expected']:,} delivered.",
    ]
    if args.w4_clients < args.w4_target:
        lines.append(f"W4 ran with {args.w4_clients:,} clients, fewer than the target's {args.w4_target:,} (see the command).")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    client = sub.add_parser("client")
    client.add_argument("--urls", required=True)
    client.add_argument("--tokens", required=True)
    client.add_argument("--offset", type=int, default=0)
    client.add_argument("--count", type=int, required=True)
    parser.add_argument("--small", action="store_true", help="a quick run with few sockets")
    parser.add_argument("--w1-clients", type=int, default=None, help="default: 20,000, or what the fd limit allows")
    parser.add_argument("--w3-clients", type=int, default=1_000)
    parser.add_argument("--w3-broadcasts", type=int, default=100)
    parser.add_argument("--w4-clients", type=int, default=10_000)
    parser.add_argument("--w4-seconds", type=int, default=60)
    parser.add_argument("--w5-posts", type=int, default=5)
    parser.add_argument("--w5-missed", type=int, default=10)
    parser.add_argument("--w5-reconnect", type=int, default=10)
    parser.add_argument("--skip-w4", action="store_true")
    parser.add_argument("--stages", default="ours,floor,w4", help="which of ours (W1/W3/W5), floor, w4 to run")
    parser.add_argument("--skip-w5", action="store_true")
    parser.add_argument("--no-report", action="store_true", help="print, do not write docs/benchmarks.md")
    args = parser.parse_args()
    if args.command == "client":
        client_main(args)
        return
    args.w1_target, args.w4_target = 20_000, 10_000
    if args.w1_clients is None:
        args.w1_clients = min(args.w1_target, w1_sockets_possible())
    if args.small:
        args.w1_clients, args.w3_clients, args.w3_broadcasts, args.w4_clients, args.w4_seconds = 600, 200, 20, 1_000, 10
    raise_nofile()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    prefix = f"wsbench{os.getpid()}"
    django_setup(prefix)
    tokens, organization_id, admin_token = make_tokens(max(args.w1_clients, args.w4_clients))
    (DATA_DIR / "ws-admin-token.txt").write_text(admin_token)
    card = event_text()
    stages = set(args.stages.split(","))
    saved = DATA_DIR / "ws.json"
    # Stages not run this time keep their figures from the last run (bench/.data/ws.json).
    results: dict = json.loads(saved.read_text()) if saved.exists() and stages != {"ours", "floor", "w4"} else {}
    results["args"] = vars(args)
    common = {"args": args, "tokens": tokens, "organization_id": organization_id, "card": card, "prefix": prefix}
    if "ours" in stages:
        results["ours"] = stack_scenarios(floor=False, **common)
        print(json.dumps(results["ours"], indent=1), flush=True)
        saved.write_text(json.dumps(results, indent=1, default=str))
    if "floor" in stages:
        results["floor"] = stack_scenarios(floor=True, **common)
        print(json.dumps(results["floor"], indent=1), flush=True)
        saved.write_text(json.dumps(results, indent=1, default=str))
    if "w4" in stages and not args.skip_w4:
        results["w4"] = {"ours": w4(floor=False, **common), "floor": w4(floor=True, **common)}
        print(json.dumps(results["w4"], indent=1), flush=True)
    (DATA_DIR / "ws.json").write_text(json.dumps(results, indent=1, default=str))
    text = report(results, args)
    if not args.no_report:
        save_rows("ws", [line for line in text.splitlines() if line.startswith("| W")])
        write_section("WebSockets", text)
    print(text)
    from accounts.models import AuthToken

    AuthToken.objects.filter(device_name=TOKEN_DEVICE).delete()


if __name__ == "__main__":
    main()
