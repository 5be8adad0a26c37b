"""What delivering one org-wide announcement costs the worker (D1's neighbour on the cores).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/feedapp_bench REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/outbox_cost.py [--posts 6] [--profile]

Creates `--posts` announcements by the benchmark organisation's admin through the service (as
`POST /posts` does), then runs each one's outbox delivery (inbox, realtime) and push planning
in this process, as the Celery tasks would, and prints CPU ms (this process), wall ms and SQL
statements per announcement. Tasks the delivery enqueues go to a throwaway queue that is
deleted at the end, and so are the announcements. The D1 requests share the machine's two
cores with this work: an announcement whose delivery costs 150 ms of CPU slows the next
requests, whatever the request itself costs.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

QUEUE = "outbox-cost"
BODY = "Bench outbox cost "

from bench.api_bench import PRODUCTION_ENV  # noqa: E402 (after the path)

# The server's production settings; tasks the delivery enqueues go to a throwaway queue.
os.environ.update({**PRODUCTION_ENV, "CELERY_TASK_DEFAULT_QUEUE": QUEUE, "PUSH_QUEUE": QUEUE, "DJANGO_SETTINGS_MODULE": "server.settings"})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=6)
    parser.add_argument("--profile", action="store_true", help="cProfile (cumulative) of the last delivery")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from feed.models import Post
    from feed.services.posts import post_create
    from notifications import services
    from notifications.models import OutboxEvent

    admin = User.objects.filter(organization__slug="bench-retail", role="admin").first()
    if admin is None:
        raise SystemExit("Seed first: bench/seed.py")
    audience = User.objects.filter(organization_id=admin.organization_id, is_active=True).count()
    events = []
    try:
        for index in range(args.posts):
            post_create(author=admin, body=f"{BODY}{index}", kind="announcement")
            events.append(
                OutboxEvent.objects.filter(organization_id=admin.organization_id).order_by("-created_at").values_list("pk", flat=True)[0]
            )
        print(f"org-wide announcement to {audience:,} people; per announcement, delivery + push planning in process:")
        profile = cProfile.Profile(time.process_time)
        for number, event_id in enumerate(events, start=1):
            last = number == len(events)
            cpu, wall = time.process_time(), time.perf_counter()
            with CaptureQueriesContext(connection) as queries:
                if last and args.profile:
                    profile.enable()
                services.outbox_event_deliver(event_id=event_id)
                services.outbox_event_push_plan(event_id=event_id)
                if last and args.profile:
                    profile.disable()
            print(
                f"  {number}: CPU {(time.process_time() - cpu) * 1000:6.1f} ms  wall {(time.perf_counter() - wall) * 1000:6.1f} ms  "
                f"{len(queries.captured_queries)} statements"
            )
        if args.profile:
            pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
    finally:
        Post.objects.filter(organization_id=admin.organization_id, body__startswith=BODY).delete()
        from server.celery import app

        with app.connection_for_write() as broker:
            broker.default_channel.queue_delete(QUEUE)


if __name__ == "__main__":
    main()
