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
