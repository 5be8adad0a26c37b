"""Signal cards as the API and the events show them, built for a whole page at once.

Anonymity is decided here and only here: an anonymous signal's author is shown to the author
(`mine`) and to nobody else, whatever their role; a viewer-neutral card (`viewer=None`, what
events carry to every socket) never names them. A timeline entry written by the anonymous
author (a leader answering their own signal) hides its actor the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from accounts.models import User
from feed.cards import iso, user_summary
from media.serializers import media_representation
from voice.models import Signal, SignalEntry, SignalImage, SignalSupport
from voice.selectors.signals import PERSON_FIELDS


def shows_author(signal: Signal, viewer: User | None) -> bool:
    return not signal.anonymous or (viewer is not None and viewer.pk == signal.author_id)


def _group(signal: Signal) -> dict[str, Any] | None:
    group = signal.group
    return {"id": group.pk, "name": group.name, "kind": group.kind} if group is not None else None


def _key_moment(signal: Signal) -> dict[str, Any] | None:
    key_moment = signal.key_moment
    return {"id": key_moment.pk, "title": key_moment.title} if key_moment is not None else None


def entry_card(entry: SignalEntry, *, signal: Signal, viewer: User | None) -> dict[str, Any]:
    actor = entry.actor
    if actor is not None and entry.actor_id == signal.author_id and not shows_author(signal, viewer):
        actor = None
    return {
        "id": entry.pk,
        "kind": entry.kind,
        "status": entry.status or None,
        "message": entry.message,
        "actor": user_summary(actor) if actor is not None else None,
        "owner": user_summary(entry.owner) if entry.owner is not None else None,
        "other_signal_id": entry.other_signal_id,
        "created_at": iso(entry.created_at),
    }


def signal_summary(signal: Signal) -> dict[str, Any]:
    """The viewer-neutral part of a card: what events carry (no body, photos or timeline)."""
    return {
        "id": signal.pk,
        "kind": signal.kind,
        "title": signal.title,
        "author": user_summary(signal.author) if not signal.anonymous else None,
        "anonymous": signal.anonymous,
        "visibility": signal.visibility,
        "status": signal.status,
        "key_moment": _key_moment(signal),
        "group": _group(signal),
        "owner": user_summary(signal.owner) if signal.owner is not None else None,
        "support_count": signal.support_count,
        "group_count": signal.group_count,
        "merged_into": signal.merged_into_id,
        "created_at": iso(signal.created_at),
        "first_response_at": iso(signal.first_response_at),
        "resolved_at": iso(signal.resolved_at),
    }


def _page_extras(signals: Sequence[Signal], viewer: User) -> tuple[dict, dict, dict]:
    """Photos, visible timelines and the viewer's own support of a page: three simple queries."""
    ids = [signal.pk for signal in signals]
    images: dict[int, list] = {}
    for image in SignalImage.objects.filter(signal_id__in=ids).select_related("media").order_by("signal_id", "position"):
        images.setdefault(image.signal_id, []).append(image)
    entries: dict[int, list] = {}
    people = ("actor", "actor__avatar__media", "owner", "owner__avatar__media")
    # Only what a user summary shows (id, name, avatar): every column of two people and their
    # avatars per entry was most of the page's rows to read and instances to build.
    summary = [f"{who}__{field}" for who in ("actor", "owner") for field in PERSON_FIELDS]
    entries_query = (
        SignalEntry.objects.filter(signal_id__in=ids, hidden_at__isnull=True)
        .select_related(*people)
        .only(*[field.attname for field in SignalEntry._meta.concrete_fields], *summary)
        .order_by("created_at", "id")
    )
    for entry in entries_query:
        entries.setdefault(entry.signal_id, []).append(entry)
    supports = {
        signal_id: {"group_id": group_id, "note": note}
        for signal_id, group_id, note in SignalSupport.objects.filter(user=viewer, signal_id__in=ids).values_list(
            "signal_id", "group_id", "note"
        )
    }
    return images, entries, supports


def signal_cards(*, signals: Sequence[Signal], viewer: User) -> list[dict[str, Any]]:
    """Signals from voice.selectors.signals (people, group and key moment loaded): four queries a page."""
    if not signals:
        return []
    images, timelines, supports = _page_extras(signals, viewer)
    cards = []
    for signal in signals:
        mine = signal.author_id == viewer.pk
        card = signal_summary(signal)
        entries = timelines.get(signal.pk, [])
        my_support = supports.get(signal.pk)
        supported = my_support is not None
        card.update(
            {
                "author": user_summary(signal.author) if shows_author(signal, viewer) else None,
                "mine": mine,
                "body": signal.body,
                "images": [media_representation(image.media) for image in images.get(signal.pk, [])],
                "supported_by_me": supported,
                "my_support": my_support,
                "announcement_post_id": signal.announcement_id,
                # Kudos for the fix: whom the app offers to thank (an ordinary POST /kudos names them).
                "thanks_to": user_summary(signal.owner)
                if signal.status == "resolved" and signal.owner is not None and signal.owner_id != viewer.pk
                else None,
                "timeline": [entry_card(entry, signal=signal, viewer=viewer) for entry in entries],
            }
        )
        cards.append(card)
    return cards


def signal_card(*, signal: Signal, viewer: User) -> dict[str, Any]:
    return signal_cards(signals=[signal], viewer=viewer)[0]
