from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from accounts.audit import audit_record
from accounts.models import Membership, User
from recognition.models import AuditAction, AwardCategory, AwardRound, Nomination, RecognitionAuditEntry

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
        audit_record(
            sender=RecognitionAuditEntry,
            organization_id=organization_id,
            actor=actor,
            action=f"award.{action}",
            target_type="award_round" if round is not None else "organization",
            target_id=round.pk if round is not None else organization_id,
            target_label=f"{round.category.name} {round.month_label}" if round is not None else "",
            after=data or None,
        )
    return entry


def admin_audit(*, actor: User, action: str, target_type: str, target_id: int, target_label: str, before=None, after=None) -> None:
    """An admin's change to the recognition set-up (values, award categories), for the audit log."""
    audit_record(
        sender=RecognitionAuditEntry,
        organization_id=actor.organization_id,
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label,
        before=before,
        after=after,
    )
