"""A moderator's decisions: resolve a queue row (hide, remove, dismiss) and restore hidden content."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.models import User
from feed import services as feed_services
from feed.models import Comment, Post
from moderation import events, selectors
from moderation.models import CaseStatus, Report, ReportCase, Resolution, TargetType
from moderation.services.common import _set_visibility, _tell_author
from notifications import services as notifications
from server.api.exceptions import Conflict, NotFound, ValidationFailed
from voice.models import Signal


def _remove(*, actor: User, case: ReportCase) -> bool:
    """Delete the case's post or comment as a moderator; False when its author had already deleted it.
    A signal or timeline entry is hidden for good (other signals and supporters point at it)."""
    if case.target_type in (TargetType.SIGNAL, TargetType.SIGNAL_ENTRY):
        return _set_visibility(actor=actor, case=case, visible=False, reason=_("Removed by a moderator."))
    if case.target_type == TargetType.COMMENT:
        comment = Comment.objects.select_related("post").get(pk=case.comment_id)
        if comment.removed_at is not None:
            return False
        feed_services.comment_delete(actor=actor, comment=comment)
        notifications.content_withdraw(organization_id=case.organization_id, content=TargetType.COMMENT, content_id=comment.pk)
        return True
    post = Post.objects.get(pk=case.post_id)
    if post.removed_at is not None:
        return False
    feed_services.post_delete(actor=actor, post=post)
    notifications.content_withdraw(organization_id=case.organization_id, content=TargetType.POST, content_id=post.pk)
    return True


def _tell_reporters(*, case: ReportCase, action: str) -> None:
    reporter_ids = sorted(set(Report.objects.filter(case=case, reporter__isnull=False).values_list("reporter_id", flat=True)))
    if not reporter_ids:
        return
    notifications.emit(
        events.REPORT_RESOLVED,
        organization_id=case.organization_id,
        payload={"target_type": case.target_type, "target_id": case.target_id, "action": action},
        user_ids=reporter_ids,
        addressed=[{"user_id": user_id, "reason": events.MODERATION.name} for user_id in reporter_ids],
    )


def _close(*, actor: User, case: ReportCase, action: str, note: str) -> None:
    now = timezone.now()
    case.status = CaseStatus.RESOLVED
    case.resolution = action
    case.resolution_note = note[:1000]
    case.resolved_at = now
    case.resolved_by = actor
    case.save(update_fields=["status", "resolution", "resolution_note", "resolved_at", "resolved_by"])
    _tell_reporters(case=case, action=action)


def case_resolve(*, actor: User, case_id: int, action: str, note: str = "") -> ReportCase:
    """A moderator's decision on a queue row: hide, remove or dismiss its target (with a note)."""
    if action not in (Resolution.HIDE, Resolution.REMOVE, Resolution.DISMISS):
        raise ValidationFailed(_("Unknown action."), fields={"action": [_("Unknown action.")]})
    with transaction.atomic():
        case = selectors.access_case(actor=actor, case_id=case_id, lock=True)
        if case.status != CaseStatus.OPEN:
            raise Conflict(_("This report was already resolved."), code="already_resolved")
        if case.target_type == TargetType.USER and action != Resolution.DISMISS:
            raise ValidationFailed(
                _("Reports about people are closed with dismiss; mute the person separately."),
                code="invalid_action",
                fields={"action": [_("Not possible for a person.")]},
            )
        before = {"status": case.status, "auto_hidden": case.auto_hidden_at is not None}
        changed = False
        if action == Resolution.HIDE:
            changed = _set_visibility(actor=actor, case=case, visible=False, reason=note or _("Hidden by a moderator."))
            changed = changed or case.auto_hidden_at is not None
        elif action == Resolution.REMOVE:
            changed = _remove(actor=actor, case=case)
        elif case.auto_hidden_at is not None:
            # The threshold hid it for the moderator to decide; dismissing shows it again.
            if _set_visibility(actor=actor, case=case, visible=True, reason=""):
                _tell_author(case=case, action="restore", note=note)
        _close(actor=actor, case=case, action=action, note=note)
        if action != Resolution.DISMISS and changed:
            _tell_author(case=case, action=action, note=note)
        audit_record(
            actor=actor,
            organization_id=case.organization_id,
            action=f"moderation.report_{action}",
            target_type=case.target_type,
            target_id=case.target_id,
            before=before,
            after={"status": case.status, "resolution": action, "report_count": case.report_count},
            note=note,
        )
        return case


def _restore(*, actor: User, case_like: ReportCase, note: str) -> None:
    if not _set_visibility(actor=actor, case=case_like, visible=True, reason=""):
        raise Conflict(_("This is not hidden."), code="not_hidden")
    _tell_author(case=case_like, action="restore", note=note)
    open_case = (
        ReportCase.objects.select_for_update()
        .filter(
            organization_id=case_like.organization_id,
            target_type=case_like.target_type,
            target_id=case_like.target_id,
            status=CaseStatus.OPEN,
        )
        .first()
    )
    if open_case is not None:
        _close(actor=actor, case=open_case, action=Resolution.RESTORE, note=note)
    audit_record(
        actor=actor,
        organization_id=case_like.organization_id,
        action="moderation.restored",
        target_type=case_like.target_type,
        target_id=case_like.target_id,
        before={"hidden": True},
        after={"hidden": False},
        note=note,
    )


def post_restore(*, actor: User, post_id: int, note: str = "") -> Post:
    """Show a hidden post again (and close its open queue row as restored)."""
    with transaction.atomic():
        post = selectors.access_post_to_moderate(actor=actor, post_id=post_id)
        target = ReportCase(organization_id=post.organization_id, target_type=TargetType.POST, target_id=post.pk, post=post)
        _restore(actor=actor, case_like=target, note=note)
        post.refresh_from_db()
        return post


def signal_restore(*, actor: User, signal_id: int, note: str = "") -> Signal:
    """Show a hidden signal again (admins; and close its open queue row as restored)."""
    selectors.ensure_admin(actor)
    with transaction.atomic():
        signal = Signal.objects.filter(pk=signal_id, organization_id=actor.organization_id).first()
        if signal is None:
            raise NotFound()
        target = ReportCase(organization_id=signal.organization_id, target_type=TargetType.SIGNAL, target_id=signal.pk, signal=signal)
        _restore(actor=actor, case_like=target, note=note)
        signal.refresh_from_db()
        return signal


def comment_restore(*, actor: User, comment_id: int, note: str = "") -> Comment:
    with transaction.atomic():
        comment = selectors.access_comment_to_moderate(actor=actor, comment_id=comment_id)
        target = ReportCase(
            organization_id=comment.post.organization_id,
            target_type=TargetType.COMMENT,
            target_id=comment.pk,
            post=comment.post,
            comment=comment,
        )
        _restore(actor=actor, case_like=target, note=note)
        comment.refresh_from_db()
        return comment
