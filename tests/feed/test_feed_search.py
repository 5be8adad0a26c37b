"""GET /api/v1/feed?q=: the feed narrowed to posts whose text matches, as search matches posts,
in the feed's order with its pagination and its other filters (#22)."""

import pytest

from feed import services
from tests.factories import GroupFactory, MembershipFactory, UserFactory
from tests.feed.factories import PostFactory

pytestmark = pytest.mark.django_db


def ids(client, **params):
    response = client.get("/api/v1/feed", params)
    assert response.status_code == 200, response.content
    return [card["id"] for card in response.json()["results"]]


def test_q_keeps_the_matching_posts_in_feed_order_pinned_on_top(api, org, leader, employee):
    old = services.post_create(author=leader, body="Het retourbeleid verandert")
    services.post_create(author=leader, body="Iets anders")
    new = services.post_create(author=leader, body="Nog eens over het retourbeleid en de kassa")
    pinned = services.post_create(author=leader, body="Retourbeleid: lees dit")
    services.post_pin(actor=leader, post=pinned, pinned=True)
    other_pin = services.post_create(author=leader, body="Rooster")
    services.post_pin(actor=leader, post=other_pin, pinned=True)
    client = api(employee)
    assert ids(client, q="retourbeleid") == [pinned.pk, new.pk, old.pk]
    assert ids(client, q="retourbeleid -kassa") == [pinned.pk, old.pk]
    assert ids(client, q='"retourbeleid en de kassa"') == [new.pk]
    assert ids(client, q="retourbeleid or rooster") == [other_pin.pk, pinned.pk, new.pk, old.pk]
    assert ids(client, q="onbekendwoord") == []
    assert len(ids(client, q="  ")) == 5  # blank: no filter, like an empty `kind`
    response = client.get("/api/v1/feed", {"q": "x" * 201})
    assert response.status_code == 400 and "q" in response.json()["error"]["fields"]


def test_q_respects_the_audience_and_combines_with_the_other_filters(api, org, leader):
    group = GroupFactory(organization=org)
    member = MembershipFactory(group=group, user=UserFactory(organization=org)).user
    outsider = UserFactory(organization=org)
    in_group = services.post_create(author=leader, body="Voorraad telling", group_ids=[group.pk])
    everyone = services.post_create(author=leader, body="Voorraad telling voor iedereen", kind="announcement")
    services.post_create(author=UserFactory(organization=org, role="leader"), body="Voorraad elders")
    services.post_create(author=UserFactory(role="leader"), body="Voorraad in een ander bedrijf")
    assert ids(api(outsider), q="voorraad telling") == [everyone.pk]
    assert ids(api(member), q="voorraad telling") == [everyone.pk, in_group.pk]
    assert ids(api(member), q="voorraad", group=group.pk) == [in_group.pk]
    assert ids(api(member), q="voorraad", kind="announcement") == [everyone.pk]
    assert ids(api(member), q="voorraad", author=leader.pk) == [everyone.pk, in_group.pk]


def test_q_pages_without_duplicates_or_gaps(api, org, leader, employee):
    made = [PostFactory(author=leader, body=f"Inventaris week {n}").pk for n in range(7)]
    PostFactory(author=leader, body="Iets anders")
    client = api(employee)
    response = client.get("/api/v1/feed", {"q": "inventaris", "page_size": 3})
    pages = [[card["id"] for card in response.json()["results"]]]
    while response.json()["next"]:
        assert "q=inventaris" in response.json()["next"]
        response = client.get(response.json()["next"])
        pages.append([card["id"] for card in response.json()["results"]])
    assert [len(page) for page in pages] == [3, 3, 1]
    assert [pk for page in pages for pk in page] == sorted(made, reverse=True)
    back = client.get(response.json()["previous"])
    assert [card["id"] for card in back.json()["results"]] == pages[1]


@pytest.mark.parametrize("page_size", [2, 20])
def test_q_is_a_fixed_number_of_queries(api, org, leader, employee, django_assert_num_queries, page_size):
    for n in range(21):
        services.post_create(author=leader, body=f"Schoonmaak ronde {n}")
    client = api(employee)
    client.get("/api/v1/me")
    with django_assert_num_queries(4):  # token, pinned block, page, cards
        response = client.get("/api/v1/feed", {"q": "schoonmaak", "page_size": page_size})
    assert len(response.json()["results"]) == page_size
