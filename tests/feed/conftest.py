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
