"""D1 in-process: what one `POST /api/v1/posts` (org-wide, by an admin) costs, load-independent.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/feedapp_bench REDIS_URL=redis://127.0.0.1:6379/5 \
        .venv/bin/python bench/post_create_profile.py [--requests 200] [--profile] [--show-sql]

For each variant (announcement; announcement with `requires_acknowledgement`; each with an
`Idempotency-Key`) prints the SQL statements of one request, then CPU ms (this process only:
`time.process_time`) and wall ms per request over `--requests` requests with the Django test
client in production settings (`DEBUG=False`). Tasks are published to a throwaway queue in
Redis (as the server would), which is deleted at the end; nothing consumes them. `--profile`
adds a cProfile table (cumulative) of the announcement-with-key variant.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

QUEUE = "post-create-profile"
os.environ.update(
    {
        "DEBUG": "False",
        "SECRET_KEY": "bench-" + "k" * 60,
        "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "False",
        "LOG_LEVEL": "WARNING",
        "CELERY_TASK_ALWAYS_EAGER": "False",
        "THROTTLE_USER": "1000000/min",
        # The production database configuration (api_bench's server): a pool, no connect per request.
        "CONN_MAX_AGE": "0",
        "DATABASE_POOL_MAX_SIZE": "2",
        "CELERY_TASK_DEFAULT_QUEUE": QUEUE,
        "PUSH_QUEUE": QUEUE,
    }
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")

VARIANTS = {
    "announcement": {"body": "Shift starts at 9. Thanks all!", "kind": "announcement"},
    "announcement, requires_acknowledgement": {
        "body": "New safety rule, please read.",
        "kind": "announcement",
        "requires_acknowledgement": True,
    },
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--show-sql", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from accounts.models import User
    from bench.api_bench import new_token

    leader = User.objects.filter(organization__slug="bench-retail", role="admin").order_by("pk").first()
    if leader is None:
        raise SystemExit("Seed first: bench/seed.py")
    audience = User.objects.filter(organization_id=leader.organization_id, is_active=True).count()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {new_token(leader, name='post-create-profile')}")
    print(f"org-wide audience: {audience:,} active users; {args.requests} requests per variant")

    def post(body: dict, key: bool) -> None:
        headers = {"HTTP_IDEMPOTENCY_KEY": uuid.uuid4().hex} if key else {}
        response = client.post("/api/v1/posts", body, content_type="application/json", **headers)
        assert response.status_code == 201, response.content

    try:
        for name, body in VARIANTS.items():
            for key in (False, True):
                label = f"{name}{', Idempotency-Key' if key else ''}"
                post(body, key)  # warm-up
                # An execute wrapper, not CaptureQueriesContext: request_started resets the query log.
                queries: list[str] = []

                def record(execute, sql, params, many, context, queries=queries):
                    queries.append(sql)
                    return execute(sql, params, many, context)

                with connection.execute_wrapper(record):
                    post(body, key)
                cpu, wall = [], []
                for _ in range(args.requests):
                    c0, w0 = time.process_time(), time.perf_counter()
                    post(body, key)
                    cpu.append((time.process_time() - c0) * 1000)
                    wall.append((time.perf_counter() - w0) * 1000)
                cpu.sort()
                wall.sort()
                print(
                    f"{label}: {len(queries)} queries; CPU ms/request mean {sum(cpu) / len(cpu):.2f} "
                    f"p50 {cpu[len(cpu) // 2]:.2f}; wall ms p50 {wall[len(wall) // 2]:.2f} p99 {wall[int(len(wall) * 0.99)]:.2f}"
                )
                if args.show_sql:
                    for sql in queries:
                        print(f"    {sql[:300]}")
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.requests):
                post(VARIANTS["announcement"], True)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
    finally:
        from server.celery import app

        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(QUEUE)


if __name__ == "__main__":
    main()
