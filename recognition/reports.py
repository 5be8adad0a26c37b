"""Read-only reports: wall of fame, leaderboard, insights. Each runs a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Group, Organization, User
from media.models import AVATAR
from recognition.models import AwardResult, AwardRound, DecisionMethod, Kudos, KudosRecipient, Nomination, RoundStatus
from recognition.months import month_bounds, month_name, month_of, previous_month
from recognition.selectors import award_wins, kudos_list, result_list, wall_winners
from server.api.exceptions import NotAllowed, ValidationFailed
from server.api.pagination import page_envelope

RECENT_KUDOS = 5
LEADERBOARD_SIZE = 20
INSIGHT_MONTHS = 6
UNRECOGNISED_DAYS = 90
UNRECOGNISED_SHOWN = 50
WALL_VALUES = 5


def _value_counts(links, limit: int | None = None) -> list[dict[str, Any]]:
    rows = (
        links.filter(kudos__value__isnull=False)
        .values("kudos__value_id", "kudos__value__name", "kudos__value__emoji")
        .annotate(count=Count("kudos_id", distinct=True))
        .order_by("-count", "kudos__value__name", "kudos__value_id")
    )
    if limit is not None:
        rows = rows[:limit]
    return [
        {"value": {"id": r["kudos__value_id"], "name": r["kudos__value__name"], "emoji": r["kudos__value__emoji"]}, "count": r["count"]}
        for r in rows
    ]


def wall_of_fame(*, user: User, subject: User) -> dict[str, Any]:
    received = KudosRecipient.objects.filter(recipient=subject, kudos__organization_id=user.organization_id)
    return {
        "user": subject,
        "kudos_received_count": received.count(),
        "kudos_given_count": Kudos.objects.filter(giver=subject, organization_id=user.organization_id).count(),
        "by_value": _value_counts(received),
        "awards": [
            {
                "round_id": w.round_id,
                "category": w.round.category,
                "month": w.round.month_label,
                "month_name": month_name(w.round.month),
                "reason": w.reason,
            }
            for w in award_wins(subject=subject)
        ],
        "recent_kudos": list(kudos_list(user=user, recipient_id=subject.pk)[:RECENT_KUDOS]),
    }


def recognition_wall(*, user: User, month: dt.date | None) -> dict[str, Any]:
    """The organisation's wall of fame for one month of its calendar (the staff-room screen): the
    award winners announced in it and the values colleagues thanked each other for most."""
    organization = user.organization
    month = month or month_of(timezone.now(), organization.timezone)
    start, end = month_bounds(month, organization.timezone)
    links = KudosRecipient.objects.filter(kudos__organization_id=organization.pk, kudos__created_at__gte=start, kudos__created_at__lt=end)
    winners = [
        {
            "round_id": result.round_id,
            "category": result.round.category,
            "month": result.round.month_label,
            "month_name": month_name(result.round.month),
            "winner": result.nominee,
            "reason": result.reason,
            "announced_at": result.round.announced_at,
        }
        for result in wall_winners(user=user, since=start, until=end)
    ]
    return {
        "month": month.strftime("%Y-%m"),
        "month_name": month_name(month),
        "winners": winners,
        "top_values": _value_counts(links, limit=WALL_VALUES),
        "kudos_count": Kudos.objects.filter(organization_id=organization.pk, created_at__gte=start, created_at__lt=end).count(),
    }


def _group_in_org(*, user: User, group_id: int | None) -> Group | None:
    if group_id is None:
        return None
    group = Group.objects.filter(pk=group_id, organization_id=user.organization_id).first()
    if group is None:
        message = _("Not a group of your organisation.")
        raise ValidationFailed(message, fields={"group": [message]})
    return group


def leaderboard(*, user: User, month: dt.date | None, group_id: int | None) -> dict[str, Any]:
    organization = user.organization
    if not organization.leaderboard_enabled:
        raise NotAllowed(_("Your organisation has not enabled the leaderboard."), code="leaderboard_disabled")
    group = _group_in_org(user=user, group_id=group_id)
    month = month or month_of(timezone.now(), organization.timezone)
    start, end = month_bounds(month, organization.timezone)
    links = KudosRecipient.objects.filter(
        kudos__organization_id=organization.pk, kudos__created_at__gte=start, kudos__created_at__lt=end, recipient__is_active=True
    )
    if group is not None:
        links = links.filter(recipient__memberships__group=group)
    rows = list(
        links.values("recipient_id")
        .annotate(kudos_received=Count("kudos_id", distinct=True))
        .order_by("-kudos_received", "recipient_id")[:LEADERBOARD_SIZE]
    )
    people = User.objects.select_related(AVATAR).in_bulk([r["recipient_id"] for r in rows])
    entries = [
        {"rank": rank, "user": people[r["recipient_id"]], "kudos_received": r["kudos_received"]} for rank, r in _competition_ranks(rows)
    ]
    return {"month": month.strftime("%Y-%m"), "group_id": group.pk if group else None, **page_envelope(entries)}


def _competition_ranks(rows: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """Standard competition ranking ("1224"): equal counts share a rank and the next rank skips
    as many places as shared it (3, 3, 1 kudos → ranks 1, 1, 3). `rows` come sorted by count."""
    ranked: list[tuple[int, dict[str, Any]]] = []
    for position, row in enumerate(rows, start=1):
        tied = ranked and ranked[-1][1]["kudos_received"] == row["kudos_received"]
        ranked.append((ranked[-1][0] if tied else position, row))
    return ranked


def _scope_groups(*, user: User, group_id: int | None) -> tuple[list[Group], bool]:
    """Groups a leader or admin sees insights for; admins without a group see the whole organisation."""
    group = _group_in_org(user=user, group_id=group_id)
    if user.is_org_admin:
        if group is not None:
            return [group], False
        return list(Group.objects.filter(organization_id=user.organization_id).order_by("name", "id")), True
    own = Group.objects.filter(organization_id=user.organization_id, memberships__user=user).order_by("name", "id")
    if group is not None:
        if not own.filter(pk=group.pk).exists():
            message = _("You see insights for your own groups only.")
            raise ValidationFailed(message, fields={"group": [message]})
        return [group], False
    return list(own), False


def insights(*, user: User, group_id: int | None, now: dt.datetime | None = None) -> dict[str, Any]:
    if not user.is_leader_or_admin:
        raise NotAllowed()
    now = now or timezone.now()
    organization = user.organization
    groups, whole_org = _scope_groups(user=user, group_id=group_id)
    group_ids = [g.pk for g in groups]
    if whole_org:
        people = User.objects.filter(organization_id=organization.pk, is_active=True)
    else:
        people = User.objects.filter(organization_id=organization.pk, is_active=True, memberships__group_id__in=group_ids).distinct()
    people_ids = people.values("pk")

    since_90 = now - dt.timedelta(days=UNRECOGNISED_DAYS)
    per_group = _per_group_months(organization=organization, groups=groups, now=now)

    recent_links = KudosRecipient.objects.filter(kudos__organization_id=organization.pk, kudos__created_at__gte=since_90)
    values_used = _value_counts(recent_links.filter(recipient_id__in=people_ids))

    unrecognised = people.exclude(
        Exists(recent_links.filter(recipient_id=OuterRef("pk")))
        | Exists(AwardResult.objects.filter(nominee_id=OuterRef("pk"), is_winner=True, round__announced_at__gte=since_90))
    )
    unrecognised_count = unrecognised.count()
    unrecognised_people = list(unrecognised.select_related(AVATAR).order_by("name", "id")[:UNRECOGNISED_SHOWN])

    return {
        "group_ids": group_ids,
        "per_group": per_group,
        "values_used": values_used,
        "not_recognised_count": unrecognised_count,
        "not_recognised": unrecognised_people,
        "reciprocal_pairs": _reciprocal_pairs(recent_links.filter(Q(giver_id__in=people_ids) | Q(recipient_id__in=people_ids))),
    }


def _per_group_months(*, organization: Organization, groups: list[Group], now: dt.datetime) -> list[dict[str, Any]]:
    """Kudos received and nominations per group per month (organisation calendar), two grouped queries."""
    group_ids = [g.pk for g in groups]
    tz = zoneinfo.ZoneInfo(organization.timezone)
    first_month = month_of(now, organization.timezone)
    for _step in range(INSIGHT_MONTHS - 1):
        first_month = previous_month(first_month)
    since, _end = month_bounds(first_month, organization.timezone)
    kudos_rows = (
        KudosRecipient.objects.filter(kudos__organization_id=organization.pk, kudos__created_at__gte=since)
        .filter(recipient__memberships__group_id__in=group_ids)
        .annotate(month=TruncMonth("kudos__created_at", tzinfo=tz))
        .values("month", "recipient__memberships__group_id")
        .annotate(n=Count("kudos_id", distinct=True))
    )
    nomination_rows = (
        Nomination.objects.filter(round__organization_id=organization.pk, created_at__gte=since)
        .filter(nominee__memberships__group_id__in=group_ids)
        .annotate(month=TruncMonth("created_at", tzinfo=tz))
        .values("month", "nominee__memberships__group_id")
        .annotate(n=Count("id", distinct=True))
    )
    table: dict[tuple[str, int], dict[str, int]] = {}
    for row in kudos_rows:
        key = (row["month"].strftime("%Y-%m"), row["recipient__memberships__group_id"])
        table.setdefault(key, {"kudos_count": 0, "nomination_count": 0})["kudos_count"] = row["n"]
    for row in nomination_rows:
        key = (row["month"].strftime("%Y-%m"), row["nominee__memberships__group_id"])
        table.setdefault(key, {"kudos_count": 0, "nomination_count": 0})["nomination_count"] = row["n"]
    by_id = {g.pk: g for g in groups}
    return [
        {"month": month, "group": by_id[gid], **counts}
        for (month, gid), counts in sorted(table.items(), key=lambda i: (i[0][0], by_id[i[0][1]].name))
    ]


def _reciprocal_pairs(links) -> list[dict[str, Any]]:
    """People who gave each other kudos (A→B and B→A), flagged for a leader to look at; not proof of anything."""
    edges = {(r["giver_id"], r["recipient_id"]): r["n"] for r in links.values("giver_id", "recipient_id").annotate(n=Count("id"))}
    pairs = sorted({tuple(sorted(edge)) for edge in edges if (edge[1], edge[0]) in edges})
    people = User.objects.select_related(AVATAR).in_bulk({pk for pair in pairs for pk in pair}) if pairs else {}
    return [{"a": people[a], "b": people[b], "a_to_b": edges[(a, b)], "b_to_a": edges[(b, a)]} for a, b in pairs]


def _why(*, round: AwardRound, winner: AwardResult, standings: list[AwardResult]) -> str:
    if round.decided_by == "leader_pick":
        return _("Picked by %(name)s from %(n)d nominees.") % {
            "name": round.picked_by.name if round.picked_by else "?",
            "n": len(standings),
        }
    runner_up = next((s for s in standings if s.pk != winner.pk), None)
    prefix = _("No leader picked in time; most nominations decided. ") if round.decided_by == "most_nominations_fallback" else ""
    if runner_up is None:
        return prefix + _("The only nominee (%(n)d nominations).") % {"n": winner.nomination_count}
    if winner.nomination_count > runner_up.nomination_count:
        return prefix + _("Most colleagues nominating: %(a)d against %(b)d for the runner-up.") % {
            "a": winner.nomination_count,
            "b": runner_up.nomination_count,
        }
    if winner.endorsement_count > runner_up.endorsement_count:
        return prefix + _("Tied on %(n)d nominations; won on endorsements, %(a)d against %(b)d.") % {
            "n": winner.nomination_count,
            "a": winner.endorsement_count,
            "b": runner_up.endorsement_count,
        }
    return prefix + _("Tied on nominations and endorsements; nominated first.")


def round_results(*, user: User, round: AwardRound) -> dict[str, Any]:
    if round.status == RoundStatus.OPEN:
        raise ValidationFailed(_("Results are shown once the round has closed."), code="round_open")
    standings = list(result_list(round=round))
    winners = [
        {**_standing(s), "reason": s.reason, "why": _why(round=round, winner=s, standings=standings)}
        for s in standings
        if s.is_winner and round.status == RoundStatus.ANNOUNCED
    ]
    return {
        "round": round,
        "decided_by": round.decided_by,
        "rule": round_rule(round),
        "pick_reason": round.pick_reason or None,
        "winners": winners,
        **page_envelope([_standing(s) for s in standings]),
    }


def _standing(result: AwardResult) -> dict[str, Any]:
    return {
        "rank": result.rank,
        "nominee": result.nominee,
        "nomination_count": result.nomination_count,
        "endorsement_count": result.endorsement_count,
        "first_nominated_at": result.first_nominated_at,
        "is_winner": result.is_winner,
    }


def round_rule(round: AwardRound) -> str:
    if round.category.method == DecisionMethod.LEADER_PICK:
        return _("A leader picks the winner from the nominees within %(days)d days of the close; otherwise most nominations decides.") % {
            "days": round.category.leader_pick_days
        }
    return _("Most distinct colleagues nominating wins; a tie goes to most endorsements, then to the earliest nomination.")


KUDOS_WEEKS = 12


def kudos_per_week(
    *, organization: Organization, people: Any | None, weeks: int = KUDOS_WEEKS, now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Kudos received per week (organisation calendar) and value, by the people given (all when
    None): one query. Rows `{week, value, count}`; kudos without a value count under `value` None."""
    from django.db.models.functions import TruncWeek

    now = now or timezone.now()
    tz = zoneinfo.ZoneInfo(organization.timezone)
    links = KudosRecipient.objects.filter(kudos__organization_id=organization.pk, kudos__created_at__gte=now - dt.timedelta(weeks=weeks))
    if people is not None:
        links = links.filter(recipient_id__in=people)
    rows = (
        links.annotate(week=TruncWeek("kudos__created_at", tzinfo=tz))
        .values("week", "kudos__value__name")
        .annotate(count=Count("kudos_id", distinct=True))
        .order_by("week", "kudos__value__name")
    )
    return [{"week": _as_date(row["week"]), "value": row["kudos__value__name"], "count": row["count"]} for row in rows]


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value
