"""Archiving key moments: out of the journey and the tab, back again last (#22).

Goals archive through their status (`goal_update(status="archived")`, feed.services.goals).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from feed import events
from feed.models import KeyMoment
from feed.services.goals import _audience, _group_ids, _renumber, _require_leader, key_moment_card
from notifications import services as notifications


def key_moment_set_archived(*, actor: User, key_moment: KeyMoment, archived: bool) -> KeyMoment:
    """Leaders and admins. Idempotent: archiving an archived one changes nothing and says nothing.

    No feed post (nothing new happened at the shop floor); the audience gets `key_moment.updated`
    with `change` "archived" or "restored" so the tab drops or shows it.
    """
    _require_leader(actor)
    with transaction.atomic():
        key_moment = KeyMoment.objects.select_for_update().get(pk=key_moment.pk)
        if (key_moment.archived_at is not None) == archived:
            return key_moment
        now = timezone.now()
        key_moment.archived_at = now if archived else None
        if not archived:
            key_moment.position = 2**31 - 1  # back at the end of the journey
        key_moment.updated_at = now
        key_moment.save(update_fields=["archived_at", "position", "updated_at"])
        _renumber(organization_id=key_moment.organization_id, moved=None, position=None)
        key_moment.refresh_from_db()
        notifications.emit(
            events.KEY_MOMENT_UPDATED,
            organization_id=key_moment.organization_id,
            payload={"key_moment": key_moment_card(key_moment, change="archived" if archived else "restored")},
            **_audience(org_wide=key_moment.org_wide, group_ids=_group_ids(key_moment.audience_groups)),
        )
        return key_moment
