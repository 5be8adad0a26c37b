"""The login limits while Redis is down (issue #25): counted in PostgreSQL, not failing open.

Before: every rate limit failed open with the cache, the login limits too, so a Redis outage was
a window for password guessing at the speed of Argon2.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.utils import timezone

from server.api import throttling
from server.models import ThrottleCounter
from server.tasks import idempotency_records_prune_task
from tests.conftest import requires_postgres
from tests.factories import DEFAULT_PASSWORD
from tests.security.test_abuse_limits import _closed_port, _redis_cache, login, restore_cache, set_rates  # noqa: F401 (fixture)


@pytest.fixture(autouse=True)
def _closed_breaker():
    throttling.reset_breaker()
    yield
    throttling.reset_breaker()


class RaisingCache:
    """A cache whose every call raises, as Redis does when it is gone."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionError("cache is down")

        return fail


@pytest.fixture
def cache_down(monkeypatch):
    monkeypatch.setattr(throttling, "_count", lambda *args, **kwargs: RaisingCache().incr())
    monkeypatch.setattr(throttling, "cache", RaisingCache())


def test_the_per_account_login_limit_holds_while_the_cache_raises(api, employee, settings, cache_down):
    settings.LOGIN_FAILURE_LIMIT = 3
    codes = [login(api(), employee.email, "wrong").status_code for _ in range(3)]
    assert codes == [401, 401, 401]
    locked = login(api(), employee.email)  # the right password: still locked
    assert locked.status_code == 429
    assert 1 <= int(locked["Retry-After"]) <= settings.LOGIN_FAILURE_WINDOW_SECONDS
    assert ThrottleCounter.objects.filter(key__startswith="login-account:").get().count == 4


def test_a_successful_login_during_the_outage_resets_the_account(api, employee, settings, cache_down):
    settings.LOGIN_FAILURE_LIMIT = 3
    assert [login(api(), employee.email, "wrong").status_code for _ in range(2)] == [401, 401]
    assert login(api(), employee.email).status_code == 200
    assert not ThrottleCounter.objects.filter(key__startswith="login-account:").exists()
    assert [login(api(), employee.email, "wrong").status_code for _ in range(3)] == [401, 401, 401]


def test_the_per_ip_login_limit_holds_while_the_cache_raises(db, api, settings, cache_down):
    set_rates(settings, login_ip="5/min")
    codes = [login(api(), f"nobody{i}@example.com").status_code for i in range(7)]
    assert codes == [401] * 5 + [429] * 2


def test_other_limits_still_fail_open(api, employee, settings, cache_down):
    set_rates(settings, user="1/min")
    client = api(employee)
    assert [client.get("/api/v1/me").status_code for _ in range(3)] == [200, 200, 200]
    assert not ThrottleCounter.objects.exclude(key__startswith="login").exists()


@pytest.mark.usefixtures("restore_cache")
def test_with_a_refused_redis_the_login_limit_holds(api, employee, settings):
    _redis_cache(settings, _closed_port())
    settings.LOGIN_FAILURE_LIMIT = 2
    codes = [login(api(), employee.email, "wrong").status_code for _ in range(3)]
    assert codes == [401, 401, 429]


@requires_postgres("parallel writers: the tests' in-memory SQLite answers 'table is locked' at once (then the limit fails open)")
@pytest.mark.django_db(transaction=True)
def test_parallel_attempts_are_each_counted_once_in_the_database(cache_down):
    def attempt(_):
        return throttling.hit("login-account:parallel", limit=5, window=900, durable=True)

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(attempt, range(12)))
    assert results.count(None) == 5
    assert ThrottleCounter.objects.get(key="login-account:parallel").count == 12


def test_expired_windows_are_pruned(db):
    ThrottleCounter.objects.create(key="login-account:old", window=1, count=9, expires_at=timezone.now() - timedelta(seconds=1))
    ThrottleCounter.objects.create(key="login-account:new", window=2, count=1, expires_at=timezone.now() + timedelta(minutes=5))
    idempotency_records_prune_task()
    assert list(ThrottleCounter.objects.values_list("key", flat=True)) == ["login-account:new"]


def test_with_the_cache_up_nothing_is_written_to_the_database(api, employee):
    assert login(api(), employee.email, "wrong").status_code == 401
    assert login(api(), employee.email, DEFAULT_PASSWORD).status_code == 200
    assert not ThrottleCounter.objects.exists()
