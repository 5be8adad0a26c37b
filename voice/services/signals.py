"""Raising a signal, editing or withdrawing it while it is open, and supporting it ("me too")."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Group, Membership, MembershipRole, User
from feed.models import KeyMoment
from feed.selectors import access_key_moment
from feed.services.posts import ensure_not_muted
from media import services as media_services
from notifications.services import emit
from search.language import text_language
from server.api.exceptions import Conflict, NotAllowed, NotFound, ValidationFailed
from server.api.text import clean_text
from voice import events, hooks
from voice.models import Signal, SignalImage, SignalStatus, SignalSupport, SignalVisibility
from voice.selectors.signals import admin_ids
from voice.signal_cards import signal_summary

MAX_TITLE_GRAPHEMES = 120
MAX_NOTE_GRAPHEMES = 280
MAX_IMAGES_PER_SIGNAL = 4
# The owner hears about new support at most this often per signal (the frame goes every time).
SUPPORT_PUSH_INTERVAL = timedelta(hours=1)


def _key_moment(*, user: User, key_moment_id: int | None) -> KeyMoment | None:
    if key_moment_id is None:
        return None
    try:
        return access_key_moment(user=user, key_moment_id=key_moment_id)
    except NotFound:
        message = _("Not a key moment you can see.")
        raise ValidationFailed(message, fields={"key_moment_id": [message]})


def _own_group(*, user: User, group_id: int | None, field: str = "group_id") -> Group | None:
    """A group the person belongs to (where it happens to them); anything else is a 400 on `field`."""
    if group_id is None:
        return None
    group = Group.objects.filter(pk=group_id, organization_id=user.organization_id, memberships__user=user).first()
    if group is None:
        message = _("Not one of your groups.")
        raise ValidationFailed(message, fields={field: [message]})
    return group


def _default_owner_id(*, group: Group | None, author: User) -> int | None:
    """A manager of its group answers it; without one it waits in the admins' triage list.
    Never the author themselves (an anonymous signal would name them as its owner)."""
    if group is None:
        return None
    return (
        Membership.objects.filter(group=group, role=MembershipRole.MANAGER, user__is_active=True)
        .exclude(user=author)
        .order_by("created_at", "id")
        .values_list("user_id", flat=True)
        .first()
    )


def _image_audience(*, visibility: str, group: Group | None) -> dict[str, Any]:
    if visibility == SignalVisibility.ORGANIZATION:
        return {"org_wide": True}
    # Leaders-only: the group's members could fetch a photo by its id, never find it (ids are on
    # no card they can see); admins see every attached image.
    return {"org_wide": False, "audience_group_ids": [group.pk] if group else []}


def signal_create(
    *,
    author: User,
    kind: str,
    title: str,
    body: str,
    visibility: str = SignalVisibility.ORGANIZATION,
    anonymous: bool = False,
    key_moment_id: int | None = None,
    group_id: int | None = None,
    image_ids: list[int] | None = None,
) -> Signal:
    # The rules of posts: a muted person is refused (403 `muted`), text cleaned the same way.
    ensure_not_muted(author)
    title = clean_text(title, field="title", max_length=MAX_TITLE_GRAPHEMES)
    body = clean_text(body, field="body")
    key_moment = _key_moment(user=author, key_moment_id=key_moment_id)
    group = _own_group(user=author, group_id=group_id)
    with transaction.atomic():
        now = timezone.now()
        signal = Signal.objects.create(
            organization_id=author.organization_id,
            author=author,
            kind=kind,
            title=title,
            body=body,
            language=text_language(f"{title} {body}", writer=author),
            key_moment=key_moment,
            group=group,
            visibility=visibility,
            anonymous=anonymous,
            owner_id=_default_owner_id(group=group, author=author),
            group_count=1 if group else 0,
            created_at=now,
            updated_at=now,
        )
        if image_ids:
            images = media_services.media_claim(
                owner=author,
                media_ids=image_ids,
                max_count=MAX_IMAGES_PER_SIGNAL,
                field="image_ids",
                **_image_audience(visibility=visibility, group=group),
            )
            SignalImage.objects.bulk_create([SignalImage(signal=signal, media=media, position=i) for i, media in enumerate(images)])
        signal = Signal.objects.select_related("author", "owner", "group", "key_moment").get(pk=signal.pk)
        _published(signal, previous_text=None)
        recipients = [signal.owner_id] if signal.owner_id else admin_ids(organization_id=signal.organization_id)
        recipients = [user_id for user_id in recipients if user_id != author.pk]
        if recipients:
            emit(
                events.SIGNAL_CREATED,
                organization_id=signal.organization_id,
                payload={**signal_summary(signal), "body": signal.body},
                user_ids=recipients,
                addressed=[{"user_id": user_id, "reason": events.SIGNAL_NEW.name} for user_id in recipients],
            )
    return signal


def _text(signal: Signal) -> str:
    return f"{signal.title}\n{signal.body}"


def _published(signal: Signal, *, previous_text: str | None) -> None:
    fields = {"organization_id": signal.organization_id, "signal_id": signal.pk, "text": _text(signal), "previous_text": previous_text}
    transaction.on_commit(lambda: hooks.signal_text_published.send(sender=Signal, **fields))


def _lock_own_open(*, actor: User, signal: Signal) -> Signal:
    signal = Signal.objects.select_for_update().get(pk=signal.pk)
    if signal.author_id != actor.pk:
        raise NotAllowed(_("Only the author can change or delete a signal."))
    if signal.status != SignalStatus.OPEN:
        raise Conflict(_("A signal can be changed or deleted only while it is open."), code="not_open")
    return signal


def signal_update(
    *,
    actor: User,
    signal: Signal,
    title: str | None = None,
    body: str | None = None,
    kind: str | None = None,
    visibility: str | None = None,
    key_moment_id: int | None = None,
    group_id: int | None = None,
    fields_set: frozenset[str] = frozenset(),
) -> Signal:
    """The author's edit while it is open; `fields_set` tells an explicit null from an absent id."""
    ensure_not_muted(actor)
    changes: dict[str, Any] = {}
    if title is not None:
        changes["title"] = clean_text(title, field="title", max_length=MAX_TITLE_GRAPHEMES)
    if body is not None:
        changes["body"] = clean_text(body, field="body")
    if kind is not None:
        changes["kind"] = kind
    if visibility is not None:
        changes["visibility"] = visibility
    if "key_moment_id" in fields_set:
        changes["key_moment"] = _key_moment(user=actor, key_moment_id=key_moment_id)
    if "group_id" in fields_set:
        changes["group"] = _own_group(user=actor, group_id=group_id)
    with transaction.atomic():
        signal = _lock_own_open(actor=actor, signal=signal)
        previous_text = _text(signal)
        for name, value in changes.items():
            setattr(signal, name, value)
        if "title" in changes or "body" in changes:
            signal.language = text_language(f"{signal.title} {signal.body}", writer=actor)
        signal.updated_at = timezone.now()
        signal.save()
        if _text(signal) != previous_text:
            _published(signal, previous_text=previous_text)
        if "visibility" in changes or "group" in changes:
            media_ids = list(SignalImage.objects.filter(signal=signal).values_list("media_id", flat=True))
            if media_ids:
                media_services.media_audience_set(media_ids=media_ids, **_image_audience(visibility=signal.visibility, group=signal.group))
        if "group" in changes:
            _recount(signal)
    return signal


def signal_delete(*, actor: User, signal: Signal) -> None:
    with transaction.atomic():
        signal = _lock_own_open(actor=actor, signal=signal)
        if Signal.objects.filter(merged_into=signal).exists():
            raise Conflict(_("Other signals were merged into this one; it can no longer be deleted."), code="has_merged_signals")
        media_ids = list(SignalImage.objects.filter(signal=signal).values_list("media_id", flat=True))
        # The photos go with it: owner-only at once, deleted by media's orphan sweep.
        media_services.media_detach(media_ids=media_ids)
        signal.delete()


# --- Support ------------------------------------------------------------------------------


def _recount(signal: Signal) -> None:
    """support_count and group_count from the rows, under the signal's row lock (held by the caller)."""
    rows = list(SignalSupport.objects.filter(signal=signal).values_list("group_id", flat=True))
    groups = {group_id for group_id in rows if group_id is not None}
    if signal.group_id is not None:
        groups.add(signal.group_id)
    signal.support_count, signal.group_count = len(rows), len(groups)
    Signal.objects.filter(pk=signal.pk).update(support_count=signal.support_count, group_count=signal.group_count)


def _announce_support(signal: Signal, *, now) -> None:
    if signal.owner_id is None:
        return
    # The frame always (live counts on the owner's screen); the push at most hourly per signal.
    due = Signal.objects.filter(pk=signal.pk, owner_id=signal.owner_id).exclude(support_pushed_at__gt=now - SUPPORT_PUSH_INTERVAL)
    push = bool(due.update(support_pushed_at=now))
    emit(
        events.SIGNAL_SUPPORTED,
        organization_id=signal.organization_id,
        payload=signal_summary(Signal.objects.select_related("author", "owner", "group", "key_moment").get(pk=signal.pk)),
        user_ids=[signal.owner_id],
        addressed=[{"user_id": signal.owner_id, "reason": events.MORE_SUPPORT.name}] if push else [],
    )


def signal_support(*, user: User, signal: Signal, group_id: int | None = None, note: str | None = None) -> SignalSupport:
    """Me too: an upsert, so a retried or racing PUT leaves one row and the same counts."""
    ensure_not_muted(user)
    note = clean_text(note, field="note", allow_empty=True, max_length=MAX_NOTE_GRAPHEMES)
    group = _own_group(user=user, group_id=group_id)
    with transaction.atomic():
        # The signal's row lock serialises its supporters: the counts are recomputed under it.
        signal = Signal.objects.select_for_update().get(pk=signal.pk)
        if signal.author_id == user.pk:
            raise Conflict(_("You raised this signal; others can support it."), code="own_signal")
        if signal.is_closed:
            raise Conflict(_("This signal is closed."), code="signal_closed")
        support, created = SignalSupport.objects.get_or_create(
            signal=signal, user=user, defaults={"organization_id": signal.organization_id, "group": group, "note": note}
        )
        if not created and (support.group_id != (group.pk if group else None) or support.note != note):
            support.group, support.note = group, note
            support.save(update_fields=["group", "note"])
        elif not created:
            return support
        _recount(signal)
        _announce_support(signal, now=timezone.now())
        return support


def signal_unsupport(*, user: User, signal: Signal) -> None:
    with transaction.atomic():
        signal = Signal.objects.select_for_update().get(pk=signal.pk)
        deleted, _rows = SignalSupport.objects.filter(signal=signal, user=user).delete()
        if deleted:
            _recount(signal)
            if signal.owner_id is not None:
                emit(
                    events.SIGNAL_SUPPORTED,
                    organization_id=signal.organization_id,
                    payload=signal_summary(Signal.objects.select_related("author", "owner", "group", "key_moment").get(pk=signal.pk)),
                    user_ids=[signal.owner_id],
                )


def signals_erase_author(*, user: User) -> int:
    """Erasure under the organisation's "remove content" rule: their support of others' signals goes
    (the counts follow); their own signals stay as rows (merges and supporters point at them)
    without their words or photos, hidden. Returns how many signals were emptied. Under "keep
    content" nothing here runs: the signals stay under the erased name (never shown when anonymous)."""
    supported = list(SignalSupport.objects.filter(user=user).values_list("signal_id", flat=True))
    for signal in Signal.objects.select_for_update().filter(pk__in=supported).order_by("pk"):
        SignalSupport.objects.filter(signal=signal, user=user).delete()
        _recount(signal)
    own = Signal.objects.filter(author=user)
    media_services.media_detach(media_ids=list(SignalImage.objects.filter(signal__in=own).values_list("media_id", flat=True)))
    SignalImage.objects.filter(signal__in=own).delete()
    return own.update(title="", body="", hidden_at=timezone.now(), hidden_reason="erased")
