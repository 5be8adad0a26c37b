import pytest


@pytest.fixture
def events(monkeypatch):
    """Every event emitted: the keyword arguments given to notifications.services.emit, with `type` its name."""
    from notifications import services as notifications

    recorded: list[dict] = []
    real_emit = notifications.emit

    def record(event_type, /, **kwargs):
        real_emit(event_type, **kwargs)
        recorded.append({"type": event_type.name, **kwargs})

    monkeypatch.setattr(notifications, "emit", record)
    return recorded
