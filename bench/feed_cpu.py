"""CPU time per feed request, in process, and the SQL one request runs: load-independent figures.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/feedq_bench REDIS_URL=redis://127.0.0.1:6379/8 \
        .venv/bin/python bench/feed_cpu.py [--requests 200] [--path /api/v1/feed?page_size=20] [--follow 25] [--sql] \
        [--profile 30 [--sort tottime]]

Wall time on a shared machine says little; `time.process_time()` around N test-client
requests (production settings: DEBUG off, throttling effectively off) does not depend on
what else runs. The database's own CPU is not in it (another process), so this is the
Python side of server time: what F1-F3 are waiting on once the SQL is a few milliseconds.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.update({"DEBUG": "False", "THROTTLE_USER": "1000000/min", "LOG_LEVEL": "WARNING", "ALLOWED_HOSTS": "testserver"})
os.environ.setdefault("SECRET_KEY", "bench-" + "k" * 60)
os.environ.setdefault("SECURE_SSL_REDIRECT", "False")

from bench.api_bench import bench_user, django_setup, new_token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--path", default="/api/v1/feed?page_size=20")
    parser.add_argument("--follow", type=int, default=0, help="measure the page reached by following `next` this many times (F2)")
    parser.add_argument("--sql", action="store_true", help="print the statements of one request")
    parser.add_argument("--profile", type=int, default=0, help="print the top N of a cProfile of the requests")
    parser.add_argument("--sort", default="cumulative", help="cProfile order: cumulative, tottime, ...")
    args = parser.parse_args()

    django_setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    user = bench_user()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {new_token(user, 'feed_cpu')}")
    path = args.path
    for _ in range(args.follow):
        path = client.get(path).json()["next"].removeprefix("http://testserver")
    for _ in range(5):  # warm: token last_used_at, imports, compiled SQL caches
        assert client.get(path).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        client.get(path)
    # Read now: the next request's request_started signal empties the connection's query log.
    statements = list(captured.captured_queries)
    if args.sql:
        for query in statements:
            print(f"-- {query['time']} s\n{query['sql']}\n")

    per_request = []
    profiler = cProfile.Profile() if args.profile else None
    for _ in range(args.requests):
        started = time.process_time()
        if profiler:
            profiler.enable()
        response = client.get(path)
        if profiler:
            profiler.disable()
        per_request.append((time.process_time() - started) * 1000)
        assert response.status_code == 200
    per_request.sort()
    print(
        f"{args.path}{f' +{args.follow} pages' if args.follow else ''}: {len(statements)} queries; CPU per request over {args.requests}: "
        f"p50 {statistics.median(per_request):.2f} ms, mean {statistics.fmean(per_request):.2f} ms, "
        f"p90 {per_request[int(len(per_request) * 0.9) - 1]:.2f} ms{' (under the profiler)' if profiler else ''}"
    )
    if profiler:
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.profile)


if __name__ == "__main__":
    main()
