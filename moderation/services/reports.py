"""Reports: a colleague's (or the keyword flag's) report joins the target's open queue row; the threshold hides."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import selectors as account_selectors
from accounts.audit import audit_record
from accounts.models import Organization, User
from feed import selectors as feed_selectors
from feed.models import Comment, Post
from moderation import events, selectors
from moderation.models import CaseStatus, Report, ReportCase, ReportReason, ReportSource, TargetType
from moderation.services.common import _set_visibility, _tell_author
from notifications import services as notifications
from server.api.exceptions import Conflict, NotFound, ValidationFailed
from voice.models import Signal, SignalEntry
from voice.selectors.signals import access_signal

EXCERPT = 200


def _signal_target_of(*, reporter: User, target_type: str, target_id: int) -> tuple[Signal, SignalEntry | None]:
    """A signal, or a line of its public timeline, as the reporter sees it (404 → the caller's 400)."""
    if target_type == TargetType.SIGNAL:
        return access_signal(user=reporter, signal_id=target_id), None
    entry = SignalEntry.objects.filter(pk=target_id, organization_id=reporter.organization_id, hidden_at__isnull=True).first()
    if entry is None:
        raise NotFound()
    return access_signal(user=reporter, signal_id=entry.signal_id), entry


def _target_of(*, reporter: User, target_type: str, target_id: int) -> tuple[Post | None, Comment | None, User | None]:
    """The target as the reporter sees it. An id in the body that they cannot open is a 400 naming
    `target_id` (API.md), the same for another organisation's target as for none at all."""
    try:
        if target_type == TargetType.POST:
            post = feed_selectors.access_post(user=reporter, post_id=target_id, include_unpublished=False)
            return post, None, None
        if target_type == TargetType.COMMENT:
            comment = feed_selectors.access_comment(user=reporter, comment_id=target_id)
            return comment.post, comment, None
        return None, None, account_selectors.access_user(actor=reporter, user_id=target_id)
    except NotFound:
        message = _("There is nothing to report with this id.")
        raise ValidationFailed(message, code="unknown_target", fields={"target_id": [message]})


def _excerpt(post: Post | None, comment: Comment | None) -> str:
    text = comment.body if comment is not None else (post.body if post is not None else "")
    return " ".join(text.split())[:EXCERPT]


def _open_case_locked(
    *,
    organization_id: int,
    target_type: str,
    target_id: int,
    post: Post | None,
    comment: Comment | None,
    user: User | None,
    signal: Signal | None = None,
    signal_entry: SignalEntry | None = None,
) -> ReportCase:
    """The target's open queue row, created if needed, locked until the caller's transaction ends."""
    for _attempt in range(3):
        case = (
            ReportCase.objects.select_for_update()
            .filter(organization_id=organization_id, target_type=target_type, target_id=target_id, status=CaseStatus.OPEN)
            .first()
        )
        if case is not None:
            return case
        try:
            # A concurrent first report of the same target inserts too: the partial unique
            # index makes one of us wait and fail, and the loop then locks the winner's row.
            with transaction.atomic():
                return ReportCase.objects.create(
                    organization_id=organization_id,
                    target_type=target_type,
                    target_id=target_id,
                    post=post,
                    comment=comment,
                    target_user=user,
                    signal=signal,
                    signal_entry=signal_entry,
                )
        except IntegrityError:
            continue
    raise Conflict(_("Please try again."), code="busy")


def _add_report(
    *,
    organization: Organization,
    reporter: User | None,
    source: str,
    target_type: str,
    target_id: int,
    post: Post | None,
    comment: Comment | None,
    user: User | None,
    reason: str,
    note: str,
    keywords: list[str] | None = None,
    signal: Signal | None = None,
    signal_entry: SignalEntry | None = None,
    excerpt: str | None = None,
) -> Report:
    case = _open_case_locked(
        organization_id=organization.pk,
        target_type=target_type,
        target_id=target_id,
        post=post,
        comment=comment,
        user=user,
        signal=signal,
        signal_entry=signal_entry,
    )
    already = _("You have already reported this.")
    if reporter is not None and Report.objects.filter(reporter=reporter, target_type=target_type, target_id=target_id).exists():
        raise Conflict(already, code="already_reported")
    now = timezone.now()
    try:
        with transaction.atomic():
            report = Report.objects.create(
                organization=organization,
                case=case,
                reporter=reporter,
                source=source,
                target_type=target_type,
                target_id=target_id,
                reason=reason,
                note=note,
                created_at=now,
            )
    except IntegrityError:
        raise Conflict(already, code="already_reported")
    case.report_count += 1
    if reporter is not None:
        case.person_report_count += 1
    case.reason_counts = {**case.reason_counts, reason: case.reason_counts.get(reason, 0) + 1}
    if keywords:
        case.flagged_keywords = sorted(set(case.flagged_keywords) | set(keywords))
    case.last_reported_at = now
    case.save(update_fields=["report_count", "person_report_count", "reason_counts", "flagged_keywords", "last_reported_at"])

    moderators = [
        user_id
        for user_id in selectors.moderator_ids(organization_id=organization.pk, post=post)
        if user_id != getattr(reporter, "pk", None)
    ]
    if moderators:
        payload = {
            "report_id": case.pk,
            "target_type": target_type,
            "target_id": target_id,
            "post_id": post.pk if post is not None else None,
            "comment_id": comment.pk if comment is not None else None,
            "reason": reason,
            "source": source,
            "report_count": case.report_count,
            "excerpt": excerpt if excerpt is not None else _excerpt(post, comment),
        }
        notifications.emit(
            events.REPORT_CREATED,
            organization_id=organization.pk,
            payload=payload,
            user_ids=moderators,
            addressed=[{"user_id": user_id, "reason": events.MODERATION.name} for user_id in moderators],
        )
    _auto_hide_if_due(case=case, organization=organization, now=now)
    return report


def _auto_hide_if_due(*, case: ReportCase, organization: Organization, now) -> None:
    threshold = organization.auto_hide_report_threshold
    if not threshold or case.target_type == TargetType.USER or case.auto_hidden_at is not None:
        return
    if case.person_report_count < threshold:
        return
    reason = _("Hidden automatically after %(count)d reports, until a moderator decides.") % {"count": case.person_report_count}
    if not _set_visibility(actor=None, case=case, visible=False, reason=reason):
        return  # already hidden or gone: nothing the system did
    case.auto_hidden_at = now
    case.save(update_fields=["auto_hidden_at"])
    _tell_author(case=case, action="auto_hide", note=reason)
    audit_record(
        actor=None,
        organization_id=case.organization_id,
        action="moderation.auto_hidden",
        target_type=case.target_type,
        target_id=case.target_id,
        after={"report_count": case.person_report_count, "threshold": threshold},
    )


def report_create(*, reporter: User, target_type: str, target_id: int, reason: str, note: str = "") -> Report:
    """A colleague reports a post, comment or person they can see; once per target (409 after)."""
    if reason not in ReportReason.values:
        raise ValidationFailed(_("Unknown reason."), fields={"reason": [_("Unknown reason.")]})
    if target_type in (TargetType.SIGNAL, TargetType.SIGNAL_ENTRY):
        return _signal_report_create(reporter=reporter, target_type=target_type, target_id=target_id, reason=reason, note=note)
    post, comment, user = _target_of(reporter=reporter, target_type=target_type, target_id=target_id)
    author_id = comment.author_id if comment else post.author_id if post else user.pk
    if author_id == reporter.pk:
        raise ValidationFailed(_("You cannot report yourself or your own content."), code="cannot_report_self")
    with transaction.atomic():
        organization = Organization.objects.get(pk=reporter.organization_id)
        return _add_report(
            organization=organization,
            reporter=reporter,
            source=ReportSource.USER,
            target_type=target_type,
            target_id=target_id,
            post=post,
            comment=comment,
            user=user,
            reason=reason,
            note=note.strip(),
        )


def _signal_report_create(*, reporter: User, target_type: str, target_id: int, reason: str, note: str) -> Report:
    """A signal or a timeline entry: moderated by admins; the report carries the content, never the
    author of an anonymous signal (only its author may learn they wrote it)."""
    try:
        signal, entry = _signal_target_of(reporter=reporter, target_type=target_type, target_id=target_id)
    except NotFound:
        message = _("There is nothing to report with this id.")
        raise ValidationFailed(message, code="unknown_target", fields={"target_id": [message]})
    author_id = entry.actor_id if entry is not None else signal.author_id
    if author_id == reporter.pk:
        raise ValidationFailed(_("You cannot report yourself or your own content."), code="cannot_report_self")
    text = entry.message if entry is not None else f"{signal.title}\n{signal.body}"
    with transaction.atomic():
        organization = Organization.objects.get(pk=reporter.organization_id)
        return _add_report(
            organization=organization,
            reporter=reporter,
            source=ReportSource.USER,
            target_type=target_type,
            target_id=target_id,
            post=None,
            comment=None,
            user=None,
            reason=reason,
            note=note.strip(),
            signal=signal,
            signal_entry=entry,
            excerpt=" ".join(text.split())[:EXCERPT],
        )
