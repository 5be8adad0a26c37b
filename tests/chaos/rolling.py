"""Rolling deploy rehearsal (`python -m tests.chaos.run rolling`, issue #25).

Two releases side by side on one database and one Redis, under the chaos run's mixed load
with sockets open:

- OLD release: `git archive HEAD` of this repository (what is deployed).
- NEW release: the same tree plus a synthetic release patch (`apply_release_patch`): a
  migration adding `feed_post.rolling_note` with a database default (expand), a new event
  type `post.noted` written to the outbox on every post, and a new Celery task
  `feed.tasks.post_note_task(post_id, note=...)` queued on every post.

Sequence (docs/operations.md, "Releases"): old web x2 + old worker serve -> `migrate` of the
new release while the old one serves -> new worker beside the old -> web processes replaced
one by one behind a round-robin "load balancer" (old and new web both serving sockets and
posts) -> old worker stopped, beat moved to the new release. Then every acknowledged write,
every frame on every socket, the outbox, the new task's work and the broker queue are checked.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from tests.chaos.stack import ROOT, RUN_ID, Stack, free_port, wait_for

NOTE_COLUMN = "rolling_note"
MIGRATION_NAME = "9999_rolling_release"
NEW_EVENT = "post.noted"
NEW_TASK = "feed.tasks.post_note_task"
# A frame is owed to a socket for a post acknowledged while it was open, if the socket stayed
# open this long after the acknowledgement (delivery runs after commit, in a worker).
FRAME_GRACE_S = 5.0


# --- the two releases ----------------------------------------------------------------------
def checkout_head(dest: Path) -> str:
    """The deployed release: the committed tree at HEAD (uncommitted edits are not deployed)."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()
    archive = subprocess.run(["git", "archive", "--format=tar", "HEAD"], cwd=ROOT, check=True, capture_output=True).stdout
    dest.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    return commit


def _replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    if text.count(old) != 1:
        raise RuntimeError(f"release patch: {old[:60]!r} not found exactly once in {path}")
    path.write_text(text.replace(old, new))


def apply_release_patch(root: Path, *, feed_leaf: str) -> None:
    """The synthetic next release: a column (expand), an event type and a task name."""
    models = root / "feed" / "models.py"
    models.write_text(
        models.read_text()
        + "\n\n# Rolling-deploy rehearsal release: a column with a database default (expand).\n"
        + f'Post.add_to_class("{NOTE_COLUMN}", models.CharField(max_length=40, blank=True, db_default=""))\n'
    )
    (root / "feed" / "migrations" / f"{MIGRATION_NAME}.py").write_text(
        "from django.db import migrations, models\n\n\n"
        "class Migration(migrations.Migration):\n"
        f"    dependencies = [('feed', '{feed_leaf}')]\n"
        "    operations = [\n"
        f"        migrations.AddField('post', '{NOTE_COLUMN}', models.CharField(max_length=40, blank=True, db_default='')),\n"
        "    ]\n"
    )
    events = root / "feed" / "events.py"
    events.write_text(
        events.read_text()
        + "\n\nPOST_NOTED = EventType(\n"
        + f'    name="{NEW_EVENT}",\n'
        + '    summary="Rolling-deploy rehearsal: a post was noted by the new release.",\n'
        + '    payload="feed.event_payloads.AcknowledgedSerializer",\n'
        + '    audience="the post\'s audience",\n'
        + ")\nEVENT_TYPES = (*EVENT_TYPES, POST_NOTED)\n"
    )
    tasks = root / "feed" / "tasks.py"
    tasks.write_text(
        tasks.read_text()
        + "\n\n@shared_task(acks_late=True, time_limit=30, soft_time_limit=25, ignore_result=True)\n"
        + 'def post_note_task(post_id: int, note: str = "noted") -> None:\n'
        + "    from feed.models import Post\n\n"
        + f"    Post.objects.filter(pk=post_id).update({NOTE_COLUMN}=note)\n"
    )
    _replace_once(
        root / "feed" / "services" / "posts.py",
        '    fields = {\n        "organization_id": post.organization_id,',
        "    notifications.emit(events.POST_NOTED, payload={'post_id': post.pk, 'release': 'new'}, **post_audience(post, group_ids))\n"
        "    from feed.tasks import post_note_task\n\n"
        "    post_note_task.delay_on_commit(post.pk, note='noted-by-new')\n"
        '    fields = {\n        "organization_id": post.organization_id,',
    )


class Release:
    """One release's processes: web (uvicorn), worker, beat; started and stopped by pid."""

    def __init__(self, name: str, root: Path, stack: Stack, logs: Path) -> None:
        self.name, self.root, self.logs = name, root, logs
        self.env = {**stack.env, "PYTHONPATH": str(root)}
        self.queues = f"{stack.env['CELERY_TASK_DEFAULT_QUEUE']},{stack.env['PUSH_QUEUE']}"
        self.processes: dict[str, subprocess.Popen] = {}

    def _start(self, label: str, command: list[str]) -> subprocess.Popen:
        log = open(self.logs / f"{label}.log", "ab")  # noqa: SIM115 (the process owns it)
        process = subprocess.Popen(command, cwd=self.root, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.processes[label] = process
        return process

    def run(self, *args: str) -> float:
        started = time.monotonic()
        subprocess.run([sys.executable, *args], cwd=self.root, env=self.env, check=True, stdout=subprocess.DEVNULL)
        return time.monotonic() - started

    def start_web(self, label: str) -> str:
        port = free_port()
        command = [sys.executable, "-m", "uvicorn", "server.asgi:application", "--host", "127.0.0.1", "--port", str(port)]
        command += ["--ws-per-message-deflate", "false", "--lifespan", "off", "--log-level", "warning"]
        self._start(label, command)
        import httpx

        def ready() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(ready, timeout=60, what=f"{label} ready")
        return f"http://127.0.0.1:{port}"

    def start_worker(self, label: str) -> None:
        command = [sys.executable, "-m", "celery", "-A", "server", "worker", "-Q", self.queues, "-c", "1", "-P", "prefork"]
        command += ["--without-gossip", "--without-mingle", "-n", f"{label}-{RUN_ID}@%h", "-l", "warning"]
        self._start(label, command)

    def start_beat(self, label: str) -> None:
        schedule = self.logs / f"{label}-schedule"
        self._start(label, [sys.executable, "-m", "celery", "-A", "server", "beat", "-s", str(schedule), "-l", "warning"])

    def stop(self, label: str, *, timeout: float = 60) -> float:
        """SIGTERM to the main process: uvicorn drains, a Celery worker finishes what it runs
        (warm shutdown; a SIGTERM to the pool children too would kill the tasks they run)."""
        process = self.processes.pop(label)
        started = time.monotonic()
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        return time.monotonic() - started

    def stop_all(self) -> None:
        for label in list(self.processes):
            self.stop(label, timeout=20)

    def log(self, label: str) -> str:
        path = self.logs / f"{label}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def registered_tasks(self) -> set[str]:
        code = "import django, json; django.setup(); from server.celery import app; app.loader.import_default_modules()"
        code += "; print(json.dumps(sorted(app.tasks)))"
        out = subprocess.run([sys.executable, "-c", code], cwd=self.root, env=self.env, check=True, capture_output=True, text=True)
        return set(json.loads(out.stdout.strip().splitlines()[-1]))


class Balancer:
    """Round-robin over the web processes in rotation, as a load balancer would."""

    def __init__(self) -> None:
        self.webs: dict[str, tuple[str, str]] = {}  # label -> (release, http base)
        self._turn = 0

    def add(self, label: str, release: str, http: str) -> None:
        self.webs[label] = (release, http)

    def remove(self, label: str) -> None:
        self.webs.pop(label, None)

    def pick(self) -> tuple[str, str, str]:
        labels = sorted(self.webs)
        self._turn += 1
        label = labels[self._turn % len(labels)]
        return (label, *self.webs[label])


# --- sockets -------------------------------------------------------------------------------
async def socket_client(balancer: Balancer, person: dict, stop: asyncio.Event, connections: list) -> None:
    """A phone: connects through the balancer, catches up, reads frames; reconnects after a drop."""
    import httpx
    from websockets.asyncio.client import connect

    headers = {"Authorization": f"Bearer {person['token']}"}
    cursor = None
    async with httpx.AsyncClient(timeout=5) as http:
        while not stop.is_set():
            label, release, base = balancer.pick()
            record = {"web": label, "release": release, "opened": None, "closed": None, "frames": [], "catch_up": set()}
            record["opened_at"] = record["closed_at"] = None  # wall clock, compared with the outbox's timestamps
            try:
                async with connect(f"{base.replace('http', 'ws', 1)}/ws/v1/stream?token={person['token']}", open_timeout=3) as socket:
                    connections.append(record)
                    while True:  # catch up after (re)connecting, as the app does
                        params = {"since": cursor} if cursor else {}
                        page = (await http.get(f"{base}/api/v1/feed/updates", params=params, headers=headers)).json()
                        record["catch_up"].update(card["id"] for card in page.get("results", []) if not card.get("removed"))
                        cursor = page["cursor"]
                        if not page.get("has_more"):
                            break
                    record["opened"], record["opened_at"] = time.monotonic(), time.time()
                    while not stop.is_set():
                        try:
                            frame = json.loads(await asyncio.wait_for(socket.recv(), 0.5))
                        except TimeoutError:
                            continue
                        record["frames"].append((frame.get("id"), frame.get("type"), (frame.get("data") or {}).get("id"), time.monotonic()))
            except Exception:  # dropped (its web process stopped): reconnect through the balancer
                await asyncio.sleep(0.5)
            finally:
                record["closed"], record["closed_at"] = time.monotonic(), time.time()


def socket_figures(connections: list, sent: dict, acked_ids: set) -> dict:
    """Per release of the web process holding the socket. A post's frame is owed to a socket when
    its `post.created` event was sent (outbox `realtime_sent_at`) while the socket was open and
    caught up, at least a second before it closed; lost = owed and never received."""
    per_release: dict[str, dict] = {}
    for record in connections:
        if record["opened"] is None:
            continue
        ids = [frame_id for frame_id, *_ in record["frames"] if frame_id is not None]
        live_posts = {data_id for _, kind, data_id, _ in record["frames"] if kind == "post.created"}
        owed = {
            post
            for post, sent_at in sent.items()
            if post in acked_ids and sent_at is not None and record["opened_at"] <= sent_at <= record["closed_at"] - 1.0
        }
        figures = per_release.setdefault(
            record["release"], {"connections": 0, "seconds_open": 0.0, "frames": 0, "post_frames_owed": 0, "lost": 0, "duplicated": 0}
        )
        figures["connections"] += 1
        figures["seconds_open"] += record["closed"] - record["opened"]
        figures["frames"] += len(record["frames"])
        figures["post_frames_owed"] += len(owed)
        figures["lost"] += len(owed - live_posts)
        figures["duplicated"] += len(ids) - len(set(ids))
        figures.setdefault("frame_types", {})
        for _, kind, _, _ in record["frames"]:
            figures["frame_types"][kind] = figures["frame_types"].get(kind, 0) + 1
    for figures in per_release.values():
        figures["seconds_open"] = round(figures["seconds_open"], 1)
    return per_release


def frame_delays(connections: list, acked_at: dict) -> dict:
    """From a post's acknowledgement to its frame on a socket (the outbox's after-commit path)."""
    delays = sorted(
        at - acked_at[data_id]
        for record in connections
        for _, kind, data_id, at in record["frames"]
        if kind == "post.created" and data_id in acked_at
    )
    if not delays:
        return {}
    return {
        "frames": len(delays),
        "p50": round(delays[len(delays) // 2] * 1000),
        "p99": round(delays[int(len(delays) * 0.99)] * 1000),
        "max": round(delays[-1] * 1000),
    }


# --- the broker at the end -----------------------------------------------------------------
def broker_leftovers(stack: Stack, registered: set[str]) -> dict:
    """Messages still in our queues (and unacknowledged ones), by task name; unknown = no worker of the new release knows it."""
    import redis

    from tests.chaos.stack import REDIS_PORT

    client = redis.Redis(port=REDIS_PORT, db=0)
    names: dict[str, int] = {}
    for queue in (stack.env["CELERY_TASK_DEFAULT_QUEUE"], stack.env["PUSH_QUEUE"]):
        for key in client.keys(f"{queue}*"):
            if client.type(key) != b"list":
                continue
            for raw in client.lrange(key, 0, -1):
                task = json.loads(raw).get("headers", {}).get("task", "?")
                names[task] = names.get(task, 0) + 1
    unacked = 0
    for _, raw in (client.hgetall("unacked") or {}).items():
        unacked += 1
        message = json.loads(raw)[0]
        task = message.get("headers", {}).get("task", "?")
        names[task] = names.get(task, 0) + 1
    unknown = {name: count for name, count in names.items() if name not in registered}
    return {"queued_or_unacked": names, "unacked": unacked, "unknown_to_new_workers": unknown}


# --- the scenario --------------------------------------------------------------------------
def scenario_rolling(fcm, *, clients: int, sockets: int, phase: float, pause: float) -> dict:
    from tests.chaos import run as chaos

    fcm.reset()
    run_started = time.monotonic()
    stack = Stack(fcm_url=fcm.base_url(), service_account=fcm.service_account())
    logs = stack.tmp / "logs"
    logs.mkdir()
    stack.start_redis()
    old = new = None
    try:
        stack.setup_django()
        from django.db import connection
        from django.db.migrations.loader import MigrationLoader

        forget_expand()  # a crashed earlier run may have left it behind: the deployed schema is the old one
        (feed_leaf,) = [name for app, name in MigrationLoader(connection).graph.leaf_nodes() if app == "feed"]

        releases = stack.tmp / "releases"
        commit = checkout_head(releases / "old")
        shutil.copytree(releases / "old", releases / "new")
        apply_release_patch(releases / "new", feed_leaf=feed_leaf)
        media = stack.tmp / "media"
        stack.env["MEDIA_ROOT"] = str(media)  # shared by both releases, as a volume or bucket would be
        old, new = Release("old", releases / "old", stack, logs), Release("new", releases / "new", stack, logs)
        registered = {"old": old.registered_tasks(), "new": new.registered_tasks()}
        if NEW_TASK not in registered["new"] or NEW_TASK in registered["old"]:
            raise RuntimeError("release patch: the new task is not (only) in the new release")

        world = chaos.seed_people(clients + sockets)
        balancer = Balancer()
        for label in ("web-old-1", "web-old-2"):
            balancer.add(label, "old", old.start_web(label))
        old.start_worker("worker-old")
        old.start_beat("beat-old")
        time.sleep(3)

        state = {"posts": {}, "comments": set(), "reactions": 0, "retries": 0, "replays": 0, "replay_mismatches": 0}
        state.update({"gave_up": 0, "refused": {}, "acked_at": {}, "posted_via": {}, "requests_via": {}})
        latencies = chaos.Latencies()
        connections: list = []
        timeline: dict[str, float] = {}

        def mark(name: str) -> None:
            timeline[name] = time.monotonic()
            print(f"rolling: {name} at {timeline[name] - timeline['load_start']:.1f} s", flush=True)

        async def main() -> None:
            stop = asyncio.Event()
            timeline["load_start"] = time.monotonic()

            # The load runs through the whole sequence and half a phase past it.
            def deadline() -> float:
                return timeline["old_stopped"] + phase / 2 if "old_stopped" in timeline else float("inf")

            phones = [asyncio.create_task(socket_client(balancer, world["people"][-1 - i], stop, connections)) for i in range(sockets)]
            load = [
                asyncio.create_task(chaos.load_client(i, None, world, deadline, state, latencies, balancer=balancer, pause=pause))
                for i in range(clients)
            ]
            await asyncio.sleep(phase)
            mark("migrate_start")  # 1. expand, while only the old release serves
            timeline["migrate_s"] = await asyncio.to_thread(new.run, "manage.py", "migrate", "--no-input")
            mark("migrate_done")
            await asyncio.sleep(phase / 2)
            await asyncio.to_thread(new.start_worker, "worker-new")  # 2. workers first
            mark("new_worker")
            await asyncio.sleep(phase)
            for index, retired in ((1, "web-old-1"), (2, "web-old-2")):  # 3. web, one by one
                label = f"web-new-{index}"
                balancer.add(label, "new", await asyncio.to_thread(new.start_web, label))
                mark(f"{label}_in")
                await asyncio.sleep(phase)  # old and new web side by side
                balancer.remove(retired)
                await asyncio.sleep(1)  # drained from the balancer, then stopped
                await asyncio.to_thread(old.stop, retired)
                mark(f"{retired}_out")
                await asyncio.sleep(phase / 2)
            await asyncio.to_thread(old.stop, "worker-old")  # 4. the old release's workers and beat go
            await asyncio.to_thread(old.stop, "beat-old")
            await asyncio.to_thread(new.start_beat, "beat-new")
            mark("old_stopped")
            await asyncio.gather(*load)
            mark("load_end")
            timeline["delivered_after_s"] = await asyncio.to_thread(
                chaos.wait_until_delivered, world["organization_id"], timeout=240, sweep_pushes=True
            )
            await asyncio.sleep(2)  # late frames
            stop.set()
            await asyncio.gather(*phones, return_exceptions=True)

        asyncio.run(main())
        return _figures(
            stack,
            old,
            new,
            fcm,
            world,
            state,
            latencies,
            connections,
            timeline,
            registered,
            commit=commit,
            run_started=run_started,
            load={"clients": clients, "sockets": sockets, "phase_s": phase, "pause_s": pause},
        )
    finally:
        for release in (new, old):
            if release is not None:
                release.stop_all()
        stack.stop()
        if "releases" in locals():
            shutil.rmtree(releases, ignore_errors=True)  # two copies of the tree; the logs stay
        forget_expand()  # the synthetic release is not a real one: other runs start from the deployed schema


def forget_expand() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE feed_post DROP COLUMN IF EXISTS {NOTE_COLUMN}")
        cursor.execute("DELETE FROM django_migrations WHERE app = 'feed' AND name = %s", [MIGRATION_NAME])


def _figures(stack, old, new, fcm, world, state, latencies, connections, timeline, registered, *, commit, run_started, load) -> dict:
    from django.db import connection

    from feed.models import Comment, Post
    from notifications.models import OutboxEvent
    from tests.chaos import run as chaos

    acked_ids = set(state["posts"].values())
    stored = set(Post.objects.filter(pk__in=acked_ids).values_list("pk", flat=True))
    by_release = {release: {p for p, r in state["posted_via"].items() if r == release} for release in ("old", "new")}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {NOTE_COLUMN} FROM feed_post WHERE id = ANY(%s)", [list(acked_ids)])  # noqa: S608 (a constant)
        notes = dict(cursor.fetchall())
    after_expand = {p for p in by_release["old"] if state["acked_at"][p] >= timeline["migrate_done"]}
    events = OutboxEvent.objects.filter(organization_id=world["organization_id"])
    sent = {
        post_id: sent_at.timestamp() if sent_at else None
        for post_id, sent_at in events.filter(type="post.created").values_list("payload__id", "realtime_sent_at")
    }
    noted = events.filter(type=NEW_EVENT)
    old_log = old.log("worker-old")
    steps = ("_in", "_out", "_start", "_done", "_worker", "_stopped", "_end")
    stop_at = {name: round(at - timeline["load_start"], 1) for name, at in timeline.items() if name.endswith(steps)}
    requests = latencies.window(timeline["load_start"], timeline["load_end"] + 1)
    leftovers = broker_leftovers(stack, registered["new"])
    result = {
        "old_release": commit,
        "new_release": f"{commit} + expand migration feed.{MIGRATION_NAME} ({NOTE_COLUMN}, db_default), event {NEW_EVENT}, task {NEW_TASK}",
        "load": load,
        "timeline_s": stop_at,
        "migrate_s": round(timeline["migrate_s"], 1),
        "requests": requests,
        "requests_by_release": state["requests_via"],
        "server_errors_500": sum(1 for _, _, outcome in latencies.samples if outcome == "500"),
        "gave_up": state["gave_up"],
        "refused": state["refused"],
        "posts_acknowledged": {release: len(ids) for release, ids in by_release.items()},
        "posts_lost": len(acked_ids - stored),
        "comments_acknowledged": len(state["comments"]),
        "comments_lost": len(state["comments"] - set(Comment.objects.filter(pk__in=state["comments"]).values_list("pk", flat=True))),
        "reactions_acknowledged": state["reactions"],
        "replay_mismatches": state["replay_mismatches"],
        "old_code_on_new_schema": {
            "posts_written_by_old_web_after_expand": len(after_expand),
            "with_database_default": sum(1 for p in after_expand if notes.get(p) == ""),
        },
        "new_task": {
            "posts_by_new_web": len(by_release["new"]),
            "done": sum(1 for p in by_release["new"] if notes.get(p) == "noted-by-new"),
            "dropped_by_old_workers_unregistered": old_log.count("Received unregistered task"),
            # server/worker.py: an old worker puts the message back for a worker that knows the task.
            "handed_back_by_old_workers": old_log.count("is not registered here"),
        },
        "outbox": {
            "events": events.count(),
            "undelivered": events.filter(delivered_at__isnull=True).count(),
            f"{NEW_EVENT}_events": noted.count(),
            f"{NEW_EVENT}_undelivered": noted.filter(delivered_at__isnull=True).count(),
        },
        "sockets": socket_figures(connections, sent, acked_ids),
        "frame_delay_ms": frame_delays(connections, state["acked_at"]),
        "broker_at_end": leftovers,
        "delivered_after_load_s": round(timeline["delivered_after_s"], 1),
        "push": chaos.push_figures(fcm, {str(pk) for pk in events.values_list("id", flat=True)}),
        "worker_errors": {"old": old_log.count("ERROR"), "new": new.log("worker-new").count("ERROR")},
        "run_s": round(time.monotonic() - run_started, 1),
    }
    sockets = result["sockets"]
    sockets_ok = all(f["lost"] == 0 and f["duplicated"] == 0 for f in sockets.values()) and set(sockets) == {"old", "new"}
    result["ok"] = (
        result["posts_lost"] == 0
        and result["comments_lost"] == 0
        and result["server_errors_500"] == 0
        and result["replay_mismatches"] == 0
        and result["gave_up"] == 0
        and sockets_ok
        and result["old_code_on_new_schema"]["posts_written_by_old_web_after_expand"] > 0
        and result["old_code_on_new_schema"]["with_database_default"] == len(after_expand)
        and result["new_task"]["done"] == result["new_task"]["posts_by_new_web"]
        and result["outbox"]["undelivered"] == 0
        and result["outbox"][f"{NEW_EVENT}_events"] == len(by_release["new"])
        and not leftovers["queued_or_unacked"]
    )
    return result
