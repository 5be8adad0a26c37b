"""Test helpers for the event path: an unreachable broker, a channel-layer listener."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone

from notifications.services import outbox_sweep


@contextmanager
def broker_unreachable(settings, url: str = "redis://127.0.0.1:1/0"):
    """Celery publishing for real (not eager) to a port where nothing listens."""
    from server.celery import app

    # Celery reads the CELERY_-prefixed Django settings before its own conf changes.
    saved = settings.CELERY_BROKER_URL, settings.CELERY_TASK_ALWAYS_EAGER
    settings.CELERY_BROKER_URL, settings.CELERY_TASK_ALWAYS_EAGER = url, False
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield
    finally:
        settings.CELERY_BROKER_URL, settings.CELERY_TASK_ALWAYS_EAGER = saved
        app._pool = None
        app.amqp._producer_pool = None


def sweep_later() -> int:
    return outbox_sweep(now=timezone.now() + timedelta(minutes=5))


def listen(group: str):
    """A channel in `group` on the (in-memory) layer, and a reader of what arrived."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)

    def received() -> list[dict]:
        async def drain():
            messages = []
            while (queue := layer.channels.get(channel)) is not None and not queue.empty():
                messages.append(await layer.receive(channel))
            return messages

        return async_to_sync(drain)()

    return received


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Factories hash a password per user; Argon2 makes each one cost ~0.3 s.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
