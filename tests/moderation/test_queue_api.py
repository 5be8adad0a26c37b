"""The moderation queue: grouped by target, oldest first, cursor pages of a fixed query count, scoped per moderator."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from moderation.models import ReportCase
from tests.factories import GroupFactory, MembershipFactory, OrganizationFactory, UserFactory
from tests.feed.factories import CommentFactory, PostFactory, group_post
from tests.moderation.conftest import report
from tests.security.harness import all_routes
from tests.security.matrix import accepted_only
from voice.models import Signal

MODERATION_ROUTES = [route for route in all_routes() if route.pattern.startswith("api/v1/moderation")]


def _rows(client, **params):
    response = client.get("/api/v1/moderation/reports", params)
    assert response.status_code == 200, response.content
    return response.json()


def test_queue_is_grouped_by_target_oldest_first(api, admin_user, leader, colleagues):
    older, newer = PostFactory(author=leader, body="old"), PostFactory(author=leader, body="new")
    report(api(colleagues[0]), "post", newer.pk, reason="spam")
    ReportCase.objects.update(first_reported_at=timezone.now() + timedelta(seconds=5))
    for person, reason in ((colleagues[1], "harassment"), (colleagues[2], "spam")):
        report(api(person), "post", older.pk, reason=reason)
    rows = _rows(api(admin_user))["results"]
    first_ids = [row["target"]["id"] for row in rows]
    assert first_ids == [older.pk, newer.pk]
    assert rows[0]["report_count"] == 2
    assert rows[0]["reasons"] == {"harassment": 1, "inappropriate": 0, "spam": 1, "confidential": 0, "other": 0}
    assert rows[0]["target"]["author"]["id"] == leader.pk and rows[0]["target"]["body"] == "old"
    assert rows[0]["status"] == "open" and rows[0]["resolution"] is None and rows[0]["first_reported_at"]


def test_queue_pages_with_a_cursor(api, admin_user, leader, employee):
    posts = [PostFactory(author=leader) for _ in range(5)]
    for post in posts:
        report(api(employee), "post", post.pk)
    client = api(admin_user)
    page = _rows(client, page_size=2)
    seen = [row["target"]["id"] for row in page["results"]]
    while page["next"]:
        page = client.get(page["next"]).json()
        seen += [row["target"]["id"] for row in page["results"]]
    assert seen == [post.pk for post in posts]


def test_resolved_rows_are_listed_by_status(api, admin_user, leader, employee):
    post = PostFactory(author=leader)
    report(api(employee), "post", post.pk)
    case = ReportCase.objects.get()
    api(admin_user).post(f"/api/v1/moderation/reports/{case.pk}/resolve", {"action": "dismiss", "note": "ok"}, format="json")
    assert _rows(api(admin_user))["results"] == []
    [row] = _rows(api(admin_user), status="resolved")["results"]
    assert row["resolution"]["action"] == "dismiss" and row["resolution"]["note"] == "ok"
    assert row["resolution"]["resolved_by"] == {"id": admin_user.pk, "name": admin_user.name}
    assert api(admin_user).get("/api/v1/moderation/reports", {"status": "weird"}).status_code == 400


@pytest.mark.parametrize("count", [2, 6])
def test_queue_is_a_fixed_number_of_queries(api, admin_user, leader, colleagues, count, django_assert_num_queries):
    for index in range(count):
        post = PostFactory(author=leader)
        target = ("post", post.pk) if index % 3 == 0 else ("comment", CommentFactory(post=post, author=leader).pk)
        if index % 3 == 2:
            target = ("user", UserFactory(organization=leader.organization).pk)
        report(api(colleagues[0]), *target)
    report(api(colleagues[1]), "post", post.pk)
    resolved = ReportCase.objects.order_by("id").first()
    api(admin_user).post(f"/api/v1/moderation/reports/{resolved.pk}/resolve", {"action": "dismiss"}, format="json")
    client = api(admin_user)
    client.get("/api/v1/moderation/summary")  # the token's first use stamps last_used_at
    # Authentication (token joined with its user), then one query for the page.
    with django_assert_num_queries(2):
        assert len(client.get("/api/v1/moderation/reports").json()["results"]) == count
    with django_assert_num_queries(2):
        client.get("/api/v1/moderation/reports", {"status": "resolved"})


def test_group_manager_sees_and_moderates_only_their_groups(api, org, manager, managed_group, leader, employee, colleagues):
    other_group = MembershipFactory(group=GroupFactory(organization=org), user=employee).group
    mine = group_post(managed_group, author=leader)
    theirs = group_post(other_group, author=leader)
    everyone = PostFactory(author=leader)
    MembershipFactory(group=managed_group, user=colleagues[0])
    report(api(colleagues[0]), "post", mine.pk)
    report(api(employee), "post", theirs.pk)
    report(api(employee), "post", everyone.pk)
    report(api(employee), "user", leader.pk)
    client = api(manager)
    rows = _rows(client)["results"]
    assert [row["target"]["id"] for row in rows] == [mine.pk]
    assert client.get("/api/v1/moderation/summary").json() == {"open_report_count": 1}

    mine_case = ReportCase.objects.get(target_id=mine.pk, target_type="post")
    for case in ReportCase.objects.exclude(pk=mine_case.pk):
        response = client.post(f"/api/v1/moderation/reports/{case.pk}/resolve", {"action": "hide"}, format="json")
        assert response.status_code == 404
        assert client.get(f"/api/v1/moderation/reports/{case.pk}").status_code == 404
    assert client.post(f"/api/v1/moderation/posts/{theirs.pk}/lock-comments", {}, format="json").status_code == 404
    assert client.post(f"/api/v1/moderation/users/{employee.pk}/mute", {"days": 1}, format="json").status_code == 403
    response = client.post(f"/api/v1/moderation/reports/{mine_case.pk}/resolve", {"action": "hide", "note": "Off-topic"}, format="json")
    assert response.status_code == 200, response.content
    assert api(colleagues[0]).get(f"/api/v1/posts/{mine.pk}").status_code == 404
    assert client.post(f"/api/v1/moderation/posts/{mine.pk}/restore", {}, format="json").status_code == 200
    assert api(colleagues[0]).get(f"/api/v1/posts/{mine.pk}").status_code == 200


def test_group_manager_is_notified_of_reports_in_their_groups_only(
    api, org, manager, managed_group, leader, colleagues, django_capture_on_commit_callbacks
):
    from tests.moderation.conftest import inbox

    MembershipFactory(group=managed_group, user=colleagues[0])
    with django_capture_on_commit_callbacks(execute=True):
        report(api(colleagues[0]), "post", group_post(managed_group, author=leader).pk)
        report(api(colleagues[0]), "post", PostFactory(author=leader).pk)
    assert [event_type for event_type, _data in inbox(manager)] == ["report.created"]


def test_employees_get_403_on_every_moderation_route(api, employee, leader, admin_user, colleagues):
    post = PostFactory(author=leader)
    comment = CommentFactory(post=post, author=leader)
    report(api(colleagues[0]), "post", post.pk)
    case = ReportCase.objects.get()
    signal = Signal.objects.create(organization=leader.organization, author=leader, kind="idea", title="t", body="b")
    ids = {"report_id": case.pk, "post_id": post.pk, "comment_id": comment.pk, "user_id": colleagues[1].pk, "signal_id": signal.pk}
    client = api(employee)
    assert MODERATION_ROUTES
    failures = []
    for route in MODERATION_ROUTES:
        path = reverse(route.name, kwargs={kwarg: ids[kwarg] for kwarg in route.kwargs})
        for method in route.methods:
            body = accepted_only(path, method, {"action": "hide", "note": "x", "days": 1, "keywords": ["x"]})
            response = getattr(client, method)(path, body, format="json") if method in ("post", "put") else client.get(path)
            if response.status_code != 403:
                failures.append(f"{method} {path}: {response.status_code}")
    assert not failures, failures
    assert api(employee).get(f"/api/v1/posts/{post.pk}").status_code == 200  # nothing happened


def test_other_organisation_admin_sees_an_empty_queue(api, leader, employee):
    post = PostFactory(author=leader)
    report(api(employee), "post", post.pk)
    outsider = UserFactory(organization=OrganizationFactory(), role="admin")
    client = api(outsider)
    assert _rows(client)["results"] == []
    assert client.get("/api/v1/moderation/summary").json() == {"open_report_count": 0}
    case = ReportCase.objects.get()
    assert client.get(f"/api/v1/moderation/reports/{case.pk}").status_code == 404
    assert client.post(f"/api/v1/moderation/reports/{case.pk}/resolve", {"action": "remove"}, format="json").status_code == 404
    assert client.post(f"/api/v1/moderation/users/{employee.pk}/mute", {"days": 3}, format="json").status_code == 404
    assert api(employee).get(f"/api/v1/posts/{post.pk}").status_code == 200


def test_an_employee_who_manages_a_group_is_still_no_moderator(api, org, employee, leader, colleagues):
    from accounts.models import MembershipRole

    group = MembershipFactory(group=GroupFactory(organization=org), user=employee, role=MembershipRole.MANAGER).group
    MembershipFactory(group=group, user=colleagues[0])
    post = group_post(group, author=leader)
    report(api(colleagues[0]), "post", post.pk)
    assert api(employee).get("/api/v1/moderation/reports").status_code == 403
    assert api(employee).delete(f"/api/v1/posts/{post.pk}").status_code == 403
