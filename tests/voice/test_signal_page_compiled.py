"""The signal list's page runs SQL compiled once per shape (voice.selectors.signals.signal_page):
for every role, filter, sort and cursor direction it returns what the ORM's signal_list returns,
and a shape compiled for one viewer never answers with another viewer's values."""

from __future__ import annotations

import itertools

import pytest

from accounts.models import MembershipRole
from feed.services import goals
from server.api.pagination import keyset_filter, parse_ordering
from tests.factories import AdminFactory, GroupFactory, MembershipFactory, UserFactory
from voice.models import Signal, SignalSupport
from voice.selectors import signals as selectors
from voice.services import signals as services

pytestmark = pytest.mark.django_db


def orm_page(*, user, filters, sort, cursor, reverse, limit):
    rows = selectors.signal_list(user=user, filters=filters, sort=sort)
    if cursor is not None:
        rows = rows.filter(keyset_filter(parse_ordering(selectors.SORTS[sort]), cursor, after=not reverse))
    if reverse:
        rows = rows.reverse()
    return [signal.pk for signal in rows[:limit]]


@pytest.fixture
def world(org, store):
    other = GroupFactory(organization=org, name="Store Gouda", kind="location")
    MembershipFactory(group=other, user=store["colleague"])
    manager = store["manager"]
    key_moment = goals.key_moment_create(actor=manager, title="Check-in", description="d", expected_behaviour="e")
    signals = []
    for n in range(10):
        author = (store["staff"], store["colleague"])[n % 2]
        signals.append(
            services.signal_create(
                author=author,
                kind=("friction", "idea")[n % 2],
                title=f"Signal number {n}",
                body="Something keeps coming back",
                visibility=("organization", "leaders")[n % 3 == 0],
                anonymous=n % 4 == 0,
                key_moment_id=key_moment.pk if n % 3 else None,
                group_id=(store["group"].pk, other.pk, None)[n % 3] if author == store["colleague"] or n % 3 != 1 else None,
            )
        )
    for n, signal in enumerate(signals):
        Signal.objects.filter(pk=signal.pk).update(support_count=n % 3)
    for signal in signals[::3]:
        SignalSupport.objects.get_or_create(organization=org, signal=signal, user=store["colleague"])
    MembershipFactory(group=other, user=UserFactory(organization=org, role="leader"), role=MembershipRole.MANAGER)
    return {"key_moment": key_moment, "group": store["group"], "signals": signals}


def test_every_shape_answers_as_the_orm(org, store, world, leader):
    admin = AdminFactory(organization=org)
    viewers = [store["staff"], store["colleague"], store["manager"], leader, admin]
    value_filters = [
        selectors.SignalFilters(),
        selectors.SignalFilters(kind="idea"),
        selectors.SignalFilters(status="open", key_moment_id=world["key_moment"].pk),
        selectors.SignalFilters(group_id=world["group"].pk),
    ]
    yes_no = ["mine", "supported", "assigned_to_me", "unassigned"]
    checked = 0
    for viewer, sort in itertools.product(viewers, selectors.SORTS):
        shapes = list(value_filters) + [selectors.SignalFilters(**{name: answer}) for name in yes_no for answer in (True, False)]
        for filters in shapes:
            first = selectors.signal_page(user=viewer, filters=filters, sort=sort, cursor=None, reverse=False, limit=4)
            assert [s.pk for s in first] == orm_page(user=viewer, filters=filters, sort=sort, cursor=None, reverse=False, limit=4)
            if len(first) > 1:
                anchor = first[1]
                cursor = [anchor.created_at if sort == "recent" else anchor.support_count, anchor.pk]
                for reverse in (False, True):
                    page = selectors.signal_page(user=viewer, filters=filters, sort=sort, cursor=cursor, reverse=reverse, limit=4)
                    expected = orm_page(user=viewer, filters=filters, sort=sort, cursor=cursor, reverse=reverse, limit=4)
                    assert [s.pk for s in page] == expected
                    checked += 1
            # The instances carry what the cards read, as the ORM's would.
            for signal in first:
                assert signal.author.name and (signal.group is None or signal.group.name)
    assert checked > 50


def test_a_shape_compiled_for_one_viewer_answers_another_with_their_own_values(org, store, world):
    filters = selectors.SignalFilters(mine=True)
    staff = selectors.signal_page(user=store["staff"], filters=filters, sort="recent", cursor=None, reverse=False, limit=50)
    colleague = selectors.signal_page(user=store["colleague"], filters=filters, sort="recent", cursor=None, reverse=False, limit=50)
    assert staff and colleague
    assert {s.author_id for s in staff} == {store["staff"].pk}
    assert {s.author_id for s in colleague} == {store["colleague"].pk}
