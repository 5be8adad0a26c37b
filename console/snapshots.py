"""The console's heavy numbers, computed ahead and served from the cache (K1, issue #24).

Reach, engagement and recognition over a whole organisation read hundreds of thousands of
rows (seconds at 100,000 people and 1M posts). Each page's numbers for one scope (an admin's
organisation or group, a leader's groups) are computed by the same selectors the API uses,
kept in the cache for `CONSOLE_SNAPSHOT_SECONDS`, and recomputed by the beat task
`console.tasks.console_snapshots_refresh_task` for every scope someone opened in the last
day, so the page a leader opens on Monday is already there. The first view of a scope nobody
opened before computes it once, live. Voice and survey pages are fast live and not kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from accounts.models import User
from console.models import ConsoleView
from feed.selectors import insights as feed_insights
from feed.selectors.reach import not_acknowledged_list
from recognition import reports as recognition_reports
from recognition.models import AwardResult, RoundStatus
from recognition.selectors import round_list

NOT_ACKNOWLEDGED_SHOWN = 100
RECENT = dt.timedelta(days=1)
VERSION = 1


def _reach(user: User, scope: feed_insights.Scope, group_id: int | None) -> dict[str, Any]:
    posts = feed_insights.recent_announcements(user=user, scope=scope)
    reach = feed_insights.announcement_reach(posts=posts)
    mandatory = [row["post"] for row in reach if row["post"].requires_acknowledgement]
    missing = {}
    for post in mandatory:
        people = not_acknowledged_list(post=post)
        if not scope.whole_organization:
            people = people.filter(pk__in=scope.members().values("pk"))
        missing[post.pk] = {"count": people.count(), "names": [person.name for person in people[:NOT_ACKNOWLEDGED_SHOWN]]}
    return {
        "reach": reach,
        "timeline": feed_insights.acknowledgement_timeline(posts=mandatory, tz=user.organization.timezone),
        "not_acknowledged": missing,
    }


def _engagement(user: User, scope: feed_insights.Scope, group_id: int | None) -> dict[str, Any]:
    reach = numbers(page="reach", user=user, scope=scope, group_id=group_id)["reach"]
    return {
        "engagement": feed_insights.engagement(user=user, scope=scope),
        "read_rate": feed_insights.mandatory_read_rate(reach=reach),
    }


def _recognition(user: User, scope: feed_insights.Scope, group_id: int | None) -> dict[str, Any]:
    people = None if scope.whole_organization else list(scope.members().values_list("pk", flat=True))
    rounds = list(round_list(user=user, status=RoundStatus.ANNOUNCED)[:12])
    winners = {r.round_id: r for r in AwardResult.objects.filter(round__in=rounds, is_winner=True).select_related("nominee")}
    return {
        "weekly": recognition_reports.kudos_per_week(organization=user.organization, people=people),
        "insight": recognition_reports.insights(user=user, group_id=group_id),
        "rounds": [(round, winners.get(round.pk)) for round in rounds],
    }


PAGES: dict[str, Callable[[User, feed_insights.Scope, int | None], dict[str, Any]]] = {
    "reach": _reach,
    "engagement": _engagement,
    "recognition": _recognition,
}


def _key(*, page: str, user: User, scope: feed_insights.Scope, group_id: int | None) -> str:
    # An admin's organisation or group is the same for every admin; a leader's scope is theirs
    # (their groups, and the announcements they wrote).
    who = "admin" if user.is_org_admin else f"leader-{user.pk}"
    return f"console:v{VERSION}:{page}:{user.organization_id}:{who}:{group_id or 'all'}"


def numbers(*, page: str, user: User, scope: feed_insights.Scope, group_id: int | None, refresh: bool = False) -> dict[str, Any]:
    """The page's numbers for this scope: from the cache, else computed now and kept."""
    key = _key(page=page, user=user, scope=scope, group_id=group_id)
    found = None if refresh else cache.get(key)
    if found is None:
        found = PAGES[page](user, scope, group_id)
        cache.set(key, found, settings.CONSOLE_SNAPSHOT_SECONDS)
    return found


def viewed(*, page: str, user: User, group_id: int | None) -> None:
    """Remember that this scope is read, so beat keeps it fresh (one upsert)."""
    ConsoleView.objects.update_or_create(
        user=user, page=page, group_id=group_id or 0, defaults={"viewed_at": timezone.now(), "organization_id": user.organization_id}
    )


def refresh_recent(*, now: dt.datetime | None = None) -> int:
    """Recompute every page and scope opened in the last day; forget older ones. Returns how many."""
    now = now or timezone.now()
    ConsoleView.objects.filter(viewed_at__lt=now - RECENT).delete()
    done = 0
    for view in ConsoleView.objects.select_related("user__organization").filter(user__is_active=True).order_by("viewed_at"):
        user, group_id = view.user, view.group_id or None
        if not user.is_leader_or_admin:
            continue
        try:
            scope = feed_insights.insight_scope(user=user, group_id=group_id)
        except Exception:  # the group is gone, or the person is no longer a leader
            view.delete()
            continue
        numbers(page=view.page, user=user, scope=scope, group_id=group_id, refresh=True)
        done += 1
    return done
