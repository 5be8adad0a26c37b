"""Writes of moderation: reports, the keyword flag, decisions, comment locks, mutes, the keyword list.

Content is changed only through the feed's services (post_set_visibility,
comment_set_visibility, post_delete, comment_delete), which emit the events that
make it disappear from feeds, catch-up and sockets. Every moderator action goes on the
audit log through `accounts.audit.audit_record`, in the action's own transaction.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import selectors as account_selectors
from accounts.audit import audit_record
from accounts.models import Organization, User
from feed import selectors as feed_selectors
from feed import services as feed_services
from feed.models import Comment, Post
from moderation import events, selectors
from moderation.models import (
    CaseStatus,
    CommentLock,
    FlaggedKeyword,
    Mute,
    Report,
    ReportCase,
    ReportReason,
    ReportSource,
    Resolution,
    TargetType,
)
from notifications import services as notifications
from server.api.exceptions import Conflict, NotAllowed, NotFound, ValidationFailed

logger = logging.getLogger(__name__)

MAX_KEYWORDS = 200
MAX_MUTE_DAYS = 365
EXCERPT = 200


# --- Targets --------------------------------------------------------------------------------


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


def _author_id(case: ReportCase) -> int | None:
    if case.comment_id is not None:
        return case.comment.author_id
    if case.post_id is not None:
        return case.post.author_id
    return case.target_user_id


def _excerpt(post: Post | None, comment: Comment | None) -> str:
    text = comment.body if comment is not None else (post.body if post is not None else "")
    return " ".join(text.split())[:EXCERPT]


def _open_case_locked(
    *, organization_id: int, target_type: str, target_id: int, post: Post | None, comment: Comment | None, user: User | None
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
) -> Report:
    case = _open_case_locked(
        organization_id=organization.pk, target_type=target_type, target_id=target_id, post=post, comment=comment, user=user
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
            "excerpt": _excerpt(post, comment),
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


# --- Keyword flag ---------------------------------------------------------------------------


def keywords_matched(*, keywords: list[str], body: str) -> list[str]:
    """The keywords found in `body` as whole words, case-insensitively."""
    found = []
    for keyword in keywords:
        if re.search(rf"(?<!\w){re.escape(keyword)}(?!\w)", body, flags=re.IGNORECASE):
            found.append(keyword)
    return found


def content_flag_keywords(
    *, organization_id: int, author_id: int, post_id: int, comment_id: int | None, body: str, previous_body: str | None = None
) -> Report | None:
    """Queue new content that contains a listed keyword (a system report); the content stays as it is.

    For an edit (`previous_body` given) only keywords the edit brought in count: a flagged
    post saved again with the same words is not queued, nor its moderators told, twice.
    """
    keywords = selectors.keyword_list(organization_id=organization_id)
    matched = keywords_matched(keywords=keywords, body=body) if keywords else []
    if matched and previous_body:
        already = set(keywords_matched(keywords=keywords, body=previous_body))
        matched = [keyword for keyword in matched if keyword not in already]
    if not matched:
        return None
    with transaction.atomic():
        organization = Organization.objects.get(pk=organization_id)
        post = Post.objects.filter(pk=post_id, organization_id=organization_id).first()
        comment = Comment.objects.filter(pk=comment_id, post=post).first() if comment_id is not None else None
        if post is None or (comment_id is not None and comment is None):
            return None
        target_type, target_id = (TargetType.COMMENT, comment.pk) if comment else (TargetType.POST, post.pk)
        return _add_report(
            organization=organization,
            reporter=None,
            source=ReportSource.KEYWORD,
            target_type=target_type,
            target_id=target_id,
            post=post,
            comment=comment,
            user=None,
            reason=ReportReason.OTHER,
            note=_("Matched keywords: %(keywords)s") % {"keywords": ", ".join(matched)},
            keywords=matched,
        )


def on_content_published(sender, *, organization_id, author_id, post_id, comment_id, body, previous_body=None, **kwargs) -> None:
    # Runs after the content's commit, in the request that wrote it: a failure to flag must
    # not turn a published post into an error for its author.
    try:
        content_flag_keywords(
            organization_id=organization_id,
            author_id=author_id,
            post_id=post_id,
            comment_id=comment_id,
            body=body,
            previous_body=previous_body,
        )
    except Exception:
        logger.exception("Keyword flag failed for post %s comment %s", post_id, comment_id)


def keywords_set(*, actor: User, keywords: list[str]) -> list[str]:
    """Replace the organisation's keyword list (admins only)."""
    selectors.ensure_admin(actor)
    cleaned: dict[str, str] = {}
    for keyword in keywords:
        keyword = " ".join(keyword.split())
        if keyword:
            cleaned.setdefault(keyword.lower(), keyword)
    if len(cleaned) > MAX_KEYWORDS:
        message = _("At most %(max)d keywords.") % {"max": MAX_KEYWORDS}
        raise ValidationFailed(message, fields={"keywords": [message]})
    with transaction.atomic():
        # Serialises concurrent edits of one organisation's list.
        Organization.objects.select_for_update().filter(pk=actor.organization_id).first()
        before = selectors.keyword_list(organization_id=actor.organization_id)
        FlaggedKeyword.objects.filter(organization_id=actor.organization_id).delete()
        FlaggedKeyword.objects.bulk_create(
            [FlaggedKeyword(organization_id=actor.organization_id, keyword=keyword, created_by=actor) for keyword in cleaned.values()]
        )
        after = selectors.keyword_list(organization_id=actor.organization_id)
        if before != after:
            audit_record(
                actor=actor,
                organization_id=actor.organization_id,
                action="moderation.keywords_changed",
                target_type="organization",
                target_id=actor.organization_id,
                before={"keywords": before},
                after={"keywords": after},
            )
        return after


# --- Decisions ------------------------------------------------------------------------------


def _set_visibility(*, actor: User | None, case: ReportCase, visible: bool, reason: str) -> bool:
    """Hide or show the case's post or comment; True when that changed anything."""
    if case.target_type == TargetType.COMMENT:
        comment = Comment.objects.select_related("post").get(pk=case.comment_id)
        if comment.removed_at is not None or (comment.hidden_at is None) == visible:
            return False
        feed_services.comment_set_visibility(actor=actor, comment=comment, visible=visible, reason=reason)
        if not visible:
            notifications.content_withdraw(organization_id=case.organization_id, content=TargetType.COMMENT, content_id=comment.pk)
        return True
    post = Post.objects.get(pk=case.post_id)
    if post.removed_at is not None or (post.hidden_at is None) == visible:
        return False
    feed_services.post_set_visibility(actor=actor, post=post, visible=visible, reason=reason)
    if not visible:
        notifications.content_withdraw(organization_id=case.organization_id, content=TargetType.POST, content_id=post.pk)
    return True


def _remove(*, actor: User, case: ReportCase) -> bool:
    """Delete the case's post or comment as a moderator; False when its author had already deleted it."""
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


def _tell_author(*, case: ReportCase, action: str, note: str, extra: dict[str, Any] | None = None) -> None:
    author_id = _author_id(case)
    if author_id is None:
        return
    _tell_user(
        organization_id=case.organization_id,
        user_id=author_id,
        payload={
            "action": action,
            "target_type": case.target_type,
            "target_id": case.target_id,
            "post_id": case.post_id,
            "comment_id": case.comment_id,
            "note": note,
            **(extra or {}),
        },
    )


def _tell_user(*, organization_id: int, user_id: int, payload: dict[str, Any]) -> None:
    notifications.emit(
        events.MODERATION_DECIDED,
        organization_id=organization_id,
        payload=payload,
        user_ids=[user_id],
        addressed=[{"user_id": user_id, "reason": events.MODERATION.name}],
    )


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


# --- Comment lock ---------------------------------------------------------------------------


def comment_lock_guard(*, author: User, post: Post) -> None:
    """Registered in feed's comment_create_guards: a locked post takes no new comments."""
    if selectors.comment_lock_exists(post_id=post.pk):
        raise NotAllowed(_("Comments on this post are closed."), code="comments_locked")


def comments_lock(*, actor: User, post_id: int, locked: bool, note: str = "") -> bool:
    """Close or reopen a post's comments; returns whether they are now locked."""
    with transaction.atomic():
        post = selectors.access_post_to_moderate(actor=actor, post_id=post_id)
        if locked:
            _lock, created = CommentLock.objects.get_or_create(post=post, defaults={"locked_by": actor, "note": note[:1000]})
            changed = created
        else:
            changed = CommentLock.objects.filter(post=post).delete()[0] > 0
        if changed:
            audit_record(
                actor=actor,
                organization_id=post.organization_id,
                action="moderation.comments_locked" if locked else "moderation.comments_unlocked",
                target_type=TargetType.POST,
                target_id=post.pk,
                before={"comments_locked": not locked},
                after={"comments_locked": locked},
                note=note,
            )
        return locked


# --- Mutes ----------------------------------------------------------------------------------


def user_mute(*, actor: User, user_id: int, days: int, note: str = "") -> Mute:
    """No posts, comments or kudos for `days` days (the feed and recognition answer 403 `muted`)."""
    if not 1 <= days <= MAX_MUTE_DAYS:
        message = _("Between 1 and %(max)d days.") % {"max": MAX_MUTE_DAYS}
        raise ValidationFailed(message, fields={"days": [message]})
    with transaction.atomic():
        user = selectors.access_user_to_moderate(actor=actor, user_id=user_id)
        if user.pk == actor.pk:
            raise ValidationFailed(_("You cannot mute yourself."), code="cannot_mute_self")
        user = User.objects.select_for_update().get(pk=user.pk)
        now = timezone.now()
        before = user.muted_until
        user.muted_until = now + timedelta(days=days)
        user.save(update_fields=["muted_until"])
        # A new mute replaces a running one: the history shows the earlier one ended now.
        Mute.objects.filter(user=user, ends_at__gt=now, ended_early_at__isnull=True).update(ended_early_at=now, ended_early_by=actor)
        mute = Mute.objects.create(
            organization_id=user.organization_id, user=user, muted_by=actor, starts_at=now, ends_at=user.muted_until, note=note[:1000]
        )
        _tell_user(
            organization_id=user.organization_id,
            user_id=user.pk,
            payload={
                "action": "mute",
                "target_type": TargetType.USER,
                "target_id": user.pk,
                "muted_until": user.muted_until.isoformat(),
                "note": note,
            },
        )
        audit_record(
            actor=actor,
            organization_id=user.organization_id,
            action="moderation.user_muted",
            target_type=TargetType.USER,
            target_id=user.pk,
            before={"muted_until": before.isoformat() if before else None},
            after={"muted_until": user.muted_until.isoformat(), "days": days},
            note=note,
        )
        return mute


def user_unmute(*, actor: User, user_id: int, note: str = "") -> User:
    with transaction.atomic():
        user = selectors.access_user_to_moderate(actor=actor, user_id=user_id)
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.is_muted:
            raise Conflict(_("This person is not muted."), code="not_muted")
        now = timezone.now()
        before = user.muted_until
        user.muted_until = None
        user.save(update_fields=["muted_until"])
        Mute.objects.filter(user=user, ends_at__gt=now, ended_early_at__isnull=True).update(ended_early_at=now, ended_early_by=actor)
        _tell_user(
            organization_id=user.organization_id,
            user_id=user.pk,
            payload={"action": "unmute", "target_type": TargetType.USER, "target_id": user.pk, "note": note},
        )
        audit_record(
            actor=actor,
            organization_id=user.organization_id,
            action="moderation.user_unmuted",
            target_type=TargetType.USER,
            target_id=user.pk,
            before={"muted_until": before.isoformat() if before else None},
            after={"muted_until": None},
            note=note,
        )
        return user
