"""What each moderator action does, seen through the API like a phone: feed, detail, catch-up, events, inbox, push."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import signals as account_signals
from feed import services as feed_services
from feed.selectors import feed as feed_selectors
from moderation.models import Mute, ReportCase
from notifications.models import OutboxEvent, PushDelivery, PushStatus
from notifications.services import outbox_event_deliver
from tests.factories import OrganizationFactory, UserFactory
from tests.feed.factories import CommentFactory, PostFactory
from tests.moderation.conftest import inbox, report
from tests.notifications.push_factories import DeviceFactory


@pytest.fixture
def no_settle(monkeypatch):
    monkeypatch.setattr(feed_selectors, "UPDATES_SETTLE", timedelta(0))


@pytest.fixture
def audit(db):
    """Every admin_action announced after commit, as the other half of moderation records them."""
    recorded: list[dict] = []

    def receiver(sender, **kwargs):
        recorded.append(kwargs)

    account_signals.admin_action.connect(receiver, dispatch_uid="tests.moderation.audit")
    yield recorded
    account_signals.admin_action.disconnect(dispatch_uid="tests.moderation.audit")


def resolve(client, case_id: int, action: str, note: str = ""):
    return client.post(f"/api/v1/moderation/reports/{case_id}/resolve", {"action": action, "note": note}, format="json")


def _reported_post(api, author, reporters):
    post = PostFactory(author=author, body="Reported post")
    for person in reporters:
        assert report(api(person), "post", post.pk, reason="harassment").status_code == 201
    return post, ReportCase.objects.get(target_id=post.pk, target_type="post")


def _feed_ids(client) -> list[int]:
    return [card["id"] for card in client.get("/api/v1/feed").json()["results"]]


@pytest.mark.parametrize("action", ["hide", "remove"])
def test_hide_and_remove_take_the_post_away_everywhere(
    api, action, leader, employee, admin_user, colleagues, events, audit, no_settle, django_capture_on_commit_callbacks
):
    post, case = _reported_post(api, leader, colleagues[:2])
    viewer = api(employee)
    cursor = viewer.get("/api/v1/feed/updates").json()["cursor"]
    assert post.pk in _feed_ids(viewer)
    events.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = resolve(api(admin_user), case.pk, action, note="Please keep it friendly")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "resolved" and response.json()["resolution"]["action"] == action

    assert post.pk not in _feed_ids(viewer)
    assert viewer.get(f"/api/v1/posts/{post.pk}").status_code == 404
    assert viewer.get("/api/v1/feed/updates", {"since": cursor}).json()["results"] == [{"id": post.pk, "removed": True}]
    [deleted] = [e for e in events if e["type"] == "post.deleted"]
    assert deleted["payload"] == {"id": post.pk, "removed": True} and deleted["org_wide"] is True

    [(event_type, data)] = inbox(leader)
    assert event_type == "moderation.decided"
    assert data["action"] == action and data["note"] == "Please keep it friendly" and data["post_id"] == post.pk
    for person in colleagues[:2]:
        [(event_type, data)] = inbox(person)
        assert event_type == "report.resolved" and data["action"] == action
    assert [entry["action"] for entry in audit] == [f"moderation.report_{action}"]
    assert audit[0]["organization_id"] == leader.organization_id and audit[0]["actor"] == admin_user
    assert audit[0]["target_type"] == "post" and audit[0]["target_id"] == post.pk and audit[0]["note"] == "Please keep it friendly"


def test_dismiss_leaves_the_post_and_tells_only_reporters(
    api, leader, employee, admin_user, colleagues, django_capture_on_commit_callbacks
):
    post, case = _reported_post(api, leader, colleagues[:1])
    with django_capture_on_commit_callbacks(execute=True):
        assert resolve(api(admin_user), case.pk, "dismiss").status_code == 200
    assert api(employee).get(f"/api/v1/posts/{post.pk}").status_code == 200
    assert inbox(leader) == []
    assert [data["action"] for _type, data in inbox(colleagues[0])] == ["dismiss"]


def test_resolving_twice_is_409_and_people_reports_only_dismiss(api, leader, employee, admin_user):
    _post, case = _reported_post(api, leader, [employee])
    assert resolve(api(admin_user), case.pk, "dismiss").status_code == 200
    response = resolve(api(admin_user), case.pk, "hide")
    assert response.status_code == 409 and response.json()["error"]["code"] == "already_resolved"
    report(api(employee), "user", leader.pk)
    person_case = ReportCase.objects.get(target_type="user")
    response = resolve(api(admin_user), person_case.pk, "hide")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_action"
    assert resolve(api(admin_user), person_case.pk, "unknown").status_code == 400


def test_restore_brings_a_hidden_post_back(
    api, leader, employee, admin_user, colleagues, events, audit, django_capture_on_commit_callbacks
):
    post, case = _reported_post(api, leader, colleagues[:1])
    resolve(api(admin_user), case.pk, "hide")
    events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = api(admin_user).post(f"/api/v1/moderation/posts/{post.pk}/restore", {"note": "On second thought"}, format="json")
    assert response.status_code == 200 and response.json() == {"target_type": "post", "id": post.pk, "hidden": False}
    assert post.pk in _feed_ids(api(employee))
    assert [e["type"] for e in events if e["type"].startswith("post.")] == ["post.updated"]
    assert [data["action"] for _type, data in inbox(leader)] == ["restore"]
    assert audit[-1]["action"] == "moderation.restored"
    again = api(admin_user).post(f"/api/v1/moderation/posts/{post.pk}/restore", {}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_hidden"


def test_restore_closes_an_open_row(api, org, leader, employee, admin_user, colleagues):
    org.auto_hide_report_threshold = 1
    org.save()
    post, case = _reported_post(api, leader, colleagues[:1])
    assert api(employee).get(f"/api/v1/posts/{post.pk}").status_code == 404
    assert api(admin_user).post(f"/api/v1/moderation/posts/{post.pk}/restore", {}, format="json").status_code == 200
    case.refresh_from_db()
    assert case.status == "resolved" and case.resolution == "restore"


def test_removed_post_cannot_be_restored(api, leader, admin_user, colleagues):
    post, case = _reported_post(api, leader, colleagues[:1])
    resolve(api(admin_user), case.pk, "remove")
    assert api(admin_user).post(f"/api/v1/moderation/posts/{post.pk}/restore", {}, format="json").status_code == 404


def test_hiding_a_comment_removes_it_from_lists_counts_catch_up_and_sockets(
    api, leader, employee, admin_user, colleagues, events, no_settle, django_capture_on_commit_callbacks
):
    post = PostFactory(author=leader)
    comment = CommentFactory(post=post, author=employee, body="Rude comment")
    report(api(colleagues[0]), "comment", comment.pk, reason="harassment")
    case = ReportCase.objects.get()
    viewer = api(colleagues[1])
    cursor = viewer.get("/api/v1/feed/updates").json()["cursor"]
    events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert resolve(api(admin_user), case.pk, "hide", note="Not here").status_code == 200
    assert viewer.get(f"/api/v1/posts/{post.pk}/comments").json()["results"] == []
    changed = viewer.get("/api/v1/feed/updates", {"since": cursor}).json()["results"]
    assert [(card["id"], card["comment_count"]) for card in changed] == [(post.pk, 0)]
    [gone] = [e for e in events if e["type"] == "comment.deleted"]
    assert gone["payload"] == {"id": comment.pk, "post_id": post.pk, "removed": True}
    [(_type, data)] = inbox(employee)
    assert data["action"] == "hide" and data["target_type"] == "comment" and data["comment_id"] == comment.pk

    events.clear()
    response = api(admin_user).post(f"/api/v1/moderation/comments/{comment.pk}/restore", {}, format="json")
    assert response.status_code == 200 and response.json()["hidden"] is False
    assert [c["id"] for c in viewer.get(f"/api/v1/posts/{post.pk}/comments").json()["results"]] == [comment.pk]
    assert [e["type"] for e in events if e["type"].startswith("comment.")] == ["comment.created"]


def test_removing_a_comment(api, leader, employee, admin_user, colleagues, events):
    post = PostFactory(author=leader)
    comment = CommentFactory(post=post, author=employee)
    report(api(colleagues[0]), "comment", comment.pk)
    assert resolve(api(admin_user), ReportCase.objects.get().pk, "remove").status_code == 200
    assert api(colleagues[1]).get(f"/api/v1/posts/{post.pk}/comments").json()["results"] == []
    assert "comment.deleted" in [e["type"] for e in events]


# --- Push of hidden content is dropped ----------------------------------------------------------------


def test_pending_pushes_of_hidden_content_are_dropped(api, leader, employee, admin_user, colleagues, django_capture_on_commit_callbacks):
    DeviceFactory(user=employee)
    # Published, but the outbox has not delivered yet (its after-commit task has not run).
    with django_capture_on_commit_callbacks(execute=False):
        post = feed_services.post_create(author=leader, body="Announcement", kind="announcement")
    event = OutboxEvent.objects.get(type="post.created")
    # A second, already planned event about the same post with a queued push.
    planned = OutboxEvent.objects.create(
        organization_id=leader.organization_id, type="post.updated", payload={"id": post.pk}, org_wide=True
    )
    device = employee.push_devices.get()
    PushDelivery.objects.create(event_id=planned.pk, device=device)

    report(api(colleagues[0]), "post", post.pk)
    assert resolve(api(admin_user), ReportCase.objects.get().pk, "hide").status_code == 200

    assert PushDelivery.objects.get(event_id=planned.pk).status == PushStatus.FAILED
    outbox_event_deliver(event_id=event.pk)
    assert not PushDelivery.objects.filter(event_id=event.pk).exists()


# --- Comment lock ---------------------------------------------------------------------------------


def test_comment_lock_and_unlock(api, leader, employee, admin_user, audit, django_capture_on_commit_callbacks):
    post = PostFactory(author=leader)
    admin = api(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(f"/api/v1/moderation/posts/{post.pk}/lock-comments", {"note": "Heated"}, format="json")
    assert response.status_code == 200 and response.json() == {"post_id": post.pk, "comments_locked": True}
    assert admin.post(f"/api/v1/moderation/posts/{post.pk}/lock-comments", {}, format="json").status_code == 200
    refused = api(employee).post(f"/api/v1/posts/{post.pk}/comments", {"body": "But!"}, format="json")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "comments_locked"
    with django_capture_on_commit_callbacks(execute=True):
        assert admin.post(f"/api/v1/moderation/posts/{post.pk}/unlock-comments", {}, format="json").json()["comments_locked"] is False
    assert api(employee).post(f"/api/v1/posts/{post.pk}/comments", {"body": "Thanks"}, format="json").status_code == 201
    assert [entry["action"] for entry in audit] == ["moderation.comments_locked", "moderation.comments_unlocked"]


# --- Mutes ----------------------------------------------------------------------------------------------


def test_muted_user_cannot_post_comment_or_give_kudos(api, org, employee, leader, admin_user, audit, django_capture_on_commit_callbacks):
    org.org_wide_posting_open = True
    org.save()
    post = PostFactory(author=leader)
    with django_capture_on_commit_callbacks(execute=True):
        response = api(admin_user).post(f"/api/v1/moderation/users/{employee.pk}/mute", {"days": 3, "note": "Cool down"}, format="json")
    assert response.status_code == 200
    until = response.json()["muted_until"]
    assert until is not None

    client = api(employee)
    attempts = [
        client.post("/api/v1/posts", {"body": "Hello"}, format="json"),
        client.post(f"/api/v1/posts/{post.pk}/comments", {"body": "Hi"}, format="json"),
        client.post("/api/v1/kudos", {"recipient_ids": [leader.pk], "message": "Thanks"}, format="json"),
    ]
    assert [(r.status_code, r.json()["error"]["code"]) for r in attempts] == [(403, "muted")] * 3
    [(event_type, data)] = inbox(employee)
    assert event_type == "moderation.decided" and data["action"] == "mute" and data["note"] == "Cool down"
    mute = Mute.objects.get()
    assert mute.user == employee and mute.muted_by == admin_user and mute.ends_at > timezone.now() + timedelta(days=2)

    with django_capture_on_commit_callbacks(execute=True):
        response = api(admin_user).post(f"/api/v1/moderation/users/{employee.pk}/unmute", {}, format="json")
    assert response.status_code == 200 and response.json() == {"user_id": employee.pk, "muted_until": None}
    assert client.post("/api/v1/posts", {"body": "Hello again"}, format="json").status_code == 201
    mute.refresh_from_db()
    assert mute.ended_early_at is not None and mute.ended_early_by == admin_user
    assert [entry["action"] for entry in audit] == ["moderation.user_muted", "moderation.user_unmuted"]
    again = api(admin_user).post(f"/api/v1/moderation/users/{employee.pk}/unmute", {}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_muted"


def test_a_new_mute_replaces_the_running_one_in_the_history(api, employee, admin_user):
    client = api(admin_user)
    client.post(f"/api/v1/moderation/users/{employee.pk}/mute", {"days": 7}, format="json")
    client.post(f"/api/v1/moderation/users/{employee.pk}/mute", {"days": 1}, format="json")
    first, second = Mute.objects.order_by("id")
    assert first.ended_early_at is not None and second.ended_early_at is None
    employee.refresh_from_db()
    assert employee.muted_until == second.ends_at


def test_mute_input_is_checked(api, employee, admin_user):
    client = api(admin_user)
    for days in (0, 366, "x"):
        assert client.post(f"/api/v1/moderation/users/{employee.pk}/mute", {"days": days}, format="json").status_code == 400
    response = client.post(f"/api/v1/moderation/users/{admin_user.pk}/mute", {"days": 1}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "cannot_mute_self"
    stranger = UserFactory(organization=OrganizationFactory())
    assert client.post(f"/api/v1/moderation/users/{stranger.pk}/mute", {"days": 1}, format="json").status_code == 404


def test_keyword_changes_are_announced_for_the_audit_log(api, admin_user, audit, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api(admin_user).put("/api/v1/moderation/keywords", {"keywords": ["a"]}, format="json")
        api(admin_user).put("/api/v1/moderation/keywords", {"keywords": ["a"]}, format="json")  # unchanged: not announced
    [entry] = audit
    assert entry["action"] == "moderation.keywords_changed"
    assert entry["before"] == {"keywords": []} and entry["after"] == {"keywords": ["a"]}


def test_inbox_items_quoting_hidden_content_are_deleted(api, leader, employee, admin_user, colleagues, django_capture_on_commit_callbacks):
    from notifications.models import Notification

    post = PostFactory(author=leader)
    with django_capture_on_commit_callbacks(execute=True):
        comment = feed_services.comment_create(author=employee, post=post, body=f"Nasty @[user:{colleagues[1].pk}]")
    assert Notification.objects.filter(recipient=leader, reason="comment").exists()
    assert Notification.objects.filter(recipient=colleagues[1], reason="mention").exists()
    report(api(colleagues[0]), "comment", comment.pk)
    assert resolve(api(admin_user), ReportCase.objects.get().pk, "hide").status_code == 200
    assert not Notification.objects.filter(reason__in=["comment", "mention"]).exists()
    assert api(colleagues[1]).get("/api/v1/notifications").json()["results"] == []
