"""Who an event reaches: its audience and the people it addresses.

Shared by the delivery steps (realtime groups, inbox rows, push) so that every
step answers "who may see this" the same way: active users of the event's
organisation, and for a group post only that group's members.
"""

from __future__ import annotations

from django.db.models import Q

from accounts.models import Group, Membership, User
from notifications.models import OutboxEvent


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


def addressed_recipients(*, event: OutboxEvent) -> dict[int, str]:
    """user id → reason for the people the event addresses personally.

    Only people who may see the event: an addressed user outside its audience
    (a mention of a non-member in a group post, a deactivated colleague, someone
    of another organisation) is dropped. An event without an audience reaches
    exactly the people it addresses, within its organisation.
    """
    reasons: dict[int, str] = {}
    for entry in event.addressed:
        reasons.setdefault(int(entry["user_id"]), entry["reason"])
    if not reasons:
        return {}
    allowed = Q(organization_id=event.organization_id, is_active=True, pk__in=list(reasons))
    if _has_audience(event):
        allowed &= audience_filter(event=event)
    return {user_id: reasons[user_id] for user_id in User.objects.filter(allowed).values_list("pk", flat=True)}
