"""What a decision does to the reported content, and telling the people it concerns (shared by the use cases)."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from feed import services as feed_services
from feed.models import Comment, Post
from moderation import events
from moderation.models import ReportCase, TargetType
from notifications import services as notifications
from voice.models import Signal, SignalEntry
from voice.services import signals_workflow


def _author_id(case: ReportCase) -> int | None:
    # Told only to the author themselves (moderation.decided goes to them alone): no one else
    # learns who wrote an anonymous signal.
    if case.signal_entry_id is not None:
        return case.signal_entry.actor_id
    if case.signal_id is not None:
        return case.signal.author_id
    if case.comment_id is not None:
        return case.comment.author_id
    if case.post_id is not None:
        return case.post.author_id
    return case.target_user_id


def _set_visibility(*, actor: User | None, case: ReportCase, visible: bool, reason: str) -> bool:
    """Hide or show the case's post, comment, signal or timeline entry; True when that changed anything."""
    if case.target_type == TargetType.SIGNAL_ENTRY:
        entry = SignalEntry.objects.get(pk=case.signal_entry_id)
        if (entry.hidden_at is None) == visible:
            return False
        signals_workflow.signal_entry_set_visibility(actor=actor, entry=entry, visible=visible)
        return True
    if case.target_type == TargetType.SIGNAL:
        signal = Signal.objects.get(pk=case.signal_id)
        if (signal.hidden_at is None) == visible:
            return False
        signals_workflow.signal_set_visibility(actor=actor, signal=signal, visible=visible, reason=reason)
        return True
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
