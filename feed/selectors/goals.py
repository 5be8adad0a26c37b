"""Goals and the key moments of the customer journey, as a reader may see them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.db.models import Exists, Expression, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import Group, Membership, User
from feed.models import Goal, GoalGroup, GoalStatus, GoalUpdate, KeyMoment, KeyMomentGroup
from server.api.exceptions import NotFound


def _visible_to(queryset: QuerySet, user: User, link_model, link_field: str, *, owner_field: str | None = None) -> QuerySet:
    """Org-wide, addressed to one of the user's groups, or (with `owner_field`) the user's own;
    admins see all of their organisation (as for posts).

    A queryset, not a Q: the admin's "everything" used to be an empty Q(), and `Q() | Q(owner=me)`
    is just `Q(owner=me)`, so admins saw only their own goals.
    """
    queryset = queryset.filter(organization_id=user.organization_id)
    if user.is_org_admin:
        return queryset
    my_groups = Membership.objects.filter(user_id=user.pk).values("group_id")
    audience = Q(org_wide=True) | Q(Exists(link_model.objects.filter(**{link_field: OuterRef("pk")}, group_id__in=my_groups)))
    if owner_field is not None:
        audience |= Q(**{owner_field: user.pk})
    return queryset.filter(audience)


def goal_list(*, user: User, status: str | None = None, group_id: int | None = None) -> QuerySet[Goal]:
    """Goals the user may see, newest first; archived ones only when asked for by status."""
    queryset = _visible_to(Goal.objects.all(), user, GoalGroup, "goal", owner_field="owner_id")
    queryset = queryset.filter(status=status) if status else queryset.exclude(status=GoalStatus.ARCHIVED)
    if group_id is not None:
        queryset = queryset.filter(Exists(GoalGroup.objects.filter(goal=OuterRef("pk"), group_id=group_id)))
    return (
        queryset.select_related("owner", "owner__avatar__media")
        .prefetch_related(Prefetch("groups", queryset=Group.objects.order_by("name", "pk")))
        .order_by("-created_at", "-id")
    )


def goals_visible(*, user: User, group_id: int | None = None) -> QuerySet[Goal]:
    """goal_list's rows without its loading or order: what search ranks (search.registry)."""
    return goal_list(user=user, group_id=group_id).select_related(None).prefetch_related(None).order_by()


def goal_update_list(*, goal: Goal) -> QuerySet[GoalUpdate]:
    """A goal's progress history (the caller already has access to the goal), newest first."""
    return GoalUpdate.objects.filter(goal=goal).select_related("author", "author__avatar__media").order_by("-created_at", "-id")


def access_goal(*, user: User, goal_id: int) -> Goal:
    goal = (
        _visible_to(Goal.objects.filter(pk=goal_id), user, GoalGroup, "goal", owner_field="owner_id")
        .select_related("owner", "owner__avatar__media")
        .prefetch_related(Prefetch("groups", queryset=Group.objects.order_by("name", "pk")))
        .first()
    )
    if goal is None:
        raise NotFound()
    return goal


def _month_start(user: User) -> datetime:
    local = timezone.localtime(timezone.now(), user.organization.tzinfo)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


# Counts a higher app adds to every key moment without the feed importing it (recognition's
# kudos this month): annotation name → function(month_start) giving the expression.
key_moment_counts: dict[str, Callable[[datetime], Expression]] = {}


def key_moment_list(*, user: User, archived: bool | None = False) -> QuerySet[KeyMoment]:
    """The customer journey in order, with how many kudos cite each step this month.

    `archived`: False the journey (default), True only archived ones, None both.
    """
    queryset = KeyMoment.objects.all()
    if archived is not None:
        queryset = queryset.filter(archived_at__isnull=not archived)
    queryset = (
        _visible_to(queryset, user, KeyMomentGroup, "key_moment", owner_field="created_by_id")
        .prefetch_related(Prefetch("groups", queryset=Group.objects.order_by("name", "pk")))
        .order_by("position", "id")
    )
    if key_moment_counts:
        since = _month_start(user)
        queryset = queryset.annotate(**{name: count(since) for name, count in key_moment_counts.items()})
    return queryset


def key_moments_visible(*, user: User, group_id: int | None = None) -> QuerySet[KeyMoment]:
    """The key moments the user may see (key_moment_list's rule, without its counts), narrowed to a group's."""
    # Archived ones left the journey: search does not bring them back.
    current = KeyMoment.objects.filter(archived_at__isnull=True)
    queryset = _visible_to(current, user, KeyMomentGroup, "key_moment", owner_field="created_by_id")
    if group_id is not None:
        queryset = queryset.filter(Exists(KeyMomentGroup.objects.filter(key_moment=OuterRef("pk"), group_id=group_id)))
    return queryset


def access_key_moment(*, user: User, key_moment_id: int, include_archived: bool = False) -> KeyMoment:
    """A key moment the user may see; archived ones only with `include_archived` (not for new kudos)."""
    key_moment = key_moment_list(user=user, archived=None if include_archived else False).filter(pk=key_moment_id).first()
    if key_moment is None:
        raise NotFound()
    return key_moment
