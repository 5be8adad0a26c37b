"""What a newcomer's terminal shows: `make run` prints the demo logins, not a worker's log."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The embedded default's settings and logging as `make run` loads them; only what costs time
# and says nothing about the output is swapped (tables without migrations, a fast hasher).
SEED_TWICE = """
import django
django.setup()
from django.apps import apps
from django.core.management import call_command
from django.test.utils import override_settings
with override_settings(
    PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    MIGRATION_MODULES={config.label: None for config in apps.get_app_configs()},
):
    call_command("migrate", run_syncdb=True, verbosity=0)
    call_command("seed_demo")
    call_command("seed_demo")
"""


def test_seed_demo_under_the_embedded_default_prints_its_logins_and_nothing_else(tmp_path):
    # Eager tasks logged "Task ... succeeded" per event (hundreds of lines) and kombu warned about
    # the in-memory broker's missing host name, burying the logins.
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "server.settings",
        "DATABASE_URL": "sqlite://:memory:",
        "MEDIA_ROOT": str(tmp_path / "uploads"),
    }
    result = subprocess.run([sys.executable, "-c", SEED_TWICE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 8, result.stdout
    for header, logins in ((lines[0], lines[1:4]), (lines[4], lines[5:8])):
        assert header.startswith("Demo organisation 'Demo Retail BV'")
        assert [line.split()[0] for line in logins] == ["login:"] * 3
        assert [line.split()[-1] for line in logins] == ["admin", "leader", "employee"]
    assert lines[0].endswith("created.") and lines[4].endswith("already present.")
