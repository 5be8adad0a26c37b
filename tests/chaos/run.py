"""Outage runs against the real stack (`make chaos`; not part of CI).

    python -m tests.chaos.run redis        # Redis killed for 20 s during a 60 s load
    python -m tests.chaos.run worker-kill  # Celery worker SIGKILLed mid fan-out
    python -m tests.chaos.run fcm-flaky    # fake FCM answering 50 % UNAVAILABLE
    python -m tests.chaos.run postgres     # our own PostgreSQL stopped for 15 s during a 60 s load
    python -m tests.chaos.run backup       # pg_dump + media of a running deployment, restored and compared
    python -m tests.chaos.run rolling      # old and new release side by side: expand, workers, web one by one
    python -m tests.chaos.run disk-full    # media on a small tmpfs that fills under uploads, then grows
    python -m tests.chaos.run all          # every scenario, figures to tests/chaos/last_run.json

Needs PostgreSQL (CHAOS_DATABASE_URL, default feedapp_chaos) and `redis-server` on the
PATH: the run starts its own Redis on CHAOS_REDIS_PORT (6391) and stops only that one.
Exit status 1 when a promise is broken (lost or duplicated work, a slow answer).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from tests.chaos.stack import DATABASE_URL, RUN_ID, Stack, start_fake_fcm, wait_for

ANSWER_BUDGET = 2.0
RESULTS = Path(__file__).with_name("last_run.json")


# --- seeding (in this process, straight to the database) -----------------------------------
def seed_people(count: int) -> dict:
    from django.utils import timezone

    from accounts.models import Organization, Role, User
    from notifications.models import Device
    from tests.factories import issue_token

    organization = Organization.objects.create(
        name=f"Chaos {RUN_ID}", slug=f"chaos-{RUN_ID}", timezone="Europe/Amsterdam", org_wide_posting_open=True
    )
    people = []
    for index in range(count):
        user = User.objects.create_user(
            f"p{index}-{RUN_ID}@chaos.example", None, organization=organization, name=f"Chaos {index}", role=Role.EMPLOYEE
        )
        token = issue_token(user)
        from accounts.models import AuthToken

        device = Device.objects.create(
            user=user,
            auth_token=AuthToken.objects.filter(user=user).latest("pk"),
            token=f"chaos-{RUN_ID}-{index}-" + "z" * 120,
            platform="android",
            last_seen_at=timezone.now(),
        )
        people.append({"id": user.pk, "token": token, "device": device.token})
    return {"organization_id": organization.pk, "people": people}


def push_figures(fcm, event_ids: set[str]) -> dict:
    """What the database planned against what the fake FCM answered OK, per (device, event)."""
    from notifications.models import PushDelivery

    rows = PushDelivery.objects.filter(event_id__in=event_ids)
    planned = rows.count()
    by_status = {status: rows.filter(status=status).count() for status in ("queued", "sending", "sent", "failed")}
    delivered = [key for key in fcm.delivered_keys() if key[1] in event_ids]
    return {
        "planned": planned,
        "status": by_status,
        "delivered": len(set(delivered)),
        "duplicates": len(delivered) - len(set(delivered)),
        "fcm_requests": fcm.received_count(),
    }


def wait_until_delivered(organization_id: int, *, timeout: float, sweep_pushes: bool = False) -> float:
    """Until every outbox event of the organisation is delivered and every push settled."""
    from notifications import push
    from notifications.models import OutboxEvent, PushDelivery

    started = time.monotonic()
    last_sweep = 0.0

    def settled() -> bool:
        nonlocal last_sweep
        events = OutboxEvent.objects.filter(organization_id=organization_id)
        ids = list(events.values_list("id", flat=True))
        if sweep_pushes and time.monotonic() - last_sweep > 10:
            # Beat runs this every 120 s for rows older than 5 min; sooner here to keep the run short.
            # The lease of a claimed row (time limit + 60 s) is left as in production.
            push.push_deliveries_sweep(older_than=timedelta(seconds=0))
            last_sweep = time.monotonic()
        return (
            not events.filter(delivered_at__isnull=True).exists()
            and not PushDelivery.objects.filter(event_id__in=ids, status__in=("queued", "sending")).exists()
        )

    try:
        wait_for(settled, timeout=timeout, what="every event delivered and every push settled", interval=1.0)
    except TimeoutError:
        events = OutboxEvent.objects.filter(organization_id=organization_id, delivered_at__isnull=True)
        pending = {
            "undelivered_events": events.count(),
            "inbox_unwritten": events.filter(inbox_written_at__isnull=True).count(),
            "realtime_unsent": events.filter(realtime_sent_at__isnull=True).count(),
            "push_unplanned": events.filter(push_sent_at__isnull=True).count(),
            "locked_until": [str(value) for value in events.values_list("locked_until", flat=True)[:5]],
            "pushes": {
                status: PushDelivery.objects.filter(event_id__in=list(events.values_list("id", flat=True)), status=status).count()
                for status in ("queued", "sending")
            },
        }
        raise TimeoutError(f"every event delivered and every push settled: still pending {pending}") from None
    return time.monotonic() - started


@dataclass
class Latencies:
    samples: list[tuple[float, float, str]] = field(default_factory=list)  # (started, seconds, outcome)

    def add(self, started: float, seconds: float, outcome: str) -> None:
        self.samples.append((started, seconds, outcome))

    def window(self, start: float, end: float) -> dict:
        values = [seconds for at, seconds, _ in self.samples if start <= at < end]
        outcomes: dict[str, int] = {}
        for at, _, outcome in self.samples:
            if start <= at < end:
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if not values:
            return {"requests": 0}
        values.sort()
        return {
            "requests": len(values),
            "p50_ms": round(statistics.median(values) * 1000),
            "p99_ms": round(values[min(len(values) - 1, int(len(values) * 0.99))] * 1000),
            "max_ms": round(values[-1] * 1000),
            "over_2s": sum(1 for v in values if v > ANSWER_BUDGET),
            "outcomes": outcomes,
        }


# --- scenario 1: Redis outage under load ---------------------------------------------------
async def load_client(
    index: int, stack: Stack | None, world: dict, deadline, state: dict, latencies: Latencies, balancer=None, pause: float = 0.05
) -> None:
    """`deadline`: a monotonic time, or a callable answering it; `balancer` (rolling deploy): each
    attempt goes to the web process it picks, and acknowledged posts are recorded with when and
    through which release."""
    import httpx

    rng = random.Random(index)
    person = world["people"][index]
    others = [p for p in world["people"] if p["id"] != person["id"]]
    headers = {"Authorization": f"Bearer {person['token']}"}
    via = {"release": None}
    async with httpx.AsyncClient(base_url=stack.http if stack else "", timeout=ANSWER_BUDGET + 3) as http:

        async def send(method: str, path: str, body: dict, key: str | None) -> httpx.Response | None:
            """One logical request, retried with the same Idempotency-Key like a phone would."""
            for attempt in range(6):
                started = time.monotonic()
                url = path
                if balancer is not None:
                    _, via["release"], base = balancer.pick()
                    url = base + path
                try:
                    response = await http.request(method, url, json=body, headers={**headers, **({"Idempotency-Key": key} if key else {})})
                    latencies.add(started, time.monotonic() - started, str(response.status_code))
                    if balancer is not None:
                        counts = state["requests_via"].setdefault(via["release"], {})
                        counts[str(response.status_code)] = counts.get(str(response.status_code), 0) + 1
                    if response.status_code < 500 and response.status_code != 429:
                        return response
                except httpx.HTTPError as error:
                    latencies.add(started, time.monotonic() - started, type(error).__name__)
                    if balancer is not None:
                        counts = state["requests_via"].setdefault(via["release"], {})
                        counts[type(error).__name__] = counts.get(type(error).__name__, 0) + 1
                state["retries"] += 1
                await asyncio.sleep(min(4.0, 0.25 * 2**attempt))
            return None

        sequence = 0
        while time.monotonic() < (deadline() if callable(deadline) else deadline):
            roll = rng.random()
            if roll < 0.55 or not state["posts"]:
                sequence += 1
                body = {"body": f"chaos {RUN_ID} c{index} #{sequence} @[user:{rng.choice(others)['id']}]"}
                key = str(uuid.uuid4())
                response = await send("POST", "/api/v1/posts", body, key)
                if response is not None and response.status_code == 201:
                    post_id = response.json()["id"]
                    state["posts"][body["body"]] = post_id
                    if balancer is not None:
                        state["acked_at"][post_id] = time.monotonic()
                        state["posted_via"][post_id] = via["release"]
                    if rng.random() < 0.2:  # the answer "got lost": the phone sends the same request again
                        again = await send("POST", "/api/v1/posts", body, key)
                        state["replays"] += 1
                        if again is None or again.json().get("id") != post_id:
                            state["replay_mismatches"] += 1
                elif response is not None:
                    state["refused"][str(response.status_code)] = state["refused"].get(str(response.status_code), 0) + 1
                else:
                    state["gave_up"] += 1
            elif roll < 0.85:
                post_id = rng.choice(list(state["posts"].values()))
                response = await send("POST", f"/api/v1/posts/{post_id}/comments", {"body": f"comment c{index}"}, str(uuid.uuid4()))
                if response is not None and response.status_code == 201:
                    state["comments"].add(response.json()["id"])
            else:
                post_id = rng.choice(list(state["posts"].values()))
                response = await send("PUT", f"/api/v1/posts/{post_id}/reaction", {"type": rng.choice(["like", "clap", "heart"])}, None)
                if response is not None and response.status_code == 200:
                    state["reactions"] += 1
            await asyncio.sleep(pause)


async def stream_client(stack: Stack, person: dict, stop: asyncio.Event, seen: dict) -> None:
    """Reconnects after any drop and catches up through /feed/updates before reading on."""
    import httpx
    from websockets.asyncio.client import connect

    headers = {"Authorization": f"Bearer {person['token']}"}
    async with httpx.AsyncClient(base_url=stack.http, timeout=5) as http:
        cursor = (await http.get("/api/v1/feed/updates", headers=headers)).json()["cursor"]

        async def catch_up() -> None:
            nonlocal cursor
            while True:
                page = (await http.get("/api/v1/feed/updates", params={"since": cursor}, headers=headers)).json()
                seen["catch_up"].update(card["id"] for card in page["results"] if not card.get("removed"))
                cursor = page["cursor"]
                if not page.get("has_more"):
                    return

        seen["catch_up_now"] = catch_up
        while not stop.is_set():
            try:
                async with connect(f"{stack.ws}?token={person['token']}", open_timeout=3) as socket:
                    seen["connects"] += 1
                    await catch_up()
                    while not stop.is_set():
                        try:
                            frame = json.loads(await asyncio.wait_for(socket.recv(), 0.5))
                        except TimeoutError:
                            continue
                        seen["frames"] += 1
                        seen["frame_ids"].add(frame.get("id"))
                        if frame.get("type") == "post.created":
                            seen["live"].add(frame["data"]["id"])
            except Exception:  # any drop: reconnect, as the app does
                seen["drops"] += 1
                await asyncio.sleep(1.0)


def scenario_redis(fcm, *, duration: float, outage_at: float, outage: float, clients: int) -> dict:
    fcm.reset()
    stack = Stack(fcm_url=fcm.base_url(), service_account=fcm.service_account())
    stack.start_redis()
    try:
        return _scenario_redis(stack, fcm, duration=duration, outage_at=outage_at, outage=outage, clients=clients)
    finally:
        stack.stop()


def _scenario_redis(
    stack: Stack,
    fcm,
    *,
    duration: float,
    outage_at: float,
    outage: float,
    clients: int,
    down=None,
    up=None,
    after=None,
    recovery_timeout: float = 240,
    sweep_pushes: bool = False,
) -> dict:
    down, up = down or stack.kill_redis, up or stack.start_redis
    stack.setup_django()
    from feed.models import Post
    from notifications.models import OutboxEvent

    world = seed_people(clients + 2)
    stack.start_server()
    stack.start_worker()
    state = {"posts": {}, "comments": set(), "reactions": 0, "retries": 0, "replays": 0, "replay_mismatches": 0}
    state.update({"gave_up": 0, "refused": {}})
    latencies = Latencies()
    streams = [{"live": set(), "catch_up": set(), "connects": 0, "drops": 0, "frames": 0, "frame_ids": set()} for _ in range(2)]
    timeline: dict[str, float] = {}

    async def main() -> None:
        stop = asyncio.Event()
        started = time.monotonic()
        timeline["start"] = started
        deadline = started + duration
        stream_tasks = [asyncio.create_task(stream_client(stack, world["people"][-1 - i], stop, streams[i])) for i in range(2)]
        load = [asyncio.create_task(load_client(i, stack, world, deadline, state, latencies)) for i in range(clients)]
        await asyncio.sleep(outage_at)
        timeline["outage_start"] = time.monotonic()
        await asyncio.to_thread(down)
        await asyncio.sleep(outage)
        await asyncio.to_thread(up)
        timeline["outage_end"] = time.monotonic()
        await asyncio.gather(*load)
        timeline["load_end"] = time.monotonic()
        # Recovery: the sweeper re-delivers what was written during the outage.
        timeline["recovered_after_s"] = await asyncio.to_thread(
            wait_until_delivered, world["organization_id"], timeout=recovery_timeout, sweep_pushes=sweep_pushes
        )
        await asyncio.sleep(2)  # late frames
        for stream in streams:  # the app's last catch-up (foreground / reconnect)
            if "catch_up_now" in stream:
                await stream["catch_up_now"]()
        stop.set()
        await asyncio.gather(*stream_tasks, return_exceptions=True)

    asyncio.run(main())
    if after is not None:
        after()
    acked = state["posts"]
    prefix = f"chaos {RUN_ID} "
    stored = list(Post.objects.filter(body__startswith=prefix).values_list("body", flat=True))
    event_ids = {str(pk) for pk in OutboxEvent.objects.filter(organization_id=world["organization_id"]).values_list("id", flat=True)}
    acked_ids = set(acked.values())
    start, out_start, out_end = timeline["start"], timeline["outage_start"], timeline["outage_end"]
    result = {
        "load": {"clients": clients, "websocket_clients": 2, "duration_s": duration, "outage_s": outage, "outage_at_s": outage_at},
        "posts_acknowledged": len(acked),
        "posts_lost": len(acked_ids - set(Post.objects.filter(pk__in=acked_ids).values_list("pk", flat=True))),
        "posts_duplicated": len(stored) - len(set(stored)),
        "posts_stored_without_ack": len(set(stored) - set(acked)),
        "comments_acknowledged": len(state["comments"]),
        "reactions_acknowledged": state["reactions"],
        "retries": state["retries"],
        "replays_same_key": state["replays"],
        "replay_mismatches": state["replay_mismatches"],
        "gave_up": state["gave_up"],
        "refused": state["refused"],
        "requests": {
            "before": latencies.window(start, out_start),
            "during_outage": latencies.window(out_start, out_end),
            "after": latencies.window(out_end, timeline["load_end"] + 1),
        },
        "recovered_after_load_s": round(timeline["recovered_after_s"], 1),
        "websocket": [
            {
                "connects": s["connects"],
                "drops": s["drops"],
                "live": len(s["live"] & acked_ids),
                "only_by_catch_up": len((s["catch_up"] - s["live"]) & acked_ids),
                "missing": len(acked_ids - s["live"] - s["catch_up"]),
                # At-most-once stream plus re-delivery by the sweeper: repeats are possible, clients de-duplicate by id.
                "repeated_frames": s["frames"] - len(s["frame_ids"]),
            }
            for s in streams
        ],
        "push": push_figures(fcm, event_ids),
    }
    first_write_after = [at + seconds for at, seconds, outcome in latencies.samples if at >= out_end and outcome == "201"]
    result["first_acknowledged_write_after_restart_s"] = round(min(first_write_after) - out_end, 2) if first_write_after else None
    result["server_errors_500"] = sum(1 for _, _, outcome in latencies.samples if outcome == "500")
    from notifications.models import Notification

    mentions = Notification.objects.filter(organization_id=world["organization_id"], reason="mention")
    pairs = list(mentions.values_list("event_id", "recipient_id"))
    result["inbox"] = {
        "mention_rows": len(pairs),
        "expected": len(set(stored)),  # one mention per stored post
        "missing": len(set(stored)) - len(set(pairs)),
        "duplicated": len(pairs) - len(set(pairs)),
    }
    push_result = result["push"]
    result["ok"] = (
        result["posts_lost"] == 0
        and result["posts_duplicated"] == 0
        and result["replay_mismatches"] == 0
        and all(s["missing"] == 0 for s in result["websocket"])
        and push_result["duplicates"] == 0
        and push_result["delivered"] == push_result["status"]["sent"]
        and push_result["status"]["queued"] == push_result["status"]["sending"] == 0
        and all(window.get("over_2s", 0) == 0 for window in result["requests"].values())
    )
    return result


# --- scenario 4: PostgreSQL stopped under load ----------------------------------------------------
def scenario_postgres(fcm, *, duration: float, outage_at: float, outage: float, clients: int) -> dict:
    """The same load as the Redis run; a PostgreSQL of our own is stopped (`pg_ctl stop -m fast`:
    sessions terminated mid-transaction) and started again. Requests must fail fast with 503 and
    Retry-After (never a 500, never over 2 s), every acknowledged write must be there afterwards,
    and the outbox must deliver every event once (frames, inbox rows, pushes)."""
    fcm.reset()
    probe = Stack(fcm_url=fcm.base_url(), service_account=fcm.service_account())
    database_url = probe.init_own_postgres()
    stack = Stack(fcm_url=fcm.base_url(), service_account=fcm.service_account(), database_url=database_url)
    stack.pgdata, stack.tmp = probe.pgdata, probe.tmp
    stack.start_redis()

    def reconnect() -> None:
        from django.db import connections

        connections.close_all()  # this process's connection died with the server

    try:
        result = _scenario_redis(
            stack,
            fcm,
            duration=duration,
            outage_at=outage_at,
            outage=outage,
            clients=clients,
            down=stack.stop_postgres,
            up=stack.start_postgres,
            after=reconnect,
            # A push claimed (`sending`) by a task whose connection died waits for its lease and the
            # push sweeper (rows older than 5 min, every 2 min): swept every 10 s here, as in the
            # worker-kill run, and the leases are left as in production.
            recovery_timeout=600,
            sweep_pushes=True,
        )
        during = result["requests"]["during_outage"]
        result["answered_503_during_outage"] = during.get("outcomes", {}).get("503", 0)
        result["ok"] = (
            result["ok"] and result["server_errors_500"] == 0 and result["inbox"]["missing"] == 0 and result["inbox"]["duplicated"] == 0
        )
        return result
    finally:
        stack.stop()


# --- scenario 5: backup and restore drill ---------------------------------------------------------
def database_fingerprint(url: str) -> dict[str, tuple[int, str]]:
    """Row count and md5 of every table's rows (as text, sorted), and every sequence's position."""
    import psycopg

    state: dict[str, tuple[int, str]] = {}
    with psycopg.connect(url, autocommit=True) as connection:
        tables = [row[0] for row in connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]
        for table in tables:
            count, digest = connection.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM \"{table}\" t"  # noqa: S608
            ).fetchone()
            state[table] = (count, digest)
        for (sequence,) in connection.execute("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1"):
            (value,) = connection.execute(f'SELECT last_value FROM "{sequence}"').fetchone()  # noqa: S608
            state[f"sequence {sequence}"] = (value, "")
    return state


def json_differences(left, right, path: str = "", found: list | None = None) -> list:
    """The first paths where two JSON documents differ (for a report)."""
    found = [] if found is None else found
    if len(found) >= 8:
        return found
    if isinstance(left, dict) and isinstance(right, dict):
        for key in sorted(set(left) | set(right)):
            json_differences(left.get(key), right.get(key), f"{path}/{key}", found)
    elif isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            json_differences(a, b, f"{path}/{index}", found)
    elif left != right:
        found.append([path, str(left)[:80], str(right)[:80]])
    return found


def files_fingerprint(root: Path) -> dict[str, str]:
    import hashlib

    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(root.rglob("*")) if path.is_file()
    }


def scenario_backup(fcm, *, photos: int) -> dict:
    """A deployment with content, photos and an audit log is backed up while its web process runs
    (`pg_dump -Fc` and a tar of the media directory), restored into a fresh database and media
    directory, and served by a second web process: every table (rows and checksum), every
    sequence, every media file and the answers of the feed, the photos and the audit log must
    be the same."""
    import subprocess

    import httpx

    from tests.chaos.stack import PG_BIN, ensure_database

    fcm.reset()
    base = DATABASE_URL.rsplit("/", 1)[0]
    source_url, restored_url = f"{base}/feedapp_chaos_backup_{RUN_ID}", f"{base}/feedapp_chaos_restored_{RUN_ID}"
    probe = Stack(fcm_url=fcm.base_url(), service_account=fcm.service_account())
    media_source, media_restored = probe.tmp / "media-source", probe.tmp / "media-restored"
    stack = Stack(
        fcm_url=fcm.base_url(), service_account=fcm.service_account(), database_url=source_url, extra_env={"MEDIA_ROOT": str(media_source)}
    )
    restored = Stack(
        fcm_url=fcm.base_url(),
        service_account=fcm.service_account(),
        database_url=restored_url,
        extra_env={"MEDIA_ROOT": str(media_restored)},
    )
    stack.start_redis()
    try:
        stack.setup_django()
        from django.core.management import call_command

        from accounts.models import Role, User
        from tests.factories import issue_token
        from tests.media.images import phone_jpeg

        seeded_at = time.monotonic()
        call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
        admin = User.objects.filter(role=Role.ADMIN, organization__isnull=False).order_by("pk").first()
        employee = User.objects.filter(organization=admin.organization, role=Role.EMPLOYEE).order_by("pk").first()
        tokens = {"admin": issue_token(admin), "employee": issue_token(employee)}
        stack.start_server()
        stack.start_worker()
        auth = {"Authorization": f"Bearer {tokens['admin']}"}
        with httpx.Client(base_url=stack.http, timeout=30) as http:
            media_ids = []
            for index in range(photos):
                upload = http.post(
                    "/api/v1/media", files={"file": (f"p{index}.jpg", phone_jpeg(size=(800, 600)), "image/jpeg")}, headers=auth
                )
                upload.raise_for_status()
                media_ids.append(upload.json()["id"])
            wait_for(
                lambda: all(http.get(f"/api/v1/media/{m}", headers=auth).json()["status"] == "ready" for m in media_ids),
                timeout=120,
                what="photos processed",
                interval=1.0,
            )
            for start in range(0, photos, 5):
                http.post(
                    "/api/v1/posts", json={"body": f"Backup drill {RUN_ID}", "image_ids": media_ids[start : start + 5]}, headers=auth
                ).raise_for_status()
            http.patch(f"/api/v1/users/{employee.pk}", json={"role": "leader"}, headers=auth).raise_for_status()
            http.post("/api/v1/groups", json={"name": f"Drill {RUN_ID}"}, headers=auth).raise_for_status()
        seed_s = time.monotonic() - seeded_at
        stack.kill_worker()  # the web process keeps serving; nothing writes in the background now
        wait_until = time.monotonic() + 2
        while time.monotonic() < wait_until:
            time.sleep(0.2)

        source_tables = database_fingerprint(source_url)
        source_files = files_fingerprint(media_source)
        dump, archive = probe.tmp / "feedapp.dump", probe.tmp / "media.tar"
        started = time.monotonic()
        subprocess.run([str(PG_BIN / "pg_dump"), "-Fc", "--no-owner", "-d", source_url, "-f", str(dump)], check=True)
        dumped_s = time.monotonic() - started
        subprocess.run(["tar", "-C", str(media_source), "-cf", str(archive), "."], check=True)
        backup_s = time.monotonic() - started

        started = time.monotonic()
        ensure_database(restored_url)
        subprocess.run([str(PG_BIN / "pg_restore"), "--no-owner", "--exit-on-error", "-j", "2", "-d", restored_url, str(dump)], check=True)
        db_restored_s = time.monotonic() - started
        media_restored.mkdir()
        subprocess.run(["tar", "-C", str(media_restored), "-xf", str(archive)], check=True)
        restore_s = time.monotonic() - started

        restored_tables = database_fingerprint(restored_url)
        restored_files = files_fingerprint(media_restored)
        restored.start_server()
        answers = {}
        for name, url in (("source", stack.http), ("restored", restored.http)):
            with httpx.Client(base_url=url, timeout=30) as http:
                employee_auth = {"Authorization": f"Bearer {tokens['employee']}"}
                answers[name] = {
                    # Links name the server they came from: compared without it.
                    "feed": http.get("/api/v1/feed", params={"page_size": 50}, headers=employee_auth).content.replace(url.encode(), b""),
                    "photos": [http.get(f"/api/v1/media/{m}/thumbnail", headers=auth).content for m in media_ids]
                    + [http.get(f"/api/v1/media/{m}/large", headers=auth).content for m in media_ids],
                    "audit_log": http.get("/api/v1/moderation/audit-log.csv", headers=auth).content,
                }
        import psycopg

        with psycopg.connect(source_url, autocommit=True) as connection:
            (database_bytes,) = connection.execute("SELECT pg_database_size(current_database())").fetchone()
            bench = connection.execute(
                "SELECT pg_database_size('feedapp_bench') FROM pg_database WHERE datname = 'feedapp_bench'"
            ).fetchone()
        differing = sorted(
            table for table in set(source_tables) | set(restored_tables) if source_tables.get(table) != restored_tables.get(table)
        )
        result = {
            "photos": photos,
            "rows": sum(count for table, (count, _) in source_tables.items() if not table.startswith("sequence ")),
            "tables": sum(1 for table in source_tables if not table.startswith("sequence ")),
            "database_mb": round(database_bytes / 2**20, 1),
            "dump_mb": round(dump.stat().st_size / 2**20, 2),
            "media_files": len(source_files),
            "media_mb": round(sum((media_source / name).stat().st_size for name in source_files) / 2**20, 2),
            "seed_s": round(seed_s, 1),
            "pg_dump_s": round(dumped_s, 2),
            "backup_s": round(backup_s, 2),
            "pg_restore_s": round(db_restored_s, 2),
            "restore_s": round(restore_s, 2),
            "tables_differing": differing,
            "files_differing": sorted(
                name for name in set(source_files) | set(restored_files) if source_files.get(name) != restored_files.get(name)
            ),
            "feed_same": answers["source"]["feed"] == answers["restored"]["feed"] and b'"results"' in answers["source"]["feed"],
            "photos_same": answers["source"]["photos"] == answers["restored"]["photos"]
            and all(len(p) > 100 for p in answers["source"]["photos"]),
            "audit_log_same": answers["source"]["audit_log"] == answers["restored"]["audit_log"]
            and answers["source"]["audit_log"].count(b"\n") > 2,
            "audit_log_lines": answers["source"]["audit_log"].count(b"\n"),
        }
        if bench:
            # Dump and restore scale with the database's size; measured throughput, not a run.
            scale = bench[0] / database_bytes
            result["benchmark_scale_estimate"] = {
                "database_mb": round(bench[0] / 2**20),
                "pg_dump_s": round(dumped_s * scale),
                "pg_restore_s": round(db_restored_s * scale),
                "note": "linear extrapolation from this run (pg_dump/pg_restore time per MB of database); not run",
            }
        if not result["feed_same"]:
            result["feed_differences"] = json_differences(json.loads(answers["source"]["feed"]), json.loads(answers["restored"]["feed"]))
        result["ok"] = (
            not differing and not result["files_differing"] and result["feed_same"] and result["photos_same"] and result["audit_log_same"]
        )
        return result
    finally:
        restored.stop()
        stack.stop()
        import psycopg

        with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
            for url in (source_url, restored_url):
                name = url.rsplit("/", 1)[1]
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- scenario 2: worker SIGKILLed mid fan-out ------------------------------------------------
def fanout_world(devices: int) -> tuple[int, object]:
    from accounts.models import Organization, Role, User
    from tests.notifications.push_factories import devices_for_many

    organization = Organization.objects.create(name=f"Fan-out {RUN_ID}-{uuid.uuid4().hex[:4]}", slug=f"fan-{uuid.uuid4().hex[:10]}")
    leader = User.objects.create_user(f"leader-{uuid.uuid4().hex[:8]}@chaos.example", None, organization=organization, role=Role.LEADER)
    devices_for_many(organization=organization, count=devices)
    return organization.pk, leader


def scenario_worker_kill(fcm, *, devices: int, kill_at_share: float) -> dict:
    fcm.reset()
    fcm.set_latency(0.01)  # a fan-out that takes long enough to be interrupted
    stack = Stack(fcm_url=fcm.base_url(), service_account=fcm.service_account())
    stack.start_redis()
    try:
        stack.setup_django()
        from feed.services import post_create
        from notifications.models import OutboxEvent

        organization_id, leader = fanout_world(devices)
        stack.start_worker()
        started = time.monotonic()
        post_create(author=leader, body=f"Chaos fan-out {RUN_ID}", kind="announcement")
        wait_for(lambda: fcm.delivered_count() >= devices * kill_at_share, timeout=300, what="fan-out under way", interval=0.05)
        delivered_at_kill = fcm.delivered_count()
        stack.kill_worker()
        killed_at = time.monotonic() - started
        stack.start_worker()
        recovered = wait_until_delivered(organization_id, timeout=600, sweep_pushes=True)
        time.sleep(2)
        event_ids = {str(pk) for pk in OutboxEvent.objects.filter(organization_id=organization_id).values_list("id", flat=True)}
        figures = push_figures(fcm, event_ids)
        result = {
            "devices": devices,
            "killed_after_s": round(killed_at, 1),
            "delivered_before_kill": delivered_at_kill,
            "complete_after_s": round(time.monotonic() - started, 1),
            "recovery_s": round(recovered, 1),
            "push": figures,
        }
        # FCM has no idempotency key: a message FCM accepted from the killed process whose
        # SENT was not yet committed is sent again after its lease. A batch commits what FCM
        # accepted every PUSH_RECORD_EVERY messages, so the window is the slices in flight:
        # at most (worker processes x PUSH_RECORD_EVERY) repeats, never a lost push.
        from django.conf import settings as django_settings

        in_flight_bound = stack.worker_concurrency * django_settings.PUSH_RECORD_EVERY
        result["duplicate_bound"] = in_flight_bound
        result["exactly_once"] = figures["duplicates"] == 0
        result["ok"] = figures["delivered"] == devices and figures["status"]["sent"] == devices and figures["duplicates"] <= in_flight_bound
        return result
    finally:
        fcm.set_latency(0.0)
        stack.stop()


# --- scenario 3: FCM failing half the time -------------------------------------------------------
def scenario_fcm_flaky(fcm, *, devices: int, rate: float) -> dict:
    fcm.reset()
    fcm.fail_randomly("UNAVAILABLE", rate, seed=11)
    # Time-compressed: the attempt budget (PUSH_MAX_ATTEMPTS) is what is under test; the
    # production backoff (2 s doubling to 300 s) would make the slowest device take ~20 min.
    backoff = {"PUSH_BACKOFF_BASE_SECONDS": "0.25", "PUSH_BACKOFF_CAP_SECONDS": "4"}
    stack = Stack(fcm_url=fcm.base_url(), service_account=fcm.service_account(), extra_env=backoff)
    stack.start_redis()
    try:
        stack.setup_django()
        from django.conf import settings

        from feed.services import post_create
        from notifications.models import OutboxEvent

        organization_id, leader = fanout_world(devices)
        stack.start_worker()
        started = time.monotonic()
        post_create(author=leader, body=f"Chaos flaky FCM {RUN_ID}", kind="announcement")
        time.sleep(3)
        wait_until_delivered(organization_id, timeout=600)
        event_ids = {str(pk) for pk in OutboxEvent.objects.filter(organization_id=organization_id).values_list("id", flat=True)}
        figures = push_figures(fcm, event_ids)
        from notifications.models import PushDelivery

        attempts = list(PushDelivery.objects.filter(event_id__in=event_ids).values_list("attempts", flat=True))
        result = {
            "devices": devices,
            "failure_rate": rate,
            "retry_budget_attempts": settings.PUSH_MAX_ATTEMPTS,
            "backoff": backoff,
            "complete_after_s": round(time.monotonic() - started, 1),
            "max_attempts_used": max(attempts),
            "mean_attempts": round(statistics.mean(attempts), 2),
            "push": figures,
        }
        result["ok"] = figures["delivered"] == devices and figures["duplicates"] == 0 and figures["status"]["failed"] == 0
        return result
    finally:
        fcm.fail_randomly(None)
        stack.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", choices=["redis", "worker-kill", "fcm-flaky", "postgres", "backup", "rolling", "disk-full", "all"])
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--outage", type=float, default=20)
    parser.add_argument("--outage-at", type=float, default=20)
    parser.add_argument("--photos", type=int, default=20, help="backup: photos in the backed-up deployment")
    parser.add_argument("--pg-outage", type=float, default=15, help="postgres: seconds PostgreSQL stays down")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--devices", type=int, default=2000)
    parser.add_argument("--sockets", type=int, default=4, help="rolling: phones holding a socket")
    parser.add_argument("--phase", type=float, default=12, help="rolling: seconds each deploy step runs under load")
    parser.add_argument("--pause", type=float, default=0.5, help="rolling: seconds a load client waits between requests")
    parser.add_argument("--media-mb", type=int, default=12, help="disk-full: size of the media tmpfs at the start")
    parser.add_argument("--grow-at", type=float, default=35, help="disk-full: seconds into the load when the volume grows")
    args = parser.parse_args()

    manager, fcm = start_fake_fcm()
    results: dict = {"run": RUN_ID, "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    try:
        if args.scenario in ("redis", "all"):
            results["redis_outage"] = scenario_redis(
                fcm, duration=args.duration, outage_at=args.outage_at, outage=args.outage, clients=args.clients
            )
            print(json.dumps(results["redis_outage"], indent=2), flush=True)
        if args.scenario in ("postgres", "all"):
            results["postgres_restart"] = scenario_postgres(
                fcm, duration=args.duration, outage_at=args.outage_at, outage=args.pg_outage, clients=args.clients
            )
            print(json.dumps(results["postgres_restart"], indent=2), flush=True)
        if args.scenario in ("backup", "all"):
            results["backup_restore"] = scenario_backup(fcm, photos=args.photos)
            print(json.dumps(results["backup_restore"], indent=2), flush=True)
        if args.scenario in ("rolling", "all"):
            from tests.chaos.rolling import scenario_rolling

            results["rolling_deploy"] = scenario_rolling(
                fcm, clients=args.clients, sockets=args.sockets, phase=args.phase, pause=args.pause
            )
            print(json.dumps(results["rolling_deploy"], indent=2, default=list), flush=True)
        if args.scenario in ("disk-full", "all"):
            from tests.chaos.diskfull import scenario_disk_full

            results["media_disk_full"] = scenario_disk_full(
                fcm,
                duration=args.duration,
                clients=args.clients,
                uploaders=2,
                media_mb=args.media_mb,
                grown_mb=256,
                free_at=args.grow_at,
                pause=0.3,
            )
            print(json.dumps(results["media_disk_full"], indent=2, default=list), flush=True)
        if args.scenario in ("worker-kill", "all"):
            results["worker_kill"] = scenario_worker_kill(fcm, devices=args.devices, kill_at_share=0.3)
            print(json.dumps(results["worker_kill"], indent=2), flush=True)
        if args.scenario in ("fcm-flaky", "all"):
            results["fcm_flaky"] = scenario_fcm_flaky(fcm, devices=args.devices // 2, rate=0.5)
            print(json.dumps(results["fcm_flaky"], indent=2), flush=True)
    finally:
        manager.shutdown()
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    previous.update({key: value for key, value in results.items() if key not in ("run", "at")})
    previous[f"{args.scenario}_run"] = {"run": RUN_ID, "at": results["at"]}
    RESULTS.write_text(json.dumps(previous, indent=2, default=list) + "\n")
    broken = [name for name, value in results.items() if isinstance(value, dict) and not value.get("ok", True)]
    print("BROKEN: " + ", ".join(broken) if broken else "all promises held", flush=True)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
