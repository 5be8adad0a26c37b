"""Who reacted, editing a comment, and replies one level deep (#22)."""

import pytest

from feed import services
from feed.models import CommentMention
from tests.factories import AdminFactory, GroupFactory, MembershipFactory, UserFactory
from tests.feed.factories import group_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(leader):
    return services.post_create(author=leader, body="We hit our target!")


# --- Who reacted ----------------------------------------------------------------------------------


def test_who_reacted_newest_first_and_by_type(api, org, post):
    people = [UserFactory(organization=org) for _ in range(3)]
    for person, kind in zip(people, ["like", "heart", "like"], strict=True):
        services.reaction_set(user=person, post=post, reaction_type=kind)
    client = api(UserFactory(organization=org))
    rows = client.get(f"/api/v1/posts/{post.pk}/reactions").json()["results"]
    assert [(row["user"]["id"], row["type"]) for row in rows] == [(people[2].pk, "like"), (people[1].pk, "heart"), (people[0].pk, "like")]
    assert rows[0]["user"] == {"id": people[2].pk, "name": people[2].name, "avatar": None} and rows[0]["created_at"]
    likes = client.get(f"/api/v1/posts/{post.pk}/reactions", {"type": "like"}).json()["results"]
    assert [row["user"]["id"] for row in likes] == [people[2].pk, people[0].pk]
    assert client.get(f"/api/v1/posts/{post.pk}/reactions", {"type": "boo"}).status_code == 400


def test_who_reacted_is_for_the_posts_audience_only(api, org, group, member):
    post = group_post(group, author=member)
    services.reaction_set(user=member, post=post, reaction_type="clap")
    assert api(member).get(f"/api/v1/posts/{post.pk}/reactions").status_code == 200
    assert api(UserFactory(organization=org)).get(f"/api/v1/posts/{post.pk}/reactions").status_code == 404
    assert api(AdminFactory()).get(f"/api/v1/posts/{post.pk}/reactions").status_code == 404


@pytest.mark.parametrize("page_size", [2, 20])
def test_who_reacted_is_a_fixed_number_of_queries(api, org, post, django_assert_num_queries, page_size):
    for _ in range(21):
        services.reaction_set(user=UserFactory(organization=org), post=post, reaction_type="heart")
    client = api(UserFactory(organization=org))
    client.get("/api/v1/me")
    # The token; the post (access); the page of reactions with people and avatars.
    with django_assert_num_queries(3):
        response = client.get(f"/api/v1/posts/{post.pk}/reactions", {"page_size": page_size})
    assert len(response.json()["results"]) == page_size


# --- Editing a comment ----------------------------------------------------------------------------


def test_the_author_edits_a_comment_and_new_mentions_are_notified(api, org, post, employee, events):
    first, second = UserFactory(organization=org), UserFactory(organization=org)
    comment = services.comment_create(author=employee, post=post, body=f"Ask @[user:{first.pk}]")
    events.clear()
    response = api(employee).patch(f"/api/v1/comments/{comment.pk}", {"body": f"Ask @[user:{second.pk}]"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["edited_at"] and [person["id"] for person in body["mentions"]] == [second.pk]
    [event] = events
    assert event["type"] == "comment.updated" and event["payload"] == body and event["org_wide"] is True
    assert event["addressed"] == [{"user_id": second.pk, "reason": "mention"}]
    assert list(CommentMention.objects.filter(comment=comment).values_list("user_id", flat=True)) == [second.pk]
    listed = api(employee).get(f"/api/v1/posts/{post.pk}/comments").json()["results"]
    assert listed[0]["body"] == f"Ask @[user:{second.pk}]" and listed[0]["edited_at"]


def test_only_the_author_edits_a_comment_and_the_text_rules_apply(api, org, post, employee):
    comment = services.comment_create(author=employee, post=post, body="Mooi!")
    for other in (AdminFactory(organization=org), UserFactory(organization=org)):
        assert api(other).patch(f"/api/v1/comments/{comment.pk}", {"body": "Changed"}, format="json").status_code == 403
    assert api(employee).patch(f"/api/v1/comments/{comment.pk}", {"body": " "}, format="json").status_code == 400
    assert api(AdminFactory()).patch(f"/api/v1/comments/{comment.pk}", {"body": "x"}, format="json").status_code == 404


def test_a_muted_author_cannot_edit(api, post, employee):
    from datetime import timedelta

    from django.utils import timezone

    comment = services.comment_create(author=employee, post=post, body="Mooi!")
    employee.muted_until = timezone.now() + timedelta(days=1)
    employee.save()
    response = api(employee).patch(f"/api/v1/comments/{comment.pk}", {"body": "Nog mooier"}, format="json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "muted"


# --- Replies --------------------------------------------------------------------------------------


def test_a_reply_names_its_parent_and_notifies_the_parents_author(api, org, post, employee, events):
    comment = services.comment_create(author=employee, post=post, body="Wie helpt zaterdag?")
    colleague = UserFactory(organization=org)
    events.clear()
    response = api(colleague).post(f"/api/v1/posts/{post.pk}/comments", {"body": "Ik!", "parent_id": comment.pk}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["parent_id"] == comment.pk
    [event] = events
    assert event["type"] == "comment.created" and event["payload"]["parent_id"] == comment.pk
    assert {"user_id": employee.pk, "reason": "reply"} in event["addressed"]
    listed = api(employee).get(f"/api/v1/posts/{post.pk}/comments").json()["results"]
    assert [(row["id"], row["parent_id"]) for row in listed] == [(comment.pk, None), (response.json()["id"], comment.pk)]


def test_a_reply_to_a_reply_is_a_400(api, org, post, employee):
    comment = services.comment_create(author=employee, post=post, body="Wie helpt zaterdag?")
    reply = services.comment_create(author=UserFactory(organization=org), post=post, body="Ik!", parent_id=comment.pk)
    response = api(employee).post(f"/api/v1/posts/{post.pk}/comments", {"body": "Top", "parent_id": reply.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "reply_to_reply" and "parent_id" in response.json()["error"]["fields"]


def test_a_reply_to_another_posts_comment_is_a_400(api, org, leader, post, employee):
    elsewhere = services.post_create(author=leader, body="Other")
    comment = services.comment_create(author=employee, post=elsewhere, body="Hier")
    response = api(employee).post(f"/api/v1/posts/{post.pk}/comments", {"body": "Top", "parent_id": comment.pk}, format="json")
    assert response.status_code == 400 and "parent_id" in response.json()["error"]["fields"]


def test_the_comment_list_keeps_a_fixed_query_count_with_replies(api, org, django_assert_num_queries):
    group = GroupFactory(organization=org)
    author = MembershipFactory(group=group).user
    post = services.post_create(author=author, body="Hoi", group_ids=[group.pk])
    first = services.comment_create(author=author, post=post, body="Eerste")
    for index in range(5):
        services.comment_create(author=author, post=post, body=f"Antwoord {index}", parent_id=first.pk)
    client = api(author)
    client.get("/api/v1/me")
    with django_assert_num_queries(4):  # token, post, comments with authors, mentions
        assert len(client.get(f"/api/v1/posts/{post.pk}/comments").json()["results"]) == 6
