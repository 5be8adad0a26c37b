"""The declared catalogue of events: every event type, what it carries and whom it tells what.

notifications holds the machinery (outbox, delivery, inbox, sockets, push) and knows no
feature. Each feature app declares its event types in `<app>/events.py` as `EventType`
objects and registers them in its `AppConfig.ready()`; `emit()` takes such an object, and
delivery, push and the AsyncAPI document of the WebSocket stream (`notifications.asyncapi`)
read everything per type from here. Adding an event type is: declare it, emit it from a
service, add its sample to the catalogue test (docs/architecture.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string
from rest_framework import serializers

INBOX_LINK = "notifications"  # the deep link when a push names nothing more specific
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
REASON_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class PushText:
    title: str
    body: str


@dataclass(frozen=True)
class PushContext:
    """What a push text is written from (the recipient's language is active when it is)."""

    event_type: str
    # The event payload, with its own `id` also under `<entity>_id` (a post card's id is `post_id`).
    payload: dict[str, Any]
    # The recipient is addressed by the event (their kudos, their award), not merely in its audience.
    personal: bool
    must_read: bool


@dataclass(frozen=True)
class Push:
    """One kind of push message: its switch, Android channel, text, deep link and collapse key.

    Several event types may share one (a mention in a post or in a comment). Templates name
    payload ids in braces (`posts/{post_id}`); an id is read from the payload's `post_id`, or
    from the `id` of its `post` object.
    """

    kind: str  # data.push_type: what the phone groups and switches by
    channel: str  # Android channel id (iOS thread id); the app creates these channels
    text: Callable[[PushContext], PushText]
    # Deep links, most specific first: the first whose ids the payload has is the push's `link`,
    # none: the inbox.
    links: tuple[str, ...]
    # The preference switch (a NotificationPreference column) it obeys; None: a service message.
    preference: str | None = None
    # Pushes with the same key replace each other on the phone; without its ids the event stands alone.
    collapse: str = ""
    # A must-read ignores switches, mutes and quiet hours, goes at high priority on its own channel.
    must_read: Callable[[dict[str, Any]], bool] | None = None
    must_read_channel: str = ""

    def is_must_read(self, payload: dict[str, Any]) -> bool:
        return self.must_read is not None and bool(self.must_read(payload))


@dataclass(frozen=True)
class Reason:
    """Why someone is addressed personally: the inbox row's `reason`, and the push they get."""

    name: str
    description: str  # shown in the API schema's enum of inbox reasons
    push: Push | None = None


@dataclass(frozen=True)
class AudiencePush:
    """The push everyone in the event's audience gets (the people it addresses get their reason's)."""

    push: Push
    when: Callable[[dict[str, Any]], bool] | None = None
    condition: str = ""  # what `when` tests, for the documentation


@dataclass(frozen=True)
class Quote:
    """The payload quotes a piece of content: withdrawing that content withdraws the event.

    A moderator hiding a post withdraws every recent event whose payload holds the post's id
    under `key` (`content_withdraw`): its pushes not yet sent are dropped, its inbox rows deleted.
    """

    content: str  # "post", "comment", ...: what `content_withdraw` is called with
    key: str  # the payload key holding that content's id


@dataclass(frozen=True)
class EventType:
    name: str  # `<entity>.<change>`, the frame's `type`
    summary: str
    # The frame's `data`, for the AsyncAPI document and the tests: a serializer, or its dotted
    # path when the app's serializers import its services (which import its events).
    payload: type[serializers.Serializer] | str
    audience: str  # who receives the frame, for the documentation
    reasons: tuple[Reason, ...] = ()  # why it may address people personally (inbox and push)
    audience_pushes: tuple[AudiencePush, ...] = ()  # the first that applies pushes the whole audience
    push_ids: tuple[str, ...] = ()  # payload ids its pushes carry in their data (strings)
    quotes: tuple[Quote, ...] = ()

    @property
    def payload_serializer(self) -> type[serializers.Serializer]:
        return import_string(self.payload) if isinstance(self.payload, str) else self.payload

    def audience_push(self, payload: dict[str, Any]) -> Push | None:
        for candidate in self.audience_pushes:
            if candidate.when is None or candidate.when(payload):
                return candidate.push
        return None

    def reason(self, name: str) -> Reason | None:
        return next((reason for reason in self.reasons if reason.name == name), None)

    def pushes(self) -> list[Push]:
        """Every push this event can send, once each."""
        found = [candidate.push for candidate in self.audience_pushes] + [r.push for r in self.reasons if r.push is not None]
        return list(dict.fromkeys(found))


# --- The registry -------------------------------------------------------------------------------

_event_types: dict[str, EventType] = {}
_reasons: dict[str, Reason] = {}
# (name, description) of every reason in registration order: the API schema's NotificationReasonEnum
# (settings.SPECTACULAR_SETTINGS reads it by its dotted path once the apps have registered).
reason_choices: list[tuple[str, str]] = []
_preferences: tuple[str, ...] | None = None


def register(*event_types: EventType, reasons: tuple[Reason, ...] = ()) -> None:
    """Called by each app's `AppConfig.ready()` with the event types it declares (idempotent).

    `reasons` fixes the order the app's reasons are listed in (the API schema's enum);
    the event types' own reasons are registered too.
    """
    for reason in reasons:
        _register_reason(reason, "its app")
    for event_type in event_types:
        if not _NAME.match(event_type.name):
            raise ImproperlyConfigured(f"Event type name {event_type.name!r} is not `<entity>.<change>`")
        _register_once(_event_types, event_type.name, event_type)
        for reason in event_type.reasons:
            _register_reason(reason, event_type.name)
        for candidate in event_type.audience_pushes:
            _check_push(candidate.push, event_type.name)


def _register_reason(reason: Reason, declared_by: str) -> None:
    if not REASON_NAME.match(reason.name):
        raise ImproperlyConfigured(f"Inbox reason {reason.name!r} of {declared_by} is not a lowercase name")
    if reason.name not in _reasons:
        reason_choices.append((reason.name, reason.description))
    _register_once(_reasons, reason.name, reason)
    if reason.push is not None:
        _check_push(reason.push, declared_by)


def _register_once(registry: dict, name: str, value: Any) -> None:
    existing = registry.get(name)
    if existing is not None and existing is not value:
        raise ImproperlyConfigured(f"{name!r} is declared twice")
    registry[name] = value


def _check_push(push: Push, declared_by: str) -> None:
    if push.preference is not None and push.preference not in preference_switches():
        raise ImproperlyConfigured(f"{declared_by}: push {push.kind!r} obeys {push.preference!r}, not a NotificationPreference switch")
    if not push.links:
        raise ImproperlyConfigured(f"{declared_by}: push {push.kind!r} declares no deep link")
    if push.must_read is not None and not push.must_read_channel:
        raise ImproperlyConfigured(f"{declared_by}: push {push.kind!r} is a must-read without its channel")


def preference_switches() -> tuple[str, ...]:
    """The on/off switches of /notification-preferences: the boolean columns, in their order."""
    global _preferences
    if _preferences is None:
        from django.db.models import BooleanField

        from notifications.models import NotificationPreference

        _preferences = tuple(f.name for f in NotificationPreference._meta.concrete_fields if isinstance(f, BooleanField))
    return _preferences


def event_types() -> list[EventType]:
    return list(_event_types.values())


def event_type(name: str) -> EventType | None:
    return _event_types.get(name)


def is_declared(candidate: Any) -> bool:
    return isinstance(candidate, EventType) and _event_types.get(candidate.name) is candidate


def reasons() -> list[Reason]:
    return list(_reasons.values())


def reason(name: str) -> Reason | None:
    return _reasons.get(name)


def quoted_by(content: str) -> list[tuple[EventType, Quote]]:
    return [(event_type, quote) for event_type in _event_types.values() for quote in event_type.quotes if quote.content == content]


# --- Reading payloads ---------------------------------------------------------------------------


def payload_id(payload: dict[str, Any], key: str) -> str:
    """`payload[key]`, else the `id` of `payload[key without _id]` (a nested card), as a string ("" if none)."""
    value = payload.get(key)
    if value is None:
        nested = payload.get(key.removesuffix("_id"))
        value = nested.get("id") if isinstance(nested, dict) else None
    return "" if value is None else str(value)


def fill(template: str, payload: dict[str, Any]) -> str | None:
    """The template with the payload's ids, or None when one of them is missing."""
    values = {key: payload_id(payload, key) for key in _PLACEHOLDER.findall(template)}
    if not all(values.values()):
        return None
    return template.format(**values)


def deep_link(push: Push, payload: dict[str, Any]) -> str:
    for template in push.links:
        if (link := fill(template, payload)) is not None:
            return link
    return INBOX_LINK


def collapse_key(push: Push, payload: dict[str, Any], *, event_id: str) -> str:
    """Pushes with the same key replace each other on the phone: ten reactions ring once."""
    if push.collapse and (key := fill(push.collapse, payload)) is not None:
        return key
    return f"event-{event_id}"
