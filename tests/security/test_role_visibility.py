"""Role × visibility for every list with an audience rule: who sees an org-wide item, a group's
item, another group's item and their own item, through the list and the detail route.

One organisation with two groups: a leader and an employee in group X, an employee in group Y,
an admin in no group. Organisation B's admin must see nothing of A. This caught admins seeing
only their own goals: the admin's "everything" was an empty Q() OR-ed with the owner filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from feed.models import Goal, GoalGroup, KeyMoment, KeyMomentGroup
from tests.factories import AdminFactory, GroupFactory, LeaderFactory, MembershipFactory, OrganizationFactory, UserFactory
from tests.feed.factories import PostFactory, group_post
from tests.recognition.factories import AwardCategoryFactory, AwardRoundFactory
from voice.services.surveys import survey_create

pytestmark = pytest.mark.django_db

ROLES = ("admin", "leader_x", "employee_x", "employee_y", "admin_b")


@dataclass
class Org:
    people: dict[str, Any]
    group_x: Any
    group_y: Any


@pytest.fixture
def world() -> Org:
    org, org_b = OrganizationFactory(), OrganizationFactory()
    group_x, group_y = GroupFactory(organization=org), GroupFactory(organization=org)
    people = {
        "admin": AdminFactory(organization=org),
        "leader_x": LeaderFactory(organization=org),
        "employee_x": UserFactory(organization=org),
        "employee_y": UserFactory(organization=org),
        "admin_b": AdminFactory(organization=org_b),
    }
    MembershipFactory(group=group_x, user=people["leader_x"])
    MembershipFactory(group=group_x, user=people["employee_x"])
    MembershipFactory(group=group_y, user=people["employee_y"])
    return Org(people=people, group_x=group_x, group_y=group_y)


def _check(
    api,
    world: Org,
    *,
    list_url: str,
    detail_url: str | None,
    made: dict[str, int],
    expected: dict[str, set[str]],
    list_params: dict | None = None,
) -> None:
    for role in ROLES:
        client = api(world.people[role])
        listed = client.get(list_url, {"page_size": 100, **(list_params or {})})
        assert listed.status_code == 200, (role, listed.content)
        seen = {name for name, pk in made.items() if pk in {row["id"] for row in listed.json()["results"]}}
        assert seen == expected[role], f"{role} lists {sorted(seen)} of {list_url}, expected {sorted(expected[role])}"
        if detail_url is None:
            continue
        for name, pk in made.items():
            status = client.get(detail_url.format(id=pk)).status_code
            assert status == (200 if name in expected[role] else 404), f"{role} opens {name}: {status}"


def test_feed(api, world):
    leader = world.people["leader_x"]
    made = {
        "org_wide": PostFactory(author=leader).pk,
        "group_x": group_post(world.group_x, author=leader).pk,
        "group_y": group_post(world.group_y, author=world.people["employee_y"]).pk,
        # A leader may post to a group they are not in; they still see what they wrote.
        "own_in_y": group_post(world.group_y, author=leader).pk,
    }
    everything = set(made)
    _check(
        api,
        world,
        list_url="/api/v1/feed",
        detail_url="/api/v1/posts/{id}",
        made=made,
        expected={
            "admin": everything,
            "leader_x": {"org_wide", "group_x", "own_in_y"},
            "employee_x": {"org_wide", "group_x"},
            "employee_y": {"org_wide", "group_y", "own_in_y"},
            "admin_b": set(),
        },
    )
    # The feed's `?q=` and search find exactly what the feed shows (the same audience rule).
    _check(
        api,
        world,
        list_url="/api/v1/feed",
        list_params={"q": "number"},
        detail_url=None,
        made=made,
        expected={
            "admin": everything,
            "leader_x": {"org_wide", "group_x", "own_in_y"},
            "employee_x": {"org_wide", "group_x"},
            "employee_y": {"org_wide", "group_y", "own_in_y"},
            "admin_b": set(),
        },
    )
    _check(
        api,
        world,
        list_url="/api/v1/search",
        list_params={"q": "number", "type": "post"},
        detail_url=None,
        made=made,
        expected={
            "admin": everything,
            "leader_x": {"org_wide", "group_x", "own_in_y"},
            "employee_x": {"org_wide", "group_x"},
            "employee_y": {"org_wide", "group_y", "own_in_y"},
            "admin_b": set(),
        },
    )


def _goal(world: Org, owner, group=None) -> int:
    goal = Goal.objects.create(
        organization=owner.organization, owner=owner, title="Goal", why="Why", how_to_help="How", org_wide=group is None
    )
    if group is not None:
        GoalGroup.objects.create(goal=goal, group=group)
    return goal.pk


def test_goals(api, world):
    leader, other_leader = world.people["leader_x"], LeaderFactory(organization=world.people["admin"].organization)
    made = {
        "org_wide": _goal(world, other_leader),
        "group_x": _goal(world, other_leader, world.group_x),
        "group_y": _goal(world, other_leader, world.group_y),
        "own_in_y": _goal(world, leader, world.group_y),
    }
    _check(
        api,
        world,
        list_url="/api/v1/goals",
        detail_url="/api/v1/goals/{id}",
        made=made,
        expected={
            "admin": set(made),
            "leader_x": {"org_wide", "group_x", "own_in_y"},
            "employee_x": {"org_wide", "group_x"},
            "employee_y": {"org_wide", "group_y", "own_in_y"},
            "admin_b": set(),
        },
    )
    expected = {
        "admin": set(made),
        "leader_x": {"org_wide", "group_x", "own_in_y"},
        "employee_x": {"org_wide", "group_x"},
        "employee_y": {"org_wide", "group_y", "own_in_y"},
        "admin_b": set(),
    }
    _check(api, world, list_url="/api/v1/search", list_params={"q": "goal", "type": "goal"}, detail_url=None, made=made, expected=expected)


def _key_moment(world: Org, position: int, group=None, created_by=None) -> int:
    admin = world.people["admin"]
    moment = KeyMoment.objects.create(
        organization=admin.organization,
        title="Moment",
        expected_behaviour="Do",
        position=position,
        created_by=created_by or admin,
        org_wide=group is None,
    )
    if group is not None:
        KeyMomentGroup.objects.create(key_moment=moment, group=group)
    return moment.pk


def test_key_moments(api, world):
    made = {
        "org_wide": _key_moment(world, 1),
        "group_x": _key_moment(world, 2, world.group_x),
        "group_y": _key_moment(world, 3, world.group_y),
        # A leader may publish a key moment for a group they are not in; they still see it.
        "own_in_y": _key_moment(world, 4, world.group_y, created_by=world.people["leader_x"]),
    }
    _check(
        api,
        world,
        list_url="/api/v1/key-moments",
        detail_url="/api/v1/key-moments/{id}",
        made=made,
        expected={
            "admin": set(made),
            "leader_x": {"org_wide", "group_x", "own_in_y"},
            "employee_x": {"org_wide", "group_x"},
            "employee_y": {"org_wide", "group_y", "own_in_y"},
            "admin_b": set(),
        },
    )
    expected = {
        "admin": set(made),
        "leader_x": {"org_wide", "group_x", "own_in_y"},
        "employee_x": {"org_wide", "group_x"},
        "employee_y": {"org_wide", "group_y", "own_in_y"},
        "admin_b": set(),
    }
    _check(
        api,
        world,
        list_url="/api/v1/search",
        list_params={"q": "moment", "type": "key_moment"},
        detail_url=None,
        made=made,
        expected=expected,
    )


def _category(world: Org, group=None):
    category = AwardCategoryFactory(organization=world.people["admin"].organization)
    if group is not None:
        category.groups.add(group)
    return category


def test_award_categories_and_rounds(api, world):
    categories = {"org_wide": _category(world), "group_x": _category(world, world.group_x), "group_y": _category(world, world.group_y)}
    # Leaders and admins run awards, so they see every category and round.
    expected = {
        "admin": set(categories),
        "leader_x": set(categories),
        "employee_x": {"org_wide", "group_x"},
        "employee_y": {"org_wide", "group_y"},
        "admin_b": set(),
    }
    _check(
        api,
        world,
        list_url="/api/v1/awards/categories",
        detail_url="/api/v1/awards/categories/{id}",
        made={name: category.pk for name, category in categories.items()},
        expected=expected,
    )
    rounds = {name: AwardRoundFactory(category=category).pk for name, category in categories.items()}
    _check(api, world, list_url="/api/v1/awards/rounds", detail_url="/api/v1/awards/rounds/{id}", made=rounds, expected=expected)


def test_the_wall_of_fame_shows_each_role_the_winners_of_its_categories(api, world):
    from recognition.services import award_round_close
    from tests.recognition.factories import NominationFactory

    admin = world.people["admin"]
    categories = {"org_wide": _category(world), "group_x": _category(world, world.group_x), "group_y": _category(world, world.group_y)}
    rounds = {}
    for name, category in categories.items():
        round = AwardRoundFactory(category=category)
        NominationFactory(round=round)
        award_round_close(round_id=round.pk, actor=admin)
        rounds[name] = round.pk
    expected = {
        "admin": set(rounds),
        "leader_x": set(rounds),
        "employee_x": {"org_wide", "group_x"},
        "employee_y": {"org_wide", "group_y"},
        "admin_b": set(),
    }
    for role in ROLES:
        winners = api(world.people[role]).get("/api/v1/recognition/wall").json()["winners"]
        seen = {name for name, pk in rounds.items() if pk in {w["round_id"] for w in winners}}
        assert seen == expected[role], f"{role} sees {sorted(seen)} on the wall"


def _survey(world: Org, creator, group=None, opens_in=None) -> int:
    now = timezone.now()
    opens_at = now + opens_in if opens_in else None
    questions = [{"kind": "scale_1_5", "text": "How was your week?"}]
    group_ids = [group.pk] if group is not None else None
    survey = survey_create(
        actor=creator, title="Pulse", questions=questions, group_ids=group_ids, opens_at=opens_at, closes_at=now + timedelta(days=3)
    )
    return survey.pk


def test_surveys(api, world):
    admin, leader = world.people["admin"], world.people["leader_x"]
    made = {
        "org_wide": _survey(world, admin),
        "group_x": _survey(world, admin, world.group_x),
        "group_y": _survey(world, admin, world.group_y),
        # Not open yet: only its creator and admins see it.
        "scheduled_x": _survey(world, leader, world.group_x, opens_in=timedelta(hours=1)),
    }
    _check(
        api,
        world,
        list_url="/api/v1/surveys",
        detail_url="/api/v1/surveys/{id}",
        made=made,
        expected={
            "admin": set(made),
            "leader_x": {"org_wide", "group_x", "scheduled_x"},
            "employee_x": {"org_wide", "group_x"},
            "employee_y": {"org_wide", "group_y"},
            "admin_b": set(),
        },
    )


def test_signals_listed_and_searched(api, world):
    from voice.services.signals import signal_create

    def raise_signal(author, **fields) -> int:
        return signal_create(author=author, kind="friction", title="Tegelvloer los", body="Bij de ingang", **fields).pk

    x, y = world.people["employee_x"], world.people["employee_y"]
    made = {
        "org_wide": raise_signal(y),
        "leaders_x": raise_signal(x, visibility="leaders", group_id=world.group_x.pk),
        "leaders_y_anonymous": raise_signal(y, visibility="leaders", group_id=world.group_y.pk, anonymous=True),
    }
    expected = {
        "admin": set(made),
        "leader_x": {"org_wide", "leaders_x"},
        "employee_x": {"org_wide", "leaders_x"},
        "employee_y": {"org_wide", "leaders_y_anonymous"},
        "admin_b": set(),
    }
    _check(api, world, list_url="/api/v1/signals", detail_url="/api/v1/signals/{id}", made=made, expected=expected)
    # Search finds exactly what the list shows (the same audience rule).
    _check(
        api,
        world,
        list_url="/api/v1/search",
        list_params={"q": "tegelvloer", "type": "signal"},
        detail_url=None,
        made=made,
        expected=expected,
    )
