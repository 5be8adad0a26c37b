"""The beat schedule in the web process (server/scheduler.py): the embedded default runs its
periodic jobs with no other process, started and stopped by the ASGI server's lifespan."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from django.conf import settings
from django.utils import timezone
from uvicorn.lifespan.on import LifespanOn

from feed import services as feed_services
from feed.models import Post
from recognition.models import AwardRound, RoundStatus
from server.scheduler import Lifespan
from tests.factories import LeaderFactory, OrganizationFactory, UserFactory
from tests.recognition.factories import AwardRoundFactory

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def served(application, *, lifespan: str = "on"):
    """The application's start-up and shut-down as uvicorn drives them, on an event loop of its
    own thread (the test's thread plays the outside world: people, the clock)."""
    config = uvicorn.Config(application, lifespan=lifespan, ws="none", log_config=None)  # logging stays the test's
    config.load()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server_lifespan = LifespanOn(config)
    try:
        asyncio.run_coroutine_threadsafe(server_lifespan.startup(), loop).result(timeout=10)
        assert not server_lifespan.should_exit
        yield server_lifespan
    finally:
        asyncio.run_coroutine_threadsafe(server_lifespan.shutdown(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()


def wait_until(condition, *, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def every(seconds: float) -> dict[str, dict]:
    """The deployment's schedule with every job due every `seconds`: minutes become a test's moments."""
    return {name: {**entry, "schedule": seconds} for name, entry in settings.CELERY_BEAT_SCHEDULE.items()}


@pytest.fixture
def asgi_lifespan(monkeypatch, tmp_path, settings):
    """server.asgi's own lifespan, with a short tick and a lock file of this test's."""
    from server.asgi import application

    lifespan = application.application_mapping["lifespan"]
    assert isinstance(lifespan, Lifespan)
    monkeypatch.setattr(lifespan, "schedule", every(0.2))
    monkeypatch.setattr(lifespan, "max_interval", 0.05)
    monkeypatch.setattr(lifespan, "lock_path", tmp_path / "scheduler.lock")
    settings.EMBEDDED_SCHEDULER = True
    return application


@pytest.mark.django_db(transaction=True)
def test_the_embedded_default_publishes_scheduled_posts_and_closes_rounds_with_no_other_process(asgi_lifespan):
    organization = OrganizationFactory()
    leader = LeaderFactory(organization=organization)
    UserFactory(organization=organization)
    with served(asgi_lifespan):
        lifespan = asgi_lifespan.application_mapping["lifespan"]
        assert lifespan.running
        # Written while the server runs, then their time comes (the clock is the database's rows):
        # only a scheduler that keeps ticking publishes and closes them.
        post = feed_services.post_create(author=leader, body="Morgen open om 8 uur", publish_at=timezone.now() + dt.timedelta(hours=1))
        last_month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
        award_round = AwardRoundFactory(category__organization=organization, month=last_month)
        assert award_round.status == RoundStatus.OPEN and award_round.closes_at <= timezone.now()
        time.sleep(0.3)  # a few ticks: nothing is due yet
        assert Post.objects.get(pk=post.pk).published_at is None
        Post.objects.filter(pk=post.pk).update(publish_at=timezone.now() - dt.timedelta(seconds=1))

        assert wait_until(lambda: Post.objects.get(pk=post.pk).published_at is not None)
        assert wait_until(lambda: AwardRound.objects.get(pk=award_round.pk).status == RoundStatus.CLOSED)
    assert not lifespan.running  # stopped with the server
    assert not any(thread.name.startswith("embedded-scheduler") for thread in threading.enumerate())


@pytest.mark.django_db(transaction=True)
def test_every_job_is_due_at_start(tmp_path, settings):
    # An hourly job (award rounds) must not wait an hour after each restart.
    settings.EMBEDDED_SCHEDULER = True
    organization = OrganizationFactory()
    last_month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    award_round = AwardRoundFactory(category__organization=organization, month=last_month)
    lifespan = Lifespan(max_interval=0.05, lock_path=tmp_path / "scheduler.lock")  # the real intervals
    from channels.routing import ProtocolTypeRouter

    with served(ProtocolTypeRouter({"lifespan": lifespan})):
        assert wait_until(lambda: AwardRound.objects.get(pk=award_round.pk).status == RoundStatus.CLOSED)


def test_one_scheduler_per_deployment(tmp_path, settings):
    settings.EMBEDDED_SCHEDULER = True
    lock = tmp_path / "scheduler.lock"
    first, second = Lifespan(schedule={}, max_interval=0.05, lock_path=lock), Lifespan(schedule={}, max_interval=0.05, lock_path=lock)
    with served(first), served(second):
        assert first.running and not second.running
    # Released with its holder: the next process to start takes over.
    with served(second):
        assert second.running


def test_off_starts_nothing(tmp_path, settings):
    settings.EMBEDDED_SCHEDULER = False
    lifespan = Lifespan(max_interval=0.05, lock_path=tmp_path / "scheduler.lock")
    with served(lifespan):
        assert not lifespan.running and lifespan.beat is None
    assert not (tmp_path / "scheduler.lock").exists()


def test_tests_do_not_run_it_by_default():
    assert settings.EMBEDDED_SCHEDULER is False  # tests/conftest.py


def test_uvicorn_sees_lifespan_support(settings, caplog):
    # Without a lifespan entry uvicorn logged "ASGI 'lifespan' protocol appears unsupported."
    settings.EMBEDDED_SCHEDULER = False
    from server.asgi import application

    # uvicorn's own logging config (set by any earlier uvicorn.Config in this process) stops
    # propagation at "uvicorn": listen on its logger itself, whatever ran before.
    uvicorn_logger = logging.getLogger("uvicorn.error")
    uvicorn_logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.INFO, logger="uvicorn.error"), served(application, lifespan="auto") as server_lifespan:
            assert not server_lifespan.error_occured
    finally:
        uvicorn_logger.removeHandler(caplog.handler)
    assert "unsupported" not in caplog.text
    assert "Application startup complete" in caplog.text


def _setting(name: str, **env: str) -> str:
    code = f"import django; django.setup(); from django.conf import settings; print(settings.{name})"
    environment = {"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "server.settings", **env}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.slow
def test_on_without_redis_off_with_redis_and_forced_either_way():
    assert _setting("EMBEDDED_SCHEDULER") == "True"  # the embedded default: nothing else runs beat
    assert _setting("EMBEDDED_SCHEDULER", REDIS_URL="redis://127.0.0.1:6379/9") == "False"  # `celery beat` does
    assert _setting("EMBEDDED_SCHEDULER", REDIS_URL="redis://127.0.0.1:6379/9", EMBEDDED_SCHEDULER="true") == "True"
    assert _setting("EMBEDDED_SCHEDULER", EMBEDDED_SCHEDULER="false") == "False"
