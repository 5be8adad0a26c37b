"""What leaders do with a signal: assign it, move its status (with a message), merge it, announce the fix.

Every change is a line of the signal's public timeline and a `signal.status_changed` to its
author and supporters, each in their own language (the push is rendered per recipient).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from feed.services import post_create_system
from notifications.services import emit
from server.api.exceptions import Conflict, NotAllowed, ValidationFailed
from server.api.text import clean_text
from voice import events
from voice.models import Signal, SignalEntry, SignalEntryKind, SignalStatus, SignalSupport
from voice.models.signals import STATUS_RANK
from voice.selectors.signals import follower_ids, may_answer
from voice.services.signals import _recount
from voice.signal_cards import entry_card, signal_summary

MIN_CLOSING_MESSAGE = 20
_RELATED = ("author", "owner", "group", "key_moment")


def _invalid_transition(current: str, wanted: str) -> Conflict:
    return Conflict(
        _("A signal that is %(current)s cannot become %(wanted)s.") % {"current": current, "wanted": wanted}, code="invalid_transition"
    )


def _reload(signal: Signal) -> Signal:
    return Signal.objects.select_related(*_RELATED).get(pk=signal.pk)


def _tell_followers(signal: Signal, entry: SignalEntry, *, actor: User, extra: dict[str, Any] | None = None, also: list[int] = ()) -> None:
    followers = follower_ids(signal=signal)
    recipients = sorted({*followers, *also} - {actor.pk})
    if not recipients:
        return
    payload = {
        **signal_summary(signal),
        "signal_id": signal.pk,
        "entry": entry_card(entry, signal=signal, viewer=None),
        "message": entry.message,
        **(extra or {}),
    }
    addressed = [{"user_id": user_id, "reason": events.SIGNAL_UPDATE.name} for user_id in recipients if user_id in followers]
    addressed += [{"user_id": user_id, "reason": events.SIGNAL_NEW.name} for user_id in recipients if user_id not in followers]
    emit(
        events.SIGNAL_STATUS_CHANGED,
        organization_id=signal.organization_id,
        payload=payload,
        user_ids=recipients,
        addressed=addressed,
    )


# --- Assign -------------------------------------------------------------------------------


def signal_assign(*, actor: User, signal: Signal, owner_id: int) -> Signal:
    if not actor.is_leader_or_admin:
        raise NotAllowed(_("Only leaders and admins assign signals."))
    owner = User.objects.filter(
        pk=owner_id, organization_id=actor.organization_id, is_active=True, role__in=(Role.LEADER, Role.ADMIN)
    ).first()
    if owner is None:
        message = _("Not an active leader or admin of your organisation.")
        raise ValidationFailed(message, fields={"owner_id": [message]})
    with transaction.atomic():
        signal = Signal.objects.select_for_update().get(pk=signal.pk)
        if signal.is_closed:
            raise Conflict(_("This signal is closed."), code="signal_closed")
        if signal.owner_id == owner.pk:
            return _reload(signal)
        now = timezone.now()
        signal.owner = owner
        signal.updated_at = now
        signal.save(update_fields=["owner", "updated_at"])
        entry = SignalEntry.objects.create(
            organization_id=signal.organization_id, signal=signal, kind=SignalEntryKind.ASSIGNED, actor=actor, owner=owner, created_at=now
        )
        signal = _reload(signal)
        _tell_followers(signal, entry, actor=actor, also=[owner.pk])
        return signal


# --- Status -------------------------------------------------------------------------------


def _announcement_card(signal: Signal, message: str) -> dict[str, Any]:
    """The `signal` of a `you_said_we_did` post: what was raised, what was done, how many cared."""
    return {
        "id": signal.pk,
        "kind": signal.kind,
        "title": signal.title,
        "message": message,
        "support_count": signal.support_count,
        "group_count": signal.group_count,
        "key_moment": {"id": signal.key_moment_id, "title": signal.key_moment.title} if signal.key_moment else None,
    }


def signal_set_status(*, actor: User, signal: Signal, status: str, message: str | None = None, announce: bool = False) -> Signal:
    """Forward only (steps may be skipped); a closing status needs a message of at least 20 characters."""
    if not may_answer(user=actor, signal=signal):
        raise NotAllowed(_("Only its owner, a leader of its group or an admin answers a signal."))
    closing = status in (SignalStatus.RESOLVED, SignalStatus.DECLINED)
    message = clean_text(message, field="message", allow_empty=not closing, min_length=MIN_CLOSING_MESSAGE if closing else 0)
    if announce and status != SignalStatus.RESOLVED:
        message_text = _("Only a resolution can be announced.")
        raise ValidationFailed(message_text, fields={"announce": [message_text]})
    with transaction.atomic():
        signal = Signal.objects.select_for_update().get(pk=signal.pk)
        if signal.is_closed or STATUS_RANK[status] <= STATUS_RANK[signal.status]:
            raise _invalid_transition(signal.status, status)
        now = timezone.now()
        signal.status = status
        signal.updated_at = now
        signal.first_response_at = signal.first_response_at or now
        if status == SignalStatus.RESOLVED:
            signal.resolved_at = now
        signal.save(update_fields=["status", "updated_at", "first_response_at", "resolved_at"])
        entry = SignalEntry.objects.create(
            organization_id=signal.organization_id,
            signal=signal,
            kind=SignalEntryKind.STATUS,
            actor=actor,
            status=status,
            message=message,
            created_at=now,
        )
        signal = _reload(signal)
        extra = {}
        if announce:
            # A normal post of the signal's audience (its group, else the organisation): comments,
            # reactions and reach as any. Created once: the status guard above refuses a second
            # resolution, and an Idempotency-Key retry replays the first response.
            post = post_create_system(
                author=actor,
                kind="you_said_we_did",
                body=message,
                group_ids=[signal.group_id] if signal.group_id else None,
                card=_announcement_card(signal, message),
            )
            Signal.objects.filter(pk=signal.pk).update(announcement=post)
            signal.announcement = post
            extra["post_id"] = post.pk
        _tell_followers(signal, entry, actor=actor, extra=extra)
        return signal


# --- Merge --------------------------------------------------------------------------------


def signal_merge(*, actor: User, signal: Signal, into: Signal) -> Signal:
    """`signal` joins `into`: its supporters and its author become supporters of `into` (once each)."""
    if not actor.is_leader_or_admin:
        raise NotAllowed(_("Only leaders and admins merge signals."))
    if into.pk == signal.pk:
        message = _("A signal cannot be merged into itself.")
        raise ValidationFailed(message, fields={"into_id": [message]})
    with transaction.atomic():
        # Both rows locked in primary-key order: two merges of the same pair cannot deadlock.
        locked = {row.pk: row for row in Signal.objects.select_for_update().filter(pk__in=[signal.pk, into.pk]).order_by("pk")}
        signal, into = locked[signal.pk], locked[into.pk]
        if signal.is_closed:
            raise _invalid_transition(signal.status, SignalStatus.MERGED)
        if into.status == SignalStatus.MERGED or into.organization_id != signal.organization_id:
            message = _("This signal was itself merged; merge into the one it joined.")
            raise ValidationFailed(message, fields={"into_id": [message]})
        carried = list(SignalSupport.objects.filter(signal=signal).values_list("user_id", "group_id", "note", "created_at"))
        carried.append((signal.author_id, signal.group_id, "", signal.created_at))
        # ON CONFLICT DO NOTHING on (signal, user): who already supports the target keeps their own row.
        SignalSupport.objects.bulk_create(
            [
                SignalSupport(
                    organization_id=into.organization_id, signal=into, user_id=user_id, group_id=group_id, note=note, created_at=at
                )
                for user_id, group_id, note, at in carried
                if user_id != into.author_id
            ],
            ignore_conflicts=True,
        )
        _recount(into)
        now = timezone.now()
        signal.status = SignalStatus.MERGED
        signal.merged_into = into
        signal.updated_at = now
        signal.first_response_at = signal.first_response_at or now
        signal.save(update_fields=["status", "merged_into", "updated_at", "first_response_at"])
        entry = SignalEntry.objects.create(
            organization_id=signal.organization_id,
            signal=signal,
            kind=SignalEntryKind.MERGED,
            actor=actor,
            status=SignalStatus.MERGED,
            other_signal=into,
            created_at=now,
        )
        SignalEntry.objects.create(
            organization_id=into.organization_id, signal=into, kind=SignalEntryKind.MERGED, actor=actor, other_signal=signal, created_at=now
        )
        signal = _reload(signal)
        _tell_followers(signal, entry, actor=actor)
        return signal


# --- Moderation ---------------------------------------------------------------------------


def signal_set_visibility(*, actor: User | None, signal: Signal, visible: bool, reason: str) -> Signal:
    """Hide a signal from everyone but admins, or show it again: moderation's handle on signals."""
    if actor is not None and not actor.is_org_admin:
        raise NotAllowed(_("Only admins may hide or restore signals."))
    with transaction.atomic():
        signal = Signal.objects.select_for_update().get(pk=signal.pk)
        if (signal.hidden_at is None) == visible:
            return signal
        signal.hidden_at = None if visible else timezone.now()
        signal.hidden_reason = "" if visible else reason[:500]
        signal.save(update_fields=["hidden_at", "hidden_reason"])
        return signal


def signal_entry_set_visibility(*, actor: User | None, entry: SignalEntry, visible: bool) -> SignalEntry:
    if actor is not None and not actor.is_org_admin:
        raise NotAllowed(_("Only admins may hide or restore timeline entries."))
    SignalEntry.objects.filter(pk=entry.pk).update(hidden_at=None if visible else timezone.now())
    entry.refresh_from_db()
    return entry
