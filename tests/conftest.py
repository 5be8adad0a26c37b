"""Shared fixtures. `api` gives a DRF client logged in as anyone:

client = api(user)           # Authorization: Bearer <new token for user>
client = api()               # anonymous
"""

from __future__ import annotations

import os

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.factories import AdminFactory, GroupFactory, LeaderFactory, MembershipFactory, OrganizationFactory, UserFactory, issue_token

IS_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql"))


@pytest.fixture(autouse=True)
def _isolated_cache_and_eager_tasks(settings):
    # Throttle counters and login failures live in the cache: each test gets its own
    # in-process cache (a shared Redis would be flushed under parallel workers).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}}
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # Argon2 is deliberately slow; tests create hundreds of users. Production order is
    # asserted in tests/accounts/test_settings.py against the settings module itself.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from server.celery import app

    app.conf.task_always_eager = True
    # No beat inside a test's ASGI application unless the test starts one (tests/test_embedded_scheduler.py).
    settings.EMBEDDED_SCHEDULER = False
    # Every search statement compiled once per shape is checked against the ORM's (search.engine).
    settings.SEARCH_VERIFY_COMPILED = True
    yield
    cache.clear()


@pytest.fixture
def api():
    def make(user=None, *, token: str | None = None, language: str | None = None) -> APIClient:
        client = APIClient()
        if user is not None and token is None:
            token = issue_token(user)
        if token is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        if language:
            client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
        return client

    return make


@pytest.fixture
def org(db):
    return OrganizationFactory()


@pytest.fixture
def other_org(db):
    return OrganizationFactory()


@pytest.fixture
def employee(org):
    return UserFactory(organization=org)


@pytest.fixture
def leader(org):
    return LeaderFactory(organization=org)


@pytest.fixture
def admin_user(org):
    return AdminFactory(organization=org)


@pytest.fixture
def group(org):
    return GroupFactory(organization=org)


@pytest.fixture
def member(group):
    return MembershipFactory(group=group).user


def requires_postgres(reason: str = "needs PostgreSQL row locks and real concurrency"):
    return pytest.mark.skipif(not IS_POSTGRES, reason=f"SKIPPED ON SQLITE: {reason}")


@pytest.fixture
def uvicorn_logging_kept():
    """A uvicorn.Config made in a test applies uvicorn's logging config to the whole process
    (handlers, filters and propagation of the uvicorn loggers), undoing the project's (the
    token redaction filter): whatever a test does to them is put back after it."""
    import logging

    names = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
    saved = {}
    for name in names:
        logger = logging.getLogger(name)
        saved[name] = (list(logger.handlers), list(logger.filters), logger.level, logger.propagate, logger.disabled)
    yield
    for name, (handlers, filters, level, propagate, disabled) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:], logger.filters[:] = handlers, filters
        logger.level, logger.propagate, logger.disabled = level, propagate, disabled
