"""The two halves of moderation meet: every moderator action through the API is an audit-log row."""

from moderation.audit import AuditEntry
from moderation.models import ReportCase
from tests.feed.factories import CommentFactory, PostFactory
from tests.moderation.conftest import report


def test_every_moderation_action_lands_in_the_audit_log(api, admin_user, leader, employee, colleagues):
    moderator = api(admin_user)
    post = PostFactory(author=leader, body="Reported post")
    assert report(api(colleagues[0]), "post", post.pk, reason="harassment").status_code == 201
    case = ReportCase.objects.get(target_type="post", target_id=post.pk)
    comment = CommentFactory(post=PostFactory(author=leader), author=employee)
    assert report(api(colleagues[1]), "comment", comment.pk).status_code == 201
    comment_case = ReportCase.objects.get(target_type="comment", target_id=comment.pk)

    steps = [
        (f"/api/v1/moderation/reports/{case.pk}/resolve", {"action": "hide", "note": "not ok"}),
        (f"/api/v1/moderation/posts/{post.pk}/restore", {"note": "on reflection fine"}),
        (f"/api/v1/moderation/reports/{comment_case.pk}/resolve", {"action": "dismiss", "note": "harmless"}),
        (f"/api/v1/moderation/posts/{post.pk}/lock-comments", {"note": "cool down"}),
        (f"/api/v1/moderation/posts/{post.pk}/unlock-comments", {}),
        (f"/api/v1/moderation/users/{employee.pk}/mute", {"days": 3, "note": "spam"}),
        (f"/api/v1/moderation/users/{employee.pk}/unmute", {}),
    ]
    for path, body in steps:
        response = moderator.post(path, body, format="json")
        assert response.status_code == 200, (path, response.content)
    assert moderator.put("/api/v1/moderation/keywords", {"keywords": ["idiot"]}, format="json").status_code == 200

    entries = list(AuditEntry.objects.filter(actor=admin_user).order_by("pk").values_list("action", "target_type", "target_id", "note"))
    actions = [action for action, *_ in entries]
    assert actions == [
        "moderation.report_hide",
        "moderation.restored",
        "moderation.report_dismiss",
        "moderation.comments_locked",
        "moderation.comments_unlocked",
        "moderation.user_muted",
        "moderation.user_unmuted",
        "moderation.keywords_changed",
    ], entries
    assert entries[0][3] == "not ok"
    assert ("moderation.user_muted", "user", employee.pk) == entries[5][:3]
    assert all(entry.organization_id == admin_user.organization_id for entry in AuditEntry.objects.filter(actor=admin_user))
    # and the log shows them to the organisation's admins
    listed = moderator.get("/api/v1/moderation/audit-log?action=moderation.").json()["results"]
    assert {row["action"] for row in listed} >= set(actions)
