"""Feed filters apps need: `author`, and `unacknowledged=true`, my to-do list of announcements (#22)."""

import pytest

from feed import selectors, services
from tests.factories import AdminFactory, GroupFactory, LeaderFactory, MembershipFactory, UserFactory
from tests.feed.test_feed_compiled import orm_page, pks, two_companies  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


def ids(client, **params):
    response = client.get("/api/v1/feed", params)
    assert response.status_code == 200, response.content
    return [card["id"] for card in response.json()["results"]]


def test_author_shows_one_colleagues_posts(api, org, leader, employee):
    other = LeaderFactory(organization=org)
    mine = services.post_create(author=leader, body="Mine")
    services.post_create(author=other, body="Theirs")
    pinned = services.post_create(author=leader, body="Pinned")
    services.post_pin(actor=leader, post=pinned, pinned=True)
    assert ids(api(employee), author=leader.pk) == [pinned.pk, mine.pk]
    assert ids(api(employee), author=UserFactory().pk) == []  # another organisation's person: nothing, not an error
    assert api(employee).get("/api/v1/feed", {"author": "x"}).status_code == 400


def test_unacknowledged_is_my_to_do_list(api, org, leader, group, member):
    todo = services.post_create(author=leader, body="Lees dit", kind="announcement", requires_acknowledgement=True)
    done = services.post_create(author=leader, body="Gelezen", kind="announcement", requires_acknowledgement=True)
    services.post_acknowledge(user=member, post=done)
    group_todo = services.post_create(author=leader, body="Team", kind="announcement", requires_acknowledgement=True, group_ids=[group.pk])
    services.post_create(author=leader, body="Gewoon nieuws", kind="announcement")
    other_group = GroupFactory(organization=org)
    services.post_create(
        author=leader, body="Niet voor jou", kind="announcement", requires_acknowledgement=True, group_ids=[other_group.pk]
    )
    assert ids(api(member), unacknowledged="true") == [group_todo.pk, todo.pk]
    assert ids(api(leader), unacknowledged="true") == []  # my own announcements are not on my list
    # An admin sees every post, but their to-do list holds only what is addressed to them.
    admin = AdminFactory(organization=org)
    assert ids(api(admin), unacknowledged="true") == [done.pk, todo.pk]
    assert len(ids(api(member), unacknowledged="false")) == 4
    assert api(member).get("/api/v1/feed", {"unacknowledged": "maybe"}).status_code == 400


def test_filters_combine(api, org, leader, group, member):
    other = LeaderFactory(organization=org)
    services.post_create(author=other, body="Lees", kind="announcement", requires_acknowledgement=True)
    mine = services.post_create(author=leader, body="Lees", kind="announcement", requires_acknowledgement=True, group_ids=[group.pk])
    assert ids(api(member), unacknowledged="true", author=leader.pk, group=group.pk) == [mine.pk]


@pytest.mark.parametrize("page_size", [2, 20])
def test_the_to_do_list_is_a_fixed_number_of_queries(api, org, leader, django_assert_num_queries, page_size):
    group = GroupFactory(organization=org)
    member = MembershipFactory(group=group).user
    for index in range(21):
        services.post_create(
            author=leader,
            body=f"Lees {index}",
            kind="announcement",
            requires_acknowledgement=True,
            group_ids=[group.pk] if index % 2 else None,
        )
    client = api(member)
    client.get("/api/v1/me")
    with django_assert_num_queries(4):  # token, pinned block, page, cards
        response = client.get("/api/v1/feed", {"unacknowledged": "true", "author": leader.pk, "page_size": page_size})
    assert len(response.json()["results"]) == page_size


def test_compiled_filters_match_the_querysets(two_companies):  # noqa: F811
    for company in two_companies:
        services.post_acknowledge(
            user=company["members"][0], post=services.post_create(author=company["leader"], body="x", requires_acknowledgement=True)
        )
        services.post_create(author=company["leader"], body="y", requires_acknowledgement=True, group_ids=[company["groups"][1].pk])
        for user in [company["leader"], company["admin"], company["loner"], *company["members"]]:
            for author_id in (None, company["leader"].pk, user.pk):
                for unacknowledged in (False, True):
                    filters = {"author_id": author_id, "unacknowledged": unacknowledged}
                    page = selectors.feed_page(user=user, **filters, cursor=None, reverse=False, limit=50)
                    expected = list(selectors.feed_list(user=user, **filters)[:50])
                    assert pks(page) == pks(expected)
                    pinned = selectors.feed_pinned(user=user, **filters)
                    orm_pinned = selectors.feed_visible(user=user, **filters).filter(pinned=True).order_by("-pinned_at", "-id")
                    assert pks(pinned) == pks(orm_pinned)
