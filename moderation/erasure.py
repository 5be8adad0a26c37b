"""Personal-data erasure as a background job: always finishes, resumable, with progress (issue #25 item 3).

An admin confirms (`POST /moderation/users/{id}/erase`) and the job runs in a Celery task,
one step per transaction: first the account (sessions, devices, memberships, media, the row
anonymised), then the redaction of one table at a time, then the audit entry. The job row
records the step reached, so a worker killed mid-way leaves a job the next run (or the
sweeper) resumes where it stopped; each step is idempotent. The person's name is replaced by
`Former colleague #<hash>` (one per person, from the server's secret), so redacting a group,
a company value or anything else with a unique name never collides with another erased
person's; should a rewritten value still collide, that row gets its id appended instead of
failing the job. See docs/privacy.md.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets

from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Model, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import signals
from accounts.audit import audit_record
from accounts.models import AuthToken, Invitation, LoginCode, Membership, User
from media.models import Media, UserAvatar
from media.services import delete_files
from moderation.audit import redaction_allowed
from moderation.models import AuditEntry, ErasureJob, ErasureStatus
from moderation.privacy import (
    ERASED_EMAIL_DOMAIN,
    ERASED_NAME,
    _email_pattern,
    _json_forms,
    _name_pattern,
    _replace,
    free_text_columns,
    redaction_scope,
    remove_content,
)
from notifications.models import Device, Notification, NotificationPreference
from server.api.exceptions import Conflict, NotAllowed, NotFound, ValidationFailed
from server.models import IdempotencyRecord
from voice.models import SurveyParticipation, SurveyResponse

logger = logging.getLogger(__name__)

STEP_ACCOUNT = "account"
STEP_FINISH = "finish"
# Tables erasure never rewrites: the person's row (anonymised by the account step) and the
# job itself (it holds what is being searched for until the job is done).
_SKIP = {"accounts.User", "moderation.ErasureJob"}


def erased_label(user_id: int) -> str:
    """`Former colleague #<8 hex>`: stable for one person (a resumed job writes the same), distinct between people."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"erased-user:{user_id}".encode(), hashlib.sha256).hexdigest()[:8]
    return f"{ERASED_NAME} #{digest}"


def _redactable_models() -> list[type[Model]]:
    found = []
    for model in apps.get_models():
        if model._meta.label in _SKIP or model._meta.proxy or not model._meta.managed:
            continue
        if any(free_text_columns(model)) and redaction_scope(model) is not None:
            found.append(model)
    return sorted(found, key=lambda model: model._meta.label)


def erasure_steps() -> list[str]:
    return [STEP_ACCOUNT, *[model._meta.label for model in _redactable_models()], STEP_FINISH]


# --- Requests and confirmation ---------------------------------------------------------------


def erasure_request(*, user: User) -> ErasureJob:
    """The person asks to be erased (`POST /me/erasure-request`): an admin confirms. Idempotent."""
    with transaction.atomic():
        job, created = ErasureJob.objects.get_or_create(
            user=user, defaults={"organization_id": user.organization_id, "status": ErasureStatus.REQUESTED, "requested_at": timezone.now()}
        )
        if created:
            # The audit log is where admins find requests to confirm (action `user.erasure_requested`).
            audit_record(
                actor=user, action="user.erasure_requested", target_type="user", target_id=user.pk, organization_id=user.organization_id
            )
    return job


def erasure_confirm(*, actor: User, user: User) -> ErasureJob:
    """An admin confirms: the job is queued and runs after the commit. Confirming a queued or
    running job again only queues it again (it resumes); a finished one is `409 already_erased`."""
    from moderation import tasks

    if not actor.is_org_admin or actor.organization_id != user.organization_id:
        raise NotAllowed()
    if user.pk == actor.pk:
        raise ValidationFailed(_("You cannot erase yourself."), code="not_on_self")
    with transaction.atomic():
        job, _created = ErasureJob.objects.select_for_update().get_or_create(
            user=user, defaults={"organization_id": user.organization_id, "status": ErasureStatus.QUEUED}
        )
        if job.status == ErasureStatus.DONE:
            raise Conflict(_("This person has already been erased."), code="already_erased")
        if job.confirmed_at is None:
            job.status = ErasureStatus.QUEUED
            job.confirmed_by, job.confirmed_at = actor, timezone.now()
            job.steps_total = len(erasure_steps())
            job.save()
            audit_record(
                sender=AuditEntry,
                actor=actor,
                action="user.erasure_confirmed",
                target_type="user",
                target_id=user.pk,
                organization_id=user.organization_id,
            )
        tasks.user_erasure_run_task.delay_on_commit(job.pk)
    return job


# --- Running ---------------------------------------------------------------------------------


def erasure_run(*, job_id: int) -> str:
    """Run the job's remaining steps; its status at the end. Safe to call twice at once: each
    step holds the job's row lock, and a second runner waits, then finds the step done."""
    while True:
        with transaction.atomic():
            job = ErasureJob.objects.select_for_update().select_related("user", "organization").filter(pk=job_id).first()
            if job is None or job.status in (ErasureStatus.DONE, ErasureStatus.REQUESTED):
                return job.status if job else "gone"
            steps = erasure_steps()
            job.steps_total = len(steps)
            if job.step >= len(steps):
                job.status = ErasureStatus.DONE
                job.save()
                return job.status
            name = steps[job.step]
            job.status, job.current = ErasureStatus.RUNNING, name
            try:
                with transaction.atomic():
                    _run_step(job, name)
            except Exception as error:
                # The step rolled back (its savepoint); the job keeps its place and says why,
                # committed, and the sweeper resumes it from this step.
                job.attempts += 1
                job.last_error = f"{name}: {error!r}"[:300]
                job.save()
                logger.exception("erasure job %s stopped at step %s", job_id, name)
                return "stopped"
            job.step += 1
            if name == STEP_FINISH:
                job.status, job.finished_at, job.current, job.needles = ErasureStatus.DONE, timezone.now(), "", []
            job.last_error = ""
            job.save()
            if job.status == ErasureStatus.DONE:
                return job.status


def _run_step(job: ErasureJob, name: str) -> None:
    redaction_allowed()
    if name == STEP_ACCOUNT:
        _erase_account(job)
    elif name == STEP_FINISH:
        _finish(job)
    else:
        model = apps.get_model(name)
        job.report["rows_redacted"] = job.report.get("rows_redacted", 0) + _redact_model(model, job)


def _erase_account(job: ErasureJob) -> None:
    user = User.objects.select_for_update(of=("self",)).select_related("organization").get(pk=job.user_id)
    if user.erased_at is not None:
        return  # done by an earlier run whose job row did not advance
    actor = job.confirmed_by or user
    old_name, old_email, was_active = user.name, user.email or "", user.is_active
    label = erased_label(user.pk)
    job.needles = [needle for needle in (old_email, old_name.strip()) if needle and len(needle) >= 3]

    token_ids = list(AuthToken.objects.filter(user=user).values_list("pk", flat=True))
    AuthToken.objects.filter(user=user).delete()
    LoginCode.objects.filter(user=user).delete()
    Device.objects.filter(user=user).delete()
    Notification.objects.filter(recipient=user).delete()
    NotificationPreference.objects.filter(user=user).delete()
    IdempotencyRecord.objects.filter(user=user).delete()
    Membership.objects.filter(user=user).delete()
    # Named survey answers are theirs and go; anonymous ones hold no person and stay.
    SurveyResponse.objects.filter(respondent=user).delete()
    SurveyParticipation.objects.filter(user=user).delete()

    if user.organization.erasure_keeps_content:
        content, posts_removed, comments_removed = "kept", 0, 0
    else:
        content = "removed"
        posts_removed, comments_removed = remove_content(actor=actor, user=user)
    media = list(Media.objects.filter(owner=user).values_list("pk", "original_path", "thumbnail_path", "large_path"))
    UserAvatar.objects.filter(user=user).delete()
    Media.objects.filter(owner=user).delete()

    user.name = label
    user.email = f"erased-{user.pk}-{secrets.token_hex(6)}@{ERASED_EMAIL_DOMAIN}"
    user.employee_number = ""
    user.set_unusable_password()
    user.is_active = False
    user.is_staff = False
    user.deactivated_at = user.deactivated_at or timezone.now()
    user.erased_at = timezone.now()
    user.language = ""
    user.timezone = ""
    user.muted_until = None
    user.last_login = None
    user.save()
    invitations = Q(accepted_user=user) | (Q(email=old_email) if old_email else Q(pk__in=[]))
    Invitation.objects.filter(invitations).update(name=label, email=user.email, employee_number="")
    job.report = {
        "content": content,
        "posts_removed": posts_removed,
        "comments_removed": comments_removed,
        "media_deleted": len(media),
        "rows_redacted": 0,
    }

    def announce() -> None:
        # Files after the commit: if the step rolled back, the rows still need them.
        delete_files(path for row in media for path in row[1:])
        signals.auth_tokens_revoked.send(sender=AuthToken, user_id=user.pk, token_ids=token_ids)
        if was_active:
            signals.user_deactivated.send(sender=User, user=user)

    transaction.on_commit(announce)


def _replacements(job: ErasureJob, *, suffix: str = "") -> list[tuple]:
    user = job.user
    label = erased_label(user.pk) + suffix
    replacements = []
    for needle in job.needles:
        if "@" in needle:
            replacements.append((_email_pattern(needle), user.email))
        else:
            replacements.append((_name_pattern(needle), label))
    return replacements


def _redact_model(model: type[Model], job: ErasureJob) -> int:
    """Replace the name and address in this table's text and JSON columns, in the person's
    organisation only (the same name elsewhere is another company's data)."""
    if not job.needles:
        return 0
    text_fields, json_fields, binary_fields = free_text_columns(model)
    rows = model._default_manager.filter(**{redaction_scope(model): job.organization_id})
    condition = Q()
    for field in text_fields:
        for needle in job.needles:
            condition |= Q(**{f"{field.name}__icontains": needle})
    for field in json_fields:
        for needle in job.needles:
            for form in _json_forms(needle):
                condition |= Q(**{f"{field.name}__icontains": form})
    changed = 0
    replacements = _replacements(job)
    if condition:
        for instance in rows.filter(condition).iterator():
            changed += _redact_row(model, instance, [*text_fields, *json_fields], replacements, job)
    if binary_fields:
        # Binary columns (cached API responses) cannot be searched by the database and are not
        # ours to rewrite: a row holding the person is dropped.
        encoded = [form.encode().lower() for needle in job.needles for form in _json_forms(needle)]
        doomed = []
        for instance in rows.only("pk", *[f.name for f in binary_fields]).iterator():
            for field in binary_fields:
                blob = bytes(getattr(instance, field.attname) or b"").lower()
                if any(form in blob for form in encoded):
                    doomed.append(instance.pk)
                    break
        if doomed:
            model._default_manager.filter(pk__in=doomed).delete()
            changed += len(doomed)
    return changed


def _redact_row(model: type[Model], instance: Model, fields: list[models.Field], replacements: list[tuple], job: ErasureJob) -> int:
    updates = {}
    for field in fields:
        old = getattr(instance, field.attname)
        new = _replace(old, replacements)
        if new != old:
            updates[field.attname] = new
    if not updates:
        return 0
    try:
        with transaction.atomic():
            model._default_manager.filter(pk=instance.pk).update(**updates)
    except IntegrityError:
        # A unique name that, rewritten, equals another row's: this row's id makes it unique.
        unique = _replacements(job, suffix=f"-{instance.pk}")
        model._default_manager.filter(pk=instance.pk).update(
            **{field.attname: _replace(getattr(instance, field.attname), unique) for field in fields if field.attname in updates}
        )
    return 1


def _finish(job: ErasureJob) -> None:
    user = job.user
    # Where they connected from is personal data too; what they did stays on the record.
    cleared = AuditEntry.objects.filter(actor=user, ip__isnull=False).update(ip=None)
    job.report["rows_redacted"] = job.report.get("rows_redacted", 0) + cleared
    # Written after the redaction and without name or e-mail: the entry itself must not undo the erasure.
    audit_record(
        sender=AuditEntry,
        organization_id=job.organization_id,
        actor=job.confirmed_by,
        action="user.erased",
        target_type="user",
        target_id=user.pk,
        target_label=erased_label(user.pk),
        after=dict(job.report),
    )


def erasure_job_get(*, user: User) -> ErasureJob:
    job = ErasureJob.objects.filter(user=user).first()
    if job is None:
        raise NotFound()
    return job


def erasure_jobs_resume() -> int:
    """The sweeper: queue again every confirmed job that has not moved for a while (a dead worker)."""
    from moderation import tasks

    stale = timezone.now() - settings.ERASURE_STALE_AFTER
    job_ids = list(
        ErasureJob.objects.filter(status__in=[ErasureStatus.QUEUED, ErasureStatus.RUNNING], updated_at__lt=stale).values_list(
            "pk", flat=True
        )
    )
    for job_id in job_ids:
        tasks.user_erasure_run_task.delay(job_id)
    return len(job_ids)


def erasure_now(*, actor: User, user: User) -> ErasureJob:
    """Confirm and run the whole job in this process (management commands, tests); the API queues it."""
    job = erasure_confirm(actor=actor, user=user)
    erasure_run(job_id=job.pk)
    job.refresh_from_db()
    return job
