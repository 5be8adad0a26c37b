"""Feed and API scenarios of the performance issue (F1-F5, D1) against a real server.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/feedapp_bench REDIS_URL=redis://127.0.0.1:6379/5 \
        .venv/bin/python bench/api_bench.py [--scale 1.0] [--requests 400]

Starts uvicorn in its production configuration (DEBUG off, 2 worker processes,
PostgreSQL, Redis, a Celery worker for fan-out), generates load from this process
over 127.0.0.1, and measures each scenario's floor: the same SQL run directly
with psycopg. Writes the "Feed and API" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lib import (
    ROOT,
    Sample,
    command_line,
    free_port,
    http_load,
    load_average,
    percentile,
    save_rows,
    stamp,
    wait_for,
    write_section,
    wrk_available,
    wrk_load,
)

PRODUCTION_ENV = {
    "DEBUG": "False",
    "SECRET_KEY": "bench-" + "k" * 60,
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "False",
    # Under ASGI each request runs in a thread of its own, so a persistent connection per thread
    # leaks (CONN_MAX_AGE=600 ran PostgreSQL out of connections in F3) and CONN_MAX_AGE=0 pays a
    # connection per request: the production configuration (docker-compose) uses the pool.
    "CONN_MAX_AGE": "0",
    "DATABASE_POOL_MAX_SIZE": "10",
    "LOG_LEVEL": "WARNING",
    "CELERY_TASK_ALWAYS_EAGER": "False",
    "THROTTLE_USER": "1000000/min",
}


class Server:
    """uvicorn (production settings) and one Celery worker, stopped on exit."""

    def __init__(self, workers: int = 4) -> None:  # the deployment's two per core (docs/operations.md)
        self.port = free_port()
        self.env = {**os.environ, **PRODUCTION_ENV, "CELERY_TASK_DEFAULT_QUEUE": f"bench-{self.port}"}
        python = sys.executable
        self.processes = [
            subprocess.Popen(
                [
                    python,
                    "-m",
                    "server.serve",  # the deployment's launcher: a listening socket per worker
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--workers",
                    str(workers),
                    "--ws-per-message-deflate",
                    "false",
                    "--no-access-log",
                    "--log-level",
                    "warning",
                ],
                cwd=ROOT,
                env=self.env,
            ),
            subprocess.Popen(
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "server",
                    "worker",
                    "-Q",
                    f"bench-{self.port},push",
                    "--concurrency",
                    "2",
                    "--loglevel",
                    "WARNING",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.DEVNULL,
            ),
        ]
        self.base = f"http://127.0.0.1:{self.port}"
        try:
            wait_for(self.base + "/healthz", timeout=90)  # a busy machine starts 4 workers slowly
        except RuntimeError:
            self.stop()  # no orphaned server or worker
            raise

    def stop(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def django_setup() -> None:
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
    import django

    django.setup()


def bench_user():
    """A typical employee: member of a location and a team, in the big organisation."""
    from django.db.models import Count

    from accounts.models import User

    return (
        User.objects.filter(organization__slug="bench-retail", role="employee")
        .annotate(n_groups=Count("memberships"))
        .filter(n_groups=2)
        .order_by("id")
        .first()
    )


def new_token(user, name: str = "bench") -> str:
    from django.conf import settings
    from django.utils import timezone

    from accounts.authentication import hash_token, new_raw_token
    from accounts.models import AuthToken

    raw = new_raw_token()
    AuthToken.objects.create(user=user, key_hash=hash_token(raw), device_name=name, expires_at=timezone.now() + settings.AUTH_TOKEN_TTL)
    return raw


def feed_sql_floor(user, token: str, path: str, repeats: int) -> tuple[list[float], int]:
    """Run the SQL of one feed request directly with psycopg: our overhead's floor."""
    import psycopg
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    client.get(path)  # warm, and records last_used_at
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    statements = [query["sql"] for query in captured.captured_queries]
    timings = []
    dsn = os.environ["DATABASE_URL"]
    with psycopg.connect(dsn) as raw:
        for _ in range(repeats):
            started = time.perf_counter()
            with raw.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql.replace("%", "%%"))
                    cursor.fetchall()
            timings.append((time.perf_counter() - started) * 1000)
    return timings, len(statements)


def query_counts(token: str) -> dict[int, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    counts = {}
    for size in (1, 20, 50):
        client.get(f"/api/v1/feed?page_size={size}")
        with CaptureQueriesContext(connection) as captured:
            client.get(f"/api/v1/feed?page_size={size}")
        counts[size] = len(captured.captured_queries)
        assert not any("COUNT(*)" in q["sql"].upper() and "feed_post" in q["sql"] for q in captured.captured_queries), (
            "COUNT(*) in the feed"
        )
    return counts


def deep_cursor_path(base: str, token: str, depth: int = 500) -> str:
    import httpx

    url = f"{base}/api/v1/feed?page_size=50"
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}) as client:
        for _ in range(depth // 50):
            url = client.get(url).json()["next"]
    return url


D1_BODY = "Bench announcement "


def remove_d1_posts() -> int:
    """Delete the announcements D1 posted (each run adds 60 on top of every feed page)."""
    from feed.models import Post

    deleted, _by_model = Post.objects.filter(organization__slug="bench-retail", body__startswith=D1_BODY).delete()
    return deleted


async def post_latency(base: str, token: str, count: int, warm_up: int = 5) -> Sample:
    """`count` org-wide announcements one after the other, after `warm_up` ones not counted: the
    first posts of a fresh server pay its first Celery publish, broker connection and the
    compiling of the post path (110, 36, 48 ms for the first three, then 12-20 ms), which
    a server in service paid long ago. Like the throughput runs' warm-up."""
    import httpx

    sample = Sample()
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        for index in range(warm_up):
            response = await client.post(f"{base}/api/v1/posts", json={"body": f"{D1_BODY}warm-up {index}", "kind": "announcement"})
            response.raise_for_status()
        started = time.perf_counter()
        for index in range(count):
            t0 = time.perf_counter()
            response = await client.post(f"{base}/api/v1/posts", json={"body": f"{D1_BODY}{index}", "kind": "announcement"})
            if response.status_code != 201:
                sample.errors += 1
                continue
            sample.client_ms.append((time.perf_counter() - t0) * 1000)
            timing = response.headers.get("server-timing", "")
            if "dur=" in timing:
                sample.server_ms.append(float(timing.split("dur=")[1]))
        sample.elapsed_s = time.perf_counter() - started
    return sample


THROUGHPUT_TOOL = ["throughput (F3, F5): 8 keep-alive connections"]


def throughput(url: str, *, token: str, total: int, seconds: int) -> dict[str, float]:
    """8 concurrent keep-alive clients: wrk when installed (C, one thread: it leaves the cores to the
    server), else httpx from this process (which then competes with the server for the CPU)."""
    if wrk_available():
        wrk_load(url, token=token, connections=8, seconds=2)  # warm-up: connections, caches
        result = wrk_load(url, token=token, connections=8, seconds=seconds)
        THROUGHPUT_TOOL[0] = f"throughput (F3, F5): `{result.command}` (wrk 4, one thread)"
        return {"rps": result.rps, "p99": result.p99_ms, "errors": result.errors, "split": result.split}
    sample = asyncio.run(http_load([url], token=token, concurrency=8, total=total)).summary()
    THROUGHPUT_TOOL[0] = "throughput (F3, F5): httpx, 8 connections (wrk not installed; the client competes for the cores)"
    return {"rps": sample["rps"], "p99": sample["client_p99"], "errors": sample["errors"], "split": "?"}


def row(id_: str, what: str, target: str, measured: str, floor: str, ratio: str, verdict: str, load: str = "") -> str:
    return f"| {id_} | {what} | {target} | {measured} | {floor} | {ratio} | {verdict} | {load} |"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--skip-post", action="store_true")
    parser.add_argument("--seconds", type=int, default=20, help="duration of each throughput run (F3, F5) under wrk")
    args = parser.parse_args()
    django_setup()

    user = bench_user()
    if user is None:
        raise SystemExit("Seed first: bench/seed.py")
    from accounts.models import User

    leader = User.objects.filter(organization__slug="bench-retail", role="admin").first()
    remove_d1_posts()  # left by an earlier run: F1-F3 measure the seeded feed, not D1's announcements
    token = new_token(user)
    leader_token = new_token(leader)
    from accounts.models import Membership

    group_id = Membership.objects.filter(user=user).order_by("group_id").values_list("group_id", flat=True).first()
    counts = query_counts(token)
    floor_ms, statements = feed_sql_floor(user, token, "/api/v1/feed?page_size=20", 200)

    server = Server()
    try:
        base = server.base
        deep = deep_cursor_path(base, token)
        loads = {}
        f1 = asyncio.run(http_load([f"{base}/api/v1/feed?page_size=20"], token=token, concurrency=1, total=args.requests))
        loads["F1"] = load_average()
        f2 = asyncio.run(http_load([deep], token=token, concurrency=1, total=args.requests))
        loads["F2"] = load_average()
        group = asyncio.run(
            http_load([f"{base}/api/v1/feed?page_size=20&group={group_id}"], token=token, concurrency=1, total=args.requests // 2)
        )
        loads["F1g"] = load_average()
        f3 = throughput(f"{base}/api/v1/feed?page_size=20", token=token, total=args.requests * 3, seconds=args.seconds)
        loads["F3"] = load_average()
        f5_me = throughput(f"{base}/api/v1/me", token=token, total=args.requests * 5, seconds=args.seconds)
        loads["F5me"] = load_average()
        f5_unread = throughput(f"{base}/api/v1/notifications/unread-count", token=token, total=args.requests * 5, seconds=args.seconds)
        loads["F5"] = load_average()
        d1 = None if args.skip_post else asyncio.run(post_latency(base, leader_token, 60))
        loads["D1"] = load_average()
    finally:
        server.stop()
        remove_d1_posts()  # the data set stays as seeded for the next run

    floor_p50, floor_p99 = percentile(floor_ms, 50), percentile(floor_ms, 99)
    s1, s2 = f1.summary(), f2.summary()
    verdict = lambda ok: "pass" if ok else "**miss**"  # noqa: E731
    audience = User.objects.filter(organization__slug="bench-retail", is_active=True).count()
    from feed.models import PostGroup

    group_posts = PostGroup.objects.filter(group_id=group_id).count()
    lines = [
        stamp(),
        "",
        f"Command: `{command_line()}`. Server: uvicorn, 4 processes on the 2 cores "
        "(`python -m server.serve --workers 4`), `DEBUG=False`, PostgreSQL 15, Redis 7, "
        "one Celery worker;",
        f"load: one client process on 127.0.0.1: httpx (asyncio) for latency (F1, F2, D1); {THROUGHPUT_TOOL[0]}. Server time is the",
        "`Server-Timing` header (middleware to response); floor = the same SQL statements run with psycopg.",
        f"Data: {audience:,} users in the benchmark organisation (see bench/.data/seed-<database>.json for every count).",
        "",
        "| id | what | target | measured | floor | ratio | verdict | load avg |",
        "|---|---|---|---|---|---|---|---|",
        row(
            "F1",
            "feed page 1 (20 cards), server time",
            "p50 ≤ 12, p99 ≤ 30 ms",
            f"p50 {s1['server_p50']:.1f}, p99 {s1['server_p99']:.1f} ms",
            f"p50 {floor_p50:.1f}, p99 {floor_p99:.1f} ms",
            f"{s1['server_p50'] / floor_p50:.1f}×",
            verdict(s1["server_p50"] <= 12 and s1["server_p99"] <= 30),
            loads["F1"],
        ),
        row(
            "F2",
            "feed 500 posts deep (cursor)",
            "p99 ≤ 35 ms",
            f"p50 {s2['server_p50']:.1f}, p99 {s2['server_p99']:.1f} ms",
            "",
            "",
            verdict(s2["server_p99"] <= 35),
            loads["F2"],
        ),
        row(
            "F1g",
            f"feed page 1 filtered `?group=` (a {group_posts:,}-post group), server time",
            "(as F1) p99 ≤ 30 ms",
            f"p50 {group.summary()['server_p50']:.1f}, p99 {group.summary()['server_p99']:.1f} ms",
            "",
            "",
            verdict(group.summary()["server_p99"] <= 30),
            loads["F1g"],
        ),
        row(
            "F3",
            "feed, 8 concurrent clients",
            "≥ 450 req/s at p99 ≤ 100 ms (stretch 600; first round ≥ 250)",
            f"{f3['rps']:.0f} req/s, client p99 {f3['p99']:.1f} ms, {f3['errors']} errors; connections per process {f3['split']}",
            "",
            "",
            verdict(f3["rps"] >= 450 and f3["p99"] <= 100 and not f3["errors"]) + (" (stretch)" if f3["rps"] >= 600 else ""),
            loads["F3"],
        ),
        row(
            "F4",
            "SQL queries per feed page (size 1 / 20 / 50)",
            "≤ 5, same for all",
            " / ".join(str(counts[k]) for k in (1, 20, 50)),
            f"{statements} statements",
            "",
            verdict(len(set(counts.values())) == 1 and max(counts.values()) <= 5),
            "",
        ),
        row(
            "F5",
            "`/me`, 8 clients",
            "≥ 1,200 req/s (first round ≥ 800)",
            f"{f5_me['rps']:.0f} req/s (p99 {f5_me['p99']:.1f} ms, {f5_me['errors']} errors; connections per process {f5_me['split']})",
            "",
            "",
            verdict(f5_me["rps"] >= 1200 and not f5_me["errors"]),
            loads["F5me"],
        ),
        row(
            "F5",
            "unread count, 8 clients",
            "≥ 800 req/s",
            f"{f5_unread['rps']:.0f} req/s (p99 {f5_unread['p99']:.1f} ms, {f5_unread['errors']} errors; "
            f"connections per process {f5_unread['split']})",
            "",
            "",
            verdict(f5_unread["rps"] >= 800 and not f5_unread["errors"]),
            loads["F5"],
        ),
    ]
    if d1 is not None:
        sd = d1.summary()
        lines.append(
            row(
                "D1",
                f"org-wide announcement ({audience:,} audience), request",
                "p99 ≤ 50 ms",
                f"p50 {sd['client_p50']:.1f}, p99 {sd['client_p99']:.1f} ms",
                "",
                "",
                verdict(sd["client_p99"] <= 50),
                loads["D1"],
            )
        )
    save_rows("api", [line for line in lines if line.startswith("| ") and not line.startswith("| id ")])
    write_section("Feed and API", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
