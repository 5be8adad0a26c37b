"""V1: the signal list (both sorts) and the leader's insights at 100,000 signals.

    .venv/bin/python bench/voice_bench.py [--signals 100000] [--requests 300]

Seeds its own database (postgres://postgres@127.0.0.1:5432/feedapp_benchvoice, created and
migrated if needed; `VOICE_BENCH_DATABASE_URL` overrides) with one organisation of 2,000 people in 50
locations, 12 key moments and `--signals` signals (every kind, status, visibility and
anonymity; support counts skewed like real ones, a few supports by the measuring user), written
with COPY in one pass. Re-running reuses a seed of the same size. Then the real HTTP stack
(bench/api_bench.py's Server: uvicorn, 4 processes, production settings) serves:
page 1 of `GET /signals` sorted recent and support, a page 50 deep by cursor in each sort,
and `GET /signals/insights` as a location leader and as the admin. Latency is one client
at a time; server time is the `Server-Timing` header. Writes the `## Voice` section of
docs/benchmarks.md and keeps its rows for the summary (bench/run_all.py).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# Its own database, whatever DATABASE_URL the shell has (VOICE_BENCH_DATABASE_URL overrides).
os.environ["DATABASE_URL"] = os.environ.get("VOICE_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/feedapp_benchvoice")

import psycopg

from bench.lib import http_load, load_average, percentile, save_rows, stamp, write_section

SLUG = "bench-voice"
LOCATIONS = 50
PEOPLE = 2000
NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
TARGETS = {"list": 30.0, "insights": 100.0}


def _ensure_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')


def seed(count: int, rng: random.Random) -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from accounts.models import Group, Membership, Organization, User
    from bench.seed import copy_rows, next_ids
    from feed.models import KeyMoment
    from voice.models import Signal

    organization = Organization.objects.filter(slug=SLUG).first()
    if organization is not None and Signal.objects.filter(organization=organization).count() == count:
        return
    if organization is not None:
        Signal.objects.filter(organization=organization).update(merged_into=None)
        Organization.objects.filter(pk=organization.pk).delete()
    started = time.perf_counter()
    organization = Organization.objects.create(name="Bench Voice BV", slug=SLUG)
    groups = Group.objects.bulk_create(
        [Group(organization=organization, name=f"Location {n:02d}", kind="location") for n in range(LOCATIONS)]
    )
    admin = User.objects.create_user(
        f"admin@{SLUG}.example", "bench-password-2026", organization=organization, name="Bench Admin", role="admin"
    )
    user_ids = next_ids("accounts.User", PEOPLE)
    copy_rows(
        "accounts.User",
        (
            {
                "id": user_id,
                "organization_id": organization.pk,
                "email": f"person{user_id}@{SLUG}.example",
                "name": f"Person {user_id}",
                "role": "leader" if index < LOCATIONS else "employee",
                "password": "!",
                "is_active": True,
                "date_joined": NOW,
            }
            for index, user_id in enumerate(user_ids)
        ),
    )
    Membership.objects.bulk_create(
        [
            Membership(group=groups[index % LOCATIONS], user_id=user_id, role="manager" if index < LOCATIONS else "member")
            for index, user_id in enumerate(user_ids)
        ]
    )
    moments = KeyMoment.objects.bulk_create(
        [KeyMoment(organization=organization, title=f"Moment {n}", position=n + 1, created_by=admin) for n in range(12)]
    )
    signal_ids = next_ids("voice.Signal", count)
    statuses = ["open"] * 5 + ["acknowledged"] * 2 + ["in_progress"] * 2 + ["resolved"] * 3 + ["declined"]

    def signals():
        for index, signal_id in enumerate(signal_ids):
            author_index = rng.randrange(LOCATIONS, PEOPLE)
            group = groups[author_index % LOCATIONS]
            created = NOW - dt.timedelta(minutes=count - index + rng.random())
            status = rng.choice(statuses)
            first = created + dt.timedelta(hours=rng.uniform(1, 150)) if status != "open" else None
            support = int(rng.paretovariate(1.3)) - 1
            yield {
                "id": signal_id,
                "organization_id": organization.pk,
                "author_id": user_ids[author_index],
                "kind": rng.choice(["friction", "idea"]),
                "title": f"Signal {index}: guests ask again",
                "body": "Guests keep asking for something we may not decide ourselves. " * 3,
                "key_moment_id": moments[index % 12].pk if index % 5 else None,
                "group_id": group.pk,
                "visibility": "leaders" if index % 10 == 0 else "organization",
                "anonymous": index % 7 == 0,
                "status": status,
                "owner_id": user_ids[author_index % LOCATIONS],
                "support_count": min(support, 400),
                "group_count": min(support, LOCATIONS) + 1,
                "created_at": created,
                "updated_at": created,
                "first_response_at": first,
                "resolved_at": first + dt.timedelta(days=rng.uniform(0, 20)) if status == "resolved" else None,
            }

    copy_rows("voice.Signal", signals())
    print(f"seeded {count:,} signals in {time.perf_counter() - started:.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--signals", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    _ensure_database(os.environ["DATABASE_URL"])
    from bench import api_bench
    from bench.api_bench import Server, django_setup, new_token
    from bench.lib import wait_for

    # On a shared, busy machine four workers can take longer than the default 30 s to come up.
    api_bench.wait_for = lambda url, timeout=180: wait_for(url, timeout=max(timeout, 180))

    django_setup()
    seed(args.signals, random.Random(2026))
    from django.db import connection

    with connection.cursor() as cursor:
        # Fresh statistics for every table COPY filled (without them the planner scans people for each card).
        cursor.execute("ANALYZE")
    from accounts.models import Membership, User
    from voice.models import Signal, SignalSupport

    employee = User.objects.filter(organization__slug=SLUG, role="employee").order_by("id").first()
    leader = User.objects.filter(organization__slug=SLUG, role="leader").order_by("id").first()
    admin = User.objects.get(organization__slug=SLUG, role="admin")
    # The measuring employee supports a few hundred signals (the card's `supported_by_me`).
    if not SignalSupport.objects.filter(user=employee).exists():
        ids = Signal.objects.filter(organization__slug=SLUG, visibility="organization").order_by("-id").values_list("pk", flat=True)[:300]
        SignalSupport.objects.bulk_create(
            [SignalSupport(organization_id=employee.organization_id, signal_id=pk, user=employee) for pk in ids[::3]]
        )
    tokens = {"employee": new_token(employee), "leader": new_token(leader), "admin": new_token(admin)}
    group = Membership.objects.filter(user=leader).values_list("group_id", flat=True).first()

    server = Server()
    try:
        base = server.base
        import httpx

        def deep(sort: str) -> str:
            url = f"{base}/api/v1/signals?sort={sort}&page_size=20"
            for _ in range(50):
                page = httpx.get(url, headers={"Authorization": f"Bearer {tokens['employee']}"}, timeout=30).json()
                url = page["next"]
            return url

        scenarios = [
            ("V1", "signal list page 1 (20 cards), sort=recent", "list", "employee", [f"{base}/api/v1/signals?page_size=20"]),
            ("V1", "signal list page 1 (20 cards), sort=support", "list", "employee", [f"{base}/api/v1/signals?sort=support&page_size=20"]),
            ("V1", "signal list 50 pages deep (cursor), sort=recent", "list", "employee", [deep("recent")]),
            ("V1", "signal list 50 pages deep (cursor), sort=support", "list", "employee", [deep("support")]),
            ("V1", "insights as served, a location leader (their group)", "insights", "leader", [f"{base}/api/v1/signals/insights"]),
            ("V1", "insights as served, the admin (whole organisation)", "insights", "admin", [f"{base}/api/v1/signals/insights"]),
            (
                "V1",
                "insights as served, the admin, `?group=` one location",
                "insights",
                "admin",
                [f"{base}/api/v1/signals/insights?group={group}"],
            ),
        ]
        rows = []
        for id_, what, kind, role, urls in scenarios:
            sample = asyncio.run(http_load(urls, token=tokens[role], concurrency=1, total=args.requests))
            load = load_average()
            server_p99 = percentile(sample.server_ms, 99)
            verdict = "pass" if server_p99 <= TARGETS[kind] and not sample.errors else "FAIL"
            measured = (
                f"server p50 {percentile(sample.server_ms, 50):.1f}, p99 {server_p99:.1f} ms; "
                f"client p99 {percentile(sample.client_ms, 99):.1f} ms; {sample.errors} errors"
            )
            rows.append(f"| {id_} | {what} | p99 ≤ {TARGETS[kind]:.0f} ms | {measured} |  |  | {verdict} | {load} |")
            print(rows[-1], flush=True)
    finally:
        server.stop()
    # Cold: the figures computed without the minute's cache (what the first open of a scope costs),
    # timed in-process (queries and Python, no HTTP).
    from voice.selectors.signals_insights import signal_insights

    for who, user in (("a location leader", leader), ("the admin", admin)):
        timings = []
        for _ in range(max(20, args.requests // 10)):
            started = time.perf_counter()
            signal_insights(user=user, fresh=True)
            timings.append((time.perf_counter() - started) * 1000)
        p50, p99 = percentile(timings, 50), percentile(timings, 99)
        rows.append(
            f"| V1c | insights computed cold (no cache), {who}, in-process | (info) | p50 {p50:.1f}, p99 {p99:.1f} ms "
            f"({len(timings)} runs) |  |  | {'pass' if p99 <= TARGETS['insights'] else 'over'} | {load_average()} |"
        )
        print(rows[-1], flush=True)

    total = Signal.objects.filter(organization__slug=SLUG).count()
    body = f"""{stamp()}

Command: `{" ".join([Path(sys.executable).name, *sys.argv])}`. Server: bench/api_bench.py's (uvicorn, 4 processes,
`DEBUG=False`, PostgreSQL, Redis); one client on 127.0.0.1 (httpx), {args.requests} requests per row, one at a time.
Server time is the `Server-Timing` header. Data: {total:,} signals in one organisation of {PEOPLE:,} people and
{LOCATIONS} locations (database `feedapp_benchvoice`), seeded with COPY by the same script. The list is 6
queries per page in either sort (auth 2, signals with their people 1, photos 1, timelines 1, my supports 1;
tests/voice/test_signals_api.py), the insights 5 plus auth (same file), each an index-only scan of `signal_insights_idx`; the answer is kept
`VOICE_INSIGHTS_CACHE_SECONDS` (60) per scope, so "as served" is what leaders opening the page get and V1c is the
cost of the first open of a scope in a minute.

| id | what | target | measured | floor | ratio | verdict | load avg |
|---|---|---|---|---|---|---|---|
""" + "\n".join(rows)
    write_section("Voice", body)
    save_rows("voice", rows)


if __name__ == "__main__":
    main()
