from __future__ import annotations

import pytest

from notifications.fcm import reset_backends
from tests.fakefcm import FakeFCM


@pytest.fixture(scope="session")
def fake_fcm_server(tmp_path_factory):
    server = FakeFCM().start()
    server.credentials_path = server.write_service_account(tmp_path_factory.mktemp("fcm"))
    yield server
    server.stop()


@pytest.fixture
def fake_fcm(fake_fcm_server, settings):
    """The `fcm` backend (real firebase-admin) pointed at a clean fake FCM."""
    fake_fcm_server.reset()
    settings.PUSH_BACKEND = "fcm"
    settings.FIREBASE_CREDENTIALS = fake_fcm_server.credentials_path
    settings.FCM_ENDPOINT_OVERRIDE = fake_fcm_server.url
    settings.PUSH_SENDER_POOL_SIZE = 8
    reset_backends()
    yield fake_fcm_server
    reset_backends()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Factories hash a password per user; Argon2 makes each one cost ~0.3 s.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
