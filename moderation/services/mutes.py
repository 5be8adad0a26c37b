"""Mutes: no posts, comments or kudos from a person for a number of days."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.models import User
from moderation import selectors
from moderation.models import Mute, TargetType
from moderation.services.common import _tell_user
from server.api.exceptions import Conflict, ValidationFailed

MAX_MUTE_DAYS = 365


def user_mute(*, actor: User, user_id: int, days: int, note: str = "") -> Mute:
    """No posts, comments or kudos for `days` days (the feed and recognition answer 403 `muted`)."""
    if not 1 <= days <= MAX_MUTE_DAYS:
        message = _("Between 1 and %(max)d days.") % {"max": MAX_MUTE_DAYS}
        raise ValidationFailed(message, fields={"days": [message]})
    with transaction.atomic():
        user = selectors.access_user_to_moderate(actor=actor, user_id=user_id)
        if user.pk == actor.pk:
            raise ValidationFailed(_("You cannot mute yourself."), code="cannot_mute_self")
        user = User.objects.select_for_update().get(pk=user.pk)
        now = timezone.now()
        before = user.muted_until
        user.muted_until = now + timedelta(days=days)
        user.save(update_fields=["muted_until"])
        # A new mute replaces a running one: the history shows the earlier one ended now.
        Mute.objects.filter(user=user, ends_at__gt=now, ended_early_at__isnull=True).update(ended_early_at=now, ended_early_by=actor)
        mute = Mute.objects.create(
            organization_id=user.organization_id, user=user, muted_by=actor, starts_at=now, ends_at=user.muted_until, note=note[:1000]
        )
        _tell_user(
            organization_id=user.organization_id,
            user_id=user.pk,
            payload={
                "action": "mute",
                "target_type": TargetType.USER,
                "target_id": user.pk,
                "muted_until": user.muted_until.isoformat(),
                "note": note,
            },
        )
        audit_record(
            actor=actor,
            organization_id=user.organization_id,
            action="moderation.user_muted",
            target_type=TargetType.USER,
            target_id=user.pk,
            before={"muted_until": before.isoformat() if before else None},
            after={"muted_until": user.muted_until.isoformat(), "days": days},
            note=note,
        )
        return mute


def user_unmute(*, actor: User, user_id: int, note: str = "") -> User:
    with transaction.atomic():
        user = selectors.access_user_to_moderate(actor=actor, user_id=user_id)
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.is_muted:
            raise Conflict(_("This person is not muted."), code="not_muted")
        now = timezone.now()
        before = user.muted_until
        user.muted_until = None
        user.save(update_fields=["muted_until"])
        Mute.objects.filter(user=user, ends_at__gt=now, ended_early_at__isnull=True).update(ended_early_at=now, ended_early_by=actor)
        _tell_user(
            organization_id=user.organization_id,
            user_id=user.pk,
            payload={"action": "unmute", "target_type": TargetType.USER, "target_id": user.pk, "note": note},
        )
        audit_record(
            actor=actor,
            organization_id=user.organization_id,
            action="moderation.user_unmuted",
            target_type=TargetType.USER,
            target_id=user.pk,
            before={"muted_until": before.isoformat() if before else None},
            after={"muted_until": None},
            note=note,
        )
        return user
