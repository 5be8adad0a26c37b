import pytest

from accounts.models import MembershipRole
from notifications.models import OutboxEvent
from tests.factories import GroupFactory, MembershipFactory, UserFactory


@pytest.fixture
def store(org):
    """A location with a manager (its leader) and two members."""
    group = GroupFactory(organization=org, name="Store Utrecht", kind="location")
    manager = MembershipFactory(group=group, role=MembershipRole.MANAGER, user=UserFactory(organization=org, role="leader")).user
    staff = MembershipFactory(group=group, user=UserFactory(organization=org, name="Sam Staff")).user
    colleague = MembershipFactory(group=group, user=UserFactory(organization=org)).user
    return {"group": group, "manager": manager, "staff": staff, "colleague": colleague}


def outbox(type_: str) -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(type=type_).order_by("created_at", "id"))
