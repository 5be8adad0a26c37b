"""Reads of signals, scoped to what the acting user may see and loaded for a page in a fixed number of queries."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.db import router
from django.db.models import BigIntegerField, Exists, OuterRef, Q, QuerySet

from accounts.models import Membership, MembershipRole, Role, User
from server.api.exceptions import NotFound
from server.api.pagination import keyset_filter, parse_ordering
from server.db import CompiledModelQuery, Slot
from voice.models import Signal, SignalStatus, SignalSupport, SignalVisibility

SORTS = {"recent": ("-created_at", "-id"), "support": ("-support_count", "-id")}
# A value, or the Slot standing for it in the page's query compiled once (signal_page).
_Id = int | Slot


def led_group_ids(*, user: User) -> QuerySet:
    """Groups whose signals this person answers for: those they manage, and, for a leader, those they are in."""
    return _led_group_ids(user_id=user.pk, role=user.role)


def _led_group_ids(*, user_id: _Id, role: str) -> QuerySet:
    memberships = Membership.objects.filter(user_id=user_id)
    if role != Role.LEADER:
        memberships = memberships.filter(role=MembershipRole.MANAGER)
    return memberships.values("group_id")


def leads_group(*, user: User, group_id: int | None) -> bool:
    return group_id is not None and led_group_ids(user=user).filter(group_id=group_id).exists()


def visible_q(*, user: User) -> Q:
    """`organization` signals to everyone; `leaders` signals to the author, the owner, leaders of
    the signal's group and admins. Hidden ones (moderation) to admins only."""
    return _visible_q(user_id=user.pk, role=user.role)


def _visible_q(*, user_id: _Id, role: str) -> Q:
    if role == Role.ADMIN:
        return Q()
    led = _led_group_ids(user_id=user_id, role=role)
    return (Q(visibility=SignalVisibility.ORGANIZATION) | Q(author_id=user_id) | Q(owner_id=user_id) | Q(group_id__in=led)) & Q(
        hidden_at__isnull=True
    )


PERSON_FIELDS = ("id", "name", "avatar__user_id", "avatar__media__id", "avatar__media__status")


def _loaded(signals: QuerySet[Signal]) -> QuerySet[Signal]:
    """The signals with their people, group and key moment in one query; a page's photos, timelines
    and the viewer's own support come in three more, batched (voice.signal_cards.attach_page)."""
    people = [f"{who}__{field}" for who in ("author", "owner") for field in PERSON_FIELDS]
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
    return _filtered(organization_id=user.organization_id, user_id=user.pk, role=user.role, filters=filters or SignalFilters(), sort=sort)


def _filtered(*, organization_id: _Id, user_id: _Id, role: str, filters: SignalFilters, sort: str) -> QuerySet[Signal]:
    """signal_list in values, not a User: compiled once per shape with Slots in their place (signal_page)."""
    signals = Signal.objects.filter(_visible_q(user_id=user_id, role=role), organization_id=organization_id)
    if filters.kind:
        signals = signals.filter(kind=filters.kind)
    if filters.status:
        signals = signals.filter(status=filters.status)
    if filters.key_moment_id is not None:
        signals = signals.filter(key_moment_id=filters.key_moment_id)
    if filters.group_id is not None:
        signals = signals.filter(group_id=filters.group_id)
    if filters.mine is not None:
        signals = signals.filter(author_id=user_id) if filters.mine else signals.exclude(author_id=user_id)
    if filters.supported is not None:
        supported = Exists(SignalSupport.objects.filter(signal=OuterRef("pk"), user_id=user_id))
        signals = signals.filter(supported if filters.supported else ~supported)
    if filters.assigned_to_me is not None:
        signals = signals.filter(owner_id=user_id) if filters.assigned_to_me else signals.exclude(owner_id=user_id)
    if filters.unassigned is not None:
        signals = signals.filter(owner__isnull=filters.unassigned)
    return _loaded(signals).order_by(*SORTS[sort])


# The list's page, compiled once per shape (the viewer's role, which filters are set, the sort,
# the cursor's direction, page size) with Slots for the values, as the feed's page is
# (server.db): building and compiling the audience rule, filters, seven joins and the keyset
# condition was ~5 ms of Python a request, more than the statement takes (V1).
_VALUE_SLOTS = {"kind": "kind", "status": "status", "key_moment_id": "key_moment_id", "group_id": "group_id"}


@lru_cache(maxsize=2048)
def _compiled_page(
    alias: str, *, role: str, shape: tuple[tuple[str, Any], ...], sort: str, cursor: str | None, limit: int
) -> CompiledModelQuery[Signal]:
    """`shape`: (filter name, None | "value" | True | False): a value filter set, or a yes/no filter's answer."""
    fields = {name: Slot(name, Signal._meta.get_field(column)) for name, column in _VALUE_SLOTS.items()}
    filters = SignalFilters(**{name: fields[name] if given == "value" else given for name, given in shape})
    queryset = _filtered(
        organization_id=Slot("organization_id", BigIntegerField()),
        user_id=Slot("user_id", BigIntegerField()),
        role=role,
        filters=filters,
        sort=sort,
    )
    if cursor is not None:
        ordering = parse_ordering(SORTS[sort])
        first = Slot("cursor_0", Signal._meta.get_field(ordering[0][0]))
        queryset = queryset.filter(keyset_filter(ordering, [first, Slot("cursor_1", BigIntegerField())], after=cursor == "after"))
        if cursor == "before":
            queryset = queryset.reverse()
    return CompiledModelQuery.of(queryset[:limit], alias)


def _given(name: str, value: Any) -> Any:
    if name in ("kind", "status"):  # empty is "not set", as signal_list reads it
        return "value" if value else None
    if name in _VALUE_SLOTS:
        return None if value is None else "value"
    return value


def signal_page(*, user: User, filters: SignalFilters, sort: str, cursor: list[Any] | None, reverse: bool, limit: int) -> list[Signal]:
    """A KeysetPagination.paginate fetch over signal_list, run from its precompiled SQL."""
    shape = tuple((field.name, _given(field.name, getattr(filters, field.name))) for field in dataclasses.fields(filters))
    query = _compiled_page(
        router.db_for_read(Signal),
        role=user.role,
        shape=shape,
        sort=sort,
        cursor=None if cursor is None else ("before" if reverse else "after"),
        limit=limit,
    )
    values = {"organization_id": user.organization_id, "user_id": user.pk, **{name: getattr(filters, name) for name in _VALUE_SLOTS}}
    if cursor is not None:
        values["cursor_0"], values["cursor_1"] = cursor
    return query.fetch(values)


def access_signal(*, user: User, signal_id: int, lock: bool = False) -> Signal:
    """A signal the user may see, or not found (another organisation's, or not in its audience)."""
    signals = Signal.objects.filter(visible_q(user=user), organization_id=user.organization_id, pk=signal_id)
    if lock:
        signal = signals.select_for_update(of=("self",)).first()
    else:
        signal = _loaded(signals).first()
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
