"""The feed services other apps build on: system posts (recognition, goals) and moderation's visibility switch."""

import pytest

from feed import services
from feed.cards import AUTHOR_RELATED, post_cards
from feed.models import Post, PostKind
from server.api.exceptions import NotAllowed, ValidationFailed
from tests.factories import GroupFactory, OrganizationFactory
from tests.feed.factories import PostFactory

pytestmark = pytest.mark.django_db


def test_system_post_renders_its_card_by_kind_and_emits_post_created(api, org, employee, group, member, events):
    card = {"id": 7, "value": {"name": "Service met een glimlach"}, "recipients": [{"id": member.pk, "name": member.name}]}
    post = services.post_create_system(author=employee, kind=PostKind.KUDOS, body="Dank je!", group_ids=[group.pk], card=card)
    rendered = api(member).get(f"/api/v1/posts/{post.pk}").json()
    assert rendered["kind"] == "kudos" and rendered["kudos"] == card
    assert rendered["award"] is None and rendered["goal"] is None and rendered["key_moment"] is None
    assert events[0]["type"] == "post.created" and events[0]["payload"]["kudos"] == card
    assert events[0]["group_ids"] == [group.pk]


@pytest.mark.parametrize(("kind", "slot"), [("award", "award"), ("goal_update", "goal"), ("key_moment", "key_moment")])
def test_each_system_kind_fills_its_slot(employee, kind, slot):
    # A key moment has its own key (issue #18, 7): it is not a goal.
    post = services.post_create_system(author=employee, kind=kind, body="", group_ids=None, card={"title": "x"})
    [card] = post_cards(posts=[post], viewer=employee)
    assert card[slot] == {"title": "x"}
    assert {key: card[key] for key in ("kudos", "award", "goal", "key_moment") if key != slot} == dict.fromkeys(
        {"kudos", "award", "goal", "key_moment"} - {slot}
    )


def test_system_post_checks_group_tenancy_and_kind(employee):
    foreign = GroupFactory(organization=OrganizationFactory())
    with pytest.raises(ValidationFailed):
        services.post_create_system(author=employee, kind="kudos", body="", group_ids=[foreign.pk], card={})
    with pytest.raises(ValueError):
        services.post_create_system(author=employee, kind="post", body="", group_ids=None, card={})


def test_draft_system_post_publishes_later(employee, events):
    post = services.post_create_system(author=employee, kind="award", body="", group_ids=None, card={}, publish=False)
    assert post.published_at is None and events == []
    assert services.post_publish_now(post=post) is True
    assert [e["type"] for e in events] == ["post.created"]


def test_post_cards_is_a_constant_number_of_queries(django_assert_num_queries, leader, employee):
    for _ in range(30):
        PostFactory(author=leader)
    posts = list(Post.objects.select_related(*AUTHOR_RELATED))
    with django_assert_num_queries(1):  # groups, images, reaction counts, comment counts, my reaction, my ack: one SELECT
        cards = post_cards(posts=posts, viewer=employee)
    assert len(cards) == 30
    with django_assert_num_queries(1):  # viewer-neutral (event payloads)
        post_cards(posts=posts, viewer=None)


def test_moderation_hides_and_restores_through_the_service(api, leader, employee, admin_user, events):
    post = PostFactory(author=leader)
    with pytest.raises(NotAllowed):
        services.post_set_visibility(actor=employee, post=post, visible=False, reason="no")
    services.post_set_visibility(actor=admin_user, post=post, visible=False, reason="reported 3 times")
    assert api(employee).get(f"/api/v1/posts/{post.pk}").status_code == 404
    assert api(admin_user).get(f"/api/v1/posts/{post.pk}").status_code == 200
    services.post_set_visibility(actor=None, post=post, visible=True, reason="")
    assert api(employee).get(f"/api/v1/posts/{post.pk}").status_code == 200
    assert [e["type"] for e in events] == ["post.deleted", "post.updated"]
    assert events[0]["payload"] == {"id": post.pk, "removed": True}
