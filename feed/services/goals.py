"""Goals and customer-journey key moments: leaders write them, the feed carries them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Group, User
from feed import events
from feed.cards import iso
from feed.models import Goal, GoalGroup, GoalStatus, GoalUpdate, KeyMoment, KeyMomentGroup, PostKind
from feed.services.posts import _resolve_groups, post_create_system
from notifications import services as notifications
from search.language import text_language
from server.api.exceptions import NotAllowed, ValidationFailed
from server.api.text import clean_text


def _require_leader(actor: User) -> None:
    if not actor.is_leader_or_admin:
        raise NotAllowed(_("Only leaders and admins may do this."))


def _number(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def _audience(*, org_wide: bool, group_ids: list[int]) -> dict[str, Any]:
    return {"org_wide": True} if org_wide else {"group_ids": group_ids}


def _group_ids(relation) -> list[int]:
    return sorted(relation.values_list("group_id", flat=True))


def _clean_text(value: str, field: str, *, allow_empty: bool = True) -> str:
    return clean_text(value, field=field, allow_empty=allow_empty)


# --- Goals --------------------------------------------------------------------------------------


def goal_card(goal: Goal) -> dict[str, Any]:
    """What a goal looks like inside a feed post and in goal.updated events (plain JSON)."""
    return {
        "id": goal.pk,
        "title": goal.title,
        "why": goal.why,
        "how_to_help": goal.how_to_help,
        "target_value": _number(goal.target_value),
        "current_value": _number(goal.current_value),
        "unit": goal.unit,
        "progress": goal.progress,
        "status": goal.status,
        "due_date": goal.due_date.isoformat() if goal.due_date else None,
        "achieved_at": iso(goal.achieved_at),
    }


def _emit_goal(goal: Goal) -> None:
    notifications.emit(
        events.GOAL_UPDATED,
        organization_id=goal.organization_id,
        payload={"goal": goal_card(goal)},
        **_audience(org_wide=goal.org_wide, group_ids=_group_ids(goal.audience_groups)),
    )


def _set_groups(*, links, make, groups: list[Group]) -> None:
    links.all().delete()
    links.model.objects.bulk_create([make(group) for group in groups])


def goal_create(
    *,
    actor: User,
    title: str,
    why: str,
    how_to_help: str,
    target_value: Decimal | None = None,
    unit: str = "",
    due_date: date | None = None,
    current_value: Decimal | None = None,
    group_ids: list[int] | None = None,
) -> Goal:
    _require_leader(actor)
    title = _clean_text(title, "title", allow_empty=False)
    # The why is the point of a goal (API.md lists both as required): never empty.
    why = _clean_text(why, "why", allow_empty=False)
    how_to_help = _clean_text(how_to_help, "how_to_help", allow_empty=False)
    with transaction.atomic():
        groups = _resolve_groups(author=actor, group_ids=group_ids)
        goal = Goal.objects.create(
            organization_id=actor.organization_id,
            owner=actor,
            title=title,
            why=why,
            how_to_help=how_to_help,
            language=text_language(f"{title} {why} {how_to_help}", writer=actor),
            target_value=target_value,
            current_value=current_value or Decimal(0),
            unit=unit,
            due_date=due_date,
            org_wide=not groups,
        )
        GoalGroup.objects.bulk_create([GoalGroup(goal=goal, group=group) for group in groups])
        _emit_goal(goal)
        return goal


GOAL_EDITABLE = ("title", "why", "how_to_help", "target_value", "unit", "due_date", "status", "current_value")


def goal_update(*, actor: User, goal: Goal, **changes: Any) -> Goal:
    """Change a goal's fields (leaders). Setting the status to achieved records when."""
    _require_leader(actor)
    unknown = set(changes) - set(GOAL_EDITABLE)
    if unknown:
        raise ValueError(f"goal_update cannot change {sorted(unknown)}")
    for field in ("title", "why", "how_to_help"):
        if field in changes:
            changes[field] = _clean_text(changes[field], field, allow_empty=False)
    with transaction.atomic():
        goal = Goal.objects.select_for_update().get(pk=goal.pk)
        for field, value in changes.items():
            setattr(goal, field, value)
        goal.language = text_language(f"{goal.title} {goal.why} {goal.how_to_help}", writer=actor)
        now = timezone.now()
        if goal.status == GoalStatus.ACHIEVED and goal.achieved_at is None:
            goal.achieved_at = now
        elif goal.status in (GoalStatus.ON_TRACK, GoalStatus.AT_RISK):
            goal.achieved_at = None
        goal.updated_at = now
        goal.save()
        _emit_goal(goal)
        return goal


def goal_progress_add(*, actor: User, goal: Goal, note: str, current_value: Decimal | None = None) -> GoalUpdate:
    """A progress report: a goal_update post for the goal's audience and a goal.updated event.

    Reaching the target marks the goal achieved (once) and the post says so.
    """
    _require_leader(actor)
    note = _clean_text(note, "note", allow_empty=current_value is not None)
    with transaction.atomic():
        # Locked: two leaders reporting at once must not both "reach" the target.
        goal = Goal.objects.select_for_update().get(pk=goal.pk)
        if goal.status == GoalStatus.ARCHIVED:
            raise ValidationFailed(_("This goal is archived."), code="goal_archived")
        previous = goal.current_value
        now = timezone.now()
        if current_value is not None:
            goal.current_value = current_value
        reached = goal.target_value is not None and goal.current_value >= goal.target_value and goal.status != GoalStatus.ACHIEVED
        if reached:
            goal.status = GoalStatus.ACHIEVED
            goal.achieved_at = now
        goal.updated_at = now
        goal.save()
        update = GoalUpdate.objects.create(
            goal=goal, author=actor, note=note, previous_value=previous, current_value=goal.current_value, reached_target=reached
        )
        card = {
            **goal_card(goal),
            "update": {
                "id": update.pk,
                "note": note,
                "previous_value": _number(previous),
                "current_value": _number(goal.current_value),
                "reached_target": reached,
            },
        }
        group_ids = _group_ids(goal.audience_groups)
        update.post = post_create_system(author=actor, kind=PostKind.GOAL_UPDATE, body=note, group_ids=group_ids or None, card=card)
        update.save(update_fields=["post"])
        _emit_goal(goal)
        return update


# --- Key moments -----------------------------------------------------------------------------------


def key_moment_card(key_moment: KeyMoment, *, change: str) -> dict[str, Any]:
    return {
        "id": key_moment.pk,
        "title": key_moment.title,
        "description": key_moment.description,
        "expected_behaviour": key_moment.expected_behaviour,
        "position": key_moment.position,
        "change": change,
    }


def _renumber(*, organization_id: int, moved: KeyMoment | None, position: int | None) -> None:
    """Positions 1..n in journey order, with `moved` placed at `position` (None: keep its place).

    Archived key moments are out of the journey: they keep the position they had.
    """
    # All rows locked in primary-key order: two concurrent reorders wait, never deadlock.
    journey = list(KeyMoment.objects.select_for_update().filter(organization_id=organization_id, archived_at__isnull=True).order_by("pk"))
    journey.sort(key=lambda item: (item.position, item.pk))
    if moved is not None and position is not None and any(item.pk == moved.pk for item in journey):
        target = next(item for item in journey if item.pk == moved.pk)
        journey.remove(target)
        journey.insert(max(0, min(position - 1, len(journey))), target)
    changed = []
    for number, item in enumerate(journey, start=1):
        if item.position != number:
            item.position = number
            changed.append(item)
    KeyMoment.objects.bulk_update(changed, ["position"])


def _publish_key_moment(key_moment: KeyMoment, *, actor: User, change: str) -> None:
    key_moment.refresh_from_db()
    group_ids = _group_ids(key_moment.audience_groups)
    card = key_moment_card(key_moment, change=change)
    post_create_system(author=actor, kind=PostKind.KEY_MOMENT, body=key_moment.description, group_ids=group_ids or None, card=card)
    notifications.emit(
        events.KEY_MOMENT_UPDATED,
        organization_id=key_moment.organization_id,
        payload={"key_moment": card},
        **_audience(org_wide=key_moment.org_wide, group_ids=group_ids),
    )


def key_moment_create(
    *,
    actor: User,
    title: str,
    expected_behaviour: str,
    description: str = "",
    position: int | None = None,
    group_ids: list[int] | None = None,
) -> KeyMoment:
    _require_leader(actor)
    title = _clean_text(title, "title", allow_empty=False)
    description = _clean_text(description, "description")
    # What staff may and must do at this moment is what a key moment is for (API.md: required).
    expected_behaviour = _clean_text(expected_behaviour, "expected_behaviour", allow_empty=False)
    with transaction.atomic():
        groups = _resolve_groups(author=actor, group_ids=group_ids)
        # Appended last, then moved where asked: one renumbering path for create and update.
        key_moment = KeyMoment.objects.create(
            organization_id=actor.organization_id,
            title=title,
            description=description,
            expected_behaviour=expected_behaviour,
            language=text_language(f"{title} {description} {expected_behaviour}", writer=actor),
            position=2**31 - 1,
            org_wide=not groups,
            created_by=actor,
        )
        KeyMomentGroup.objects.bulk_create([KeyMomentGroup(key_moment=key_moment, group=group) for group in groups])
        _renumber(organization_id=actor.organization_id, moved=key_moment, position=position)
        _publish_key_moment(key_moment, actor=actor, change="created")
        return key_moment


def key_moment_update(
    *,
    actor: User,
    key_moment: KeyMoment,
    title: str | None = None,
    description: str | None = None,
    expected_behaviour: str | None = None,
    position: int | None = None,
    group_ids: list[int] | None = None,
) -> KeyMoment:
    _require_leader(actor)
    with transaction.atomic():
        key_moment = KeyMoment.objects.select_for_update().get(pk=key_moment.pk)
        if title is not None:
            key_moment.title = _clean_text(title, "title", allow_empty=False)
        if description is not None:
            key_moment.description = _clean_text(description, "description")
        if expected_behaviour is not None:
            key_moment.expected_behaviour = _clean_text(expected_behaviour, "expected_behaviour", allow_empty=False)
        if group_ids is not None:
            groups = _resolve_groups(author=actor, group_ids=group_ids)
            key_moment.org_wide = not groups
            _set_groups(
                links=key_moment.audience_groups, make=lambda group: KeyMomentGroup(key_moment=key_moment, group=group), groups=groups
            )
        key_moment.language = text_language(f"{key_moment.title} {key_moment.description} {key_moment.expected_behaviour}", writer=actor)
        key_moment.updated_at = timezone.now()
        key_moment.save()
        if position is not None:
            _renumber(organization_id=key_moment.organization_id, moved=key_moment, position=position)
        _publish_key_moment(key_moment, actor=actor, change="updated")
        return key_moment
