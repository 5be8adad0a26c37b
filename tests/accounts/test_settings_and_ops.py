import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import AuthToken, Organization, User
from server.models import IdempotencyRecord
from tests.factories import UserFactory, issue_token

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DEBUG": "False",
    "SECRET_KEY": "k" * 20 + "production-secret-for-the-deploy-check-0123456789",
    "ALLOWED_HOSTS": "api.example.com",
    "PATH": os.environ.get("PATH", ""),
}


def run_manage(*args, env):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_argon2_is_the_first_password_hasher():
    import server.settings as production_settings

    assert production_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


@pytest.mark.slow
def test_check_deploy_is_clean_with_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.slow
def test_production_refuses_the_placeholder_secret():
    env = {**PRODUCTION_ENV}
    del env["SECRET_KEY"]
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_create_organization_command(db, capsys):
    call_command(
        "create_organization",
        "--name",
        "Hotel Aurora",
        "--timezone",
        "America/New_York",
        "--admin-email",
        "Boss@Aurora.example",
        "--admin-password",
        "a-long-secret-phrase",
    )
    organization = Organization.objects.get(name="Hotel Aurora")
    assert capsys.readouterr().out.strip() == str(organization.pk)
    admin = User.objects.get(email="boss@aurora.example")
    assert admin.role == "admin" and admin.organization == organization and admin.check_password("a-long-secret-phrase")


def test_seed_demo_is_idempotent_and_prints_logins(db, capsys):
    call_command("seed_demo")
    first = capsys.readouterr().out
    users = User.objects.count()
    call_command("seed_demo")
    second = capsys.readouterr().out
    assert User.objects.count() == users >= 40
    logins = [line for line in second.splitlines() if line.startswith("login: ")]
    assert {line.split()[-1] for line in logins} == {"admin", "leader", "employee"}
    assert [line for line in first.splitlines() if line.startswith("login: ")] == logins


def test_seeded_login_works_end_to_end(db, api):
    call_command("seed_demo")
    response = api().post("/api/v1/auth/login", {"email": "employee@demo.example", "password": "demo-password-2026"}, format="json")
    assert response.status_code == 200
    assert api(token=response.json()["token"]).get("/api/v1/me").status_code == 200


def test_expired_tokens_and_old_idempotency_records_are_pruned(db):
    from accounts.tasks import auth_tokens_purge_task
    from server.tasks import idempotency_records_prune_task

    user = UserFactory()
    issue_token(user)
    issue_token(user)
    AuthToken.objects.filter(pk=AuthToken.objects.first().pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert auth_tokens_purge_task() == 1
    assert AuthToken.objects.count() == 1
    IdempotencyRecord.objects.create(user=user, key="old", request_fingerprint="x")
    IdempotencyRecord.objects.create(user=user, key="new", request_fingerprint="x")
    IdempotencyRecord.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))
    assert idempotency_records_prune_task() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


def test_healthz_and_readyz(db, api):
    assert api().get("/healthz").json() == {"status": "ok"}
    body = api().get("/readyz").json()
    assert body["status"] == "ok" and body["checks"]["database"] == "ok"


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="the pool is PostgreSQL's")
def test_database_pool_serves_request_threads_with_few_connections():
    """DATABASE_POOL_MAX_SIZE turns on psycopg_pool: 20 threads' queries share at most 3 connections."""
    script = (
        "import threading\n"
        "from django.db import connection, connections\n"
        "assert connection.settings_dict['CONN_MAX_AGE'] == 0\n"
        "pids = set()\n"
        "def work(pids=pids, connections=connections):\n"
        "    with connections['default'].cursor() as c: c.execute('SELECT pg_backend_pid()'); pids.add(c.fetchone()[0])\n"
        "    connections['default'].close()\n"
        "threads = [threading.Thread(target=work) for _ in range(20)]\n"
        "[t.start() for t in threads]; [t.join() for t in threads]\n"
        "print('pool', connection.pool.get_stats()['pool_max'], 'pids', len(pids))\n"
    )
    # The maintenance database: the subprocess only needs a server to connect to.
    server_url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    env = {**os.environ, "DATABASE_URL": server_url, "DATABASE_POOL_MAX_SIZE": "3"}
    result = run_manage("shell", "-c", script, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    _, pool_max, _, pids = result.stdout.strip().splitlines()[-1].split()
    assert int(pool_max) == 3 and 1 <= int(pids) <= 3, result.stdout
