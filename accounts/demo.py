"""Demo people for seed_demo: one organisation, store locations, teams, ~40 staff."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field

from django.db import transaction

from accounts.models import Group, GroupKind, Membership, MembershipRole, Organization, Role, User

DEMO_SLUG = "demo-retail"
DEMO_PASSWORD = "demo-password-2026"
LOCATIONS = ["Amsterdam Centraal", "Utrecht Hoog Catharijne", "Rotterdam Lijnbaan", "Den Haag Spuistraat"]
TEAMS = ["Kassa", "Vers", "Magazijn", "Klantenservice"]
FIRST_NAMES = [
    "Sanne",
    "Daan",
    "Fatima",
    "Lucas",
    "Emma",
    "Mohammed",
    "Julia",
    "Sem",
    "Noah",
    "Lotte",
    "Yara",
    "Milan",
    "Anouk",
    "Thijs",
    "Sophie",
    "Bram",
    "Ayoub",
    "Eva",
    "Jesse",
    "Lisa",
    "Finn",
    "Iris",
    "Ravi",
    "Fleur",
    "Levi",
    "Nina",
    "Koen",
    "Amira",
    "Ruben",
    "Maud",
    "Tim",
    "Esmee",
    "Omar",
    "Roos",
    "Stijn",
    "Zoë",
    "Hugo",
    "Lina",
]
LAST_NAMES = ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "El Amrani", "Mulder", "de Boer", "Yılmaz"]


@dataclass
class DemoContext:
    """What each app's demo seeding builds on."""

    organization: Organization
    admin: User
    leaders: list[User] = field(default_factory=list)
    employees: list[User] = field(default_factory=list)
    locations: list[Group] = field(default_factory=list)
    teams: list[Group] = field(default_factory=list)
    logins: list[tuple[str, str, str]] = field(default_factory=list)
    created: bool = False

    @property
    def everyone(self) -> list[User]:
        return [self.admin, *self.leaders, *self.employees]


@transaction.atomic
def seed() -> DemoContext:
    rng = random.Random(2026)
    organization, created = Organization.objects.get_or_create(
        slug=DEMO_SLUG,
        defaults={"name": "Demo Retail BV", "timezone": "Europe/Amsterdam", "default_language": "nl", "leaderboard_enabled": True},
    )
    locations = [
        Group.objects.get_or_create(
            organization=organization, name=name, defaults={"kind": GroupKind.LOCATION, "allow_member_posts": True}
        )[0]
        for name in LOCATIONS
    ]
    teams = [
        Group.objects.get_or_create(organization=organization, name=name, defaults={"kind": GroupKind.TEAM, "allow_member_posts": True})[0]
        for name in TEAMS
    ]

    def address(first: str, index: int) -> str:
        # Zoë signs in as zoe.35@: an address must pass the validators the API applies (issue #22).
        ascii_name = unicodedata.normalize("NFKD", first).encode("ascii", "ignore").decode().lower()
        return f"{ascii_name}.{index}@demo.example"

    def person(email: str, name: str, role: str, language: str = "") -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email, DEMO_PASSWORD, organization=organization, name=name, role=role, language=language)
        return user

    admin = person("admin@demo.example", "Anna Admin", Role.ADMIN, "en")
    leaders = [
        person("leader@demo.example", "Lars Leider", Role.LEADER, "nl"),
        *[person(f"leader{i}@demo.example", f"{FIRST_NAMES[i]} {LAST_NAMES[i]}", Role.LEADER) for i in range(1, 4)],
    ]
    employees = [person("employee@demo.example", "Eline Medewerker", Role.EMPLOYEE, "nl")]
    for index in range(4, 38):
        first, last = FIRST_NAMES[index], LAST_NAMES[index % len(LAST_NAMES)]
        employees.append(person(address(first, index), f"{first} {last}", Role.EMPLOYEE, rng.choice(["", "en", "nl"])))

    if created:
        memberships = []
        for index, leader in enumerate(leaders):
            memberships.append(Membership(group=locations[index % len(locations)], user=leader, role=MembershipRole.MANAGER))
        for index, employee in enumerate(employees):
            memberships.append(Membership(group=locations[index % len(locations)], user=employee))
            memberships.append(Membership(group=teams[index % len(teams)], user=employee))
        Membership.objects.bulk_create(memberships, ignore_conflicts=True)

    context = DemoContext(
        organization=organization,
        admin=admin,
        leaders=leaders,
        employees=employees,
        locations=locations,
        teams=teams,
        created=created,
    )
    context.logins = [
        (admin.email, DEMO_PASSWORD, "admin"),
        (leaders[0].email, DEMO_PASSWORD, "leader"),
        (employees[0].email, DEMO_PASSWORD, "employee"),
    ]
    return context
