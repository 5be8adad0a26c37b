"""The real stack for outage runs: our own Redis (port 6391, never the shared one),
PostgreSQL, uvicorn, a Celery worker with embedded beat, and the fake FCM in a
process of its own. Every process is started and stopped by its pid."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUN_ID = uuid.uuid4().hex[:6]
REDIS_PORT = int(os.environ.get("CHAOS_REDIS_PORT", "6391"))
DATABASE_URL = os.environ.get("CHAOS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/feedapp_chaos")
# The PostgreSQL that `postgres` stops: a cluster of our own (initdb), never the shared one.
PG_BIN = Path(os.environ.get("CHAOS_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_PORT = int(os.environ.get("CHAOS_PG_PORT", "5491"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(predicate, *, timeout: float, what: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError(what)


def start_fake_fcm():
    """The fake FCM in its own process (no shared GIL with the load), driven through a proxy."""
    from multiprocessing.managers import BaseManager

    from tests.fakefcm import FakeFCM

    class FakeFCMManager(BaseManager):
        pass

    FakeFCMManager.register("FakeFCM", FakeFCM)
    manager = FakeFCMManager()
    manager.start()
    fcm = manager.FakeFCM()
    fcm.serve()
    return manager, fcm


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')


class Stack:
    def __init__(
        self,
        *,
        fcm_url: str,
        service_account: dict,
        worker_concurrency: int = 2,
        extra_env: dict | None = None,
        database_url: str = DATABASE_URL,
    ) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix=f"chaos-{RUN_ID}-"))
        self.pgdata: Path | None = None
        credentials = self.tmp / "service-account.json"
        credentials.write_text(json.dumps(service_account))
        self.port = free_port()
        self.worker_concurrency = worker_concurrency
        self.env = {
            **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
            "DJANGO_SETTINGS_MODULE": "server.settings",
            "DATABASE_URL": database_url,
            "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
            "CHANNEL_LAYER_PREFIX": f"chaos{RUN_ID}",
            "CELERY_TASK_DEFAULT_QUEUE": f"chaos-{RUN_ID}",
            "PUSH_QUEUE": f"chaos-push-{RUN_ID}",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "PUSH_BACKEND": "fcm",
            "FIREBASE_CREDENTIALS": str(credentials),
            "FCM_ENDPOINT_OVERRIDE": fcm_url,
            # The load is several requests a second per person: the general limit is not under test here.
            "THROTTLE_USER": "100000/min",
            "CONN_MAX_AGE": "60",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
            **(extra_env or {}),
        }
        self.redis: subprocess.Popen | None = None
        self.server: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/v1/stream"

    # --- Redis (ours alone) -------------------------------------------------------------
    def redis_up(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=REDIS_PORT, socket_connect_timeout=0.3).ping())
        except redis.RedisError:
            return False

    def start_redis(self) -> None:
        if self.redis_up() and self.redis is None:
            raise RuntimeError(f"something else already listens on {REDIS_PORT}: not ours to use")
        command = ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        command += ["--maxmemory-policy", "noeviction", "--dir", str(self.tmp)]
        self.redis = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.redis_up, timeout=10, what="redis")

    def kill_redis(self) -> None:
        """A crash: no shutdown save (and none configured), queued tasks are gone."""
        assert self.redis is not None
        self.redis.send_signal(signal.SIGKILL)
        self.redis.wait()
        self.redis = None

    # --- PostgreSQL of our own (the `postgres` scenario stops it) -------------------------
    def _as_postgres(self, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def init_own_postgres(self) -> str:
        """initdb a cluster in the run's directory, on PG_PORT; returns its database URL."""
        if self.postgres_up():
            raise RuntimeError(f"something already listens on {PG_PORT}: not ours to stop")
        os.chmod(self.tmp, 0o711)  # noqa: S103 (postgres traverses to its data directory; nothing is listable)
        self.pgdata = self.tmp / "pgdata"
        self.pgdata.mkdir()
        shutil.chown(self.pgdata, "postgres", "postgres")
        self._as_postgres(str(PG_BIN / "initdb"), "-D", str(self.pgdata), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start_postgres()
        return f"postgres://postgres@127.0.0.1:{PG_PORT}/feedapp_chaos"

    def postgres_up(self) -> bool:
        with socket.socket() as probe:
            probe.settimeout(0.3)
            return probe.connect_ex(("127.0.0.1", PG_PORT)) == 0

    def start_postgres(self) -> None:
        assert self.pgdata is not None
        options = f"-p {PG_PORT} -k {self.pgdata} -c listen_addresses=127.0.0.1 -c max_connections=200"
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.pgdata), "-o", options, "-l", str(self.pgdata / "pg.log"), "-w", "start")

    def stop_postgres(self) -> None:
        """`pg_ctl stop -m fast`: sessions are terminated mid-transaction, as in a restart or fail-over."""
        assert self.pgdata is not None
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "stop")

    # --- Django side ------------------------------------------------------------------
    def setup_django(self) -> None:
        os.environ.update(self.env)
        ensure_database(self.env["DATABASE_URL"])
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)

    def start_server(self) -> None:
        # The deployment's launcher, one process (its WebSocket protocol and socket options).
        command = [sys.executable, "-m", "server.serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"]
        command += ["--log-level", "warning"]
        self.server = subprocess.Popen(command, cwd=ROOT, env=self.env, start_new_session=True)
        import httpx

        def ready() -> bool:
            try:
                return httpx.get(f"{self.http}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(ready, timeout=30, what="uvicorn")

    def start_worker(self, *, beat: bool = True) -> subprocess.Popen:
        queues = f"{self.env['CELERY_TASK_DEFAULT_QUEUE']},{self.env['PUSH_QUEUE']}"
        command = [sys.executable, "-m", "celery", "-A", "server", "worker", "-Q", queues, "-c", str(self.worker_concurrency)]
        command += ["-P", "prefork", "--without-gossip", "--without-mingle", "-n", f"chaos-{RUN_ID}-{uuid.uuid4().hex[:4]}@%h"]
        command += ["-l", "warning"]
        if beat:
            command += ["-B", "-s", str(self.tmp / "beat-schedule")]
        self.worker = subprocess.Popen(command, cwd=ROOT, env=self.env, start_new_session=True)
        time.sleep(4)  # prefork children and beat up; the load tolerates a late worker anyway
        if self.worker.poll() is not None:
            raise RuntimeError("worker exited")
        return self.worker

    def kill_worker(self) -> None:
        """SIGKILL the worker and its children at once: no warm shutdown, no acks."""
        assert self.worker is not None
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait()
        self.worker = None

    def stop(self) -> None:
        for process in (self.server, self.worker):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in (self.server, self.worker):
            if process is not None:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
        if self.redis is not None:
            self.redis.terminate()
            self.redis.wait(timeout=10)
        if self.pgdata is not None and self.postgres_up():
            self.stop_postgres()
