"""Posts through the API: who may post where, body rules, edit, delete, visibility, events."""

import pytest

from feed.models import Post
from tests.factories import AdminFactory, GroupFactory, MembershipFactory, OrganizationFactory, UserFactory
from tests.feed.factories import PostFactory, group_post

pytestmark = pytest.mark.django_db


def create(client, **body):
    body.setdefault("body", "Goedemorgen team")
    return client.post("/api/v1/posts", body, format="json")


# --- Posting rights --------------------------------------------------------------------------


def test_leader_posts_to_the_whole_organisation(api, leader, events):
    response = create(api(leader), body="Welcome to the new season")
    assert response.status_code == 201
    card = response.json()
    assert card["audience"] == "organization" and card["groups"] == [] and card["published_at"]
    assert card["author"] == {"id": leader.pk, "name": leader.name, "avatar": None}
    [event] = events
    assert event["type"] == "post.created" and event["org_wide"] is True and event["payload"] == card


def test_employee_may_not_post_org_wide_unless_the_organisation_opened_it(api, employee):
    response = create(api(employee))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_allowed"
    employee.organization.org_wide_posting_open = True
    employee.organization.save()
    assert create(api(employee)).status_code == 201


def test_member_posts_in_own_group_that_allows_it(api, group, member, events):
    response = create(api(member), group_ids=[group.pk])
    assert response.status_code == 201
    assert response.json()["groups"] == [{"id": group.pk, "name": group.name, "kind": group.kind}]
    assert events[0]["group_ids"] == [group.pk] and not events[0].get("org_wide")


def test_employee_may_not_post_in_a_group_they_are_not_in(api, employee, group):
    assert create(api(employee), group_ids=[group.pk]).status_code == 403


def test_closed_group_only_managers_post(api, org):
    closed = GroupFactory(organization=org, allow_member_posts=False)
    member = MembershipFactory(group=closed).user
    manager = MembershipFactory(group=closed, role="manager").user
    assert create(api(member), group_ids=[closed.pk]).status_code == 403
    assert create(api(manager), group_ids=[closed.pk]).status_code == 201


@pytest.mark.parametrize(
    "extra",
    [{"kind": "announcement"}, {"requires_acknowledgement": True}, {"publish_at": "2099-01-01T08:00:00Z"}],
    ids=["announcement", "acknowledgement", "schedule"],
)
def test_announcements_acknowledgement_and_scheduling_are_for_leaders(api, group, member, leader, extra):
    response = create(api(member), group_ids=[group.pk], **extra)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_allowed"
    assert create(api(leader), group_ids=[group.pk], **extra).status_code == 201


def test_system_kinds_cannot_be_posted_directly(api, leader):
    response = create(api(leader), kind="kudos")
    assert response.status_code == 400
    assert "kind" in response.json()["error"]["fields"]


def test_another_organisations_group_is_a_400_on_group_ids(api, leader):
    foreign = GroupFactory(organization=OrganizationFactory())
    response = create(api(leader), group_ids=[foreign.pk])
    assert response.status_code == 400
    assert "group_ids" in response.json()["error"]["fields"]
    assert not Post.objects.exists()


# --- Body rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("", "empty"),
        ("   \n ", "empty"),
        ("x" * 5001, "too_long"),
        ("👍🏽" * 5001, "too_long"),
        ("hello\x00world", "nul_character"),
        ("price \u202e0001\u202c euro", "bidi_override"),
        ("isolate \u2067x\u2069", "bidi_override"),
    ],
    ids=["empty", "blank", "too-long", "too-long-graphemes", "nul", "bidi-override", "bidi-isolate"],
)
def test_body_rules_answer_with_the_error_envelope(api, leader, body, code):
    response = create(api(leader), body=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"] and error["fields"]["body"] == [error["message"]]


def test_body_counts_grapheme_clusters_not_code_points(api, leader):
    # 5,000 thumbs-up with a skin tone: 10,000 code points, 5,000 characters on screen.
    response = create(api(leader), body="👍🏽" * 5000)
    assert response.status_code == 201
    assert create(api(leader), body="Dag \u200fשלום\u200e allemaal").status_code == 201  # implicit marks are fine


# --- Visibility ------------------------------------------------------------------------------


def test_group_post_is_invisible_to_non_members_everywhere(api, org, group, member, employee):
    post = group_post(group, author=member)
    outsider = api(employee)
    assert outsider.get("/api/v1/feed").json()["results"] == []
    for method, path, body in [
        ("get", f"/api/v1/posts/{post.pk}", None),
        ("get", f"/api/v1/posts/{post.pk}/comments", None),
        ("post", f"/api/v1/posts/{post.pk}/comments", {"body": "hi"}),
        ("put", f"/api/v1/posts/{post.pk}/reaction", {"type": "like"}),
        ("delete", f"/api/v1/posts/{post.pk}/reaction", None),
        ("post", f"/api/v1/posts/{post.pk}/acknowledge", {}),
    ]:
        response = getattr(outsider, method)(path, body, format="json")
        assert response.status_code == 404, (method, path)
        assert response.json()["error"]["code"] == "not_found"
    insider = api(member)
    assert [card["id"] for card in insider.get("/api/v1/feed").json()["results"]] == [post.pk]
    assert insider.get(f"/api/v1/posts/{post.pk}").status_code == 200


def test_another_organisations_post_is_404_even_for_its_admin_lookalike(api, org):
    foreign = PostFactory(author=UserFactory(organization=OrganizationFactory()))
    admin = AdminFactory(organization=org)
    assert api(admin).get(f"/api/v1/posts/{foreign.pk}").status_code == 404
    assert api(admin).delete(f"/api/v1/posts/{foreign.pk}").status_code == 404


def test_admins_see_group_posts_to_moderate_them(api, group, member, admin_user):
    post = group_post(group, author=member)
    assert api(admin_user).get(f"/api/v1/posts/{post.pk}").status_code == 200


# --- Edit and delete ---------------------------------------------------------------------------


def test_author_edits_body_and_edited_at_is_set(api, leader, employee, events):
    post = PostFactory(author=leader)
    response = api(leader).patch(f"/api/v1/posts/{post.pk}", {"body": "Corrected"}, format="json")
    assert response.status_code == 200
    assert response.json()["body"] == "Corrected" and response.json()["edited_at"]
    assert events[-1]["type"] == "post.updated" and events[-1]["payload"]["body"] == "Corrected"
    assert api(employee).patch(f"/api/v1/posts/{post.pk}", {"body": "Mine now"}, format="json").status_code == 403


def test_edit_validates_the_body(api, leader):
    post = PostFactory(author=leader)
    response = api(leader).patch(f"/api/v1/posts/{post.pk}", {"body": "a\x00"}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "nul_character"


def test_delete_by_author_or_admin_only(api, org, leader, employee, admin_user, events):
    first, second = PostFactory(author=leader), PostFactory(author=leader)
    assert api(employee).delete(f"/api/v1/posts/{first.pk}").status_code == 403
    assert api(leader).delete(f"/api/v1/posts/{first.pk}").status_code == 204
    assert api(admin_user).delete(f"/api/v1/posts/{second.pk}").status_code == 204
    assert api(leader).get(f"/api/v1/posts/{first.pk}").status_code == 404
    assert [e["payload"] for e in events if e["type"] == "post.deleted"] == [
        {"id": first.pk, "removed": True},
        {"id": second.pk, "removed": True},
    ]
    assert api(employee).get("/api/v1/feed").json()["results"] == []


# --- Pinning ----------------------------------------------------------------------------------


def test_pin_and_unpin_by_leaders(api, leader, employee):
    post = PostFactory(author=employee)
    assert api(employee).post(f"/api/v1/posts/{post.pk}/pin").status_code == 403
    response = api(leader).post(f"/api/v1/posts/{post.pk}/pin")
    assert response.status_code == 200 and response.json()["pinned"] is True
    assert api(leader).post(f"/api/v1/posts/{post.pk}/unpin").json()["pinned"] is False


def test_a_muted_person_cannot_post_or_comment(api, leader, employee):
    from datetime import timedelta

    from django.utils import timezone

    post = PostFactory(author=leader)
    leader.muted_until = employee.muted_until = timezone.now() + timedelta(days=2)
    leader.save()
    employee.save()
    for response in [
        create(api(leader)),
        api(employee).post(f"/api/v1/posts/{post.pk}/comments", {"body": "hoi"}, format="json"),
    ]:
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "muted"
    assert api(employee).put(f"/api/v1/posts/{post.pk}/reaction", {"type": "like"}, format="json").status_code == 200


# --- Cost of posting --------------------------------------------------------------------------


def _colleagues(organization, count: int) -> None:
    from accounts.models import User

    User.objects.bulk_create(
        User(organization=organization, email=f"colleague{i}@example.com", name=f"Colleague {i}", password="!") for i in range(count)
    )


@pytest.mark.parametrize("colleagues", [10, 1000])
@pytest.mark.parametrize(
    ("extra", "idempotency_key", "queries"),
    [
        # token (lookup, last used), then (savepoint, post, author for the card, the card,
        # outbox row, release); after commit (not run in these tests) the keyword check.
        # The author's answer is the event's card, not a second one.
        ({}, False, 8),
        ({"requires_acknowledgement": True}, False, 8),
        # plus the idempotency record: (savepoint, insert, release) first, its answer last
        ({}, True, 12),
        ({"requires_acknowledgement": True}, True, 12),
    ],
)
def test_an_org_wide_announcement_costs_the_same_queries_whatever_the_audience(
    api, leader, django_assert_num_queries, colleagues, extra, idempotency_key, queries
):
    """D1: nothing in the request reads or writes the audience; the worker resolves it."""
    _colleagues(leader.organization, colleagues)
    client = api(leader)
    headers = {"HTTP_IDEMPOTENCY_KEY": f"announce-{colleagues}"} if idempotency_key else {}
    with django_assert_num_queries(queries):
        response = client.post("/api/v1/posts", {"body": "Store opens at 9", "kind": "announcement", **extra}, format="json", **headers)
    assert response.status_code == 201
    card = response.json()
    assert card == {**card, "audience": "organization", "my_reaction": None, "acknowledged_by_me": False}
    assert card["requires_acknowledgement"] is bool(extra)
    # The event's viewer-neutral card answers the author: it is what they would read back.
    assert client.get(f"/api/v1/posts/{card['id']}").json() == card


@pytest.mark.parametrize("invisible", ["\u200b", "\u200b\u200d\ufeff", " \u3164 ", "\u2800\u2800"])
def test_a_post_of_only_invisible_characters_is_empty(api, leader, invisible):
    response = api(leader).post("/api/v1/posts", {"body": invisible}, format="json")
    assert response.status_code == 400 and response.json()["error"]["fields"]["body"]
    assert api(leader).post("/api/v1/posts", {"body": f"{invisible}Hallo"}, format="json").status_code == 201
