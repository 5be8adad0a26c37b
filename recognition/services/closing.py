"""Closing a round, deciding its winner and announcing it: one code path for the hourly
beat task, the `close_award_rounds` command and the admin API."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Case, Count, F, Min, Value, When
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Membership, Role, User
from feed.models import Post
from feed.services import post_create_system
from notifications.services import emit
from recognition import events
from recognition.models import AuditAction, AwardResult, AwardRound, DecisionMethod, Nomination, RoundStatus
from recognition.months import month_name, parse_month
from recognition.services.awards import award_rounds_open_current
from recognition.services.common import audit
from server.api.exceptions import Conflict, ValidationFailed
from server.api.text import clean_text

logger = logging.getLogger(__name__)


@dataclass
class CloseSweep:
    closed: list[int] = field(default_factory=list)
    fell_back: list[int] = field(default_factory=list)
    opened: int = 0


def _lock(round_id: int) -> AwardRound:
    # of=("self",): lock the round only, not the category and organisation joined in for reading.
    return AwardRound.objects.select_for_update(of=("self",)).select_related("category", "organization").get(pk=round_id)


def _standings(round: AwardRound) -> list[AwardResult]:
    """Nominees ranked by the published rule: distinct nominators, then endorsements, then earliest nomination."""
    rows = (
        Nomination.objects.filter(round=round)
        .values("nominee_id")
        .annotate(
            nominators=Count("nominator", distinct=True),
            endorsements=Count("endorsements", distinct=True),
            first=Min("created_at"),
        )
    )
    ranked = sorted(rows, key=lambda r: (-r["nominators"], -r["endorsements"], r["first"], r["nominee_id"]))
    reasons = _quoted_reasons(round)
    return [
        AwardResult(
            round=round,
            nominee_id=row["nominee_id"],
            rank=index,
            nomination_count=row["nominators"],
            endorsement_count=row["endorsements"],
            first_nominated_at=row["first"],
            reason=reasons.get(row["nominee_id"], ""),
        )
        for index, row in enumerate(ranked, start=1)
    ]


def _quoted_reasons(round: AwardRound) -> dict[int, str]:
    """Per nominee, the reason colleagues backed most (most endorsements, then earliest)."""
    nominations = Nomination.objects.filter(round=round).annotate(backing=Count("endorsements")).order_by("-backing", "created_at", "id")
    reasons: dict[int, str] = {}
    for nominee_id, reason in nominations.values_list("nominee_id", "reason"):
        reasons.setdefault(nominee_id, reason)
    return reasons


def award_round_close(*, round_id: int, actor: User | None = None, now: dt.datetime | None = None) -> AwardRound:
    """Close a round once. The scheduler (no actor) closes only rounds whose month has ended; an admin may
    close early. A second call, sequential or concurrent, finds the round no longer open and changes nothing."""
    return _close(round_id=round_id, actor=actor, now=now or timezone.now())[0]


def _close(*, round_id: int, actor: User | None, now: dt.datetime) -> tuple[AwardRound, bool]:
    with transaction.atomic():
        round = _lock(round_id)
        if round.status != RoundStatus.OPEN or (actor is None and now < round.closes_at):
            return round, False
        results = _standings(round)
        AwardResult.objects.bulk_create(results)
        round.status = RoundStatus.CLOSED
        round.closed_at = now
        round.closed_by = actor
        category = round.category
        if category.method == DecisionMethod.LEADER_PICK and results:
            round.pick_deadline = now + dt.timedelta(days=category.leader_pick_days)
        round.save(update_fields=["status", "closed_at", "closed_by", "pick_deadline"])
        audit(
            organization_id=round.organization_id,
            action=AuditAction.ROUND_CLOSED,
            actor=actor,
            round=round,
            data={
                "by": "admin" if actor else "scheduler",
                "early": now < round.closes_at,
                "standings": [
                    {"nominee_id": r.nominee_id, "nominations": r.nomination_count, "endorsements": r.endorsement_count} for r in results
                ],
            },
        )
        if category.method == DecisionMethod.MOST_NOMINATIONS and results:
            _announce(round=round, winner=results[0], results=results, decided_by=DecisionMethod.MOST_NOMINATIONS, actor=actor, now=now)
    return round, True


PICK_REASON_MAX_LENGTH = 2000


def award_round_pick_winner(*, actor: User, round_id: int, nominee_id: int, reason: str = "", now: dt.datetime | None = None) -> AwardRound:
    now = now or timezone.now()
    # Quoted on the award card the audience sees: the rules of every text (no NUL, no bidi override).
    reason = clean_text(reason, field="reason", allow_empty=True, max_length=PICK_REASON_MAX_LENGTH)
    round = AwardRound.objects.select_related("category").get(pk=round_id)
    if round.category.method != DecisionMethod.LEADER_PICK:
        raise ValidationFailed(_("The winner of this category is decided by nominations."), code="not_leader_pick")
    if nominee_id == actor.pk:
        # Recorded outside the refused request's transaction so the attempt stays on the record.
        audit(organization_id=round.organization_id, action=AuditAction.SELF_PICK_REFUSED, actor=actor, round=round)
        message = _("You cannot pick yourself.")
        raise ValidationFailed(message, code="self_pick", fields={"nominee_id": [message]})
    with transaction.atomic():
        round = _lock(round_id)
        if round.status == RoundStatus.OPEN:
            raise ValidationFailed(_("Close the round before picking a winner."), code="round_open")
        if round.status == RoundStatus.ANNOUNCED:
            raise Conflict(_("The winner of this round has already been announced."), code="already_announced")
        results = list(AwardResult.objects.filter(round=round).order_by("rank"))
        winner = next((r for r in results if r.nominee_id == nominee_id), None)
        if winner is None:
            message = _("Pick one of this round's nominees.")
            raise ValidationFailed(message, fields={"nominee_id": [message]})
        round.picked_by = actor
        round.pick_reason = reason
        round.save(update_fields=["picked_by", "pick_reason"])
        audit(
            organization_id=round.organization_id,
            action=AuditAction.WINNER_PICKED,
            actor=actor,
            round=round,
            data={"nominee_id": nominee_id, **({"reason": reason} if reason else {})},
        )
        _rank_first(round=round, winner=winner, results=results)
        if reason:
            # The announcement quotes the leader's own words rather than a colleague's nomination.
            winner.reason = reason
            AwardResult.objects.filter(pk=winner.pk).update(reason=reason)
        _announce(round=round, winner=winner, results=results, decided_by=DecisionMethod.LEADER_PICK, actor=actor, now=now)
    return round


def _rank_first(*, round: AwardRound, winner: AwardResult, results: list[AwardResult]) -> None:
    """The picked winner moves to rank 1 and those above it one down, keeping (round, rank) unique.
    Two statements: first every rank out of the way (above any current one), then the final ranks."""
    picked_rank = winner.rank
    if picked_rank == 1:
        return
    offset = len(results) + 1
    standings = AwardResult.objects.filter(round=round)
    standings.update(rank=F("rank") + offset)
    standings.update(
        rank=Case(
            When(pk=winner.pk, then=Value(1)),
            When(rank__lt=picked_rank + offset, then=F("rank") - offset + 1),
            default=F("rank") - offset,
        )
    )
    for result in results:
        if result.pk == winner.pk:
            result.rank = 1
        elif result.rank < picked_rank:
            result.rank += 1
    results.sort(key=lambda result: result.rank)


def award_round_pick_fallback(*, round_id: int, now: dt.datetime | None = None) -> AwardRound:
    """Nobody picked within the category's days: most nominations decides, so no round waits forever."""
    return _pick_fallback(round_id=round_id, now=now or timezone.now())[0]


def _pick_fallback(*, round_id: int, now: dt.datetime) -> tuple[AwardRound, bool]:
    with transaction.atomic():
        round = _lock(round_id)
        if round.status != RoundStatus.CLOSED or round.pick_deadline is None or now < round.pick_deadline:
            return round, False
        results = list(AwardResult.objects.filter(round=round).order_by("rank"))
        audit(
            organization_id=round.organization_id,
            action=AuditAction.PICK_FALLBACK,
            round=round,
            data={"deadline": round.pick_deadline.isoformat()},
        )
        if results:
            _announce(round=round, winner=results[0], results=results, decided_by="most_nominations_fallback", actor=None, now=now)
    return round, True


def award_rounds_close_due(*, now: dt.datetime | None = None) -> CloseSweep:
    """What the hourly beat task and `close_award_rounds` run."""
    now = now or timezone.now()
    sweep = CloseSweep()
    due = AwardRound.objects.filter(status=RoundStatus.OPEN, closes_at__lte=now).order_by("pk").values_list("pk", flat=True)
    for round_id in due:
        if _sweep_step(_close, round_id=round_id, actor=None, now=now):
            sweep.closed.append(round_id)
    overdue = AwardRound.objects.filter(status=RoundStatus.CLOSED, pick_deadline__lte=now).order_by("pk").values_list("pk", flat=True)
    for round_id in overdue:
        if _sweep_step(_pick_fallback, round_id=round_id, now=now):
            sweep.fell_back.append(round_id)
    sweep.opened = award_rounds_open_current(now=now)
    return sweep


def _sweep_step(step, **kwargs) -> bool:
    # One round that fails (a bug, a vanished row) must not keep every other organisation's rounds open;
    # it stays due and the next hourly run tries again.
    try:
        return step(**kwargs)[1]
    except Exception:
        logger.exception("Closing award round %s failed; the next run retries it.", kwargs.get("round_id"))
        return False


def award_post_body(*, category: str, month: dt.date, winner: str) -> str:
    """The award post's text in the active language, its month as people say it ("december 2026")."""
    return _("%(category)s %(month)s: congratulations %(name)s!") % {"category": category, "month": month_name(month), "name": winner}


def award_card_read(*, post: Post, card: dict[str, Any]) -> None:
    """An award post as one reader sees it (feed.cards.card_readers): the month named in their
    language on the card (`month_name`) and in the text, which is rebuilt from the card unless
    someone edited the post. The stored card keeps `month` as YYYY-MM, language-neutral."""
    award = card.get("award")
    if not award:
        return
    try:
        month = parse_month(award["month"])
    except (KeyError, ValueError):
        return
    award["month_name"] = month_name(month)
    winners = award.get("winners") or []
    if post.edited_at is None and winners:
        card["body"] = award_post_body(category=award["category"]["name"], month=month, winner=winners[0]["name"])


def award_card(*, round: AwardRound, winners: list[AwardResult]) -> dict[str, Any]:
    """What the feed shows as an award post's `award` field and what `award.announced` carries."""
    category = round.category
    return {
        "round_id": round.pk,
        "category": {"id": category.pk, "name": category.name, "icon": category.icon},
        "month": round.month_label,
        "winners": [{"id": w.nominee_id, "name": w.nominee.name, "reason": w.reason} for w in winners],
    }


def _award_post_create(
    *, round: AwardRound, card: dict[str, Any], body: str, group_ids: list[int] | None, actor: User | None
) -> Post | None:
    """The announcement's feed post (kind `award`) for the category's audience. Its author is whoever decided
    (the picking leader, the closing admin) or, for the scheduler, the organisation's first admin."""
    author = actor or User.objects.filter(organization_id=round.organization_id, role=Role.ADMIN, is_active=True).order_by("pk").first()
    if author is None:
        # An organisation without an active admin still gets its winners and notifications; only the card is missing.
        return None
    post = post_create_system(author=author, kind="award", body=body, group_ids=group_ids, card=card)
    round.post = post
    round.save(update_fields=["post"])
    return post


def _audience_ids(round: AwardRound, group_ids: list[int]) -> list[int]:
    if group_ids:
        people = Membership.objects.filter(group_id__in=group_ids, user__is_active=True).values_list("user_id", flat=True).distinct()
    else:
        people = User.objects.filter(organization_id=round.organization_id, is_active=True).values_list("pk", flat=True)
    return sorted(set(people))


def _announce(
    *, round: AwardRound, winner: AwardResult, results: list[AwardResult], decided_by: str, actor: User | None, now: dt.datetime
) -> None:
    AwardResult.objects.filter(round=round, is_winner=True).update(is_winner=False)
    AwardResult.objects.filter(pk=winner.pk).update(is_winner=True)
    winner = AwardResult.objects.select_related("nominee").get(pk=winner.pk)
    round.status = RoundStatus.ANNOUNCED
    round.decided_by = decided_by
    round.announced_at = now
    round.save(update_fields=["status", "decided_by", "announced_at"])

    group_ids = sorted(round.category.groups.values_list("pk", flat=True))
    card = award_card(round=round, winners=[winner])
    # Stored and sent once for everyone: in the organisation's language. Readers of the feed get
    # the text and the month in their own (award_card_read); events and pushes keep this one.
    with translation.override(round.organization.default_language):
        body = award_post_body(category=round.category.name, month=round.month, winner=winner.nominee.name)
        post = _award_post_create(round=round, card=card, body=body, group_ids=group_ids or None, actor=actor)
        organisation_month = month_name(round.month)
    audience = _audience_ids(round, group_ids)
    emit(
        events.AWARD_ANNOUNCED,
        organization_id=round.organization_id,
        payload={**card, "month_name": organisation_month, "post_id": getattr(post, "pk", None), "decided_by": decided_by},
        group_ids=group_ids or None,
        org_wide=not group_ids,
        # The winner hears it even if they have left the category's groups since being nominated.
        user_ids=[winner.nominee_id],
        addressed=[{"user_id": winner.nominee_id, "reason": events.AWARD.name}]
        + [{"user_id": pk, "reason": events.AWARD.name} for pk in audience if pk != winner.nominee_id],
    )
    for result in results:
        if result.nominee_id == winner.nominee_id:
            continue
        # Private: only the nominee hears how often they were nominated; never by whom.
        emit(
            events.AWARD_ANNOUNCED,
            organization_id=round.organization_id,
            payload={
                "round_id": round.pk,
                "category": card["category"],
                "month": round.month_label,
                "month_name": organisation_month,
                "nomination_count": result.nomination_count,
            },
            user_ids=[result.nominee_id],
            addressed=[{"user_id": result.nominee_id, "reason": events.NOMINATION.name}],
        )
    audit(
        organization_id=round.organization_id,
        action=AuditAction.ROUND_ANNOUNCED,
        actor=actor,
        round=round,
        data={"winner_id": winner.nominee_id, "decided_by": decided_by},
    )
