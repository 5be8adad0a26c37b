"""#27: the cost of the Prometheus metrics per request, F5 (`GET /me`) and F3 (the feed page).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/feedapp_bench REDIS_URL=redis://127.0.0.1:6379/5 \
        nice .venv/bin/python bench/metrics_overhead.py [--requests 2000] [--rounds 3]

In process, through the Django test client in production settings (the whole middleware stack,
the request-id context and, when on, the HTTP metrics), on the benchmark data set: CPU ms of
this process per request with `METRICS_ENABLED` on and off, alternating rounds so both see the
same machine. Target: metrics on cost ≤ 5 % more CPU per request. Writes the "Metrics overhead
(#27)" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
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
        "LOG_LEVEL": "WARNING",
        "CELERY_TASK_ALWAYS_EAGER": "False",
        "THROTTLE_USER": "100000000/min",
        "CONN_MAX_AGE": "0",
        "DATABASE_POOL_MAX_SIZE": "2",
    }
)

from bench import api_bench
from bench.lib import command_line, git_commit, load_average, stamp, write_section

TARGET = 0.05


def cpu_per_request(client, path: str, count: int) -> float:
    for _ in range(20):
        client.get(path)
    c0 = time.process_time()
    for _ in range(count):
        response = client.get(path)
        assert response.status_code == 200, response.status_code
    return (time.process_time() - c0) * 1000 / count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    api_bench.django_setup()
    from django.conf import settings
    from django.test import Client

    user = api_bench.bench_user()
    token = api_bench.new_token(user, "metrics-overhead")
    results: dict[tuple[str, bool], list[float]] = {}
    for _round in range(args.rounds):
        for enabled in (True, False):
            settings.METRICS_ENABLED = enabled
            client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")  # a new handler reads the setting
            for name, path in (("F5 /me", "/api/v1/me"), ("F3 feed page", "/api/v1/feed")):
                results.setdefault((name, enabled), []).append(cpu_per_request(client, path, args.requests))
    lines = [
        f"Measured {stamp()} at commit `{git_commit()}` on 2 cores, load {load_average()}. Command: `{command_line()}`.",
        f"{args.rounds} alternating rounds of {args.requests} requests per path and setting, in process (Django test client, "
        "production settings): CPU ms of this process per request, median of the rounds.",
        "",
        "| request | metrics off | metrics on | overhead | target |",
        "|---|---|---|---|---|",
    ]
    worst = 0.0
    for name in ("F5 /me", "F3 feed page"):
        off, on = statistics.median(results[(name, False)]), statistics.median(results[(name, True)])
        overhead = (on - off) / off
        worst = max(worst, overhead)
        lines.append(f"| {name} | {off:.3f} | {on:.3f} | {overhead * 100:+.1f} % | ≤ {TARGET * 100:.0f} % |")
        print(lines[-1], flush=True)
    lines += ["", f"**Metrics overhead**: worst {worst * 100:+.1f} % CPU per request: {'**holds**' if worst <= TARGET else '**miss**'}."]
    write_section("Metrics overhead (#27)", "\n".join(lines))


if __name__ == "__main__":
    main()
