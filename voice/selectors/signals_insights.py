"""What a leader opens every Monday: signals of their groups (an admin: of the organisation) in numbers.

Five queries whatever the number of signals: two grouped counts, two short lists, one aggregate
(medians by PostgreSQL's percentile_cont; on SQLite, the embedded default, in Python), each an
index-only scan of signal_insights_idx; the answer is cached a minute per scope.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Func, Q, QuerySet, Sum
from django.utils import timezone

from accounts.models import User
from feed.cards import iso, user_summary
from voice.models import Signal, SignalStatus
from voice.selectors.signals import led_group_ids, open_statuses

TOP = 5


class Median(Aggregate):
    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _seconds_between(later: str, earlier: str) -> Func:
    return Func(F(later), F(earlier), template="EXTRACT(EPOCH FROM (%(expressions)s))", arg_joiner=" - ", output_field=FloatField())


def insights_scope(*, user: User, group_id: int | None, since: datetime | None, until: datetime | None) -> QuerySet[Signal]:
    signals = Signal.objects.filter(organization_id=user.organization_id, hidden_at__isnull=True).exclude(status=SignalStatus.MERGED)
    if not user.is_org_admin:
        signals = signals.filter(group_id__in=led_group_ids(user=user))
    if group_id is not None:
        signals = signals.filter(group_id=group_id)
    if since is not None:
        signals = signals.filter(created_at__gte=since)
    if until is not None:
        signals = signals.filter(created_at__lt=until)
    return signals


def _rows(signals: QuerySet[Signal], key: str, name: str) -> list[dict[str, Any]]:
    rows = (
        signals.order_by()
        .values(key, name)
        .annotate(
            open=Count("id", filter=Q(status__in=open_statuses())),
            resolved=Count("id", filter=Q(status=SignalStatus.RESOLVED)),
            support=Sum("support_count"),
        )
        .order_by("-open", "-support", key)
    )
    return [
        {"id": row[key], "name": row[name], "open": row["open"], "resolved": row["resolved"], "support": row["support"] or 0}
        for row in rows
    ]


def _signal_rows(signals: QuerySet[Signal]) -> list[dict[str, Any]]:
    return [
        {
            "id": signal.pk,
            "kind": signal.kind,
            "title": signal.title,
            "status": signal.status,
            "support_count": signal.support_count,
            "group_count": signal.group_count,
            "group": {"id": signal.group.pk, "name": signal.group.name, "kind": signal.group.kind} if signal.group else None,
            "owner": user_summary(signal.owner) if signal.owner else None,
            "created_at": iso(signal.created_at),
        }
        for signal in signals.select_related("group", "owner", "owner__avatar__media")
    ]


def _timings(signals: QuerySet[Signal], *, promise: timedelta, now: datetime) -> dict[str, Any]:
    answered = Q(first_response_at__isnull=False)
    due = answered | Q(created_at__lte=now - promise)
    within = Q(first_response_at__isnull=False, first_response_at__lte=F("created_at") + promise)
    if connection.vendor == "postgresql":
        numbers = signals.order_by().aggregate(
            first_response=Median(_seconds_between("first_response_at", "created_at"), filter=answered),
            resolution=Median(_seconds_between("resolved_at", "created_at"), filter=Q(status=SignalStatus.RESOLVED)),
            due=Count("id", filter=due),
            within=Count("id", filter=within),
            total=Count("id"),
        )
        first_response, resolution = numbers["first_response"], numbers["resolution"]
    else:
        rows = list(signals.order_by().values_list("created_at", "first_response_at", "resolved_at", "status"))
        firsts = [(first - created).total_seconds() for created, first, _r, _s in rows if first]
        resolutions = [(resolved - created).total_seconds() for created, _f, resolved, status in rows if status == "resolved" and resolved]
        first_response = statistics.median(firsts) if firsts else None
        resolution = statistics.median(resolutions) if resolutions else None
        numbers = {
            "due": sum(1 for created, first, _r, _s in rows if first or created <= now - promise),
            "within": sum(1 for created, first, _r, _s in rows if first and first <= created + promise),
            "total": len(rows),
        }
    return {
        "median_hours_to_first_response": round(first_response / 3600, 1) if first_response is not None else None,
        "median_days_to_resolution": round(resolution / 86400, 1) if resolution is not None else None,
        "share_answered_within_promise": round(numbers["within"] / numbers["due"], 3) if numbers["due"] else None,
        "total": numbers["total"],
    }


def signal_insights(
    *, user: User, group_id: int | None = None, since: datetime | None = None, until: datetime | None = None, fresh: bool = False
) -> dict:
    """The figures, kept VOICE_INSIGHTS_CACHE_SECONDS (default 60) per scope: a dashboard read every
    Monday by every leader need not scan every signal on each open. Admins of one organisation share
    one entry; a leader's is their own (their groups). `fresh` skips the cache (the bench's cold figure)."""
    scope = "admin" if user.is_org_admin else f"user-{user.pk}"
    key = f"voice:insights:{user.organization_id}:{scope}:{group_id}:{since and since.isoformat()}:{until and until.isoformat()}"
    seconds = settings.VOICE_INSIGHTS_CACHE_SECONDS
    if seconds and not fresh and (cached := cache.get(key)) is not None:
        return cached
    body = _compute(user=user, group_id=group_id, since=since, until=until)
    if seconds:
        cache.set(key, body, seconds)
    return body


def _compute(*, user: User, group_id: int | None, since: datetime | None, until: datetime | None) -> dict:
    signals = insights_scope(user=user, group_id=group_id, since=since, until=until)
    hours = user.organization.voice_first_response_hours
    timings = _timings(signals, promise=timedelta(hours=hours), now=timezone.now())
    by_key_moment = _rows(signals, "key_moment_id", "key_moment__title")
    by_group = _rows(signals, "group_id", "group__name")
    return {
        "computed_at": iso(timezone.now()),
        "promise_hours": hours,
        "by_key_moment": by_key_moment,
        "by_group": by_group,
        "most_supported_open": _signal_rows(signals.filter(status__in=open_statuses()).order_by("-support_count", "-id")[:TOP]),
        "oldest_unanswered": _signal_rows(signals.filter(status=SignalStatus.OPEN).order_by("created_at", "id")[:TOP]),
        **timings,
    }
