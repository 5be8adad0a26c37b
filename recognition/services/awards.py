from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Group, User
from recognition.models import (
    AuditAction,
    AwardCategory,
    AwardRound,
    Endorsement,
    Kudos,
    Nomination,
    RoundStatus,
)
from recognition.months import month_bounds, month_of
from recognition.services.common import admin_audit, audit, colleagues, in_category_audience
from server.api.exceptions import Conflict, ValidationFailed
from server.api.text import clean_text

NOMINATION_REASON_MIN_LENGTH = 20
CATEGORY_FIELDS = ("name", "description", "icon", "method", "confidential", "max_nominations_per_nominator", "leader_pick_days", "active")


def _groups(*, actor: User, group_ids: list[int]) -> list[Group]:
    unique_ids = list(dict.fromkeys(group_ids))
    groups = list(Group.objects.filter(pk__in=unique_ids, organization_id=actor.organization_id))
    if len(groups) != len(unique_ids):
        message = _("Not a group of your organisation.")
        raise ValidationFailed(message, fields={"group_ids": [message]})
    return groups


def _save_category(category: AwardCategory) -> None:
    try:
        with transaction.atomic():
            category.save()
    except IntegrityError:
        # Its name (any case) in the organisation: 409 like a value's or a group's.
        raise Conflict(_("A category with this name already exists."), fields={"name": [_("Already in use.")]})


def _category_snapshot(category: AwardCategory, groups: list[Group]) -> dict:
    return {**{field: getattr(category, field) for field in CATEGORY_FIELDS}, "group_ids": sorted(g.pk for g in groups)}


def award_round_ensure(*, category: AwardCategory, month: dt.date) -> AwardRound:
    """The category's round for `month`, created if missing; safe when two processes race."""
    existing = AwardRound.objects.filter(category=category, month=month).first()
    if existing is not None:
        return existing
    opens_at, closes_at = month_bounds(month, category.organization.timezone)
    try:
        with transaction.atomic():
            return AwardRound.objects.create(
                organization_id=category.organization_id, category=category, month=month, opens_at=opens_at, closes_at=closes_at
            )
    except IntegrityError:
        return AwardRound.objects.get(category=category, month=month)


def award_rounds_open_current(*, now: dt.datetime) -> int:
    """Make sure every active category has its round for the current month; returns how many were created."""
    created = 0
    for category in AwardCategory.objects.filter(active=True).select_related("organization"):
        month = month_of(now, category.organization.timezone)
        if not AwardRound.objects.filter(category=category, month=month).exists():
            award_round_ensure(category=category, month=month)
            created += 1
    return created


def award_category_create(*, actor: User, group_ids: list[int] | None = None, now: dt.datetime | None = None, **fields) -> AwardCategory:
    groups = _groups(actor=actor, group_ids=group_ids or [])
    with transaction.atomic():
        category = AwardCategory(organization_id=actor.organization_id, **{k: v for k, v in fields.items() if k in CATEGORY_FIELDS})
        category.name = category.name.strip()
        _save_category(category)
        category.groups.set(groups)
        # Creating a category opens the current month's round at once, not at the next hourly sweep.
        award_round_ensure(category=category, month=month_of(now or timezone.now(), actor.organization.timezone))
        admin_audit(
            actor=actor,
            action="award_category.created",
            target_type="award_category",
            target_id=category.pk,
            target_label=category.name,
            after=_category_snapshot(category, groups),
        )
    return category


def award_category_update(*, actor: User, category: AwardCategory, group_ids: list[int] | None = None, **changes) -> AwardCategory:
    groups = _groups(actor=actor, group_ids=group_ids) if group_ids is not None else None
    with transaction.atomic():
        before = _category_snapshot(category, list(category.groups.all()))
        for field, new in changes.items():
            if field not in CATEGORY_FIELDS:
                raise TypeError(field)
            setattr(category, field, new.strip() if field == "name" else new)
        _save_category(category)
        if groups is not None:
            category.groups.set(groups)
        after = _category_snapshot(category, groups if groups is not None else list(category.groups.all()))
        if after != before:
            admin_audit(
                actor=actor,
                action="award_category.updated",
                target_type="award_category",
                target_id=category.pk,
                target_label=category.name,
                before=before,
                after=after,
            )
    return category


def _round_must_be_open(round: AwardRound) -> None:
    # The month may have ended before the hourly close got to it: the calendar decides, not the sweep.
    if round.status != RoundStatus.OPEN or timezone.now() >= round.closes_at or not round.category.active:
        raise ValidationFailed(_("This round is closed."), code="round_closed", fields={"round_id": [_("Closed.")]})


def _nominee(*, nominator: User, round: AwardRound, nominee_id: int) -> User:
    if nominee_id == nominator.pk:
        message = _("You cannot nominate yourself.")
        raise ValidationFailed(message, code="self_nomination", fields={"nominee_id": [message]})
    nominee = colleagues(organization_id=nominator.organization_id, user_ids=[nominee_id]).get(nominee_id)
    if nominee is None:
        message = _("Not an active colleague.")
        raise ValidationFailed(message, fields={"nominee_id": [message]})
    if not in_category_audience(category=round.category, user_id=nominee.pk):
        message = _("This colleague is not eligible for this award.")
        raise ValidationFailed(message, code="not_eligible", fields={"nominee_id": [message]})
    return nominee


def nomination_create(
    *, nominator: User, round: AwardRound, nominee_id: int, reason: str, evidence: list[Kudos] | None = None
) -> Nomination:
    # On the award card the whole organisation sees: the same rules as a post (no NUL, no bidi override).
    reason = clean_text(reason, field="reason", min_length=NOMINATION_REASON_MIN_LENGTH)
    nominee = _nominee(nominator=nominator, round=round, nominee_id=nominee_id)
    with transaction.atomic():
        # The round's row lock serialises nominations of one round with each other and with closing:
        # the per-nominator limit is counted under it, and nothing slips in after the close.
        round = AwardRound.objects.select_for_update(of=("self",)).select_related("category").get(pk=round.pk)
        _round_must_be_open(round)
        limit = round.category.max_nominations_per_nominator
        if Nomination.objects.filter(round=round, nominator=nominator).count() >= limit:
            message = _("You have used all %(n)d nominations of this round.") % {"n": limit}
            raise ValidationFailed(message, code="nomination_limit_reached", fields={"nominee_id": [message]})
        try:
            with transaction.atomic():
                nomination = Nomination.objects.create(round=round, nominator=nominator, nominee=nominee, reason=reason)
        except IntegrityError:
            raise Conflict(_("You already nominated this colleague in this round."), code="duplicate_nomination")
        if evidence:
            nomination.evidence_kudos.set(evidence)
        audit(
            organization_id=round.organization_id,
            action=AuditAction.NOMINATION_CREATED,
            actor=nominator,
            round=round,
            nomination=nomination,
            data={"nominee_id": nominee.pk, "evidence_kudos_ids": [k.pk for k in evidence or []]},
        )
    return nomination


def nomination_endorse(*, user: User, nomination: Nomination) -> bool:
    """Second a nomination; True when this call added the endorsement (a repeat is a no-op)."""
    if user.pk == nomination.nominator_id:
        raise ValidationFailed(_("You cannot endorse your own nomination."), code="own_nomination")
    if user.pk == nomination.nominee_id:
        raise ValidationFailed(_("You cannot endorse a nomination of yourself."), code="endorse_self")
    with transaction.atomic():
        # Same lock as nominating and closing: an endorsement either counts in the result or is refused.
        round = AwardRound.objects.select_for_update(of=("self",)).select_related("category").get(pk=nomination.round_id)
        if Endorsement.objects.filter(nomination=nomination, user=user).exists():
            return False
        _round_must_be_open(round)
        try:
            with transaction.atomic():
                Endorsement.objects.create(nomination=nomination, user=user)
        except IntegrityError:
            return False
        audit(
            organization_id=round.organization_id,
            action=AuditAction.ENDORSEMENT_CREATED,
            actor=user,
            round=round,
            nomination=nomination,
        )
    return True
