"""The feed list and catch-up: order, cursor, pinned block, filters, query counts."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from feed import services
from feed.models import Acknowledgement, Comment, Post, PostGroup, PostImage, Reaction
from feed.selectors import feed as feed_selectors
from tests.factories import GroupFactory, MembershipFactory, UserFactory
from tests.feed.factories import PostFactory, group_post
from tests.media.factories import MediaFactory

pytestmark = pytest.mark.django_db


def ids(response):
    return [card["id"] for card in response.json()["results"]]


def test_newest_first_then_keyset_pages_without_duplicates_or_gaps_while_posts_arrive(api, leader, employee):
    base = timezone.now() - timedelta(hours=1)
    # Equal timestamps on purpose: id breaks the tie, so the cursor must carry both.
    old = [PostFactory(author=leader, published_at=base + timedelta(minutes=i // 2)) for i in range(25)]
    client = api(employee)
    first = client.get("/api/v1/feed", {"page_size": 10})
    assert ids(first) == [post.pk for post in reversed(old)][:10]

    seen = ids(first)
    next_url = first.json()["next"]
    arrived = []
    while next_url:
        arrived.append(PostFactory(author=leader))  # new posts land on top, never in the pages still to come
        page = client.get(next_url)
        seen += ids(page)
        next_url = page.json()["next"]
    assert seen == [post.pk for post in reversed(old)]
    assert len(set(seen)) == 25
    assert set(ids(client.get("/api/v1/feed", {"page_size": 100}))) == {p.pk for p in old + arrived}


def test_pages_carry_their_cursors_beside_the_links(api, leader, employee):
    # Issue #18, 6: a client that keeps its own base URL pages with `?cursor=` and never parses a link.
    posts = [PostFactory(author=leader) for _ in range(5)]
    client = api(employee)
    first = client.get("/api/v1/feed", {"page_size": 2}).json()
    assert first["previous_cursor"] is None and first["previous"] is None
    assert f"cursor={first['next_cursor']}" in first["next"]
    second = client.get("/api/v1/feed", {"page_size": 2, "cursor": first["next_cursor"]}).json()
    assert [card["id"] for card in second["results"]] == [posts[2].pk, posts[1].pk]
    assert f"cursor={second['previous_cursor']}" in second["previous"]
    back = client.get("/api/v1/feed", {"page_size": 2, "cursor": second["previous_cursor"]}).json()
    assert [card["id"] for card in back["results"]] == [card["id"] for card in first["results"]]
    last = client.get("/api/v1/feed", {"page_size": 2, "cursor": second["next_cursor"]}).json()
    assert [card["id"] for card in last["results"]] == [posts[0].pk]
    assert last["next_cursor"] is None and last["next"] is None


def test_pinned_posts_come_first_on_the_first_page_only(api, leader, employee):
    older = PostFactory(author=leader, published_at=timezone.now() - timedelta(days=3))
    posts = [PostFactory(author=leader) for _ in range(4)]
    services.post_pin(actor=leader, post=older, pinned=True)
    client = api(employee)
    first = client.get("/api/v1/feed", {"page_size": 2})
    assert ids(first) == [older.pk, posts[3].pk, posts[2].pk]
    assert first.json()["results"][0]["pinned"] is True
    second = client.get(first.json()["next"])
    assert ids(second) == [posts[1].pk, posts[0].pk]
    assert second.json()["next"] is None


def test_filter_by_group_and_kind(api, org, leader, group, member):
    other_group = GroupFactory(organization=org)
    MembershipFactory(group=other_group, user=member)
    in_group = group_post(group, author=leader)
    group_post(other_group, author=leader)
    announcement = PostFactory(author=leader, kind="announcement")
    client = api(member)
    assert ids(client.get("/api/v1/feed", {"group": group.pk})) == [in_group.pk]
    assert ids(client.get("/api/v1/feed", {"kind": "announcement"})) == [announcement.pk]
    assert client.get("/api/v1/feed", {"kind": "gossip"}).status_code == 400
    assert client.get("/api/v1/feed", {"group": "x"}).status_code == 400


def test_scheduled_removed_and_hidden_posts_stay_out_of_the_feed(api, leader, admin_user, employee):
    visible = PostFactory(author=leader)
    PostFactory(author=leader, published_at=None, publish_at=timezone.now() + timedelta(hours=1))
    PostFactory(author=leader, removed_at=timezone.now())
    hidden = PostFactory(author=leader)
    services.post_set_visibility(actor=admin_user, post=hidden, visible=False, reason="spam")
    assert ids(api(employee).get("/api/v1/feed")) == [visible.pk]


def _busy_feed(org, groups, count):
    """`count` posts, each with several groups, images, comments, reactions and acknowledgements."""
    people = [UserFactory(organization=org) for _ in range(3)]
    for index in range(count):
        author = people[index % 3]
        post = PostFactory(author=author, organization=org, org_wide=index % 2 == 0, requires_acknowledgement=True)
        if not post.org_wide:
            PostGroup.objects.bulk_create([PostGroup(post=post, group=group) for group in groups])
        Comment.objects.bulk_create([Comment(post=post, author=person, body="ok") for person in people])
        Reaction.objects.bulk_create(
            [Reaction(post=post, user=person, type=t) for person, t in zip(people, ["like", "heart", "clap"], strict=False)]
        )
        Acknowledgement.objects.create(post=post, user=people[0], acknowledged_at=timezone.now())
        PostImage.objects.bulk_create([PostImage(post=post, media=MediaFactory(owner=author), position=i) for i in range(2)])


@pytest.mark.parametrize("page_size", [1, 20, 50])
def test_feed_page_is_a_fixed_number_of_queries(api, org, leader, django_assert_num_queries, page_size):
    groups = [GroupFactory(organization=org) for _ in range(3)]
    for group in groups:
        MembershipFactory(group=group, user=leader)
    _busy_feed(org, groups, 52)  # the pinned one, a full page of 50 and one more
    services.post_pin(actor=leader, post=Post.objects.first(), pinned=True)
    client = api(leader)
    client.get("/api/v1/feed")  # the token's first use records last_used_at once
    # token+user, pinned block, posts page, card data (groups, images, counts, mine: feed.cards)
    with django_assert_num_queries(4):
        response = client.get("/api/v1/feed", {"page_size": page_size})
    results = response.json()["results"]
    assert len(results) == page_size + 1  # the pinned post on top of a full page
    card = results[1]
    assert card["comment_count"] == 3 and len(card["images"]) == 2
    assert card["reaction_counts"] == {"like": 1, "heart": 1, "clap": 1, "celebrate": 0, "insightful": 0}
    # later pages have no pinned block: one query fewer, still independent of size
    with django_assert_num_queries(3):
        assert len(client.get(response.json()["next"]).json()["results"]) == min(page_size, 51 - page_size)


# --- Catch-up -----------------------------------------------------------------------------------


@pytest.fixture
def no_settle(monkeypatch):
    monkeypatch.setattr(feed_selectors, "UPDATES_SETTLE", timedelta(0))


def test_updates_without_since_gives_only_a_cursor(api, employee, leader):
    PostFactory(author=leader)
    body = api(employee).get("/api/v1/feed/updates").json()
    assert body["results"] == [] and body["cursor"] and body["has_more"] is False


def test_updates_return_new_edited_and_removed_posts_in_order(api, leader, employee, group, no_settle):
    client = api(employee)
    untouched = PostFactory(author=leader)
    edited = PostFactory(author=leader)
    removed = PostFactory(author=leader)
    invisible = group_post(group, author=leader)
    cursor = client.get("/api/v1/feed/updates").json()["cursor"]

    services.post_update(actor=leader, post=edited, body="Edited while you were away")
    services.post_delete(actor=leader, post=removed)
    services.post_update(actor=leader, post=invisible, body="Not for you")
    created = services.post_create(author=leader, body="New one")

    body = client.get("/api/v1/feed/updates", {"since": cursor}).json()
    assert [item["id"] for item in body["results"]] == [edited.pk, removed.pk, created.pk]
    assert body["results"][0]["body"] == "Edited while you were away"
    assert body["results"][1] == {"id": removed.pk, "removed": True}
    assert untouched.pk not in [item["id"] for item in body["results"]]
    again = client.get("/api/v1/feed/updates", {"since": body["cursor"]}).json()
    assert again["results"] == []


def test_updates_report_hidden_posts_as_removed(api, leader, admin_user, employee, no_settle):
    post = PostFactory(author=leader)
    cursor = api(employee).get("/api/v1/feed/updates").json()["cursor"]
    services.post_set_visibility(actor=admin_user, post=post, visible=False, reason="off-topic")
    assert api(employee).get("/api/v1/feed/updates", {"since": cursor}).json()["results"] == [{"id": post.pk, "removed": True}]


def test_updates_page_through_many_changes(api, leader, employee, no_settle, monkeypatch):
    monkeypatch.setattr(feed_selectors, "UPDATES_LIMIT", 3)
    client = api(employee)
    cursor = client.get("/api/v1/feed/updates").json()["cursor"]
    posts = [services.post_create(author=leader, body=f"n{i}") for i in range(7)]
    collected = []
    while True:
        body = client.get("/api/v1/feed/updates", {"since": cursor}).json()
        collected += [item["id"] for item in body["results"]]
        cursor = body["cursor"]
        if not body["has_more"]:
            break
    assert collected == [post.pk for post in posts]


def cursor_minutes_ago(client, minutes=10):
    """The cursor a phone stored `minutes` ago (the current one sits at the settle horizon)."""
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() - timedelta(minutes=minutes)):
        return client.get("/api/v1/feed/updates").json()["cursor"]


def test_updates_hand_out_young_changes_but_keep_the_cursor_before_them(api, leader, employee):
    """A post committed a moment before the socket reopened (its frame went while the phone was
    away) is in the first catch-up: one call, no second one 6 s later (#26). The cursor stays
    before it, so a change stamped earlier but committed later is still found next time."""
    client = api(employee)
    cursor = cursor_minutes_ago(client)
    settled = services.post_create(author=leader, body="a minute ago")
    Post.objects.filter(pk=settled.pk).update(updated_at=timezone.now() - timedelta(minutes=1))
    young = services.post_create(author=leader, body="just now")

    body = client.get("/api/v1/feed/updates", {"since": cursor}).json()
    assert [item["id"] for item in body["results"]] == [settled.pk, young.pk]
    assert body["has_more"] is False and body["up_to_date"] is True
    # The young post is repeated by the next call (apply as an upsert); the settled one is not.
    again = client.get("/api/v1/feed/updates", {"since": body["cursor"]}).json()
    assert [item["id"] for item in again["results"]] == [young.pk] and again["up_to_date"] is True
    # A change stamped before the young post but committed only now is not skipped.
    late = services.post_create(author=leader, body="stamped early, committed late")
    Post.objects.filter(pk=late.pk).update(updated_at=Post.objects.get(pk=young.pk).updated_at - timedelta(milliseconds=1))
    later = client.get("/api/v1/feed/updates", {"since": body["cursor"]}).json()
    assert [item["id"] for item in later["results"]] == [late.pk, young.pk]


def test_updates_after_a_burst_of_young_changes_say_call_again_after_the_window(api, leader, employee, monkeypatch):
    monkeypatch.setattr(feed_selectors, "UPDATES_LIMIT", 3)
    client = api(employee)
    cursor = cursor_minutes_ago(client)
    old = services.post_create(author=leader, body="settled")
    Post.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(minutes=1))
    burst = [services.post_create(author=leader, body=f"burst {i}") for i in range(4)]

    body = client.get("/api/v1/feed/updates", {"since": cursor}).json()
    # A full page reaching into the young changes: not "more now", but not up to date either.
    assert [item["id"] for item in body["results"]] == [old.pk, burst[0].pk, burst[1].pk]
    assert body["has_more"] is False and body["up_to_date"] is False
    # After the window, from the stored cursor: the rest, paged, nothing lost.
    later = timezone.now() + timedelta(seconds=6)
    collected, cursor = [], body["cursor"]
    with mock.patch("django.utils.timezone.now", return_value=later):
        while True:
            page = client.get("/api/v1/feed/updates", {"since": cursor}).json()
            collected += [item["id"] for item in page["results"]]
            cursor = page["cursor"]
            if not page["has_more"]:
                break
    assert collected == [post.pk for post in burst] and page["up_to_date"] is True


def test_updates_with_a_full_page_of_settled_changes_say_more_now(api, leader, employee, monkeypatch):
    monkeypatch.setattr(feed_selectors, "UPDATES_LIMIT", 2)
    client = api(employee)
    cursor = cursor_minutes_ago(client)
    posts = [services.post_create(author=leader, body=f"n{i}") for i in range(3)]
    Post.objects.filter(pk__in=[post.pk for post in posts]).update(updated_at=timezone.now() - timedelta(minutes=1))
    body = client.get("/api/v1/feed/updates", {"since": cursor}).json()
    assert len(body["results"]) == 2 and body["has_more"] is True and body["up_to_date"] is False


def test_updates_cursor_must_be_valid(api, employee):
    response = api(employee).get("/api/v1/feed/updates", {"since": "not-a-cursor"})
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"since": ["Invalid cursor."]}
