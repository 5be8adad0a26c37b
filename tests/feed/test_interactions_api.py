"""Comments with mentions, reactions, acknowledgements, impressions and reach, through the API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from feed.models import Acknowledgement, Comment, PostSeen, Reaction
from notifications.models import OutboxEvent
from notifications.recipients import addressed_recipients
from tests.factories import AdminFactory, MembershipFactory, OrganizationFactory, UserFactory
from tests.feed.factories import CommentFactory, PostFactory, group_post

pytestmark = pytest.mark.django_db


# --- Comments and mentions --------------------------------------------------------------------


def test_comments_are_flat_oldest_first_and_counted_on_the_card(api, leader, employee):
    post = PostFactory(author=leader)
    client = api(employee)
    for text in ["first", "second", "third"]:
        assert client.post(f"/api/v1/posts/{post.pk}/comments", {"body": text}, format="json").status_code == 201
    page = client.get(f"/api/v1/posts/{post.pk}/comments").json()
    assert [comment["body"] for comment in page["results"]] == ["first", "second", "third"]
    assert page["results"][0]["author"]["id"] == employee.pk
    assert client.get(f"/api/v1/posts/{post.pk}").json()["comment_count"] == 3


def test_mentions_resolve_only_colleagues_who_can_see_the_post(api, org, group, member, leader, events):
    colleague_in_group = MembershipFactory(group=group).user
    colleague_outside = UserFactory(organization=org)
    stranger = UserFactory(organization=OrganizationFactory())
    post = group_post(group, author=leader)
    body = f"@[user:{colleague_in_group.pk}] @[user:{colleague_outside.pk}] @[user:{stranger.pk}] @[user:999999] kijk even"
    response = api(member).post(f"/api/v1/posts/{post.pk}/comments", {"body": body}, format="json")
    assert response.status_code == 201
    comment = response.json()
    assert [person["id"] for person in comment["mentions"]] == [colleague_in_group.pk]
    assert comment["body"] == body  # the text stays as written; the phone renders resolved mentions

    [event] = [e for e in events if e["type"] == "comment.created"]
    assert event["payload"] == comment
    assert event["group_ids"] == [group.pk]
    assert event["addressed"] == [
        {"user_id": colleague_in_group.pk, "reason": "mention"},
        {"user_id": leader.pk, "reason": "comment"},
    ]


def test_commenting_on_own_post_addresses_nobody(api, leader, events):
    post = PostFactory(author=leader)
    api(leader).post(f"/api/v1/posts/{post.pk}/comments", {"body": "adding context"}, format="json")
    assert events[-1]["addressed"] == []


def test_comment_body_rules_apply(api, leader):
    post = PostFactory(author=leader)
    response = api(leader).post(f"/api/v1/posts/{post.pk}/comments", {"body": "\u202eevil"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bidi_override"
    assert response.json()["error"]["fields"]["body"]


def test_comment_delete_by_author_or_admin(api, org, leader, employee, admin_user):
    post = PostFactory(author=leader)
    mine, theirs = CommentFactory(post=post, author=employee), CommentFactory(post=post, author=leader)
    assert api(employee).delete(f"/api/v1/comments/{theirs.pk}").status_code == 403
    assert api(employee).delete(f"/api/v1/comments/{mine.pk}").status_code == 204
    assert api(admin_user).delete(f"/api/v1/comments/{theirs.pk}").status_code == 204
    assert api(employee).get(f"/api/v1/posts/{post.pk}/comments").json()["results"] == []
    assert api(employee).delete(f"/api/v1/comments/{mine.pk}").status_code == 404


@pytest.mark.parametrize("count", [5, 50])
def test_comment_list_is_a_fixed_number_of_queries(api, org, leader, django_assert_num_queries, count):
    post = PostFactory(author=leader)
    people = [UserFactory(organization=org) for _ in range(5)]
    comments = Comment.objects.bulk_create([Comment(post=post, author=people[i % 5], body=f"c{i}") for i in range(count)])
    for comment in comments:
        comment.mentions.add(*people[:2])
    client = api(leader)
    client.get("/api/v1/me")
    # token+user, post access, comments page, mentions prefetch
    with django_assert_num_queries(4):
        response = client.get(f"/api/v1/posts/{post.pk}/comments", {"page_size": count})
    assert len(response.json()["results"]) == count
    assert len(response.json()["results"][0]["mentions"]) == 2


# --- Reactions ---------------------------------------------------------------------------------


def test_one_reaction_per_person_changeable_and_removable(api, leader, employee, events):
    post = PostFactory(author=leader)
    client = api(employee)
    card = client.put(f"/api/v1/posts/{post.pk}/reaction", {"type": "like"}, format="json").json()
    assert card["my_reaction"] == "like" and card["reaction_counts"]["like"] == 1
    card = client.put(f"/api/v1/posts/{post.pk}/reaction", {"type": "celebrate"}, format="json").json()
    assert card["my_reaction"] == "celebrate"
    assert card["reaction_counts"] == {"like": 0, "heart": 0, "clap": 0, "celebrate": 1, "insightful": 0}
    assert Reaction.objects.filter(post=post).count() == 1
    assert events[-1]["type"] == "reaction.updated" and events[-1]["payload"]["reaction_counts"]["celebrate"] == 1
    assert client.delete(f"/api/v1/posts/{post.pk}/reaction").status_code == 204
    assert client.get(f"/api/v1/posts/{post.pk}").json()["my_reaction"] is None
    assert client.put(f"/api/v1/posts/{post.pk}/reaction", {"type": "meh"}, format="json").status_code == 400


# --- Acknowledgement -------------------------------------------------------------------------------


def test_acknowledge_is_idempotent_and_tells_the_author_once(api, leader, employee, events):
    post = PostFactory(author=leader, kind="announcement", requires_acknowledgement=True)
    client = api(employee)
    first = client.post(f"/api/v1/posts/{post.pk}/acknowledge", {}, format="json")
    second = client.post(f"/api/v1/posts/{post.pk}/acknowledge", {}, format="json")
    assert first.status_code == second.status_code == 200
    assert first.json()["acknowledged_by_me"] is True
    assert first.json()["my_acknowledged_at"] == second.json()["my_acknowledged_at"]
    assert Acknowledgement.objects.filter(post=post).count() == 1
    acknowledged = [e for e in events if e["type"] == "announcement.acknowledged"]
    assert len(acknowledged) == 1 and acknowledged[0]["user_ids"] == [leader.pk]
    assert acknowledged[0]["payload"]["post_id"] == post.pk


def test_offline_acknowledgement_time_is_kept_within_publish_time_and_now(api, leader, employee):
    published = timezone.now() - timedelta(hours=3)
    post = PostFactory(author=leader, kind="announcement", requires_acknowledgement=True, published_at=published)
    tapped = published + timedelta(hours=1)
    api(employee).post(f"/api/v1/posts/{post.pk}/acknowledge", {"acknowledged_at": tapped.isoformat()}, format="json")
    assert Acknowledgement.objects.get(post=post, user=employee).acknowledged_at == tapped

    too_early, too_late = UserFactory(organization=leader.organization), UserFactory(organization=leader.organization)
    api(too_early).post(f"/api/v1/posts/{post.pk}/acknowledge", {"acknowledged_at": "2000-01-01T00:00:00Z"}, format="json")
    api(too_late).post(f"/api/v1/posts/{post.pk}/acknowledge", {"acknowledged_at": "2999-01-01T00:00:00Z"}, format="json")
    assert Acknowledgement.objects.get(user=too_early).acknowledged_at == published
    assert Acknowledgement.objects.get(user=too_late).acknowledged_at <= timezone.now()


def test_acknowledging_a_post_that_does_not_ask_for_it_is_a_400(api, leader, employee):
    post = PostFactory(author=leader)
    response = api(employee).post(f"/api/v1/posts/{post.pk}/acknowledge", {}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "acknowledgement_not_required"


def test_announcement_to_acknowledge_addresses_its_audience(api, group, member, leader, events):
    response = api(leader).post(
        "/api/v1/posts",
        {
            "body": "Nieuwe kassaprocedure, lees en bevestig",
            "kind": "announcement",
            "requires_acknowledgement": True,
            "group_ids": [group.pk],
        },
        format="json",
    )
    assert response.status_code == 201
    # The request does not list the audience (100,000 people at company scale): the worker resolves it.
    assert events[0]["addressed"] == []
    event = OutboxEvent.objects.get(type="post.created")
    assert addressed_recipients(event=event) == {member.pk: "announcement"}


# --- Seen and reach --------------------------------------------------------------------------------


def test_seen_batches_are_idempotent_and_skip_posts_the_user_cannot_see(api, leader, group, employee):
    visible, hidden = PostFactory(author=leader), group_post(group, author=leader)
    client = api(employee)
    for _ in range(2):
        assert client.post("/api/v1/posts/seen", {"ids": [visible.pk, hidden.pk, 987654]}, format="json").status_code == 204
    assert list(PostSeen.objects.values_list("post_id", "user_id")) == [(visible.pk, employee.pk)]
    assert client.post("/api/v1/posts/seen", {"ids": list(range(201))}, format="json").status_code == 400


def test_reach_counts_the_audience_at_publish_time_and_newcomers_who_read_it(api, org, group, leader, employee):
    MembershipFactory(group=group, user=leader)  # the author is not in their own audience
    early = [MembershipFactory(group=group).user for _ in range(3)]
    post = group_post(group, author=leader, kind="announcement", requires_acknowledgement=True)
    late = MembershipFactory(group=group).user  # joined after publishing: counted once they acknowledge
    MembershipFactory(group=group)  # joined after publishing and never opened it: not in the audience
    api(early[1]).post("/api/v1/posts/seen", {"ids": [post.pk]}, format="json")
    # Acknowledged without the impression reported first: it counts as seen, at once.
    api(early[0]).post(f"/api/v1/posts/{post.pk}/acknowledge", {}, format="json")
    api(late).post(f"/api/v1/posts/{post.pk}/acknowledge", {}, format="json")

    response = api(leader).get(f"/api/v1/posts/{post.pk}/reach")
    assert response.status_code == 200
    assert response.json() == {
        "audience_count": 4,
        "seen_count": 3,
        "acknowledged_count": 2,
        "by_group": [
            {
                "group": {"id": group.pk, "name": group.name, "kind": group.kind},
                "audience_count": 4,
                "seen_count": 3,
                "acknowledged_count": 2,
            }
        ],
    }
    assert api(early[0]).get(f"/api/v1/posts/{post.pk}/reach").status_code == 403


@pytest.mark.parametrize("people", [5, 40])
def test_reach_is_a_fixed_number_of_queries(api, org, leader, django_assert_num_queries, people):
    # The audience is who had joined when the post was published: a publication time well after
    # the users below are created keeps them in it however slow the machine is.
    post = PostFactory(author=leader, published_at=timezone.now() + timedelta(minutes=10))
    staff = [UserFactory(organization=org) for _ in range(people)]
    PostSeen.objects.bulk_create([PostSeen(post=post, user=person) for person in staff])
    client = api(leader)
    client.get("/api/v1/me")
    # token+user, post access, totals, by group
    with django_assert_num_queries(4):
        body = client.get(f"/api/v1/posts/{post.pk}/reach").json()
    assert body["audience_count"] == people and body["seen_count"] == people  # the author is not in it


def test_admin_of_another_organisation_gets_404_on_reach(api, leader):
    post = PostFactory(author=leader)
    assert api(AdminFactory(organization=OrganizationFactory())).get(f"/api/v1/posts/{post.pk}/reach").status_code == 404


def test_the_worker_addresses_the_audience_as_it_was_when_the_announcement_was_published(
    api, group, member, leader, django_capture_on_commit_callbacks
):
    from notifications.models import Notification

    MembershipFactory(group=group, user=leader)
    mentioned = MembershipFactory(group=group).user
    outsider = UserFactory(organization=leader.organization)
    body = f"@[user:{mentioned.pk}] @[user:{outsider.pk}] @[user:{leader.pk}] lees en bevestig"
    with django_capture_on_commit_callbacks() as after_commit:
        response = api(leader).post(
            "/api/v1/posts",
            {"body": body, "kind": "announcement", "requires_acknowledgement": True, "group_ids": [group.pk]},
            format="json",
        )
    assert response.status_code == 201
    late_joiner = MembershipFactory(group=group).user  # joins before the worker runs, after publishing
    for callback in after_commit:
        callback()
    event = OutboxEvent.objects.get(type="post.created")
    assert event.delivered_at is not None
    # Announcement wins over the mention; the author, the outsider and the late joiner are not addressed.
    assert dict(Notification.objects.filter(event_id=event.pk).values_list("recipient_id", "reason")) == {
        member.pk: "announcement",
        mentioned.pk: "announcement",
    }
    assert late_joiner.pk not in addressed_recipients(event=event)


def test_a_mention_in_a_post_addresses_only_people_who_can_see_it(api, group, member, leader, django_capture_on_commit_callbacks):
    from notifications.models import Notification

    outsider = UserFactory(organization=leader.organization)
    stranger = UserFactory(organization=OrganizationFactory())
    body = f"@[user:{member.pk}] @[user:{outsider.pk}] @[user:{stranger.pk}] @[user:{leader.pk}] @[user:999999] kijk"
    with django_capture_on_commit_callbacks(execute=True):
        response = api(leader).post("/api/v1/posts", {"body": body, "group_ids": [group.pk]}, format="json")
    assert response.status_code == 201
    assert list(Notification.objects.values_list("recipient_id", "reason")) == [(member.pk, "mention")]
