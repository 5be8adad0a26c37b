import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Factories hash a password per user; Argon2 makes each one cost ~0.3 s.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
