import pytest

from accounts.models import MembershipRole
from notifications.models import Notification
from tests.factories import GroupFactory, LeaderFactory, MembershipFactory, UserFactory


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


@pytest.fixture
def colleagues(org):
    return [UserFactory(organization=org) for _ in range(4)]


@pytest.fixture
def managed_group(org):
    return GroupFactory(organization=org)


@pytest.fixture
def manager(org, managed_group):
    leader = LeaderFactory(organization=org)
    MembershipFactory(group=managed_group, user=leader, role=MembershipRole.MANAGER)
    return leader


def inbox(user) -> list[tuple[str, dict]]:
    return [(row.type, row.data) for row in Notification.objects.filter(recipient=user, reason="moderation").order_by("id")]


def report(client, target_type: str, target_id: int, reason: str = "spam", note: str = ""):
    return client.post(
        "/api/v1/reports", {"target_type": target_type, "target_id": target_id, "reason": reason, "note": note}, format="json"
    )
