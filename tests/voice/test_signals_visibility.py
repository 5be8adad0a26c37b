"""Every role × visibility × anonymity on list, detail, insights, admin site, export and the stream.

Who sees a signal: `organization` → every colleague; `leaders` → its author, its owner, leaders of
its group, admins. Who sees its author: everyone who sees it, unless it is anonymous: then its
author alone (`mine`), not admins, not the admin site, not events.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts.models import MembershipRole
from tests.factories import AdminFactory, GroupFactory, LeaderFactory, MembershipFactory, UserFactory
from tests.voice.conftest import outbox
from voice.services import signals as voice
from voice.services import signals_workflow

ROLES = ("author", "colleague", "elsewhere", "manager", "other_leader", "admin", "supporter")
# Who sees a `leaders` signal (raised in the author's group, owned by its manager).
SEES_LEADERS_ONLY = {"author", "manager", "admin"}


@pytest.fixture
def people(org):
    group = GroupFactory(organization=org, kind="location", name="Store Delft")
    other = GroupFactory(organization=org, kind="location", name="Store Gouda")
    author = UserFactory(organization=org, name="Anna Anonymous")
    MembershipFactory(group=group, user=author)
    return {
        "group": group,
        "author": author,
        "colleague": MembershipFactory(group=group, user=UserFactory(organization=org)).user,
        "elsewhere": MembershipFactory(group=other, user=UserFactory(organization=org)).user,
        "manager": MembershipFactory(group=group, role=MembershipRole.MANAGER, user=LeaderFactory(organization=org)).user,
        "other_leader": MembershipFactory(group=other, role=MembershipRole.MANAGER, user=LeaderFactory(organization=org)).user,
        "admin": AdminFactory(organization=org),
        "supporter": MembershipFactory(group=other, user=UserFactory(organization=org)).user,
    }


def _person_refs(value, user_id: int) -> list:
    """Every person object (id and name) in a JSON value that is `user_id`."""
    found = []
    if isinstance(value, dict):
        if value.get("id") == user_id and "name" in value and "avatar" in value:  # a person, not a group (same id)
            found.append(value)
        if value.get("author_id") == user_id:
            found.append(value)
        for item in value.values():
            found += _person_refs(item, user_id)
    elif isinstance(value, list):
        for item in value:
            found += _person_refs(item, user_id)
    return found


@pytest.mark.parametrize("anonymous", [False, True], ids=["named", "anonymous"])
@pytest.mark.parametrize("visibility", ["organization", "leaders"])
def test_role_visibility_anonymity_on_list_detail_and_insights(api, people, visibility, anonymous, django_capture_on_commit_callbacks):
    author = people["author"]
    with django_capture_on_commit_callbacks(execute=True):
        signal = voice.signal_create(
            author=author,
            kind="friction",
            title="Coffee machine broken",
            body="Guests wait",
            group_id=people["group"].pk,
            visibility=visibility,
            anonymous=anonymous,
        )
        if visibility == "organization":
            voice.signal_support(user=people["supporter"], signal=signal)
        signals_workflow.signal_set_status(actor=people["manager"], signal=signal, status="acknowledged", message="On it")
    for role in ROLES:
        client = api(people[role])
        sees = visibility == "organization" or role in SEES_LEADERS_ONLY
        detail = client.get(f"/api/v1/signals/{signal.pk}")
        listed = [row["id"] for row in client.get("/api/v1/signals", {"page_size": 100}).json()["results"]]
        assert (detail.status_code == 200) == sees, (role, detail.status_code)
        assert (signal.pk in listed) == sees, role
        if not sees:
            continue
        card = detail.json()
        shows_author = role == "author" or not anonymous
        assert (card["author"] is not None) == shows_author, role
        assert card["mine"] == (role == "author")
        if not shows_author:
            assert _person_refs(card, author.pk) == [], role
            assert "Anna Anonymous" not in detail.content.decode()
            assert "Anna Anonymous" not in client.get("/api/v1/signals", {"page_size": 100}).content.decode()
        if role in ("manager", "admin"):
            insights = client.get("/api/v1/signals/insights")
            assert insights.status_code == 200 and author.name not in insights.content.decode()
            assert insights.json()["total"] == 1
    # Events carry no author of an anonymous signal, whoever they reach.
    for event_type in ("signal.created", "signal.supported", "signal.status_changed"):
        for event in outbox(event_type):
            assert bool(_person_refs(event.payload, author.pk)) == (not anonymous), event_type


def test_anonymous_author_is_not_on_the_admin_site(people):
    signal = voice.signal_create(author=people["author"], kind="idea", title="Quiet room", body="For breaks", anonymous=True)
    people["admin"].is_staff = True
    people["admin"].save()
    client = Client()
    client.force_login(people["admin"])
    for url in ("/admin/voice/signal/", f"/admin/voice/signal/{signal.pk}/change/", "/admin/voice/signal/?q=Anna"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert "Anna Anonymous" not in page.content.decode(), url
    assert "Quiet room" in client.get("/admin/voice/signal/").content.decode()


def test_a_leader_answering_their_own_anonymous_signal_stays_anonymous(api, people):
    manager = people["manager"]
    signal = voice.signal_create(author=manager, kind="idea", title="Rota", body="Fairer rota", group_id=people["group"].pk, anonymous=True)
    # Never its own owner (that would name them), and their timeline entries hide the actor.
    assert signal.owner_id is None
    signals_workflow.signal_set_status(actor=manager, signal=signal, status="in_progress", message="Drafting")
    card = api(people["colleague"]).get(f"/api/v1/signals/{signal.pk}").json()
    assert _person_refs(card, manager.pk) == []
    assert api(manager).get(f"/api/v1/signals/{signal.pk}").json()["timeline"][0]["actor"]["id"] == manager.pk


def test_export_includes_own_anonymous_signals_and_not_the_author_in_others(api, people):
    signal = voice.signal_create(
        author=people["author"], kind="idea", title="Quiet room", body="For breaks", group_id=people["group"].pk, anonymous=True
    )
    voice.signal_support(user=people["colleague"], signal=signal)
    admin = api(people["admin"])
    own = admin.get(f"/api/v1/moderation/users/{people['author'].pk}/export")
    assert own.status_code == 200
    assert [row["title"] for row in own.json()["signals"]] == ["Quiet room"]
    # The owner's and the supporter's exports name the signal, never its anonymous author.
    for role in ("manager", "colleague"):
        other = admin.get(f"/api/v1/moderation/users/{people[role].pk}/export").json()
        assert _person_refs(other, people["author"].pk) == [], role
        assert "Anna Anonymous" not in json.dumps(other), role
    assert [row["id"] for row in admin.get(f"/api/v1/moderation/users/{people['manager'].pk}/export").json()["signals_owned"]] == [
        signal.pk
    ]
