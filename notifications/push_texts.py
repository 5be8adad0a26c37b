"""What a push says and carries: the parts every event type shares.

Each push's own text, deep links and collapse key are declared with its event type
(`<app>/events.py`, see `notifications.catalogue.Push`); the texts there read the event
payload with the helpers below and are translated like every text of their app (the
project catalogue, `locale/`), in the recipient's language.
"""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.translation import pgettext

from notifications.catalogue import EventType, Push, PushContext, PushText, collapse_key, deep_link, payload_id

__all__ = ["PushText", "actor_name", "collapse_key", "colleague", "data_payload", "excerpt", "named", "normalized", "render"]

EXCERPT_LENGTH = 120


def normalized(*, event_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with its own id also under `<entity>_id` (a post card's `id` is `post_id`).

    Event payloads are the API's cards, whose id is plain `id`; deep links and
    collapse keys want to know what the id is of.
    """
    entity = event_type.split(".", 1)[0]
    key = f"{entity}_id"
    if key not in payload and payload.get("id") is not None:
        return payload | {key: payload["id"]}
    return payload


def actor_name(payload: dict[str, Any]) -> str:
    """Who acted, by the payload's conventions: an `actor`, `author`, `giver` or `by` object with a name."""
    for key in ("actor", "author", "giver", "by"):
        value = payload.get(key)
        if isinstance(value, dict) and value.get("name"):
            return str(value["name"])
    return str(payload.get("actor_name") or payload.get("author_name") or "")


def colleague(payload: dict[str, Any]) -> str:
    """The actor's name, or "A colleague" when the payload names nobody."""
    return actor_name(payload) or pgettext("push actor fallback", "A colleague")


def excerpt(payload: dict[str, Any]) -> str:
    """The payload's text on one line, at most EXCERPT_LENGTH characters."""
    text = payload.get("excerpt") or payload.get("body") or payload.get("message") or payload.get("note") or payload.get("reason") or ""
    text = " ".join(str(text).split())
    return text if len(text) <= EXCERPT_LENGTH else text[: EXCERPT_LENGTH - 1].rstrip() + "…"


def named(payload: dict[str, Any], *keys: str) -> str:
    """The name (or title) of the first of these payload objects that has one, or the first such string."""
    for key in keys:
        value = payload.get(key)
        if isinstance(value, dict) and (value.get("name") or value.get("title")):
            return str(value.get("name") or value.get("title"))
        if isinstance(value, str) and value:
            return value
    return ""


def render(*, push: Push, event_type: str, payload: dict[str, Any], personal: bool, must_read: bool, language: str) -> PushText:
    """Title and body in `language` (English for languages without a catalogue)."""
    with translation.override(language):
        return push.text(PushContext(event_type=event_type, payload=payload, personal=personal, must_read=must_read))


def data_payload(*, event_id: str, event_type: EventType, push: Push, payload: dict[str, Any], must_read: bool) -> dict[str, str]:
    """FCM data (string values only): what the app needs to route the tap and de-duplicate."""
    data = {
        "event_id": event_id,
        "event_type": event_type.name,
        "push_type": push.kind,
        "link": deep_link(push, payload),
    }
    for key in event_type.push_ids:
        if value := payload_id(payload, key):
            data[key] = value
    if actor := payload.get("actor_id") or payload_id(payload, "actor_id") or payload_id(payload, "author_id"):
        data["actor_id"] = str(actor)
    if must_read:
        # The wire name predates must-reads of other kinds: the app knows it from announcements.
        data["requires_acknowledgement"] = "true"
    return data
