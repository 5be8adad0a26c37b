"""S1 (polls, issue #21): a poll with 10,000 votes per minute keeps `poll.updated` at ≤ 1 frame/s per post.

    REDIS_URL=redis://127.0.0.1:6379/10 .venv/bin/python bench/poll_bench.py \
        [--database-url postgres://postgres@127.0.0.1:5432/feedapp_benchpoll] [--rate 10000] [--seconds 60] [--sockets 20]

The real stack in its production configuration (bench/api_bench.py PRODUCTION_ENV): the deployment's
launcher (`server.serve`, uvicorn, 2 processes) for HTTP and WebSockets on `RedisPubSubChannelLayer`,
a Celery worker (the leading and trailing frames, outbox delivery), PostgreSQL, Redis as cache (the
coalescing keys) and broker. Its own small database (created and migrated if missing): one organisation,
an author, `--voters` employees, one org-wide post with a three-option poll (`results: always`).

Load: `--rate` votes per minute for `--seconds`, paced, from `--concurrency` keep-alive HTTP clients of this
process; each vote is `PUT /posts/{id}/poll/vote` by a random voter for a random option (so most are vote
changes, as people do). `--sockets` listeners hold the stream open and time every `poll.updated` frame.
Afterwards the post's card (GET) is compared with each socket's last frame: the final counts must arrive.

Writes the "Polls" section and the S1 poll row of the summary table in docs/benchmarks.md (other rows kept).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lib import REPORT, ROOT, command_line, free_port, load_average, percentile, save_rows, stamp, wait_for, write_section

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/feedapp_benchpoll"
ORG_SLUG = "bench-poll"
ROW_ID = "S1"
ROW_WHAT = "poll with 10,000 votes/min: `poll.updated` frames per post"
VOTE_PATH = {
    "http": "`PUT /posts/{id}/poll/vote`",
    "service": "`feed.services.polls.poll_vote` called in threads of the bench process (no HTTP, auth or card)",
}
VIA = {"http": "votes over HTTP", "service": "votes through the vote service"}


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, check=True)


def setup_scene(voter_count: int) -> dict:
    """The organisation, its people and tokens, and a fresh post with a poll (idempotent but the post)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.utils import timezone

    from accounts.authentication import hash_token, new_raw_token
    from accounts.models import AuthToken, Organization, User
    from feed import services

    organization, _ = Organization.objects.get_or_create(slug=ORG_SLUG, defaults={"name": "Bench polls"})
    author, _ = User.objects.get_or_create(
        email="author@benchpoll.example", defaults={"organization": organization, "name": "Poll author", "role": "leader"}
    )
    have = User.objects.filter(organization=organization, role="employee").count()
    User.objects.bulk_create(
        [
            User(organization=organization, email=f"voter{n}@benchpoll.example", name=f"Voter {n}", role="employee", password="!")
            for n in range(have, voter_count)
        ]
    )
    voters = list(User.objects.filter(organization=organization, role="employee").order_by("pk")[:voter_count])
    AuthToken.objects.filter(device_name="poll-bench").delete()
    expires = timezone.now() + settings.AUTH_TOKEN_TTL
    tokens: dict[int, str] = {}
    rows = []
    for user in [author, *voters]:
        tokens[user.pk] = new_raw_token()
        rows.append(AuthToken(user=user, key_hash=hash_token(tokens[user.pk]), device_name="poll-bench", expires_at=expires))
    AuthToken.objects.bulk_create(rows, batch_size=5000)
    post = services.post_create(author=author, body="Where do we eat on Friday?", poll={"options": ["Pizza", "Soup", "Salad"]})
    options = list(post.poll.options.order_by("position").values_list("pk", flat=True))
    from django.db import connections

    connections.close_all()
    return {
        "post_id": post.pk,
        "options": options,
        "author_token": tokens[author.pk],
        "voter_tokens": [tokens[user.pk] for user in voters],
    }


class Stack:
    def __init__(self, env: dict, port: int) -> None:
        from bench.api_bench import PRODUCTION_ENV

        self.port = port
        queue = f"pollbench-{self.port}"
        self.env = {**env, **PRODUCTION_ENV, "CELERY_TASK_DEFAULT_QUEUE": queue, "CHANNEL_LAYER_PREFIX": queue}
        python = sys.executable
        server = [python, "-m", "server.serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "2"]
        server += ["--ws-per-message-deflate", "false", "--no-access-log", "--log-level", "warning"]
        worker = [python, "-m", "celery", "-A", "server", "worker", "-Q", f"{queue},push", "--concurrency", "2", "--loglevel", "WARNING"]
        self.processes = [
            subprocess.Popen(server, cwd=ROOT, env=self.env),
            subprocess.Popen(worker, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL),
        ]
        self.base = f"http://127.0.0.1:{self.port}"
        wait_for(self.base + "/healthz", timeout=60)
        time.sleep(4)  # the worker connects to the broker

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


async def listen(url: str, token: str, post_id: int, frames: list, stop: asyncio.Event) -> None:
    from websockets.asyncio.client import connect

    async with connect(url, subprotocols=["bearer", token], compression=None, open_timeout=30) as socket:
        while not stop.is_set():
            try:
                text = await asyncio.wait_for(socket.recv(), timeout=0.5)
            except TimeoutError:
                continue
            frame = json.loads(text)
            if frame.get("type") == "poll.updated" and frame["data"]["post_id"] == post_id:
                frames.append((time.monotonic(), frame["data"]["poll"]))


async def vote_load(base: str, scene: dict, *, rate_per_minute: float, seconds: float, concurrency: int) -> dict:
    import logging

    import httpx

    logging.getLogger("httpx").setLevel(logging.WARNING)
    total = round(rate_per_minute * seconds / 60)
    interval = 60 / rate_per_minute
    queue: asyncio.Queue[int] = asyncio.Queue()
    latencies: list[float] = []
    errors: dict[int, int] = {}
    started = time.monotonic()
    chooser = random.Random(21)
    plan = [(chooser.choice(scene["voter_tokens"]), chooser.choice(scene["options"])) for _ in range(total)]
    lag: list[float] = []
    skipped: list[int] = []
    deadline = started + seconds + 2

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            while True:
                index = await queue.get()
                if index < 0:
                    return
                token, option = plan[index]
                due = started + index * interval
                if time.monotonic() > deadline:
                    skipped.append(index)  # the server could not keep up: the achieved rate is reported
                    continue
                if (wait := due - time.monotonic()) > 0:
                    await asyncio.sleep(wait)
                lag.append(max(0.0, time.monotonic() - due))
                sent = time.monotonic()
                response = await http.put(
                    f"/api/v1/posts/{scene['post_id']}/poll/vote",
                    json={"option_ids": [option]},
                    headers={"Authorization": f"Bearer {token}"},
                )
                latencies.append((time.monotonic() - sent) * 1000)
                if response.status_code != 200:
                    errors[response.status_code] = errors.get(response.status_code, 0) + 1

    for index in range(total):
        queue.put_nowait(index)
    for _ in range(concurrency):
        queue.put_nowait(-1)
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.monotonic() - started
    sent = total - len(skipped)
    return {
        "votes": sent,
        "planned": total,
        "elapsed_s": elapsed,
        "per_minute": sent / elapsed * 60,
        "errors": errors,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "started": started,
    }


def vote_load_service(scene: dict, *, rate_per_minute: float, seconds: float, concurrency: int) -> dict:
    import threading

    from django.db import connections

    from accounts.models import User
    from feed.services import polls

    voters = list(User.objects.filter(organization__slug=ORG_SLUG, role="employee").order_by("pk"))
    total = round(rate_per_minute * seconds / 60)
    interval = 60 / rate_per_minute
    chooser = random.Random(21)
    plan = [(chooser.choice(voters), chooser.choice(scene["options"])) for _ in range(total)]
    latencies: list[float] = []
    errors: dict[str, int] = {}
    counter = iter(range(total))
    lock = threading.Lock()
    started = time.monotonic()
    deadline = started + seconds + 2
    sent = [0]

    def worker() -> None:
        try:
            while True:
                with lock:
                    index = next(counter, None)
                if index is None:
                    return
                due = started + index * interval
                if (wait := due - time.monotonic()) > 0:
                    time.sleep(wait)
                if time.monotonic() > deadline:
                    continue
                voter, option = plan[index]
                begun = time.monotonic()
                try:
                    polls.poll_vote(user=voter, post_id=scene["post_id"], option_ids=[option])
                except Exception as error:  # counted, not fatal; the first of each kind is printed
                    with lock:
                        name = type(error).__name__
                        if name not in errors:
                            print(f"vote error: {name}: {error}", file=sys.stderr)
                        errors[name] = errors.get(name, 0) + 1
                with lock:
                    latencies.append((time.monotonic() - begun) * 1000)
                    sent[0] += 1
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return {
        "votes": sent[0],
        "planned": total,
        "elapsed_s": elapsed,
        "per_minute": sent[0] / elapsed * 60,
        "errors": errors,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "started": started,
    }


def frame_stats(frames: list, *, start: float, end: float) -> dict:
    times = [at for at, _ in frames]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    in_window = [at for at in times if start <= at <= end]
    span = max(end - start, 1e-9)
    busiest = max((sum(1 for other in times if at <= other < at + 1.0) for at in times), default=0)
    return {
        "frames": len(frames),
        "per_second": len(in_window) / span,
        "busiest_second": busiest,
        "min_gap_s": min(gaps) if gaps else float("nan"),
        "p50_gap_s": percentile(gaps, 50),
    }


async def run(args, scene: dict, stack: Stack) -> dict:
    import httpx

    url = f"ws://127.0.0.1:{stack.port}/ws/v1/stream"
    stop = asyncio.Event()
    per_socket: list[list] = [[] for _ in range(args.sockets)]
    tokens = [scene["author_token"], *scene["voter_tokens"]][: args.sockets]
    listeners = [
        asyncio.create_task(listen(url, token, scene["post_id"], frames, stop)) for token, frames in zip(tokens, per_socket, strict=True)
    ]
    await asyncio.sleep(3)  # every socket connected and subscribed
    if args.via == "service":
        load = await asyncio.to_thread(
            vote_load_service, scene, rate_per_minute=args.rate, seconds=args.seconds, concurrency=args.concurrency
        )
    else:
        load = await vote_load(stack.base, scene, rate_per_minute=args.rate, seconds=args.seconds, concurrency=args.concurrency)
    load_end = time.monotonic()
    await asyncio.sleep(4)  # the trailing frame and its delivery
    stop.set()
    await asyncio.gather(*listeners)
    async with httpx.AsyncClient(base_url=stack.base, timeout=30) as http:
        response = await http.get(f"/api/v1/posts/{scene['post_id']}", headers={"Authorization": f"Bearer {scene['author_token']}"})
        final = response.json()["poll"]
    final_counts = ([option["votes"] for option in final["options"]], final["total_votes"])
    sockets = []
    for frames in per_socket:
        stats = frame_stats(frames, start=load["started"], end=load_end + 1.5)
        last = frames[-1][1] if frames else None
        stats["last_is_final"] = last is not None and ([o.get("votes") for o in last["options"]], last["total_votes"]) == final_counts
        sockets.append(stats)
    return {"load": load, "sockets": sockets, "final": final_counts, "machine_load": load_average()}


def report(result: dict, args) -> tuple[str, str]:
    load, sockets = result["load"], result["sockets"]
    worst_rate = max(s["per_second"] for s in sockets)
    busiest = max(s["busiest_second"] for s in sockets)
    min_gap = min(s["min_gap_s"] for s in sockets)
    final_ok = sum(s["last_is_final"] for s in sockets)
    frames = [s["frames"] for s in sockets]
    reached = load["per_minute"] >= 0.95 * args.rate
    ok = worst_rate <= 1.0 and final_ok == len(sockets) and reached
    errors = ", ".join(f"{code}: {count}" for code, count in sorted(load["errors"].items())) or "none"
    measured = (
        f"{load['votes']:,} votes at {load['per_minute']:,.0f}/min → {worst_rate:.2f} frames/s per post (busiest second {busiest}, "
        f"min gap {min_gap:.2f} s); last frame = final counts on {final_ok}/{len(sockets)} sockets"
    )
    verdict = "pass" if ok else ("**miss** (rate not reached)" if not reached else "**miss**")
    row = (
        f"| {ROW_ID} | {ROW_WHAT} ({VIA[args.via]}) | ≤ 1 frame/s per post, final counts arrive | {measured} | | | {verdict} | "
        f"{result['machine_load']} |"
    )
    body = "\n".join(
        [
            stamp(),
            f"Command: `REDIS_URL=… {command_line()}` (database `{args.database_url.rsplit('/', 1)[1]}`).",
            "",
            "The stack of bench/api_bench.py (server.serve with 2 uvicorn processes, production settings, a Celery worker,",
            "PostgreSQL, Redis as cache, broker and channel layer). One org-wide post with a three-option poll (`results: always`),",
            f"{len(args.voter_tokens_count)} voters; {VOTE_PATH[args.via]} paced at {args.rate:,}/min for {args.seconds} s from "
            f"{args.concurrency} keep-alive clients (random voter, random option: mostly vote changes); {len(sockets)} sockets listening.",
            "",
            "| measure | value |",
            "|---|---|",
            f"| votes sent / achieved rate | {load['votes']:,} of {load['planned']:,} planned in {load['elapsed_s']:.1f} s "
            f"= {load['per_minute']:,.0f}/min "
            f"(errors: {errors}) |",
            f"| vote request, client time | p50 {load['p50_ms']:.1f} ms, p99 {load['p99_ms']:.1f} ms |",
            f"| `poll.updated` frames per socket | {min(frames)}–{max(frames)} over the run |",
            f"| frames per second per post (worst socket) | {worst_rate:.2f} |",
            f"| most frames within any 1 s on one socket | {busiest} (arrival times: delivery jitter can put two frames emitted "
            "~1 s apart into one second) |",
            f"| gap between frames, min / p50 | {min_gap:.2f} / {percentile([s['p50_gap_s'] for s in sockets], 50):.2f} s |",
            f"| last frame carries the final counts | {final_ok}/{len(sockets)} sockets "
            f"(final: {result['final'][0]}, total {result['final'][1]}) |",
            f"| machine load (1/5/15 min) | {result['machine_load']} |",
            "",
            "Coalescing: feed/services/polls.py (`poll_changed`): a leading frame at the first change after a quiet second, one",
            "trailing frame a second later reading the counts of then; no periodic job. docs/feed.md, Polls.",
        ]
    )
    return row, body


def write_summary_row(row: str) -> None:
    """Replace or add the S1 poll row of the summary table (bench/run_all.py keeps it from rows-poll.json)."""
    text = REPORT.read_text()
    lines = text.splitlines()
    prefix = row.split(" | ≤ ")[0] + " |"
    for index, line in enumerate(lines):
        if line.startswith(prefix):
            lines[index] = row
            break
    else:
        table_end = next(
            # The first line after the table ("|---" separator rows included: inserting after "| id |" put it above them).
            (i for i, line in enumerate(lines) if i > 0 and lines[i - 1].startswith("|") and not line.startswith("|")),
            len(lines),
        )
        lines.insert(table_end, row)
    REPORT.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_POLL_DATABASE_URL", DEFAULT_DATABASE))
    parser.add_argument("--rate", type=int, default=10_000, help="votes per minute")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--voters", type=int, default=2_000)
    parser.add_argument("--sockets", type=int, default=20)
    # Six: more threads of this one process contend for the GIL while one of them holds the poll's
    # row lock, so the lock is held longer and the rate falls (16 threads: 9,022 votes/min, p50
    # 105 ms; 6: 10,000/min, p50 29 ms, on the same quiet machine). The server is not the limit.
    parser.add_argument("--concurrency", type=int, default=6)
    parser.add_argument(
        "--via",
        choices=["http", "service"],
        default="http",
        help="http: PUT /poll/vote; service: this process calls feed.services.polls.poll_vote in --concurrency threads "
        "(the same transaction, Redis keys, Celery tasks and sockets, without HTTP, auth and the card)",
    )
    parser.add_argument("--no-write", action="store_true", help="print, do not touch docs/benchmarks.md")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/10")
    ensure_database(args.database_url)
    port = free_port()
    # This process casts the votes itself with --via service: same queue and channel-layer prefix as the stack.
    os.environ["CELERY_TASK_DEFAULT_QUEUE"] = os.environ["CHANNEL_LAYER_PREFIX"] = f"pollbench-{port}"
    from bench.api_bench import PRODUCTION_ENV

    os.environ.update(PRODUCTION_ENV)
    # --via service: each of the --concurrency threads holds a connection for its vote; a pool
    # smaller than that made threads wait 5 s and fail ("couldn't get a connection"), not the server.
    os.environ["DATABASE_POOL_MAX_SIZE"] = str(max(int(PRODUCTION_ENV.get("DATABASE_POOL_MAX_SIZE", "10")), args.concurrency + 2))
    scene = setup_scene(args.voters)
    args.voter_tokens_count = scene["voter_tokens"]
    # A SIGTERM (timeout, Ctrl-C in a pipeline) must still stop the server and the worker.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    stack = Stack(dict(os.environ), port)
    try:
        result = asyncio.run(run(args, scene, stack))
    finally:
        stack.stop()
    row, body = report(result, args)
    print(row)
    print(body)
    if not args.no_write:
        write_section(f"Polls: {VIA[args.via]}", body)
        write_summary_row(row)
        save_rows(f"poll-{args.via}", [row])


if __name__ == "__main__":
    main()
