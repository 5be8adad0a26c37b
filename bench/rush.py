"""M1, the morning rush (issue #26): employees open the app at a fixed rate, against the real stack.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/feedapp_bench REDIS_URL=redis://127.0.0.1:6379/5 \
        .venv/bin/python bench/rush.py [--rates 50,100,150,200,250] [--step-seconds 60] \
        [--sustain-rate 150 --sustain-seconds 300] [--hold 30] [--generators 2] [--workers 4]

Each virtual employee of the benchmark organisation (bench/seed.py's first organisation,
`bench-retail`) opens the app the way a phone that was used before does: **with the API
token it already holds** (created in bulk before the run, one per employee; there is no
password login in the path, as there is none when a phone reopens the app), then

    GET /api/v1/me → GET /api/v1/feed (page 1) → GET /api/v1/notifications/unread-count
    → WebSocket /ws/v1/stream (bearer subprotocol) → GET /api/v1/feed/updates?since=<saved cursor>

and then, each drawn on its own: 30 % scroll to page 2, 10 % react to a post of page 1,
3 % comment on one, 1 % give kudos to a random colleague (an org-wide feed card), 0.5 %
post to one of their groups. The socket stays open `--hold` seconds (the employee reading)
and counts every `post.created` frame; then it closes. Employees are drawn at random.

The load is open-loop: `--generators` separate processes (`rush.py gen ...`, asyncio +
uvloop, httpx and websockets) start app-opens at fixed times whatever the server does,
so a slow server shows as latency (each call timed from its send; the app-open from its
scheduled start), not as a lower rate; each generator also reports how late it started
opens (its own CPU starvation) so an overloaded generator is not mistaken for the server.

Server: the deployment's (`python -m server.serve --workers N`, `DEBUG=False`, PostgreSQL,
Redis channel layer, one Celery worker), from `bench/api_bench.py`.

Measured per rate step: app-opens/s offered and achieved, p50/p99 of each call, frame delay
(post request sent → frame read, over every open socket of the post's audience), errors,
CPU per app-open of the server processes, Celery, PostgreSQL + Redis, the generators and the
whole machine (/proc), load average, and a loss check: every post made during the step
reaches every socket of its audience that was open from before the post until 5 s after it
(by frame), and every socket that connected later catches it up through
`/feed/updates?since=` (every post whose request had finished before the catch-up started: the
answer holds young changes too, and says `up_to_date`). The knee is the highest rate that
meets every bar (each call p99 ≤ 150 ms, frames p99 ≤ 1 s, 0 errors, 0 lost, ≥ 95 % of the
offered rate achieved).

The saved cursor of each phone is `--away` seconds old (default 60: the feed page it just
loaded covers everything before), so the catch-up returns what was posted in that minute
and its cost does not grow with the length of the run.

Writes the "Morning rush (M1)" section of docs/benchmarks.md, bench/.data/rush.json and its
summary row. Posts, comments, reactions and kudos made by the run are deleted afterwards.
"""

# ruff: noqa: E501 - the report lines are long Markdown table rows

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lib import DATA_DIR, ROOT, command_line, load_average, machine_speed, percentile, save_rows, stamp, write_section

TOKEN_DEVICE = "bench-rush"
ORG_SLUG = "bench-retail"  # bench/seed.py's first organisation
CALLS = ("me", "feed", "unread", "ws_connect", "catchup", "feed_page2", "react", "comment", "kudos", "post")
OPEN_CALLS = ("me", "feed", "unread", "catchup")  # the HTTP calls every app-open makes
MIX = {"feed_page2": 0.30, "react": 0.10, "comment": 0.03, "kudos": 0.01, "post": 0.005}
FRAME_DEADLINE_S = 5.0  # a socket open this long after a post must have its frame
TARGET = {"rate": 150, "call_p99_ms": 150, "frame_p99_ms": 1000, "stretch": 250}
REACTIONS = ("like", "heart", "clap", "celebrate", "insightful")


def encode_cursor(moment: datetime) -> str:
    """A saved catch-up cursor, as `GET /feed/updates` hands them out (feed.views.feed._encode_since)."""
    raw = json.dumps({"t": moment.isoformat(), "i": 0}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


# --- Load generator process --------------------------------------------------------------------


def gen_main(args: argparse.Namespace) -> None:
    """Open-loop app-opens at `rate`/s for `seconds`; writes everything it saw to `--out` (JSON)."""
    import httpx
    import orjson
    import uvloop
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    from bench.ws_bench import raise_nofile

    raise_nofile()
    people = [line.split() for line in Path(args.tokens).read_text().splitlines() if line.strip()]
    user_ids = [int(user_id) for _token, user_id in people]
    mix = json.loads(args.mix)
    rng = random.Random(args.seed)
    calls: dict[str, list[float]] = {name: [] for name in CALLS}
    errors: dict[str, int] = {}
    error_samples: list[str] = []
    posts: list[dict] = []  # {id, kind, group, sent, done}
    sockets: list[dict] = []
    lateness: list[float] = []
    opens: list[float] = []  # whole app-open (scheduled start → catch-up done), ms
    frames_total = [0]
    base = args.base
    ws_url = base.replace("http://", "ws://") + "/ws/v1/stream"

    def failed(name: str, detail: str) -> None:
        errors[name] = errors.get(name, 0) + 1
        if len(error_samples) < 10:
            error_samples.append(f"{name}: {detail[:200]}")

    async def call(client, name: str, method: str, url: str, token: str, **kwargs):
        started = time.perf_counter()
        try:
            response = await client.request(method, url, headers={"Authorization": f"Bearer {token}"}, **kwargs)
        except httpx.HTTPError as error:
            failed(name, repr(error))
            return None
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code >= 300:
            failed(name, f"{response.status_code} {response.text}")
            return None
        calls[name].append(elapsed)
        return response

    async def reader(ws, record: dict) -> None:
        with contextlib.suppress(ConnectionClosed):  # by the server or by us: the record says when
            async for raw in ws:
                now = time.time()
                frames_total[0] += 1
                message = orjson.loads(raw)
                if message.get("type") == "post.created":
                    post_id = message.get("data", {}).get("id")
                    if post_id is not None:
                        record["frames"].setdefault(str(post_id), now)

    async def session(client, index: int, scheduled: float) -> None:
        token, user_id = people[rng.randrange(len(people))]
        user_id = int(user_id)
        me = await call(client, "me", "GET", f"{base}/api/v1/me", token)
        if me is None:
            return
        group_ids = me.json().get("capabilities", {}).get("post_group_ids") or []
        feed = await call(client, "feed", "GET", f"{base}/api/v1/feed?page_size=20", token)
        if feed is None:
            return
        page = feed.json()
        if await call(client, "unread", "GET", f"{base}/api/v1/notifications/unread-count", token) is None:
            return
        if args.no_socket:  # the diagnostic: the app-open's HTTP calls alone
            if await call(
                client, "catchup", "GET", f"{base}/api/v1/feed/updates", token, params={"since": encode_cursor(datetime.now(UTC))}
            ):
                opens.append((time.perf_counter() - scheduled) * 1000)
            return
        started = time.perf_counter()
        try:
            ws = await connect(
                ws_url, subprotocols=["bearer", token], compression=None, ping_interval=None, open_timeout=60, max_queue=None
            )
        except Exception as error:  # every failure to connect is an error of the run
            failed("ws_connect", repr(error))
            return
        calls["ws_connect"].append((time.perf_counter() - started) * 1000)
        record = {"user": user_id, "connected": time.time(), "frames": {}, "caught_up": [], "closed": None}
        sockets.append(record)
        listening = asyncio.get_running_loop().create_task(reader(ws, record))
        try:
            cursor_at = datetime.now(UTC) - timedelta(seconds=args.away)
            record["cursor_t"] = cursor_at.timestamp()
            record["catchup_started"] = time.time()
            since, pages = encode_cursor(cursor_at), 0
            while pages < 20:
                updates = await call(client, "catchup", "GET", f"{base}/api/v1/feed/updates", token, params={"since": since})
                if updates is None:
                    record["catchup_failed"] = True
                    break
                body = updates.json()
                record["caught_up"] += [item["id"] for item in body["results"]]
                since, pages = body["cursor"], pages + 1
                if not body.get("has_more"):
                    # Up to date: every change committed before the call is in it (the app's
                    # second call after the settle window is due only otherwise, not made here).
                    record["catchup_done"] = bool(body.get("up_to_date"))
                    break
            opens.append((time.perf_counter() - scheduled) * 1000)
            cards = [card for card in page["results"] if isinstance(card, dict) and "id" in card]
            if rng.random() < mix["feed_page2"] and page.get("next"):
                await call(client, "feed_page2", "GET", page["next"], token)
            if rng.random() < mix["react"] and cards:
                post_id = rng.choice(cards)["id"]
                await call(client, "react", "PUT", f"{base}/api/v1/posts/{post_id}/reaction", token, json={"type": rng.choice(REACTIONS)})
            if rng.random() < mix["comment"] and cards:
                post_id = rng.choice(cards)["id"]
                await call(
                    client, "comment", "POST", f"{base}/api/v1/posts/{post_id}/comments", token, json={"body": f"Rush comment {index}"}
                )
            if rng.random() < mix["kudos"]:
                recipient = rng.choice(user_ids)
                if recipient != user_id:
                    sent = time.time()
                    answer = await call(
                        client,
                        "kudos",
                        "POST",
                        f"{base}/api/v1/kudos",
                        token,
                        json={"recipient_ids": [recipient], "message": f"Rush kudos {index}"},
                    )
                    if answer is not None and answer.json().get("post_id"):
                        posts.append({"id": answer.json()["post_id"], "kind": "kudos", "group": None, "sent": sent, "done": time.time()})
            if rng.random() < mix["post"] and group_ids:
                group = rng.choice(group_ids)
                sent = time.time()
                answer = await call(
                    client, "post", "POST", f"{base}/api/v1/posts", token, json={"body": f"Rush post {index}", "group_ids": [group]}
                )
                if answer is not None:
                    posts.append({"id": answer.json()["id"], "kind": "post", "group": group, "sent": sent, "done": time.time()})
            await asyncio.sleep(args.hold)
        finally:
            record["closed"] = time.time()
            await ws.close()
            listening.cancel()

    async def run() -> None:
        limits = httpx.Limits(max_connections=args.connections, max_keepalive_connections=args.connections)
        async with httpx.AsyncClient(limits=limits, timeout=60) as client:
            loop = asyncio.get_running_loop()
            cpu0, wall0 = time.process_time(), time.perf_counter()
            start = loop.time() + 0.2
            total = int(args.rate * args.seconds)
            tasks = []
            for index in range(total):
                at = start + index / args.rate
                await asyncio.sleep(max(0.0, at - loop.time()))
                late = loop.time() - at
                lateness.append(late * 1000)
                # The app-open is timed from its scheduled start: a generator's own delay counts against it.
                tasks.append(loop.create_task(session(client, args.index * 1_000_000 + index, time.perf_counter() - late)))
            arrivals_s = loop.time() - start
            # Past capacity the sessions pile up: the step ends `drain` s after the last socket should
            # have closed, and what has not finished by then counts as an error ("unfinished").
            _done, pending = await asyncio.wait(tasks, timeout=args.hold + args.drain) if tasks else (set(), set())
            for task in pending:
                task.cancel()
            if pending:
                errors["unfinished"] = len(pending)
                error_samples.append(
                    f"unfinished: {len(pending)} app-opens still running {args.hold + args.drain:g} s after the last arrival"
                )
                await asyncio.wait(pending, timeout=30)
            result = {
                "rate": args.rate,
                "seconds": args.seconds,
                "arrivals": total,
                "arrivals_s": arrivals_s,
                "calls": calls,
                "errors": errors,
                "error_samples": error_samples,
                "posts": posts,
                "sockets": sockets,
                "lateness_ms": lateness,
                "opens_ms": opens,
                "frames_total": frames_total[0],
                "cpu_s": time.process_time() - cpu0,
                "wall_s": time.perf_counter() - wall0,
            }
            Path(args.out).write_bytes(orjson.dumps(result))

    uvloop.run(run())


# --- Orchestration -----------------------------------------------------------------------------


def django_setup() -> None:
    import logging

    from bench.api_bench import PRODUCTION_ENV

    logging.getLogger("httpx").setLevel(logging.WARNING)
    os.environ.update({key: value for key, value in PRODUCTION_ENV.items() if key != "CELERY_TASK_ALWAYS_EAGER"})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
    import django

    django.setup()


def make_tokens(limit: int | None, path: Path) -> int:
    """One existing API token per employee of the benchmark organisation (what their phones hold)."""
    from django.conf import settings
    from django.utils import timezone

    from accounts.authentication import hash_token, new_raw_token
    from accounts.models import AuthToken, User

    AuthToken.objects.filter(device_name=TOKEN_DEVICE).delete()
    users = User.objects.filter(organization__slug=ORG_SLUG, role="employee", is_active=True).order_by("id").values_list("pk", flat=True)
    users = list(users[:limit] if limit else users)
    expires = timezone.now() + settings.AUTH_TOKEN_TTL
    lines, rows = [], []
    for user_id in users:
        raw = new_raw_token()
        lines.append(f"{raw} {user_id}")
        rows.append(AuthToken(user_id=user_id, key_hash=hash_token(raw), device_name=TOKEN_DEVICE, expires_at=expires))
    AuthToken.objects.bulk_create(rows, batch_size=5000)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return len(users)


def cleanup(since: datetime) -> dict[str, int]:
    """Delete what the run wrote, so the data set stays as seeded for the next run."""
    from feed.models import Comment, Post, Reaction
    from recognition.models import Kudos

    org = {"post__organization__slug": ORG_SLUG}
    done = {
        "comments": Comment.objects.filter(created_at__gte=since, body__startswith="Rush comment", **org).delete()[0],
        "reactions": Reaction.objects.filter(created_at__gte=since, **org).delete()[0],
        "kudos": Kudos.objects.filter(created_at__gte=since, message__startswith="Rush kudos").delete()[0],
        "posts": Post.objects.filter(organization__slug=ORG_SLUG, created_at__gte=since, body__startswith="Rush ").delete()[0],
    }
    from accounts.models import AuthToken

    AuthToken.objects.filter(device_name=TOKEN_DEVICE).delete()
    return done


def audiences(posts: list[dict]) -> dict[int, set[int] | None]:
    """Post id → user ids of its audience (None: the whole organisation)."""
    from accounts.models import Membership

    groups = {post["group"] for post in posts if post["group"] is not None}
    members: dict[int, set[int]] = {group: set() for group in groups}
    for group_id, user_id in Membership.objects.filter(group_id__in=groups).values_list("group_id", "user_id"):
        members[group_id].add(user_id)
    return {post["id"]: (None if post["group"] is None else members[post["group"]]) for post in posts}


def check_delivery(posts: list[dict], sockets: list[dict], audience: dict[int, set[int] | None]) -> dict:
    """Every post reaches every socket of its audience: by frame when the socket was open around it,
    by catch-up when the socket connected after it (the catch-up hands out every change committed
    before it, the young ones too). Frame delay per pair."""
    expected_frames = received_frames = expected_catchup = caught_up = extra = 0
    delays: list[float] = []
    lost: list[str] = []
    for socket in sockets:
        socket["caught_up"] = set(socket["caught_up"])
    for post in posts:
        users = audience[post["id"]]
        for socket in sockets:
            if users is not None and socket["user"] not in users:
                continue
            frame_at = socket["frames"].get(str(post["id"]))
            if frame_at is not None:
                delays.append((frame_at - post["sent"]) * 1000)
            if socket["connected"] <= post["sent"] and (socket["closed"] or 0) >= post["done"] + FRAME_DEADLINE_S:
                expected_frames += 1
                if frame_at is not None:
                    received_frames += 1
                elif post["id"] in socket["caught_up"]:
                    received_frames += 1  # the frame was missed but the catch-up had it
                elif len(lost) < 5:
                    lost.append(f"post {post['id']} frame → user {socket['user']}")
            elif (
                socket.get("catchup_done")  # not failed, not cut short by the end of an overloaded step
                and socket["cursor_t"] < post["sent"]
                and post["done"] < socket["catchup_started"]
            ):
                expected_catchup += 1
                if post["id"] in socket["caught_up"] or frame_at is not None:
                    caught_up += 1
                elif len(lost) < 5:
                    lost.append(f"post {post['id']} catch-up → user {socket['user']}")
            elif frame_at is not None:
                extra += 1
    return {
        "expected_frames": expected_frames,
        "received_frames": received_frames,
        "expected_catchup": expected_catchup,
        "caught_up": caught_up,
        "lost": expected_frames - received_frames + expected_catchup - caught_up,
        "lost_samples": lost,
        "frame_delays_ms": delays,
    }


def backend_cpu(database: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving `database` (its process title names it): the
    database side of this run only, where the machine's other databases also take CPU. A backend that
    ends between two readings is missed (the server's pool keeps its connections, so few are)."""
    from bench.f5_wrk import CLOCK_TICKS

    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres" or f" {database} " not in (entry / "cmdline").read_text().replace(
                "\0", " "
            ):
                continue
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return found


def run_step(
    server,
    *,
    rate: float,
    seconds: float,
    hold: float,
    generators: int,
    tokens: Path,
    mix: dict,
    away: float,
    connections: int,
    tag: str,
    no_socket: bool = False,
    drain: float = 60,
) -> dict:
    """One rate for `seconds` from `generators` processes; merged results and CPU per app-open."""
    from bench.f5_wrk import _machine_busy_seconds, _processes_cpu_seconds, _server_cpu_seconds

    master, celery = server.processes[0].pid, server.processes[1].pid
    database = os.environ["DATABASE_URL"].rsplit("/", 1)[1]
    backends = backend_cpu(database)
    outs = [DATA_DIR / f"rush-{tag}-{index}.json" for index in range(generators)]
    before = {
        "server": _server_cpu_seconds(master),
        "celery": _server_cpu_seconds(celery),
        "redis": _processes_cpu_seconds(("redis-server",)),
        "machine": _machine_busy_seconds(),
    }
    load_before = load_average()
    started = time.time()
    argv = [sys.executable, __file__, "gen", "--base", server.base, "--tokens", str(tokens), "--rate", str(rate / generators),
            "--seconds", str(seconds), "--hold", str(hold), "--mix", json.dumps(mix), "--away", str(away),
            "--connections", str(connections), "--drain", str(drain), *(["--no-socket"] if no_socket else [])]  # fmt: skip
    processes = [
        subprocess.Popen([*argv, "--seed", str(index + 1), "--index", str(index), "--out", str(out)], cwd=ROOT)
        for index, out in enumerate(outs)
    ]
    deadline = time.time() + seconds + hold + drain + 120
    try:
        for process in processes:
            process.wait(timeout=max(1.0, deadline - time.time()))
    except subprocess.TimeoutExpired:
        for process in processes:
            process.kill()  # no orphan generators spoiling what runs next
        raise RuntimeError(f"rush step at {rate:g}/s: the generators did not finish by their deadline (far past capacity)") from None
    wall = time.time() - started
    load_after = load_average()
    after = {
        "server": _server_cpu_seconds(master),
        "celery": _server_cpu_seconds(celery),
        "redis": _processes_cpu_seconds(("redis-server",)),
        "machine": _machine_busy_seconds(),
    }
    after["postgres"] = sum(seconds_ - backends.get(pid, 0.0) for pid, seconds_ in backend_cpu(database).items())
    before["postgres"] = 0.0
    parts = [json.loads(out.read_text()) for out in outs]
    for out in outs:
        out.unlink()
    calls = {name: [value for part in parts for value in part["calls"][name]] for name in CALLS}
    errors: dict[str, int] = {}
    for part in parts:
        for name, count in part["errors"].items():
            errors[name] = errors.get(name, 0) + count
    posts = [post for part in parts for post in part["posts"]]
    sockets = [socket for part in parts for socket in part["sockets"]]
    delivery = check_delivery(posts, sockets, audiences(posts))
    opens_done = sum(len(part["opens_ms"]) for part in parts)
    arrivals = sum(part["arrivals"] for part in parts)
    arrivals_s = max(part["arrivals_s"] for part in parts) or seconds
    generator_cpu = sum(part["cpu_s"] for part in parts)
    cpu = {key: after[key] - before[key] for key in before}
    per_open = lambda seconds_: seconds_ * 1000 / max(1, arrivals)  # noqa: E731
    delays = delivery.pop("frame_delays_ms")
    return {
        "rate": rate,
        "seconds": seconds,
        "hold": hold,
        "arrivals": arrivals,
        "achieved_rate": arrivals / arrivals_s,
        "opens_completed": opens_done,
        "calls": {
            name: {"n": len(values), "p50": percentile(values, 50), "p99": percentile(values, 99)}
            for name, values in calls.items()
            if values
        },
        "open_ms": {
            "p50": percentile([v for p in parts for v in p["opens_ms"]], 50),
            "p99": percentile([v for p in parts for v in p["opens_ms"]], 99),
        },
        "lateness_ms": {
            "p99": percentile([v for p in parts for v in p["lateness_ms"]], 99),
            "max": max((v for p in parts for v in p["lateness_ms"]), default=0.0),
        },
        "errors": errors,
        "error_samples": [sample for part in parts for sample in part["error_samples"]][:5],
        "posts": sum(post["kind"] == "post" for post in posts),
        "kudos_posts": sum(post["kind"] == "kudos" for post in posts),
        "sockets": len(sockets),
        "frames_total": sum(part["frames_total"] for part in parts),
        "frame_ms": {
            "n": len(delays),
            "p50": percentile(delays, 50),
            "p99": percentile(delays, 99),
            "max": max(delays, default=float("nan")),
        },
        "delivery": delivery,
        "cpu_ms_per_open": {
            "server": per_open(cpu["server"]),
            "celery": per_open(cpu["celery"]),
            "postgres": per_open(cpu["postgres"]),
            "redis": per_open(cpu["redis"]),
            "generators": per_open(generator_cpu),
            "machine": per_open(cpu["machine"]),
        },
        "machine_cores_busy": cpu["machine"] / wall,
        "wall_s": wall,
        "load": f"{load_before} → {load_after}",
    }


def m1_verdict(ok: bool, misses: list[str], main: dict) -> str:
    if ok and main["seconds"] >= 300 and main["rate"] >= TARGET["rate"]:
        return "pass"
    reasons = list(misses)
    if main["rate"] < TARGET["rate"]:
        reasons.append(f"{main['rate']:g}/s, below the target {TARGET['rate']}/s")
    if main["seconds"] < 300:
        reasons.append("not a 5-minute run")
    return "**miss**: " + ", ".join(reasons)


def collapsed(step: dict) -> bool:
    """A step far past capacity: a fifth of the rate not even started, app-opens taking over 5 s, or sessions left unfinished."""
    return step["achieved_rate"] < 0.8 * step["rate"] or step["open_ms"]["p50"] > 5000 or bool(step["errors"].get("unfinished"))


def verdict(step: dict) -> tuple[bool, list[str]]:
    """Does this step meet M1's bars? And which it misses."""
    misses = []
    for name, figures in step["calls"].items():
        if figures["p99"] > TARGET["call_p99_ms"]:
            misses.append(f"{name} p99 {figures['p99']:.0f} ms")
    if step["frame_ms"]["n"] and step["frame_ms"]["p99"] > TARGET["frame_p99_ms"]:
        misses.append(f"frames p99 {step['frame_ms']['p99']:.0f} ms")
    if sum(step["errors"].values()):
        misses.append(f"{sum(step['errors'].values())} errors")
    if step["delivery"]["lost"]:
        misses.append(f"{step['delivery']['lost']} lost")
    if step["achieved_rate"] < 0.95 * step["rate"]:
        misses.append(f"achieved {step['achieved_rate']:.0f}/s")
    return not misses, misses


def open_calls_cost(token: str, repeats: int = 30) -> tuple[dict[str, int], dict[str, float]]:
    """SQL statements (second call: a warm process) and CPU ms (median of `repeats`, this process's
    time.process_time(): the Django side without uvicorn) of each app-open HTTP call, with the test client."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1")
    since = encode_cursor(datetime.now(UTC) - timedelta(seconds=60))
    paths = {
        "me": "/api/v1/me",
        "feed": "/api/v1/feed?page_size=20",
        "unread": "/api/v1/notifications/unread-count",
        "catchup": f"/api/v1/feed/updates?since={since}",
    }
    counts, cpu = {}, {}
    for name, path in paths.items():
        assert client.get(path).status_code == 200, path
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200, path
        counts[name] = len(captured.captured_queries)
        runs = []
        for _ in range(repeats):
            started = time.process_time()
            client.get(path)
            runs.append((time.process_time() - started) * 1000)
        cpu[name] = sorted(runs)[len(runs) // 2]
    return counts, cpu


def seed_scale() -> str:
    """The data set's scale, from bench/seed.py's state file (1.0: the benchmark's 100,000 users)."""
    database = os.environ["DATABASE_URL"].rsplit("/", 1)[1]
    state = ROOT / "bench" / ".data" / f"seed-{database}.json"
    return str(json.loads(state.read_text())["scale"]) if state.exists() else "unknown"


def stack_ms(step: dict) -> float:
    """CPU ms per app-open of the deployment's processes (server, Celery, PostgreSQL, Redis)."""
    cpu = step["cpu_ms_per_open"]
    return cpu["server"] + cpu["celery"] + cpu["postgres"] + cpu["redis"]


def fmt(value: float) -> str:
    return "n/a" if value != value else (f"{value:.0f}" if value >= 100 else f"{value:.1f}")


def report(result: dict) -> tuple[str, list[str]]:
    steps, sustained = result["steps"], result.get("sustained")
    lines = [
        stamp(),
        "",
        f"Command: `{result['command']}`; machine speed: {result['speed']}.",
        f"Server: `python -m server.serve --workers {result['workers']}` (uvicorn, `DEBUG=False`), PostgreSQL, Redis channel layer, one Celery worker (`bench/api_bench.py`'s stack).",
        f"Virtual employees: {result['users']:,} employees of `{ORG_SLUG}` (seed scale {result['scale']}), each with an API token created before the run (a phone reopening the app: **no password login**).",
        "App-open: `GET /me` → feed page 1 → unread count → WebSocket connect → `GET /feed/updates?since=` (cursor "
        f"{result['away']:.0f} s old); then {', '.join(f'{int(share * 1000) / 10:g} % {name}' for name, share in result['mix'].items())}; socket held {result['hold']:.0f} s.",
        f"Load: {result['generators']} open-loop generator processes (`bench/rush.py gen`, httpx + websockets on uvloop) on the same 2 cores; each call timed from its send;",
        "frame delay = post request sent → `post.created` frame read, over every open socket of the post's audience (group posts: the group's members; kudos: everyone).",
        "Fan-out grows with the square of the rate: a kudos is an org-wide card, so it goes to every open socket, and at R app-opens/s with sockets "
        f"held H s, kudos alone make {result['mix']['kudos']:g}·R·(R·H) frames/s ({TARGET['rate']}/s and {result['hold']:.0f} s: "
        f"{result['mix']['kudos'] * TARGET['rate'] * TARGET['rate'] * result['hold']:,.0f} frames/s); 'sockets' counts the step's sockets, 'frames/s' every frame read over the step's wall time.",
        f"SQL statements per app-open call (test client, warm): {', '.join(f'{k} {v}' for k, v in result['queries'].items())}.",
        "",
        "| app-opens/s offered → achieved | me p50/p99 ms | feed | unread | ws connect | catch-up | page 2 | react | comment | kudos | post | frames p50/p99 ms (n) | sockets · frames/s | errors | lost | CPU ms/open: server · Celery · PostgreSQL · Redis · generators · machine | cores busy | verdict | load avg |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for step in [*steps, *([sustained] if sustained else [])]:
        ok, misses = verdict(step)
        cells = []
        for name in CALLS:
            figures = step["calls"].get(name)
            cells.append(f"{fmt(figures['p50'])} / {fmt(figures['p99'])}" if figures else "–")
        cpu = step["cpu_ms_per_open"]
        label = f"{step['rate']:g} → {step['achieved_rate']:.0f}" + (
            f" ({step['seconds']:.0f} s sustained)" if step is sustained else f" ({step['seconds']:.0f} s)"
        )
        lines.append(
            f"| {label} | {' | '.join(cells)} | {fmt(step['frame_ms']['p50'])} / {fmt(step['frame_ms']['p99'])} ({step['frame_ms']['n']:,}) | "
            f"{sum(step['errors'].values())} | {step['delivery']['lost']} of {step['delivery']['expected_frames'] + step['delivery']['expected_catchup']:,} | "
            f"{cpu['server']:.1f} · {cpu['celery']:.1f} · {cpu['postgres']:.1f} · {cpu['redis']:.1f} · {cpu['generators']:.1f} · {cpu['machine']:.1f} | {step['machine_cores_busy']:.2f} | "
            f"{'pass' if ok else '**miss**: ' + ', '.join(misses)} | {step['load']} |"
        )
    knee = result["knee"]
    lines += [
        "",
        f"Knee: {'the highest rate meeting every bar is **' + format(knee, 'g') + '/s**' if knee else 'no step met every bar'} "
        f"(bars: each call p99 ≤ {TARGET['call_p99_ms']} ms, frames p99 ≤ 1 s, 0 errors, 0 lost, ≥ 95 % of the offered rate started).",
    ]
    if result.get("skipped"):
        lines.append(
            f"Not run: {', '.join(format(rate, 'g') for rate in result['skipped'])}/s (the step before collapsed: under 80 % of its rate started, "
            "app-opens over 5 s at p50 or sessions unfinished; higher rates would only queue longer)."
        )
    if result.get("sustain_note"):
        lines.append(f"Sustained: {result['sustain_note']}.")
    for step in [*steps, *([sustained] if sustained else [])]:
        if step["error_samples"] or step["delivery"]["lost_samples"]:
            lines.append(
                f"At {step['rate']:g}/s: errors {step['errors']} e.g. `{'; '.join(step['error_samples'][:2])}`; lost e.g. {step['delivery']['lost_samples'][:2]}."
            )
    cpu_step = sustained or (steps[-1] if steps else None)
    if cpu_step:
        cpu, stack = cpu_step["cpu_ms_per_open"], stack_ms(cpu_step)
        lines.append(
            f"CPU behind the figures (at {cpu_step['rate']:g}/s): one app-open cost the stack {stack:.1f} ms of CPU: server processes {cpu['server']:.1f}, "
            f"Celery {cpu['celery']:.1f}, PostgreSQL (this database's backends) {cpu['postgres']:.1f}, Redis {cpu['redis']:.1f} ms; the load generators "
            f"took {cpu['generators']:.1f} ms more (on the phones in real life). Two cores give 2,000 ms/s: the stack alone tops out near "
            f"**{2000 / max(stack, 0.1):.0f} app-opens/s** on this machine, {2000 / max(stack + cpu['generators'], 0.1):.0f}/s with the generators beside it. "
            f"'machine' is all busy CPU of the machine per open (other work on it included: cores busy {cpu_step['machine_cores_busy']:.2f} of 2). "
            f"Generators' start lateness p99 {fmt(cpu_step['lateness_ms']['p99'])} ms (above a few ms the generators were CPU-starved too). "
            f"Where the server's part goes: the four HTTP calls of every app-open cost {sum(result['calls_cpu_ms'].values()):.1f} ms of Django CPU in process "
            f"({', '.join(f'{k} {v:.1f}' for k, v in result['calls_cpu_ms'].items())} ms; test client, median of 30); the rest of the server's "
            f"{cpu['server']:.1f} ms is uvicorn's HTTP and WebSocket handling, the socket's connect (token, memberships, joining channels), "
            "the frames it forwards and the action mix. `bench/request_cost.py --profile PATH` and `bench/feed_cpu.py --profile 60` profile one call."
        )
    share = result.get("socket_share") or {}
    if share.get("with_socket") and share.get("without_socket"):
        with_, without = share["with_socket"], share["without_socket"]
        lines.append(
            f"The socket's share (`--socket-share`, {with_['rate']:g}/s, no actions, no posts): server CPU per app-open {with_['cpu_ms_per_open']['server']:.1f} ms "
            f"with the WebSocket (connect, catch-up, {with_['hold']:.0f} s open, close) against {without['cpu_ms_per_open']['server']:.1f} ms for the HTTP calls alone; "
            f"stack {stack_ms(with_):.1f} against {stack_ms(without):.1f} ms (PostgreSQL {with_['cpu_ms_per_open']['postgres']:.1f} / {without['cpu_ms_per_open']['postgres']:.1f}, "
            f"Redis {with_['cpu_ms_per_open']['redis']:.1f} / {without['cpu_ms_per_open']['redis']:.1f}); load {with_['load']}."
        )
    # The summary row: the sustained run at the target rate when there is one, else the best step.
    main = sustained or next((step for step in steps if step["rate"] >= TARGET["rate"]), steps[-1] if steps else None)
    rows = []
    if main:
        ok, misses = verdict(main)
        worst = max(main["calls"].items(), key=lambda item: item[1]["p99"])
        rows.append(
            f"| M1 | morning rush: app-opens/s (token → /me → feed → unread → socket + catch-up, then the mix), {main['seconds']:.0f} s at {main['rate']:g}/s | "
            f"≥ {TARGET['rate']}/s for 5 min, every call p99 ≤ {TARGET['call_p99_ms']} ms, frames p99 ≤ 1 s, 0 errors (stretch {TARGET['stretch']}/s) | "
            f"{main['achieved_rate']:.0f}/s, worst call p99 {worst[0]} {fmt(worst[1]['p99'])} ms, frames p99 {fmt(main['frame_ms']['p99'])} ms, "
            f"{sum(main['errors'].values())} errors, {main['delivery']['lost']} lost; knee {format(knee, 'g') + '/s' if knee else 'none'} | "
            f"CPU ceiling of the stack ≈ {2000 / max(stack_ms(main), 0.1):.0f}/s ({stack_ms(main):.1f} ms/open) | | "
            f"{m1_verdict(ok, misses, main)} | {main['load']} |"
        )
    return "\n".join(lines), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    gen = sub.add_parser("gen", help="a load-generator process (started by the orchestrator)")
    gen.add_argument("--base", required=True)
    gen.add_argument("--tokens", required=True)
    gen.add_argument("--rate", type=float, required=True)
    gen.add_argument("--seconds", type=float, required=True)
    gen.add_argument("--hold", type=float, required=True)
    gen.add_argument("--mix", required=True)
    gen.add_argument("--away", type=float, default=60)
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--index", type=int, default=0)
    gen.add_argument("--connections", type=int, default=256)
    gen.add_argument("--out", required=True)
    gen.add_argument("--no-socket", action="store_true")
    gen.add_argument("--drain", type=float, default=60)
    parser.add_argument("--rates", default="20,30,40,50,75,100,150,200,250", help="the capacity curve's steps (app-opens/s)")
    parser.add_argument(
        "--drain", type=float, default=60, help="seconds after the last socket's hold before unfinished app-opens count as errors"
    )
    parser.add_argument("--step-seconds", type=float, default=60)
    parser.add_argument("--sustain-rate", type=float, default=TARGET["rate"], help="0: no sustained run")
    parser.add_argument("--sustain-seconds", type=float, default=300)
    parser.add_argument("--hold", type=float, default=30, help="seconds each socket stays open after the app-open")
    parser.add_argument("--warmup", type=float, default=10, help="seconds at the first rate before the steps, not counted")
    parser.add_argument("--away", type=float, default=60, help="age of each phone's saved catch-up cursor, seconds")
    parser.add_argument("--generators", type=int, default=2)
    parser.add_argument("--connections", type=int, default=256, help="keep-alive HTTP connections per generator")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--users", type=int, default=0, help="limit the virtual employees (0: all)")
    parser.add_argument("--mix", default="", help='JSON overriding shares, e.g. {"post": 0.2}')
    parser.add_argument("--small", action="store_true", help="a quick run: rates 10,20, 10 s steps, 10 s at 20/s, hold 5 s")
    parser.add_argument(
        "--socket-share",
        action="store_true",
        help="after the steps: the first rate for a step's time with no mix, with and without the socket (its CPU share)",
    )
    parser.add_argument("--eager", action="store_true", help="deliver events in the request (CELERY_TASK_ALWAYS_EAGER): the CI smoke")
    parser.add_argument("--no-calibration", action="store_true", help="skip bench/lib.py machine_speed (the CI smoke)")
    parser.add_argument("--no-report", action="store_true", help="print, do not write docs/benchmarks.md")
    parser.add_argument("--json", default=str(DATA_DIR / "rush.json"))
    args = parser.parse_args()
    if args.command == "gen":
        gen_main(args)
        return
    if args.small:
        args.rates, args.step_seconds, args.sustain_rate, args.sustain_seconds, args.hold, args.warmup = "10,20", 10, 20, 10, 5, 3
    mix = {**MIX, **(json.loads(args.mix) if args.mix else {})}
    result = measure(args, mix)
    text, rows = report(result)
    if not args.no_report:
        save_rows("rush", rows)
        write_section("Morning rush (M1)", text)
    print(text)


def measure(args: argparse.Namespace, mix: dict) -> dict:
    """Tokens, the server, every step, clean-up: the whole result (also what the CI smoke test runs)."""
    speed = machine_speed() if not args.no_calibration else "not measured (--no-calibration)"
    django_setup()
    from bench import api_bench

    if args.eager:  # the CI smoke: delivery in the request after commit, no wait for a worker to start
        api_bench.PRODUCTION_ENV["CELERY_TASK_ALWAYS_EAGER"] = "True"

    started_at = datetime.now(UTC)
    tokens = DATA_DIR / "rush-tokens.txt"
    users = make_tokens(args.users or None, tokens)
    if not users:
        raise SystemExit("Seed first: bench/seed.py")
    steps, sustained, server, diagnostics, skipped = [], None, None, {}, []
    sustain_note = ""
    try:
        queries, calls_cpu = open_calls_cost(tokens.read_text().split()[0], repeats=5 if args.no_calibration else 30)
        server = api_bench.Server(workers=args.workers)
        common = {
            "hold": args.hold,
            "generators": args.generators,
            "tokens": tokens,
            "mix": mix,
            "away": args.away,
            "connections": args.connections,
            "drain": args.drain,
        }
        rates = [float(value) for value in args.rates.split(",") if value]
        if args.warmup and rates:  # fresh processes: imports, first connections, compiled paths; not counted
            run_step(server, rate=rates[0], seconds=args.warmup, tag="warmup", **{**common, "hold": min(args.hold, 3.0)})
        for rate in rates:
            steps.append(run_step(server, rate=rate, seconds=args.step_seconds, tag=f"{rate:g}", **common))
            print(json.dumps({k: v for k, v in steps[-1].items() if k != "calls"}, default=str), flush=True)
            if collapsed(steps[-1]):  # far past the knee: higher rates would only queue longer
                skipped = [rate_ for rate_ in rates if rate_ > rate]
                break
        sustain_rate = args.sustain_rate
        if sustain_rate and skipped and sustain_rate > steps[-1]["rate"] * 0.99:
            # The curve collapsed at or below the rate to sustain: five minutes there would only
            # queue (and outlast the generators' deadline). Sustain the knee instead, and say so.
            passing = [step["rate"] for step in steps if verdict(step)[0]]
            sustain_rate = max(passing) if passing else 0
            sustain_note = f"the sustained run is at the knee, {sustain_rate:g}/s: the curve collapsed at {steps[-1]['rate']:g}/s, below the target {args.sustain_rate:g}/s"
        if sustain_rate:
            sustained = run_step(server, rate=sustain_rate, seconds=args.sustain_seconds, tag="sustained", **common)
            print(json.dumps({k: v for k, v in sustained.items() if k != "calls"}, default=str), flush=True)
        if args.socket_share and rates:
            quiet = dict.fromkeys(mix, 0.0)
            for no_socket in (False, True):
                step = run_step(
                    server, rate=rates[0], seconds=args.step_seconds, tag="share", no_socket=no_socket, **{**common, "mix": quiet}
                )
                diagnostics[f"{'without' if no_socket else 'with'}_socket"] = step
                print(json.dumps({k: v for k, v in step.items() if k != "calls"}, default=str), flush=True)
    finally:
        if server is not None:
            server.stop()
        cleaned = cleanup(started_at)
    passing = [step["rate"] for step in steps if verdict(step)[0]]
    knee = max(passing) if passing else None
    result = {
        "command": command_line(),
        "speed": speed,
        "workers": args.workers,
        "users": users,
        "scale": seed_scale(),
        "away": args.away,
        "hold": args.hold,
        "mix": mix,
        "generators": args.generators,
        "queries": queries,
        "calls_cpu_ms": calls_cpu,
        "steps": steps,
        "sustained": sustained,
        "sustain_note": sustain_note,
        "knee": knee,
        "socket_share": diagnostics,
        "skipped": skipped,
        "cleaned": cleaned,
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=1, default=str))
    return result


if __name__ == "__main__":
    main()
