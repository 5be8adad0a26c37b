"""A card, written out by hand, against what the feed, post detail and event payloads return.

The card data comes from one compiled query (feed.cards): JSON aggregates, ordered in SQL
on PostgreSQL and in Python on SQLite. This pins every field on both backends.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from feed import services
from feed.cards import post_card, post_cards
from feed.models import Acknowledgement, Comment, PostGroup, PostImage, Reaction
from media.models import MediaStatus
from tests.factories import GroupFactory, MembershipFactory, UserFactory
from tests.feed.factories import PostFactory, group_post
from tests.media.factories import MediaFactory

pytestmark = pytest.mark.django_db

PUBLISHED = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
ACKNOWLEDGED = datetime(2026, 3, 5, 8, 0, 0, 250000, tzinfo=UTC)
DEADLINE = datetime(2026, 3, 9, 17, 0, tzinfo=UTC)


@pytest.fixture
def scene(org, leader, group, member):
    """`member` sees a post to two groups (one theirs), with images, comments, reactions and their ack."""
    group.name, group.kind = "Zulu store", "location"
    group.save()
    alpha = GroupFactory(organization=org, name="Alpha team", kind="team")  # later id, earlier name
    secret = GroupFactory(organization=org, name="Secret team")
    colleagues = [UserFactory(organization=org) for _ in range(4)]
    MembershipFactory(group=alpha, user=colleagues[0])

    post = PostFactory(
        author=leader,
        org_wide=False,
        body="Inventory on Friday",
        kind="announcement",
        created_at=PUBLISHED,
        published_at=PUBLISHED,
        requires_acknowledgement=True,
        acknowledgement_deadline=DEADLINE,
    )
    PostGroup.objects.bulk_create([PostGroup(post=post, group=group), PostGroup(post=post, group=alpha)])
    ready = MediaFactory(
        owner=leader, status=MediaStatus.READY, thumbnail_path="t", large_path="l", variant_format="webp", blurhash="LEHV6nWB"
    )
    processing = [MediaFactory(owner=leader, width=0, height=0) for _ in range(2)]
    # Created out of order: the card follows position, not insertion or id.
    PostImage.objects.create(post=post, media=processing[0], position=2)
    PostImage.objects.create(post=post, media=ready, position=0)
    PostImage.objects.create(post=post, media=processing[1], position=1)

    Comment.objects.create(post=post, author=colleagues[0], body="Will do")
    Comment.objects.create(post=post, author=colleagues[1], body="OK")
    Comment.objects.create(post=post, author=colleagues[2], body="spam", hidden_at=timezone.now())
    Comment.objects.create(post=post, author=colleagues[3], body="oops", removed_at=timezone.now())
    Reaction.objects.create(post=post, user=member, type="heart")
    Reaction.objects.create(post=post, user=colleagues[0], type="like")
    Reaction.objects.create(post=post, user=colleagues[1], type="like")
    Reaction.objects.create(post=post, user=colleagues[2], type="clap")
    Acknowledgement.objects.create(post=post, user=member, acknowledged_at=ACKNOWLEDGED)
    Acknowledgement.objects.create(post=post, user=colleagues[0], acknowledged_at=ACKNOWLEDGED)

    not_for_member = group_post(secret, author=leader, body="Secret team only")
    older = PostFactory(author=leader, body="Last week", published_at=PUBLISHED - timedelta(days=7))
    pinned = PostFactory(author=leader, body="House rules", published_at=PUBLISHED - timedelta(days=30))
    services.post_pin(actor=leader, post=pinned, pinned=True)
    return {
        "post": post,
        "alpha": alpha,
        "ready": ready,
        "processing": processing,
        "secret": not_for_member,
        "pinned": pinned,
        "older": older,
    }


def expected_card(scene, leader, group) -> dict:
    post, ready, processing = scene["post"], scene["ready"], scene["processing"]
    return {
        "id": post.pk,
        "kind": "announcement",
        "author": {"id": leader.pk, "name": leader.name, "avatar": None},
        "body": "Inventory on Friday",
        "audience": "groups",
        "groups": [
            {"id": scene["alpha"].pk, "name": "Alpha team", "kind": "team"},
            {"id": group.pk, "name": "Zulu store", "kind": "location"},
        ],
        "images": [
            {
                "id": ready.pk,
                "status": "ready",
                "variants": {"thumbnail": f"/api/v1/media/{ready.pk}/thumbnail", "large": f"/api/v1/media/{ready.pk}/large"},
                "width": 40,
                "height": 30,
                "blurhash": "LEHV6nWB",
            },
            {"id": processing[1].pk, "status": "processing", "variants": None, "width": None, "height": None, "blurhash": None},
            {"id": processing[0].pk, "status": "processing", "variants": None, "width": None, "height": None, "blurhash": None},
        ],
        "created_at": "2026-03-04T05:06:07.891011Z",
        "publish_at": None,
        "published_at": "2026-03-04T05:06:07.891011Z",
        "edited_at": None,
        "pinned": False,
        "comment_count": 2,
        "reaction_counts": {"like": 2, "heart": 1, "clap": 1, "celebrate": 0, "insightful": 0},
        "my_reaction": "heart",
        "requires_acknowledgement": True,
        "acknowledgement_deadline": "2026-03-09T17:00:00Z",
        "acknowledged_by_me": True,
        "my_acknowledged_at": "2026-03-05T08:00:00.250000Z",
        "kudos": None,
        "award": None,
        "goal": None,
        "key_moment": None,
        "signal": None,
        "poll": None,
    }


def test_the_feed_card_is_the_hand_checked_card(api, scene, leader, group, member):
    first = api(member).get("/api/v1/feed", {"page_size": 1}).json()
    assert [card["id"] for card in first["results"]] == [scene["pinned"].pk, scene["post"].pk]
    assert first["results"][0]["pinned"] is True
    assert first["results"][1] == expected_card(scene, leader, group)
    # The same card, key order included (phones and event consumers see the same bytes).
    assert list(first["results"][1]) == list(expected_card(scene, leader, group))
    assert list(first["results"][1]["groups"][0]) == ["id", "name", "kind"]


def test_pinned_only_on_page_one_and_other_groups_posts_never(api, scene, member, admin_user):
    client = api(member)
    first = client.get("/api/v1/feed", {"page_size": 1}).json()
    rest = client.get(first["next"]).json()
    assert [card["id"] for card in rest["results"]] == [scene["older"].pk]  # the pinned post is not repeated below
    everything = [card["id"] for card in client.get("/api/v1/feed", {"page_size": 50}).json()["results"]]
    assert scene["secret"].pk not in everything
    assert client.get(f"/api/v1/posts/{scene['secret'].pk}").status_code == 404
    # An admin moderates, so they see the secret group's post, with its group.
    admin_cards = {card["id"]: card for card in api(admin_user).get("/api/v1/feed", {"page_size": 50}).json()["results"]}
    assert admin_cards[scene["secret"].pk]["groups"] == [{"id": scene["secret"].groups.get().pk, "name": "Secret team", "kind": "team"}]
    assert admin_cards[scene["post"].pk]["my_reaction"] is None and admin_cards[scene["post"].pk]["acknowledged_by_me"] is False


def test_detail_and_event_payload_are_the_same_card(api, scene, leader, group, member):
    expected = expected_card(scene, leader, group)
    assert api(member).get(f"/api/v1/posts/{scene['post'].pk}").json() == expected
    neutral = {**expected, "my_reaction": None, "acknowledged_by_me": False, "my_acknowledged_at": None}
    assert post_card(post=scene["post"], viewer=None) == neutral
    # Several posts at once keep their order and each its own data.
    cards = post_cards(posts=[scene["pinned"], scene["post"]], viewer=member)
    assert [card["id"] for card in cards] == [scene["pinned"].pk, scene["post"].pk]
    assert cards[1] == expected and cards[0]["groups"] == [] and cards[0]["images"] == [] and cards[0]["comment_count"] == 0
