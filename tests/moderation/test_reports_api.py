"""Reporting through the API like a phone: once per target, only what you can see, auto-hide, keywords."""

import threading

import pytest
from django.db import connection

from feed import services as feed_services
from moderation.models import Report, ReportCase
from tests.conftest import requires_postgres
from tests.factories import AdminFactory, OrganizationFactory, UserFactory
from tests.feed.factories import CommentFactory, PostFactory, group_post
from tests.moderation.conftest import inbox, report


def test_report_a_post_once_then_409(api, employee, leader):
    post = PostFactory(author=leader)
    client = api(employee)
    first = report(client, "post", post.pk, reason="harassment", note="Not nice")
    assert first.status_code == 201
    assert first.json()["reason"] == "harassment" and first.json()["target_id"] == post.pk
    second = report(client, "post", post.pk, reason="spam")
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "already_reported"
    assert Report.objects.count() == 1


def test_report_after_resolution_is_still_409(api, employee, leader, admin_user):
    post = PostFactory(author=leader)
    report(api(employee), "post", post.pk)
    case = ReportCase.objects.get()
    assert api(admin_user).post(f"/api/v1/moderation/reports/{case.pk}/resolve", {"action": "dismiss"}, format="json").status_code == 200
    assert report(api(employee), "post", post.pk).status_code == 409


def test_reports_of_one_target_share_one_queue_row(api, leader, colleagues):
    post = PostFactory(author=leader)
    for person, reason in zip(colleagues[:3], ["spam", "spam", "harassment"], strict=True):
        assert report(api(person), "post", post.pk, reason=reason).status_code == 201
    case = ReportCase.objects.get()
    assert case.report_count == 3
    assert case.reason_counts == {"spam": 2, "harassment": 1}


def test_comment_and_user_reports(api, employee, leader):
    comment = CommentFactory(post=PostFactory(author=leader), author=leader)
    assert report(api(employee), "comment", comment.pk, reason="inappropriate").status_code == 201
    assert report(api(employee), "user", leader.pk, reason="harassment").status_code == 201
    assert sorted(ReportCase.objects.values_list("target_type", flat=True)) == ["comment", "user"]


def test_unknown_reason_and_target_type_are_400(api, employee, leader):
    post = PostFactory(author=leader)
    assert report(api(employee), "post", post.pk, reason="boring").status_code == 400
    assert report(api(employee), "kudos", post.pk).status_code == 400


def test_cannot_report_yourself(api, employee):
    post = PostFactory(author=employee)
    response = report(api(employee), "post", post.pk)
    assert response.status_code == 400 and response.json()["error"]["code"] == "cannot_report_self"
    assert report(api(employee), "user", employee.pk).status_code == 400


def assert_unknown_target(response) -> None:
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "unknown_target" and list(response.json()["error"]["fields"]) == ["target_id"]


def test_reporter_must_see_the_target(api, org, employee, leader, group):
    # A group post the employee is not in the audience of: as if it did not exist (an id in the
    # body the caller may not use is a 400 naming the field, API.md).
    hidden_from_me = group_post(group, author=leader)
    assert_unknown_target(report(api(employee), "post", hidden_from_me.pk))
    comment = CommentFactory(post=hidden_from_me, author=leader)
    assert_unknown_target(report(api(employee), "comment", comment.pk))
    scheduled = PostFactory(author=leader, published_at=None)
    assert_unknown_target(report(api(employee), "post", scheduled.pk))
    assert_unknown_target(report(api(employee), "post", 999_999))
    assert not Report.objects.exists()


def test_other_organisation_targets_are_a_400_like_unknown_ones(api, employee):
    other = OrganizationFactory()
    stranger = UserFactory(organization=other)
    post = PostFactory(author=stranger)
    comment = CommentFactory(post=post, author=stranger)
    for target_type, target_id in (("post", post.pk), ("comment", comment.pk), ("user", stranger.pk)):
        assert_unknown_target(report(api(employee), target_type, target_id))
    assert not Report.objects.exists()


def test_report_burst_is_throttled(api, settings, employee, leader):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "reports": "2/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    posts = [PostFactory(author=leader) for _ in range(3)]
    client = api(employee)
    codes = [report(client, "post", post.pk).status_code for post in posts]
    assert codes == [201, 201, 429]
    assert client.get("/api/v1/feed").status_code == 200


def test_moderators_are_notified_of_a_new_report(api, org, employee, leader, admin_user, django_capture_on_commit_callbacks):
    other_admin = AdminFactory(organization=org)
    post = PostFactory(author=leader, body="Something rude")
    with django_capture_on_commit_callbacks(execute=True):
        report(api(employee), "post", post.pk, reason="harassment")
    for moderator in (admin_user, other_admin):
        [(event_type, data)] = inbox(moderator)
        assert event_type == "report.created"
        assert data["post_id"] == post.pk and data["reason"] == "harassment" and data["excerpt"] == "Something rude"
    assert inbox(employee) == [] and inbox(leader) == []  # a leader who manages nothing here is no moderator


def test_summary_counts_open_rows(api, employee, leader, admin_user, colleagues):
    posts = [PostFactory(author=leader) for _ in range(2)]
    for person in colleagues[:2]:
        report(api(person), "post", posts[0].pk)
    report(api(employee), "post", posts[1].pk)
    assert api(admin_user).get("/api/v1/moderation/summary").json() == {"open_report_count": 2}


# --- Auto-hide ---------------------------------------------------------------------------------


@pytest.fixture
def threshold(org):
    org.auto_hide_report_threshold = 2
    org.save()
    return 2


def test_post_is_hidden_at_the_threshold_until_a_moderator_decides(
    api, org, threshold, leader, employee, admin_user, colleagues, events, django_capture_on_commit_callbacks
):
    post = PostFactory(author=leader)
    assert report(api(colleagues[0]), "post", post.pk).status_code == 201
    assert api(employee).get(f"/api/v1/posts/{post.pk}").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert report(api(colleagues[1]), "post", post.pk).status_code == 201
    assert api(employee).get(f"/api/v1/posts/{post.pk}").status_code == 404
    assert post.pk not in [card["id"] for card in api(employee).get("/api/v1/feed").json()["results"]]
    assert [e["type"] for e in events if e["type"].startswith("post.")] == ["post.deleted"]
    case = ReportCase.objects.get()
    assert case.auto_hidden_at is not None
    [(event_type, data)] = inbox(leader)
    assert event_type == "moderation.decided" and data["action"] == "auto_hide" and data["post_id"] == post.pk

    # Dismissing shows it again.
    response = api(admin_user).post(f"/api/v1/moderation/reports/{case.pk}/resolve", {"action": "dismiss", "note": "Fine"}, format="json")
    assert response.status_code == 200
    assert api(employee).get(f"/api/v1/posts/{post.pk}").status_code == 200


def test_keyword_flags_do_not_count_towards_auto_hide(
    api, org, threshold, leader, employee, admin_user, django_capture_on_commit_callbacks
):
    api(admin_user).put("/api/v1/moderation/keywords", {"keywords": ["idiot"]}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        post = feed_services.post_create(author=leader, body="What an idiot")
    report(api(employee), "post", post.pk)
    assert ReportCase.objects.get().report_count == 2
    assert api(employee).get(f"/api/v1/posts/{post.pk}").status_code == 200


def test_comment_is_hidden_at_the_threshold(api, org, threshold, leader, colleagues):
    post = PostFactory(author=leader)
    comment = CommentFactory(post=post, author=leader)
    for person in colleagues[:2]:
        assert report(api(person), "comment", comment.pk).status_code == 201
    comments = api(colleagues[2]).get(f"/api/v1/posts/{post.pk}/comments").json()["results"]
    assert comments == []
    assert api(colleagues[2]).get(f"/api/v1/posts/{post.pk}").json()["comment_count"] == 0


def test_no_threshold_means_no_auto_hide(api, org, leader, colleagues):
    post = PostFactory(author=leader)
    for person in colleagues:
        report(api(person), "post", post.pk)
    assert api(colleagues[0]).get(f"/api/v1/posts/{post.pk}").status_code == 200


# --- Keywords -----------------------------------------------------------------------------------


def test_keywords_flag_new_posts_and_comments_without_deleting(api, org, leader, employee, admin_user, django_capture_on_commit_callbacks):
    response = api(admin_user).put("/api/v1/moderation/keywords", {"keywords": ["Salary", "  secret  plan ", "salary", ""]}, format="json")
    assert response.status_code == 200 and response.json() == {"keywords": ["Salary", "secret plan"]}
    with django_capture_on_commit_callbacks(execute=True):
        clean = feed_services.post_create(author=leader, body="Salaryman is a film")  # not a whole word
        flagged = feed_services.post_create(author=leader, body="Our SALARY talks and the Secret Plan")
    with django_capture_on_commit_callbacks(execute=True):
        comment = feed_services.comment_create(author=employee, post=clean, body="what is my salary?")
    rows = api(admin_user).get("/api/v1/moderation/reports").json()["results"]
    assert [(row["target"]["type"], row["target"]["id"]) for row in rows] == [("post", flagged.pk), ("comment", comment.pk)]
    assert rows[0]["flagged_keywords"] == ["Salary", "secret plan"]
    assert rows[0]["reasons"]["other"] == 1 and rows[0]["target"]["hidden"] is False
    detail = api(admin_user).get(f"/api/v1/moderation/reports/{rows[0]['id']}").json()
    assert detail["reports"][0]["source"] == "keyword" and detail["reports"][0]["reporter"] is None
    # Never deleted: the content is where it was.
    assert api(employee).get(f"/api/v1/posts/{flagged.pk}").status_code == 200
    assert api(employee).get(f"/api/v1/posts/{clean.pk}/comments").json()["results"][0]["id"] == comment.pk


def test_keywords_are_per_organisation(api, org, admin_user, django_capture_on_commit_callbacks):
    other = OrganizationFactory()
    other_admin = AdminFactory(organization=other)
    api(admin_user).put("/api/v1/moderation/keywords", {"keywords": ["forbidden"]}, format="json")
    assert api(other_admin).get("/api/v1/moderation/keywords").json() == {"keywords": []}
    with django_capture_on_commit_callbacks(execute=True):
        feed_services.post_create(author=other_admin, body="forbidden fruit")
    assert not ReportCase.objects.exists()


def test_keywords_are_admin_only(api, employee, leader):
    for user in (employee, leader):
        assert api(user).get("/api/v1/moderation/keywords").status_code == 403
        assert api(user).put("/api/v1/moderation/keywords", {"keywords": ["x"]}, format="json").status_code == 403


# --- Races (PostgreSQL) ---------------------------------------------------------------------------


@requires_postgres()
@pytest.mark.django_db(transaction=True)
def test_concurrent_reports_by_one_person_make_one_report(api):
    org = OrganizationFactory()
    author = UserFactory(organization=org)
    reporter = UserFactory(organization=org)
    post = PostFactory(author=author)
    codes: list[int] = []
    barrier = threading.Barrier(4)

    def attempt():
        client = api(reporter)
        barrier.wait()
        try:
            codes.append(report(client, "post", post.pk).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [201, 409, 409, 409]
    assert Report.objects.count() == 1 and ReportCase.objects.get().report_count == 1


@requires_postgres()
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_reports_by_different_people_share_one_row(api):
    org = OrganizationFactory()
    author = UserFactory(organization=org)
    reporters = [UserFactory(organization=org) for _ in range(4)]
    post = PostFactory(author=author)
    codes: list[int] = []
    barrier = threading.Barrier(len(reporters))

    def attempt(person):
        client = api(person)
        barrier.wait()
        try:
            codes.append(report(client, "post", post.pk).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(person,)) for person in reporters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [201] * 4
    case = ReportCase.objects.get()
    assert case.report_count == 4


def test_report_event_goes_to_moderators_only(api, org, employee, leader, admin_user, events):
    post = PostFactory(author=leader)
    report(api(employee), "post", post.pk, reason="confidential", note="Shows a salary")
    [event] = [e for e in events if e["type"] == "report.created"]
    assert event["user_ids"] == [admin_user.pk] and not event.get("org_wide") and not event.get("group_ids")
    assert event["addressed"] == [{"user_id": admin_user.pk, "reason": "moderation"}]
    assert event["payload"]["reason"] == "confidential" and event["payload"]["report_id"] == ReportCase.objects.get().pk


def test_a_failing_keyword_flag_does_not_fail_the_post(api, org, leader, admin_user, monkeypatch, django_capture_on_commit_callbacks):
    from moderation.services import keywords

    api(admin_user).put("/api/v1/moderation/keywords", {"keywords": ["boom"]}, format="json")

    def explode(**kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(keywords, "content_flag_keywords", explode)
    with django_capture_on_commit_callbacks(execute=True):
        response = api(leader).post("/api/v1/posts", {"body": "boom"}, format="json")
    assert response.status_code == 201


def test_an_edit_that_brings_in_a_keyword_is_flagged_once(api, group, member, admin_user, django_capture_on_commit_callbacks):
    # An edit was never checked: a clean post could be edited into anything after the filter
    # had looked at it. Only keywords the edit brings in count, so re-saving a flagged post
    # does not queue it (and notify moderators) again.
    api(admin_user).put("/api/v1/moderation/keywords", {"keywords": ["salary", "secret plan"]}, format="json")
    client = api(member)
    with django_capture_on_commit_callbacks(execute=True):
        post_id = client.post("/api/v1/posts", {"body": "Lunch at noon", "group_ids": [group.pk]}, format="json").json()["id"]
    assert not ReportCase.objects.exists()

    def edit(body: str) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            assert client.patch(f"/api/v1/posts/{post_id}", {"body": body}, format="json").status_code == 200

    def queue() -> list[tuple]:
        rows = api(admin_user).get("/api/v1/moderation/reports").json()["results"]
        return [(row["target"]["type"], row["target"]["id"], row["flagged_keywords"], row["report_count"]) for row in rows]

    edit("Lunch at noon, and my salary")
    assert queue() == [("post", post_id, ["salary"], 1)]
    edit("Lunch at one, and my SALARY")  # the same keyword: nothing new
    assert queue() == [("post", post_id, ["salary"], 1)]
    edit("Lunch at one, my salary and the secret plan")
    assert queue() == [("post", post_id, ["salary", "secret plan"], 2)]
    assert Report.objects.filter(source="keyword").count() == 2
    # Still never deleted or hidden by the filter.
    assert api(admin_user).get(f"/api/v1/posts/{post_id}").json()["body"] == "Lunch at one, my salary and the secret plan"
