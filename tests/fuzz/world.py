"""The data the fuzzer runs against: two organisations, every role, objects with small ids."""

from __future__ import annotations

from dataclasses import dataclass

from tests.factories import AdminFactory, GroupFactory, LeaderFactory, MembershipFactory, OrganizationFactory, UserFactory, issue_token


@dataclass
class FuzzWorld:
    tokens: dict[str, str]


def build_fuzz_world() -> FuzzWorld:
    organizations = [OrganizationFactory(), OrganizationFactory()]
    tokens = {}
    for index, organization in enumerate(organizations):
        groups = [GroupFactory(organization=organization) for _ in range(3)]
        admin = AdminFactory(organization=organization)
        leader = LeaderFactory(organization=organization)
        employees = [UserFactory(organization=organization) for _ in range(4)]
        for position, person in enumerate([leader, *employees]):
            MembershipFactory(group=groups[position % len(groups)], user=person)
        if index == 0:
            tokens = {"admin": issue_token(admin), "leader": issue_token(leader), "employee": issue_token(employees[0])}
    return FuzzWorld(tokens=tokens)
