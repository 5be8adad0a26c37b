"""An employee's data request: export everything, or erase them without a trace of name or e-mail."""

from __future__ import annotations

import json

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.storage import default_storage
from django.db import models

from accounts.models import AuthToken, Membership, User
from feed.models import Comment, Post
from media.models import Media, UserAvatar
from moderation.audit import AuditEntry
from moderation.privacy import EXPORT_EXCLUDED, EXPORT_SECTIONS
from notifications.models import Device, Notification, OutboxEvent
from tests.factories import AdminFactory, MembershipFactory, UserFactory, issue_token
from tests.media.factories import ready_media
from tests.recognition.factories import AwardCategoryFactory, AwardRoundFactory

NAME = "Zebedeus Quorndon"
EMAIL = "zq.private@example.org"


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "uploads")
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}


def export_url(user) -> str:
    return f"/api/v1/moderation/users/{user.pk}/export"


def erase_url(user) -> str:
    return f"/api/v1/moderation/users/{user.pk}/erase"


@pytest.fixture
def person(api, org, admin_user, group, django_capture_on_commit_callbacks):
    """Someone who used every part of the app, written through the API where a phone would."""
    with django_capture_on_commit_callbacks(execute=True):
        code = api(admin_user).post("/api/v1/invitations", {"email": EMAIL, "name": NAME, "group_ids": [group.pk]}, format="json")
        assert code.status_code == 201, code.json()
        activated = api().post("/api/v1/auth/activate", {"code": code.json()["code"], "password": "Correct-Horse-42"}, format="json")
        assert activated.status_code in (200, 201), activated.json()
    user = User.objects.get(email=EMAIL)
    colleague = UserFactory(organization=org)
    MembershipFactory(group=group, user=colleague)
    me, them = api(user), api(colleague)
    with django_capture_on_commit_callbacks(execute=True):
        post_id = me.post("/api/v1/posts", {"body": "My first shift was great", "group_ids": [group.pk]}, format="json").json()["id"]
        me.post(f"/api/v1/posts/{post_id}/comments", {"body": "Thanks all"}, format="json")
        them_post = them.post("/api/v1/posts", {"body": f"Welcome {NAME}! Mail {EMAIL}", "group_ids": [group.pk]}, format="json").json()[
            "id"
        ]
        them.post(f"/api/v1/posts/{them_post}/comments", {"body": f"Hi @[user:{user.pk}]"}, format="json")
        them.post(f"/api/v1/posts/{post_id}/comments", {"body": "Nice!"}, format="json")
        me.put(f"/api/v1/posts/{them_post}/reaction", {"type": "heart"}, format="json")
        me.post("/api/v1/kudos", {"recipient_ids": [colleague.pk], "message": "You rock"}, format="json")
        received = them.post(
            "/api/v1/kudos", {"recipient_ids": [user.pk], "message": "Thank you!"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
        )
        assert received.status_code == 201, received.json()
        me.post("/api/v1/devices", {"token": "fcm-token-zq", "platform": "android"}, format="json")
        avatar = ready_media(owner=user)
        assert me.post("/api/v1/me/avatar", {"media_id": avatar.pk}, format="json").status_code in (200, 201)
        category = AwardCategoryFactory(organization=org)
        round = AwardRoundFactory(category=category)
        nominated = them.post(
            f"/api/v1/awards/rounds/{round.pk}/nominations",
            {"nominee_id": user.pk, "reason": "Always helps at the till, every day."},
            format="json",
        )
        assert nominated.status_code == 201, nominated.json()
        assert api(admin_user).post(f"/api/v1/awards/rounds/{round.pk}/close").status_code == 200
        api(admin_user).patch(f"/api/v1/users/{user.pk}", {"role": "leader"}, format="json")
    LogEntry.objects.create(
        user=admin_user,
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(user.pk),
        object_repr=str(user),
        action_flag=CHANGE,
        change_message="[]",
    )
    user.refresh_from_db()
    return user


# --- export -----------------------------------------------------------------------------------


def test_export_covers_every_model_with_a_relation_to_user():
    covered = {(section.label, section.field) for section in EXPORT_SECTIONS} | set(EXPORT_EXCLUDED)
    missing = []
    for model in apps.get_models():
        if model is User:
            continue  # the profile
        for field in model._meta.get_fields():
            if not (field.is_relation and field.concrete and field.related_model is User):
                continue
            if field.many_to_many and not field.remote_field.through._meta.auto_created:
                continue  # its through model is walked itself (CommentMention)
            if (model._meta.label, field.name) not in covered:
                missing.append(f"{model._meta.label}.{field.name}")
    assert not missing, f"Add to moderation.privacy.EXPORT_SECTIONS (or EXPORT_EXCLUDED with a reason): {missing}"


def test_export_holds_everything_about_the_person(api, admin_user, person):
    response = api(admin_user).get(export_url(person))
    assert response.status_code == 200
    data = response.json()
    assert data["profile"]["email"] == EMAIL and data["profile"]["name"] == NAME
    assert "password" not in data["profile"]
    for section in (
        "memberships",
        "sessions",
        "own_invitation",
        "posts",
        "comments",
        "mentions",
        "reactions",
        "kudos_given",
        "kudos_received",
        "kudos_received_messages",
        "nominations_received",
        "award_results",
        "devices",
        "notifications",
        "media",
        "avatar",
        "audit_entries",
        "admin_site_changes_about",
    ):
        assert data[section], f"export section {section} is empty"
    assert "nominator_id" not in data["nominations_received"][0]  # confidential
    assert "key_hash" not in data["sessions"][0] and "token" not in data["devices"][0]
    assert {entry["action"] for entry in data["audit_entries"]} >= {"invitation.created", "user.updated"}
    assert data["kudos_received_messages"][0]["message"] == "Thank you!"


def test_export_and_erase_are_admin_only_and_organisation_scoped(api, person, employee, leader, other_org):
    outsider = AdminFactory(organization=other_org)
    for client in (api(employee), api(leader)):
        assert client.get(export_url(person)).status_code == 403
        assert client.post(erase_url(person), {"confirm": True}, format="json").status_code == 403
    assert api(outsider).get(export_url(person)).status_code == 404
    assert api(outsider).post(erase_url(person), {"confirm": True}, format="json").status_code == 404
    person.refresh_from_db()
    assert person.name == NAME and person.is_active


# --- erasure ----------------------------------------------------------------------------------


def test_erase_needs_confirmation_and_not_oneself(api, admin_user, person):
    client = api(admin_user)
    response = client.post(erase_url(person), {"confirm": False}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "confirmation_required"
    assert client.post(erase_url(person), {}, format="json").status_code == 400
    assert client.post(erase_url(admin_user), {"confirm": True}, format="json").json()["error"]["code"] == "not_on_self"
    assert User.objects.get(pk=person.pk).name == NAME


def _text_columns(model) -> list[models.Field]:
    return [
        f for f in model._meta.concrete_fields if isinstance(f, (models.CharField, models.TextField, models.JSONField, models.BinaryField))
    ]


def traces(*needles: str) -> list[str]:
    """Every row of every table whose text, JSON or binary columns hold one of `needles`."""
    found = []
    lowered = [needle.lower() for needle in needles]
    for model in apps.get_models():
        columns = _text_columns(model)
        if not columns:
            continue
        for row in model._default_manager.values_list("pk", *[f.attname for f in columns]):
            for field, value in zip(columns, row[1:], strict=True):
                if value is None:
                    continue
                if isinstance(value, (bytes, memoryview)):
                    text = bytes(value).decode("utf-8", "replace")
                elif isinstance(field, models.JSONField):
                    text = json.dumps(value, ensure_ascii=False)
                else:
                    text = str(value)
                if any(needle in text.lower() for needle in lowered):
                    found.append(f"{model._meta.label}.{field.name} (pk {row[0]}): {text[:120]}")
    return found


def test_erasure_leaves_no_trace_of_name_or_email_in_any_table(api, admin_user, person, django_capture_on_commit_callbacks):
    before = traces(NAME, EMAIL)
    tables = {trace.split(" ")[0] for trace in before}
    # The data set really spreads the name: cards, payloads, notifications, the audit log, the admin log.
    assert {"feed.Post.card", "notifications.OutboxEvent.payload", "moderation.AuditEntry.after", "admin.LogEntry.object_repr"} <= tables
    avatar_paths = [p for media in Media.objects.filter(owner=person) for p in (media.thumbnail_path, media.large_path)]
    assert all(default_storage.exists(path) for path in avatar_paths)
    old_token = issue_token(person)

    with django_capture_on_commit_callbacks(execute=True):
        response = api(admin_user).post(erase_url(person), {"confirm": True}, format="json")
    assert response.status_code == 202, response.json()
    job = api(admin_user).get(erase_url(person)).json()
    assert job["status"] == "done" and job["report"]["content"] == "kept" and job["step"] == job["steps_total"]

    assert traces(NAME, EMAIL) == []
    person.refresh_from_db()
    assert person.name.startswith("Former colleague #")
    assert person.email.endswith("@erased.invalid") and not person.has_usable_password() and not person.is_active
    assert not AuthToken.objects.filter(user=person).exists()
    assert not Device.objects.filter(user=person).exists()
    assert not Notification.objects.filter(recipient=person).exists()
    assert not Media.objects.filter(owner=person).exists() and not UserAvatar.objects.filter(user=person).exists()
    assert not any(default_storage.exists(path) for path in avatar_paths)
    assert not Membership.objects.filter(user=person).exists()
    assert api(token=old_token).get("/api/v1/me").status_code == 401
    # Kept anonymised: their post, comment and award are still there under the new name.
    assert Post.objects.filter(author=person, kind="post", removed_at__isnull=True).exists()
    assert Comment.objects.filter(author=person, removed_at__isnull=True).exists()
    award = Post.objects.get(kind="award")
    assert person.name in award.body
    assert not AuditEntry.objects.filter(actor=person, ip__isnull=False).exists()
    entry = AuditEntry.objects.get(action="user.erased")
    assert (entry.actor_id, entry.target_id, entry.target_label) == (admin_user.pk, person.pk, person.name)
    # Erasing twice is refused, not repeated.
    assert api(admin_user).post(erase_url(person), {"confirm": True}, format="json").status_code == 409


def test_erasure_never_touches_another_organisation(api, admin_user, person, other_org, django_capture_on_commit_callbacks):
    # The redaction looked for the name and e-mail in every table of every organisation: an
    # admin could erase a person they had named after a common word (or after someone
    # elsewhere) and rewrite other companies' posts and audit logs. It stays in the erased
    # person's own organisation.
    from feed.services.posts import post_create

    elsewhere = AdminFactory(organization=other_org)
    text = f"{NAME} from the supplier visited us, mail {EMAIL}"
    with django_capture_on_commit_callbacks(execute=True):
        post = post_create(author=elsewhere, body=text)
    entry = AuditEntry.objects.create(organization=other_org, actor=elsewhere, action="note", target_type="user", target_label=NAME)
    log = LogEntry.objects.create(
        user=elsewhere,
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(elsewhere.pk),
        object_repr=NAME,
        action_flag=CHANGE,
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert api(admin_user).post(erase_url(person), {"confirm": True}, format="json").status_code == 202

    post.refresh_from_db()
    entry.refresh_from_db()
    log.refresh_from_db()
    assert post.body == text
    assert entry.target_label == NAME and log.object_repr == NAME
    outbox = OutboxEvent.objects.get(organization=other_org, type="post.created")
    assert NAME in json.dumps(outbox.payload)


def test_every_table_with_text_has_a_redaction_scope():
    # A new model with text columns must say how erasure finds its organisation (or that it
    # holds no personal data): erasure refuses to guess.
    from moderation.privacy import free_text_columns, redaction_scope

    for model in apps.get_models():
        if any(free_text_columns(model)) and not model._meta.proxy and model._meta.managed:
            redaction_scope(model)  # raises for an unknown model


def test_erasure_removes_posts_and_comments_when_the_organisation_says_so(api, org, admin_user, person, django_capture_on_commit_callbacks):
    org.erasure_keeps_content = False
    org.save()
    post = Post.objects.get(author=person, kind="post")
    with django_capture_on_commit_callbacks(execute=True):
        api(admin_user).post(erase_url(person), {"confirm": True}, format="json")
    report = api(admin_user).get(erase_url(person)).json()["report"]
    assert report["content"] == "removed"
    assert report["posts_removed"] == 1 and report["comments_removed"] == 1
    post.refresh_from_db()
    assert post.removed_at is not None and post.body == ""
    assert not Comment.objects.filter(author=person).exclude(body="").exists()
    assert OutboxEvent.objects.filter(type="post.deleted", payload__id=post.pk).exists()
    # Awards are kept (anonymised) even when content goes.
    assert Post.objects.filter(kind="award", removed_at__isnull=True).exists()


def test_the_tenancy_harness_walks_the_admin_routes():
    from tests.security.harness import all_routes, object_routes
    from tests.security.tenancy_moderation_admin import ADMIN_ROUTE_NAMES

    assert {route.name for route in all_routes()} >= ADMIN_ROUTE_NAMES
    assert {"moderation-user-export", "moderation-user-erase"} <= {route.name for route in object_routes()}
