"""Who an event reaches: its audience and the people it addresses.

Shared by the delivery steps (realtime groups, inbox rows, push) so that every
step answers "who may see this" the same way: active users of the event's
organisation, and for a group post only that group's members.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils.dateparse import parse_datetime

from accounts.models import Group, Membership, User
from notifications.models import OutboxEvent


@dataclass(frozen=True)
class AudienceAddress:
    """Address everyone in the event's audience personally, resolved by the worker, not the request.

    An announcement to acknowledge addresses 100,000 people: listing them in the outbox row
    made the request that posts it read and write the whole audience. `joined_by` keeps the
    snapshot the list was: people who joined the organisation (or the group) later are not
    addressed, however late the worker runs.
    """

    reason: str
    joined_by: datetime
    except_user_ids: tuple[int, ...] = ()

    def as_entry(self) -> dict[str, Any]:
        return {
            "audience": True,
            "reason": self.reason,
            "joined_by": self.joined_by.isoformat(),
            "except_user_ids": sorted(self.except_user_ids),
        }


def event_group_ids(*, event: OutboxEvent) -> list[int]:
    """The event's groups that really belong to its organisation (defence in depth)."""
    if not event.group_ids:
        return []
    return sorted(Group.objects.filter(organization_id=event.organization_id, pk__in=event.group_ids).values_list("pk", flat=True))


def _has_audience(event: OutboxEvent) -> bool:
    return bool(event.org_wide or event.group_ids or event.user_ids)


def audience_filter(*, event: OutboxEvent) -> Q:
    """A `User` filter for everyone in the event's audience."""
    in_org = Q(organization_id=event.organization_id, is_active=True)
    if event.org_wide:
        return in_org
    reach = Q(pk__in=[])
    if event.group_ids:
        reach |= Q(pk__in=Membership.objects.filter(group_id__in=event.group_ids).values("user_id"))
    if event.user_ids:
        reach |= Q(pk__in=event.user_ids)
    return in_org & reach


def audience_user_ids(*, event: OutboxEvent) -> set[int]:
    """Every active user who may see the event (org-wide, group members, named users)."""
    return set(User.objects.filter(audience_filter(event=event)).values_list("pk", flat=True))


def _audience_snapshot_filter(*, event: OutboxEvent, joined_by: datetime) -> Q:
    """`audience_filter` without the people who joined after `joined_by`."""
    in_org = Q(organization_id=event.organization_id, is_active=True)
    if event.org_wide:
        return in_org & Q(date_joined__lte=joined_by)
    reach = Q(pk__in=[])
    if event.group_ids:
        reach |= Q(pk__in=Membership.objects.filter(group_id__in=event.group_ids, created_at__lte=joined_by).values("user_id"))
    if event.user_ids:
        reach |= Q(pk__in=event.user_ids)
    return in_org & reach


def addressed_recipients(*, event: OutboxEvent, among: Collection[int] | None = None) -> dict[int, str]:
    """user id → reason for the people the event addresses personally.

    Only people who may see the event: an addressed user outside its audience
    (a mention of a non-member in a group post, a deactivated colleague, someone
    of another organisation) is dropped. An event without an audience reaches
    exactly the people it addresses, within its organisation. An audience entry
    (`AudienceAddress`) addresses the audience itself and wins over a person's own
    reason. `among` limits the answer (and the queries) to those users.
    """
    reasons: dict[int, str] = {}
    audience_entry: dict[str, Any] | None = None
    for entry in event.addressed:
        if entry.get("audience"):
            audience_entry = entry
            continue
        user_id = int(entry["user_id"])
        if among is None or user_id in among:
            reasons.setdefault(user_id, entry["reason"])
    found: dict[int, str] = {}
    if reasons:
        allowed = Q(organization_id=event.organization_id, is_active=True, pk__in=list(reasons))
        if _has_audience(event):
            allowed &= audience_filter(event=event)
        found = {user_id: reasons[user_id] for user_id in User.objects.filter(allowed).values_list("pk", flat=True)}
    if audience_entry is not None and _has_audience(event):
        joined_by = parse_datetime(audience_entry["joined_by"])
        users = User.objects.filter(_audience_snapshot_filter(event=event, joined_by=joined_by)).exclude(
            pk__in=audience_entry.get("except_user_ids") or []
        )
        if among is not None:
            users = users.filter(pk__in=list(among))
        for user_id in users.values_list("pk", flat=True):
            found[user_id] = audience_entry["reason"]
    return found
