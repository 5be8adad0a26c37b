"""Signals in GET /api/v1/search (voice/search.py): found by title and body with their usual
card, within `signal_list`'s audience, and an anonymous author is never found by name."""

from __future__ import annotations

import pytest

from tests.factories import GroupFactory, MembershipFactory, UserFactory
from voice.models import Signal
from voice.services import signals as voice
from voice.services import signals_workflow

pytestmark = pytest.mark.django_db


def search(client, q, **params):
    response = client.get("/api/v1/search", {"q": q, **params})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def found(results, type=None):
    return [(row["type"], row["id"]) for row in results if type is None or row["type"] == type]


def test_an_anonymous_author_is_never_found_by_name(api, org):
    sanne = UserFactory(organization=org, name="Sanne Visser")
    signal = voice.signal_create(
        author=sanne, kind="friction", title="De kassa loopt vast", body="Elke ochtend kwispelkassa storing", anonymous=True
    )
    client = api(UserFactory(organization=org))
    for q in ("Sanne", "Visser", "Sanne Visser"):
        assert search(client, q, type="signal") == []
        assert found(search(client, q)) == [("person", sanne.pk)]  # her colleague card, never what she wrote
    [result] = search(client, "kwispelkassa")
    assert result["type"] == "signal" and result["id"] == signal.pk
    assert result["item"]["author"] is None and result["item"]["anonymous"] is True
    assert "Sanne" not in str(result) and "Visser" not in str(result)
    assert "<mark>kwispelkassa</mark>" in result["snippet"]
    # The author sees themselves, as on GET /signals/{id}.
    [mine] = search(api(sanne), "kwispelkassa", type="signal")
    assert mine["item"]["author"]["id"] == sanne.pk and mine["item"] == api(sanne).get(f"/api/v1/signals/{signal.pk}").json()


def test_a_signal_answers_its_usual_card_by_title_or_body(api, org, employee):
    author = UserFactory(organization=org, name="Piet Open")
    signal = voice.signal_create(author=author, kind="idea", title="Zonnepanelen op het dak", body="Scheelt stroom")
    client = api(employee)
    assert found(search(client, "zonnepanelen", type="signal")) == [("signal", signal.pk)]
    [result] = search(client, "stroom", type="signal")
    assert result["item"] == client.get(f"/api/v1/signals/{signal.pk}").json()
    assert result["item"]["author"]["id"] == author.pk
    assert signal.language == "nl"
    assert found(search(client, "Piet", type="signal")) == []  # a named author is not searched either: text only


def test_leaders_signals_are_invisible_to_employees(api, org):
    group = GroupFactory(organization=org)
    author = MembershipFactory(group=group, user=UserFactory(organization=org)).user
    colleague = MembershipFactory(group=group, user=UserFactory(organization=org)).user
    leader = MembershipFactory(group=group, user=UserFactory(organization=org, role="leader")).user
    admin = UserFactory(organization=org, role="admin")
    signal = voice.signal_create(
        author=author,
        kind="friction",
        title="Rooster",
        body="Vertrouwelijk pestgedrag",
        visibility="leaders",
        group_id=group.pk,
        anonymous=True,
    )
    assert search(api(colleague), "pestgedrag", type="signal") == []
    assert search(api(colleague), "pestgedrag") == []
    for user in (author, leader, admin):
        assert found(search(api(user), "pestgedrag", type="signal")) == [("signal", signal.pk)], user.role
        assert found(search(api(user), "pestgedrag", type="signal", group=group.pk)) == [("signal", signal.pk)]
    [result] = search(api(leader), "pestgedrag", type="signal")
    assert result["item"]["author"] is None  # a leader of the group does not learn who wrote it


def test_merged_and_hidden_signals_are_not_found_and_an_edit_is(api, org, admin_user, employee):
    leader = UserFactory(organization=org, role="leader")
    target = voice.signal_create(author=employee, kind="friction", title="Koffieautomaat kapot", body="Alweer")
    merged = voice.signal_create(author=UserFactory(organization=org), kind="friction", title="Koffieautomaat stuk", body="Sinds gisteren")
    signals_workflow.signal_merge(actor=leader, signal=merged, into=target)
    client = api(employee)
    assert found(search(client, "koffieautomaat", type="signal")) == [("signal", target.pk)]
    voice.signal_update(actor=employee, signal=target, body="Nu ook de melkopschuimer")
    assert found(search(client, "melkopschuimer", type="signal")) == [("signal", target.pk)]
    signals_workflow.signal_set_visibility(actor=admin_user, signal=Signal.objects.get(pk=target.pk), visible=False, reason="spam")
    assert search(client, "melkopschuimer", type="signal") == []
    assert search(api(admin_user), "melkopschuimer", type="signal") == []
