import datetime as dt

import pytest
from django.utils import timezone

from recognition.months import month_of
from tests.recognition.factories import AwardCategoryFactory, AwardRoundFactory


class EventLog(list):
    def of_type(self, type_: str) -> list[dict]:
        return [e for e in self if e["type"] == type_]


@pytest.fixture
def events(monkeypatch):
    """Every `emit` call of the recognition services, recorded (and still validated by the real emit)."""
    from notifications import services as notification_services

    log = EventLog()
    real_emit = notification_services.emit

    def record(event_type, /, **kwargs):
        real_emit(event_type, **kwargs)
        log.append({"type": event_type.name, **kwargs})

    monkeypatch.setattr("recognition.services.kudos.emit", record)
    monkeypatch.setattr("recognition.services.closing.emit", record)
    return log


@pytest.fixture
def category(org):
    return AwardCategoryFactory(organization=org)


@pytest.fixture
def open_round(category):
    return AwardRoundFactory(category=category, month=month_of(timezone.now(), category.organization.timezone))


def ended_round(category, *, months_ago: int = 1):
    month = month_of(timezone.now(), category.organization.timezone)
    for _ in range(months_ago):
        month = (month - dt.timedelta(days=1)).replace(day=1)
    return AwardRoundFactory(category=category, month=month)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Factories set a password on every user; Argon2 would make these tests slow on a shared 2-core box.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def time_machine_now(monkeypatch):
    """Set what `django.utils.timezone.now()` returns (services read the clock through it)."""
    from django.utils import timezone as django_timezone

    def set_now(instant):
        monkeypatch.setattr(django_timezone, "now", lambda: instant)

    return set_now
