"""What leaders and admins read about the feed: announcement reach over time, engagement per
week and per group, the read rate of mandatory posts. Used by the web console (console/); reach
itself is `post_reach`, the numbers of `GET /posts/{id}/reach` (one definition of each metric).

Scope: an admin sees the whole organisation (or one group of it); a leader sees the groups
they belong to, and the announcements addressed to them or written by the leader.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Group, Membership, User
from feed.models import Acknowledgement, Comment, Post, PostGroup, PostKind, PostSeen, Reaction
from feed.selectors.posts import post_reach
from server.api.exceptions import NotAllowed, NotFound

ENGAGEMENT_WEEKS = 12
REACH_DAYS = 90
REACH_POSTS = 12
TIMELINE_DAYS = 14


@dataclass(frozen=True)
class Scope:
    """Who a leader or admin reads numbers about: groups, or the whole organisation."""

    organization_id: int
    groups: list[Group]
    whole_organization: bool

    @property
    def group_ids(self) -> list[int]:
        return [group.pk for group in self.groups]

    def members(self) -> QuerySet[User]:
        people = User.objects.filter(organization_id=self.organization_id, is_active=True)
        if self.whole_organization:
            return people
        return people.filter(pk__in=Membership.objects.filter(group_id__in=self.group_ids).values("user_id"))


def insight_scope(*, user: User, group_id: int | None = None) -> Scope:
    """The scope of a leader's or admin's numbers; NotAllowed for employees, NotFound for a
    group outside it (another organisation's, or not one of a leader's)."""
    if not user.is_leader_or_admin:
        raise NotAllowed(_("Insights are for leaders and admins."))
    if user.is_org_admin:
        groups = Group.objects.filter(organization_id=user.organization_id)
    else:
        groups = Group.objects.filter(organization_id=user.organization_id, memberships__user=user)
    groups = list(groups.order_by("name", "id"))
    if group_id is not None:
        chosen = [group for group in groups if group.pk == group_id]
        if not chosen:
            raise NotFound()
        return Scope(user.organization_id, chosen, False)
    return Scope(user.organization_id, groups, user.is_org_admin)


def _in_scope(posts: QuerySet[Post], *, scope: Scope, user: User) -> QuerySet[Post]:
    if scope.whole_organization:
        return posts
    addressed = Q(pk__in=PostGroup.objects.filter(group_id__in=scope.group_ids).values("post_id"))
    if user.is_org_admin:
        return posts.filter(addressed)
    return posts.filter(addressed | Q(author=user))


def recent_announcements(*, user: User, scope: Scope, now: dt.datetime | None = None, limit: int = REACH_POSTS) -> list[Post]:
    """The latest announcements of the last 90 days in the scope, newest first."""
    now = now or timezone.now()
    posts = Post.objects.filter(
        organization_id=user.organization_id,
        kind=PostKind.ANNOUNCEMENT,
        published_at__gte=now - dt.timedelta(days=REACH_DAYS),
        published_at__lte=now,
        removed_at__isnull=True,
    )
    return list(_in_scope(posts, scope=scope, user=user).select_related("author").order_by("-published_at", "-id")[:limit])


def announcement_reach(*, posts: list[Post]) -> list[dict[str, Any]]:
    """Audience, seen and acknowledged of each announcement (post_reach: two queries each)."""
    return [{"post": post, **post_reach(post=post)} for post in posts]


def acknowledgement_timeline(*, posts: list[Post], tz: str, days: int = TIMELINE_DAYS) -> dict[int, list[int]]:
    """Acknowledgements per post, cumulative by day since publishing (day 0 … days-1): one query."""
    if not posts:
        return {}
    zone = zoneinfo.ZoneInfo(tz)
    rows = (
        Acknowledgement.objects.filter(post__in=posts)
        .annotate(day=TruncDate("acknowledged_at", tzinfo=zone))
        .values("post_id", "day")
        .annotate(n=Count("id"))
    )
    published = {post.pk: timezone.localtime(post.published_at, zone).date() for post in posts}
    daily = {post.pk: [0] * days for post in posts}
    for row in rows:
        offset = (row["day"] - published[row["post_id"]]).days
        if 0 <= offset < days:
            daily[row["post_id"]][offset] += row["n"]
        elif offset >= days:
            daily[row["post_id"]][-1] += row["n"]
    cumulative = {}
    for post_id, counts in daily.items():
        total, running = 0, []
        for n in counts:
            total += n
            running.append(total)
        cumulative[post_id] = running
    return cumulative


def engagement(*, user: User, scope: Scope, now: dt.datetime | None = None, weeks: int = ENGAGEMENT_WEEKS) -> dict[str, Any]:
    """Active people per week (saw a post), and posts, comments and reactions per group: five queries."""
    now = now or timezone.now()
    zone = zoneinfo.ZoneInfo(user.organization.timezone)
    since = now - dt.timedelta(weeks=weeks)
    seen = PostSeen.objects.filter(post__organization_id=scope.organization_id, seen_at__gte=since)
    if not scope.whole_organization:
        seen = seen.filter(user_id__in=scope.members().values("pk"))
    active = (
        seen.annotate(week=TruncWeek("seen_at", tzinfo=zone))
        .values("week")
        .annotate(people=Count("user_id", distinct=True))
        .order_by("week")
    )
    people_count = scope.members().count()

    def per_group(queryset, post_path: str) -> dict[int, int]:
        rows = (
            queryset.filter(**{f"{post_path}groups__in": scope.group_ids})
            .values(f"{post_path}groups")
            .annotate(n=Count("id", distinct=True))
        )
        return {row[f"{post_path}groups"]: row["n"] for row in rows}

    posts = Post.objects.filter(organization_id=scope.organization_id, published_at__gte=since, removed_at__isnull=True)
    comments = Comment.objects.filter(post__organization_id=scope.organization_id, created_at__gte=since, removed_at__isnull=True)
    reactions = Reaction.objects.filter(post__organization_id=scope.organization_id, created_at__gte=since)
    post_counts, comment_counts, reaction_counts = per_group(posts, ""), per_group(comments, "post__"), per_group(reactions, "post__")
    return {
        "weeks": weeks,
        "people_count": people_count,
        "active_per_week": [
            {"week": row["week"].date() if hasattr(row["week"], "date") else row["week"], "people": row["people"]} for row in active
        ],
        "per_group": [
            {
                "group": group,
                "posts": post_counts.get(group.pk, 0),
                "comments": comment_counts.get(group.pk, 0),
                "reactions": reaction_counts.get(group.pk, 0),
            }
            for group in scope.groups
        ],
    }


def mandatory_read_rate(*, reach: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Read rate of announcements to acknowledge, per group, summed over `announcement_reach` rows."""
    totals: dict[int, dict[str, Any]] = {}
    for row in reach:
        if not row["post"].requires_acknowledgement:
            continue
        for line in row["by_group"]:
            entry = totals.setdefault(line["group"]["id"], {"group": line["group"], "audience_count": 0, "acknowledged_count": 0})
            entry["audience_count"] += line["audience_count"]
            entry["acknowledged_count"] += line["acknowledged_count"]
    rows = sorted(totals.values(), key=lambda entry: entry["group"]["name"])
    for entry in rows:
        entry["rate"] = entry["acknowledged_count"] / entry["audience_count"] if entry["audience_count"] else None
    return rows
