from __future__ import annotations

import grapheme
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from accounts import signals
from accounts.models import Membership, User
from recognition.models import AuditAction, AwardCategory, AwardRound, Nomination, RecognitionAuditEntry
from server.api.exceptions import ValidationFailed

MAX_TEXT_GRAPHEMES = 5000

# Decisions about awards (not people's own nominations or endorsements) also go to the
# organisation's audit log: who closed a round early, who picked (or tried to pick
# themselves), when the scheduler overrode a missing pick, what was announced.
ADMIN_AUDIT_ACTIONS = frozenset(
    {
        AuditAction.ROUND_CLOSED,
        AuditAction.WINNER_PICKED,
        AuditAction.SELF_PICK_REFUSED,
        AuditAction.PICK_FALLBACK,
        AuditAction.ROUND_ANNOUNCED,
    }
)


def clean_text(text: str, *, field: str, min_length: int = 1) -> str:
    text = (text or "").strip()
    length = grapheme.length(text)
    if length < min_length:
        if min_length == 1:
            message = _("This field may not be blank.")
        else:
            message = _("Write at least %(n)d characters.") % {"n": min_length}
        raise ValidationFailed(message, fields={field: [message]})
    if length > MAX_TEXT_GRAPHEMES:
        message = _("At most %(n)d characters.") % {"n": MAX_TEXT_GRAPHEMES}
        raise ValidationFailed(message, fields={field: [message]})
    return text


def colleagues(*, organization_id: int, user_ids: list[int]) -> dict[int, User]:
    """Active people of the organisation among `user_ids`, by id."""
    return {u.pk: u for u in User.objects.filter(pk__in=user_ids, organization_id=organization_id, is_active=True)}


def in_category_audience(*, category: AwardCategory, user_id: int) -> bool:
    """A category without groups is for the whole organisation; otherwise for members of its groups."""
    through = AwardCategory.groups.through
    if not through.objects.filter(awardcategory_id=category.pk).exists():
        return True
    return through.objects.filter(
        awardcategory_id=category.pk, group_id__in=Membership.objects.filter(user_id=user_id).values("group_id")
    ).exists()


def audience_q(*, user: User, category_ref: str = "pk") -> Q:
    """Rows whose category (reached through `category_ref`) has `user` in its audience."""
    through = AwardCategory.groups.through
    ref = OuterRef(category_ref)
    return ~Exists(through.objects.filter(awardcategory_id=ref)) | Exists(
        through.objects.filter(awardcategory_id=ref, group_id__in=Membership.objects.filter(user=user).values("group_id"))
    )


def audit(
    *,
    organization_id: int,
    action: AuditAction,
    actor: User | None = None,
    round: AwardRound | None = None,
    nomination: Nomination | None = None,
    data: dict | None = None,
) -> RecognitionAuditEntry:
    entry = RecognitionAuditEntry.objects.create(
        organization_id=organization_id, actor=actor, action=action, round=round, nomination=nomination, data=data or {}
    )
    if action in ADMIN_AUDIT_ACTIONS:
        signals.admin_action.send(
            sender=RecognitionAuditEntry,
            organization_id=organization_id,
            actor=actor,
            action=f"award.{action}",
            target_type="award_round" if round is not None else "organization",
            target_id=round.pk if round is not None else organization_id,
            target_label=f"{round.category.name} {round.month_label}" if round is not None else "",
            before=None,
            after=data or None,
            note="",
        )
    return entry


def admin_audit(*, actor: User, action: str, target_type: str, target_id: int, target_label: str, before=None, after=None) -> None:
    """An admin's change to the recognition set-up (values, award categories), for the audit log."""
    signals.admin_action.send(
        sender=RecognitionAuditEntry,
        organization_id=actor.organization_id,
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label,
        before=before,
        after=after,
        note="",
    )
