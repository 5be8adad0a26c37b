"""Deployment: production settings pass `check --deploy`, send the security headers,
refuse the development secret, and nothing in Celery waits past the broker's
visibility timeout. Production settings are imported in a subprocess: they are read
from the environment once, at start-up, exactly as a deployment reads them."""

from __future__ import annotations

import ast
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks as django_checks

from server import checks

ROOT = Path(__file__).resolve().parents[2]
APP_PACKAGES = ("accounts", "feed", "recognition", "media", "notifications", "moderation", "server")


def production_env(**overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in {"DJANGO_SETTINGS_MODULE", "REDIS_URL", "DATABASE_URL"}}
    env.update(
        {
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "api.example.com",
            "DATABASE_URL": f"sqlite:///{ROOT / 'db.sqlite3'}",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update(overrides)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False, timeout=120)


def test_check_deploy_is_clean_with_production_settings():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


HEADERS_SCRIPT = """
import json, os
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "server.settings"
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
client = Client(HTTP_HOST="api.example.com")
plain = client.get("/api/v1/me")
secure = client.get("/api/v1/me", secure=True)
probe = client.get("/healthz")
print(json.dumps({
    "plain": [plain.status_code, plain.headers.get("Location", "")],
    "secure": [secure.status_code, dict(secure.headers)],
    "probe": probe.status_code,
}))
"""


def test_production_sends_security_headers_and_redirects_plain_http():
    result = run(["-c", HEADERS_SCRIPT], production_env(DATABASE_URL="sqlite:///:memory:"))
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    status, location = answers["plain"]
    assert status == 301 and location.startswith("https://api.example.com/")
    assert answers["probe"] != 301  # load balancers probe over plain HTTP
    status, headers = answers["secure"]
    assert status == 401
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "includeSubDomains" in headers["Strict-Transport-Security"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    "secret",
    [None, "insecure-development-key-never-use-in-production", "short-secret"],
    ids=["unset", "placeholder", "too-short"],
)
def test_debug_off_refuses_to_start_without_a_real_secret(secret):
    env = production_env()
    if secret is None:
        env.pop("SECRET_KEY")
    else:
        env["SECRET_KEY"] = secret
    result = run(["manage.py", "check"], env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "SECRET_KEY" in result.stderr


def test_debug_off_refuses_to_start_without_allowed_hosts():
    env = production_env()
    env.pop("ALLOWED_HOSTS")
    result = run(["manage.py", "check"], env)
    assert result.returncode != 0 and "ALLOWED_HOSTS" in result.stderr


# --- Celery broker ------------------------------------------------------------------------


class FakeRedis:
    def __init__(self, policy: str | None = None, error: Exception | None = None):
        self.policy, self.error = policy, error

    def config_get(self, name: str) -> dict[str, str]:
        if self.error:
            raise self.error
        return {name: self.policy}


@pytest.fixture
def redis_broker(settings, monkeypatch):
    import redis

    settings.CELERY_BROKER_URL = "redis://broker.internal:6379/0"
    settings.CELERY_TASK_ALWAYS_EAGER = False

    def install(client: FakeRedis) -> None:
        monkeypatch.setattr(redis.Redis, "from_url", classmethod(lambda cls, *a, **k: client))

    return install


def test_broker_that_may_evict_keys_is_a_startup_warning(redis_broker):
    redis_broker(FakeRedis("allkeys-lru"))
    [warning] = checks.broker_eviction_policy()
    assert warning.id == "server.W001" and warning.level == django_checks.WARNING
    assert "noeviction" in warning.hint


def test_broker_with_noeviction_passes(redis_broker):
    redis_broker(FakeRedis("noeviction"))
    assert checks.broker_eviction_policy() == []


def test_unreachable_broker_is_a_warning_not_a_crash(redis_broker):
    import redis

    redis_broker(FakeRedis(error=redis.ConnectionError("refused")))
    [warning] = checks.broker_eviction_policy()
    assert warning.id == "server.W002"


def test_eager_or_memory_broker_is_not_checked(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert checks.broker_eviction_policy() == []


def test_the_checks_are_registered_at_startup():
    registered = {check.__name__ for check in django_checks.registry.registry.get_checks()}
    assert {"broker_eviction_policy", "countdowns_within_visibility_timeout"} <= registered


def test_real_broker_policy_when_a_redis_is_configured(settings):
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("SKIPPED: no REDIS_URL")
    settings.CELERY_BROKER_URL = url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    assert checks.broker_eviction_policy() == []


# --- countdown / ETA vs visibility timeout ---------------------------------------------------


def test_no_task_delay_reaches_the_visibility_timeout():
    limit = checks.visibility_timeout()
    delays = checks.task_delays()
    assert "media.tasks.media_process_task retry_backoff_max" in delays  # the walk found the autoretry task
    assert all(delay < limit for delay in delays.values()), {k: v for k, v in delays.items() if v >= limit}
    assert checks.countdowns_within_visibility_timeout() == []


def test_a_visibility_timeout_shorter_than_a_delay_is_an_error(settings):
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {**settings.CELERY_BROKER_TRANSPORT_OPTIONS, "visibility_timeout": 200}
    errors = checks.countdowns_within_visibility_timeout()
    assert errors and {error.id for error in errors} == {"server.E001"}
    assert any("Retry-After cap" in error.msg for error in errors)


def test_a_servers_retry_after_cannot_push_a_countdown_past_the_cap():
    from notifications import push

    assert push.backoff_seconds(attempt=1, retry_after=86_400) == push.RETRY_AFTER_CAP_SECONDS


# Every place that schedules a task later, with how its delay is bounded. A new
# countdown/eta must be added here after checking it stays below the visibility timeout.
REVIEWED_DELAYS = {
    ("notifications/push/batches.py", "countdown"): "push.backoff_seconds, capped at RETRY_AFTER_CAP_SECONDS",
    ("notifications/push/recording.py", "countdown"): "push.backoff_seconds, capped at RETRY_AFTER_CAP_SECONDS",
    ("accounts/tasks.py", "countdown"): "mail.retry_delay: 30 s to 32 min, at most MAX_ATTEMPTS (5) attempts",
    ("feed/services/polls.py", "countdown"): "POLL_FRAME_INTERVAL_SECONDS (1 s): the trailing poll.updated frame",
}


def _delay_keywords() -> list[tuple[str, str, ast.expr]]:
    found = []
    for package in APP_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call):
                    for keyword in node.keywords:
                        if keyword.arg in {"countdown", "eta", "default_retry_delay", "retry_backoff_max"}:
                            found.append((str(path.relative_to(ROOT)), keyword.arg, keyword.value))
    return found


def test_every_countdown_and_eta_in_the_code_is_bounded():
    limit = checks.visibility_timeout()
    unreviewed = []
    for path, name, value in _delay_keywords():
        if isinstance(value, ast.Constant):
            if value.value is not None and float(value.value) >= limit:
                unreviewed.append(f"{path}: {name}={value.value} >= visibility timeout {limit}")
        elif (path, name) not in REVIEWED_DELAYS:
            unreviewed.append(f"{path}: {name}={ast.unparse(value)} is not a constant and not in REVIEWED_DELAYS")
    assert not unreviewed, "\n".join(unreviewed)
