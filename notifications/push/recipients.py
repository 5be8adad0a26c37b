"""Who gets which push for an event: its audience's and the addressed people's, never the actor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef

from accounts.models import User
from notifications import catalogue
from notifications.catalogue import Push
from notifications.models import Device, OutboxEvent
from notifications.recipients import addressed_recipients, audience_filter


@dataclass(frozen=True)
class Recipient:
    push: Push
    personal: bool


def audience_push(event: OutboxEvent) -> Push | None:
    """The push an event's whole audience gets, if any (addressed people get their reason's)."""
    event_type = catalogue.event_type(event.type)
    return event_type.audience_push(event.payload or {}) if event_type is not None else None


def is_must_read(event: OutboxEvent, push: Push) -> bool:
    return push.is_must_read(event.payload or {})


def _actor_id(payload: dict[str, Any]) -> int | None:
    for key in ("actor", "author", "giver"):
        if isinstance(payload.get(key), dict) and payload[key].get("id") is not None:
            return int(payload[key]["id"])
    for key in ("actor_id", "author_id"):
        if payload.get(key) is not None:
            return int(payload[key])
    return None


def recipients_of(event: OutboxEvent, *, among: set[int] | None = None, with_device: bool = False) -> dict[int, Recipient]:
    """user id → what push they get; `among` limits the queries to a batch's users,
    `with_device` the audience to people with a phone registered (planning).

    Who may hear of an event is `notifications.recipients`' answer, shared with
    the inbox and realtime steps; push only decides which of them get a push.
    """
    payload = event.payload or {}
    recipients: dict[int, Recipient] = {}
    if catalogue.event_type(event.type) is None:
        return recipients  # a type no app declares (any more): nothing to say
    audience_type = audience_push(event)
    if audience_type is not None:
        users = User.objects.filter(audience_filter(event=event))
        if among is not None:
            users = users.filter(pk__in=among)
        if with_device:
            # An announcement addresses 100,000 people; reading them all to find the few
            # thousand with a phone cost the worker 0.2 s of CPU per announcement, next to
            # the requests on the same cores (issue #10, D1).
            users = users.filter(Exists(Device.objects.filter(user_id=OuterRef("pk"))))
        # One shared value: recipients of the audience are alike (frozen dataclass).
        recipients = dict.fromkeys(users.values_list("pk", flat=True), Recipient(audience_type, personal=False))
    # A batch asks about its ≤ 500 people, not about the 100,000 an announcement addresses.
    for user_id, name in addressed_recipients(event=event, among=among).items():
        reason = catalogue.reason(name)
        if reason is not None and reason.push is not None:
            recipients[user_id] = Recipient(reason.push, personal=True)
    # Nobody is buzzed about their own action.
    recipients.pop(_actor_id(payload), None)
    return recipients
