"""K1: the web console's pages at the benchmark scale (issue #24).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/feedapp_bench REDIS_URL=redis://127.0.0.1:6379/5 \
        nice .venv/bin/python bench/console_bench.py [--requests 30]

Against the data set of bench/seed.py (1M posts, 100k people at scale 1.0). Per page and per
viewer (the organisation's admin: the whole organisation; a leader: their groups),
`requests` sequential GETs through the Django test client in production settings (DEBUG off,
the database pool), signed in with a session as a browser is: the server's whole time for the
page (session, scope, the selectors, the template), without the network. Target: every page's
p99 ≤ 300 ms. Writes the "Console (K1)" section of docs/benchmarks.md and K1's summary row.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.update(
    {
        "DEBUG": "False",
        "SECRET_KEY": "bench-" + "k" * 60,
        "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "False",
        "SESSION_COOKIE_SECURE": "False",
        "CSRF_COOKIE_SECURE": "False",
        "LOG_LEVEL": "WARNING",
        "CELERY_TASK_ALWAYS_EAGER": "False",
        "CONN_MAX_AGE": "0",
        "DATABASE_POOL_MAX_SIZE": "2",
    }
)

from bench import api_bench
from bench.lib import command_line, git_commit, load_average, percentile, save_rows, stamp, write_section

PAGES = ["reach", "engagement", "recognition", "voice", "surveys"]
TARGET_P99_MS = 300.0


def timed(client, path: str, count: int, warm_up: int = 3) -> dict[str, float]:
    for _ in range(warm_up):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
    wall, cpu = [], []
    for _ in range(count):
        c0, w0 = time.process_time(), time.perf_counter()
        response = client.get(path)
        wall.append((time.perf_counter() - w0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return {"p50": percentile(wall, 50), "p99": percentile(wall, 99), "cpu_p50": percentile(cpu, 50)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    api_bench.django_setup()
    from django.db.models import Count
    from django.test import Client

    from accounts.models import User
    from feed.models import Post

    admin = User.objects.filter(organization__slug="bench-retail", role="admin").order_by("id").first()
    leader = (
        User.objects.filter(organization__slug="bench-retail", role="leader")
        .annotate(n=Count("memberships"))
        .filter(n__gte=1)
        .order_by("id")
        .first()
    )
    if admin is None or leader is None:
        raise SystemExit("No bench-retail admin and leader: seed with bench/seed.py first (make bench).")
    scale = {"posts": Post.objects.count(), "people": User.objects.count()}
    from console import snapshots
    from feed.selectors import insights as feed_insights

    results, cold = [], []
    for role, user in (("admin", admin), ("leader", leader)):
        client = Client()
        client.force_login(user)
        scope = feed_insights.insight_scope(user=user)
        for page in snapshots.PAGES:  # what beat computes ahead (console/snapshots.py), timed once
            c0, w0 = time.process_time(), time.perf_counter()
            snapshots.numbers(page=page, user=user, scope=scope, group_id=None, refresh=True)
            cold.append((page, role, (time.perf_counter() - w0) * 1000, (time.process_time() - c0) * 1000))
            print(f"{page:12} {role:7} computed ahead in {cold[-1][2]:8.1f} ms", flush=True)
        for page in PAGES:
            figures = timed(client, f"/console/{page}/", args.requests)
            results.append((page, role, figures, load_average()))
            print(f"{page:12} {role:7} p50 {figures['p50']:8.1f} p99 {figures['p99']:8.1f} cpu {figures['cpu_p50']:6.1f}", flush=True)
    worst = max(r[2]["p99"] for r in results)
    verdict = "**holds**" if worst <= TARGET_P99_MS else "**miss**"
    lines = [
        f"Measured {stamp()} at commit `{git_commit()}` on 2 cores.",
        f"Data set: {scale['posts']:,} posts, {scale['people']:,} people (bench/seed.py). Command: `{command_line()}`.",
        f"{args.requests} sequential requests per page and viewer, in process (Django test client, production settings, "
        "a session as a browser has); wall ms of the whole request and its CPU ms (this process).",
        "",
        "| page | viewer | p50 | p99 | CPU p50 | load |",
        "|---|---|---|---|---|---|",
        *[f"| {page} | {role} | {f['p50']:.1f} | {f['p99']:.1f} | {f['cpu_p50']:.1f} | {load} |" for page, role, f, load in results],
        "",
        f"**K1** (every console page p99 ≤ {TARGET_P99_MS:.0f} ms): worst p99 {worst:.1f} ms: {verdict}.",
        "",
        "The heavy numbers (reach, engagement, recognition) are served from snapshots that beat recomputes every 10 minutes "
        "for the scopes opened in the last day (console/snapshots.py); computing them, once per scope, took:",
        "",
        "| page | viewer | compute ms | CPU ms |",
        "|---|---|---|---|",
        *[f"| {page} | {role} | {ms:.0f} | {cpu:.0f} |" for page, role, ms, cpu in cold],
    ]
    write_section("Console (K1)", "\n".join(lines))
    save_rows(
        "console",
        [f"| K1 | console pages, server time | p99 ≤ {TARGET_P99_MS:.0f} ms | worst p99 {worst:.1f} ms | – | – | {verdict} |"],
    )


if __name__ == "__main__":
    main()
