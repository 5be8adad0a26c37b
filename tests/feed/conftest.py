import pytest


@pytest.fixture
def events(monkeypatch):
    """Every event emitted, as the keyword arguments given to notifications.services.emit."""
    from notifications import services as notifications

    recorded: list[dict] = []
    real_emit = notifications.emit

    def record(**kwargs):
        real_emit(**kwargs)
        recorded.append(kwargs)

    monkeypatch.setattr(notifications, "emit", record)
    return recorded


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Factories set a password on every user; Argon2 would dominate these tests' run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
