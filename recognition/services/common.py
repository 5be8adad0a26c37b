from __future__ import annotations

import grapheme
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from accounts.models import Membership, User
from recognition.models import AuditAction, AwardCategory, AwardRound, Nomination, RecognitionAuditEntry
from server.api.exceptions import ValidationFailed

MAX_TEXT_GRAPHEMES = 5000


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
    return RecognitionAuditEntry.objects.create(
        organization_id=organization_id, actor=actor, action=action, round=round, nomination=nomination, data=data or {}
    )
