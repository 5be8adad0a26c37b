"""Reads of signals, scoped to what the acting user may see and loaded for a page in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import Membership, MembershipRole, Role, User
from server.api.exceptions import NotFound
from voice.models import Signal, SignalStatus, SignalSupport, SignalVisibility

SORTS = {"recent": ("-created_at", "-id"), "support": ("-support_count", "-id")}


def led_group_ids(*, user: User) -> QuerySet:
    """Groups whose signals this person answers for: those they manage, and, for a leader, those they are in."""
    memberships = Membership.objects.filter(user=user)
    if user.role != Role.LEADER:
        memberships = memberships.filter(role=MembershipRole.MANAGER)
    return memberships.values("group_id")


def leads_group(*, user: User, group_id: int | None) -> bool:
    return group_id is not None and led_group_ids(user=user).filter(group_id=group_id).exists()


def visible_q(*, user: User) -> Q:
    """`organization` signals to everyone; `leaders` signals to the author, the owner, leaders of
    the signal's group and admins. Hidden ones (moderation) to admins only."""
    if user.is_org_admin:
        return Q()
    return (Q(visibility=SignalVisibility.ORGANIZATION) | Q(author=user) | Q(owner=user) | Q(group_id__in=led_group_ids(user=user))) & Q(
        hidden_at__isnull=True
    )


_PERSON_FIELDS = ("id", "name", "avatar__user_id", "avatar__media__id", "avatar__media__status")


def _loaded(signals: QuerySet[Signal], *, user: User) -> QuerySet[Signal]:
    """The signals with their people, group and key moment in one query; a page's photos, timelines
    and the viewer's own support come in three more, batched (voice.signal_cards.attach_page)."""
    people = [f"{who}__{field}" for who in ("author", "owner") for field in _PERSON_FIELDS]
    return signals.select_related("author", "author__avatar__media", "owner", "owner__avatar__media", "group", "key_moment").only(
        *[field.attname for field in Signal._meta.concrete_fields],
        *people,
        "group__id",
        "group__name",
        "group__kind",
        "key_moment__id",
        "key_moment__title",
    )


@dataclass(frozen=True)
class SignalFilters:
    kind: str | None = None
    status: str | None = None
    key_moment_id: int | None = None
    group_id: int | None = None
    mine: bool | None = None
    supported: bool | None = None
    assigned_to_me: bool | None = None
    unassigned: bool | None = None


def signal_list(*, user: User, filters: SignalFilters | None = None, sort: str = "recent") -> QuerySet[Signal]:
    filters = filters or SignalFilters()
    signals = Signal.objects.filter(visible_q(user=user), organization_id=user.organization_id)
    if filters.kind:
        signals = signals.filter(kind=filters.kind)
    if filters.status:
        signals = signals.filter(status=filters.status)
    if filters.key_moment_id is not None:
        signals = signals.filter(key_moment_id=filters.key_moment_id)
    if filters.group_id is not None:
        signals = signals.filter(group_id=filters.group_id)
    if filters.mine is not None:
        signals = signals.filter(author=user) if filters.mine else signals.exclude(author=user)
    if filters.supported is not None:
        supported = Exists(SignalSupport.objects.filter(signal=OuterRef("pk"), user=user))
        signals = signals.filter(supported if filters.supported else ~supported)
    if filters.assigned_to_me is not None:
        signals = signals.filter(owner=user) if filters.assigned_to_me else signals.exclude(owner=user)
    if filters.unassigned is not None:
        signals = signals.filter(owner__isnull=filters.unassigned)
    return _loaded(signals, user=user).order_by(*SORTS[sort])


def access_signal(*, user: User, signal_id: int, lock: bool = False) -> Signal:
    """A signal the user may see, or not found (another organisation's, or not in its audience)."""
    signals = Signal.objects.filter(visible_q(user=user), organization_id=user.organization_id, pk=signal_id)
    if lock:
        signal = signals.select_for_update(of=("self",)).first()
    else:
        signal = _loaded(signals, user=user).first()
    if signal is None:
        raise NotFound()
    return signal


def may_answer(*, user: User, signal: Signal) -> bool:
    """Who may move a signal's status: its owner, a leader of its group, an admin."""
    return user.is_org_admin or signal.owner_id == user.pk or (user.is_leader_or_admin and leads_group(user=user, group_id=signal.group_id))


def follower_ids(*, signal: Signal) -> list[int]:
    """Its author and supporters: who hears about its status."""
    supporters = SignalSupport.objects.filter(signal=signal, user__is_active=True).values_list("user_id", flat=True)
    return sorted({signal.author_id, *supporters})


def admin_ids(*, organization_id: int) -> list[int]:
    return list(User.objects.filter(organization_id=organization_id, role=Role.ADMIN, is_active=True).values_list("pk", flat=True))


def open_statuses() -> tuple[str, ...]:
    return (SignalStatus.OPEN, SignalStatus.ACKNOWLEDGED, SignalStatus.IN_PROGRESS)
