"""Two groups of web processes behind HAProxy, no sticky sessions (issue #26, docs/scaling.md).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/feedapp_twogroups REDIS_URL=redis://127.0.0.1:6379/2 \
        CHANNEL_LAYER_PREFIX=twogroups .venv/bin/python bench/two_groups.py

Creates and migrates the database if it is missing, makes an organisation with a leader and an
employee, then starts two `python -m server.serve` groups on their own ports (production settings:
DEBUG off, REDIS_URL, TRUSTED_PROXIES=127.0.0.1 for HAProxy, a connection pool), one Celery worker,
and HAProxy (Debian's `haproxy`) with deploy/haproxy/haproxy.cfg in front. Checks, printing each:

1. HAProxy spreads requests over both groups (no stickiness) and its health checks see both.
2. A post made through group A reaches a socket held by group B (the Redis channel layer).
3. A socket closed on group A and reconnected to group B catches up the posts made while it was
   away with GET /api/v1/feed/updates?since= (through B), none missing.
4. The same two through HAProxy: posts through the proxy reach a socket held through the proxy.
5. Group A stops: HAProxy's health check takes it out and every request goes to group B.

Exits 1 if a check fails. A functional demonstration, not a load test.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.api_bench import PRODUCTION_ENV, django_setup, new_token
from bench.lib import ROOT, free_port, load_average, stamp, wait_for

CONFIG = ROOT / "deploy" / "haproxy" / "haproxy.cfg"
SETTLE_SECONDS = 5.5  # the catch-up hands out changes older than UPDATES_SETTLE (5 s)


def database_ready() -> None:
    """Create the database if needed and migrate it."""
    import psycopg

    url = os.environ["DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, check=True)


def people() -> tuple[str, str]:
    """A leader (posts org-wide) and an employee (holds the socket), with fresh tokens."""
    from accounts.models import Organization, Role, User

    organization, _ = Organization.objects.get_or_create(
        slug="two-groups", defaults={"name": "Two groups", "timezone": "Europe/Amsterdam", "default_language": "en"}
    )
    leader, _ = User.objects.get_or_create(
        email="leader@two-groups.example", defaults={"organization": organization, "name": "Lea Leader", "role": Role.LEADER}
    )
    employee, _ = User.objects.get_or_create(
        email="employee@two-groups.example", defaults={"organization": organization, "name": "Emil Employee", "role": Role.EMPLOYEE}
    )
    return new_token(leader, "two-groups"), new_token(employee, "two-groups")


class Stack:
    def __init__(self) -> None:
        self.processes: dict[str, subprocess.Popen] = {}
        try:
            self._up()
        except BaseException:
            self.stop()
            raise

    def _up(self) -> None:
        self.ports = {"a": free_port(), "b": free_port(), "haproxy": free_port()}
        queue = f"twogroups-{self.ports['a']}"
        self.env = {
            **os.environ,
            **PRODUCTION_ENV,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "TRUSTED_PROXIES": "127.0.0.1",
            "CELERY_TASK_DEFAULT_QUEUE": queue,
        }
        for group in ("a", "b"):
            serve = [sys.executable, "-m", "server.serve", "--host", "127.0.0.1", "--port", str(self.ports[group]), "--workers", "2"]
            self.processes[group] = self._start([*serve, "--no-access-log", "--log-level", "warning"])
        self.processes["worker"] = self._start(
            [sys.executable, "-m", "celery", "-A", "server", "worker", "-Q", f"{queue},push", "--concurrency", "1", "--loglevel", "WARNING"]
        )
        for group in ("a", "b"):
            wait_for(self.url(group) + "/readyz", timeout=120)
        haproxy_env = {
            **os.environ,
            "HAPROXY_BIND": f"127.0.0.1:{self.ports['haproxy']}",
            "GROUP_A": f"127.0.0.1:{self.ports['a']}",
            "GROUP_B": f"127.0.0.1:{self.ports['b']}",
            "HAPROXY_MAXCONN": "5000",
        }
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        subprocess.run([haproxy, "-c", "-q", "-f", str(CONFIG)], env=haproxy_env, check=True)
        self.processes["haproxy"] = subprocess.Popen([haproxy, "-db", "-f", str(CONFIG)], env=haproxy_env)
        wait_for(self.url("haproxy") + "/readyz", timeout=30)
        time.sleep(5)  # both groups through `rise 2` of 2 s checks

    def _start(self, command: list[str]) -> subprocess.Popen:
        return subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL)

    def url(self, where: str, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.ports[where]}"

    def stop_group(self, group: str) -> None:
        process = self.processes.pop(group)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)

    def stop(self) -> None:
        for process in self.processes.values():
            process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def post(base: str, token: str, body: str) -> tuple[int, str]:
    import httpx

    response = httpx.post(f"{base}/api/v1/posts", json={"body": body}, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    response.raise_for_status()
    return response.json()["id"], response.headers.get("X-Served-By", "-")


def await_post(ws, post_id: int, timeout: float = 15) -> float | None:
    """Seconds until the socket got `post.created` for post_id, or None."""
    from websockets.exceptions import ConnectionClosed

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            frame = json.loads(ws.recv(timeout=timeout - (time.monotonic() - started)))
        except (TimeoutError, ConnectionClosed):
            return None
        if frame.get("type") == "post.created" and frame.get("data", {}).get("id") == post_id:
            return time.monotonic() - started
    return None


def catch_up(base: str, token: str, since: str) -> set[int]:
    import httpx

    seen: set[int] = set()
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        for _page in range(20):
            body = client.get("/api/v1/feed/updates", params={"since": since}).json()
            seen.update(item["id"] for item in body["results"])
            since = body["cursor"]
            if not body.get("has_more"):
                break
    return seen


def cursor_now(base: str, token: str) -> str:
    import httpx

    return httpx.get(f"{base}/api/v1/feed/updates", headers={"Authorization": f"Bearer {token}"}, timeout=30).json()["cursor"]


def main() -> None:
    from websockets.sync.client import connect

    database_ready()
    django_setup()
    leader, employee = people()
    print(f"two groups behind HAProxy. {stamp()} Load {load_average()}.")
    stack = Stack()
    failures = 0

    def check(ok: bool, text: str) -> None:
        nonlocal failures
        failures += not ok
        print(f"[{'ok' if ok else 'FAIL'}] {text}")

    try:
        proxy = stack.url("haproxy")
        print(f"group A :{stack.ports['a']} (2 processes), group B :{stack.ports['b']} (2 processes), HAProxy :{stack.ports['haproxy']}")
        import httpx

        served = Counter(
            httpx.get(f"{proxy}/api/v1/me", headers={"Authorization": f"Bearer {employee}"}, timeout=30).headers.get("X-Served-By")
            for _ in range(20)
        )
        check(set(served) == {"group-a", "group-b"}, f"1. 20 requests through HAProxy: {dict(served)} (round robin, no stickiness)")

        def socket(where: str):
            return connect(stack.url(where, "ws") + "/ws/v1/stream", subprotocols=["bearer", employee], compression=None, open_timeout=30)

        with socket("b") as ws:
            time.sleep(0.5)
            post_id, _ = post(stack.url("a"), leader, "Posted through group A")
            delay = await_post(ws, post_id)
            check(
                delay is not None,
                f"2. post {post_id} made through group A reached a socket on group B ({delay and round(delay * 1000)} ms)",
            )

        since = cursor_now(stack.url("a"), employee)
        with socket("a"):
            pass  # held by A, then gone (the network blip)
        missed = [post(stack.url("b"), leader, f"Made while the socket was away {index}")[0] for index in range(3)]
        time.sleep(SETTLE_SECONDS)
        with socket("b"):
            seen = catch_up(stack.url("b"), employee, since)
        check(
            set(missed) <= seen,
            f"3. socket moved from group A to group B: catch-up through B returned {sorted(set(missed) & seen)} of the missed {missed}",
        )

        with connect(f"{stack.url('haproxy', 'ws')}/ws/v1/stream", subprotocols=["bearer", employee], compression=None) as ws:
            time.sleep(0.5)
            results = []
            for index in range(4):
                post_id, group = post(proxy, leader, f"Posted through HAProxy {index}")
                results.append((post_id, group, await_post(ws, post_id)))
            check(
                all(delay is not None for _, _, delay in results),
                "4. posts through HAProxy reached the socket held through HAProxy: "
                + ", ".join(f"{post_id} via {group} in {delay and round(delay * 1000)} ms" for post_id, group, delay in results),
            )

        stack.stop_group("a")
        time.sleep(6)  # `fall 2` of 2 s checks
        served = Counter(
            httpx.get(f"{proxy}/api/v1/me", headers={"Authorization": f"Bearer {employee}"}, timeout=30).headers.get("X-Served-By")
            for _ in range(10)
        )
        check(
            served == Counter({"group-b": 10}),
            f"5. group A stopped: the /readyz check took it out, 10 requests: {dict(served)}",
        )
    finally:
        stack.stop()
    print("all checks passed" if not failures else f"{failures} check(s) FAILED")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
