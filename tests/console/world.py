"""A small organisation with numbers on every console page, and another organisation whose
markers must never show (tenancy)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from accounts.models import Membership, MembershipRole, User
from feed.models import Acknowledgement, PostKind, PostSeen, Reaction
from tests.factories import DEFAULT_PASSWORD, AdminFactory, GroupFactory, LeaderFactory, MembershipFactory, OrganizationFactory, UserFactory
from tests.feed.factories import CommentFactory, PostFactory, group_post
from tests.recognition.factories import CompanyValueFactory, KudosFactory

PASSWORD = DEFAULT_PASSWORD


@dataclass
class World:
    org: object
    admin: object
    leader: object
    employee: object
    store: object
    depot: object
    announcement: object
    depot_announcement: object
    foreign_marker: str


def build_world() -> World:
    now = timezone.now()
    org = OrganizationFactory(name="Hotel Noord")
    admin = AdminFactory(organization=org, name="Ada Admin", email="ada@noord.example")
    leader = LeaderFactory(organization=org, name="Lars Leader", email="lars@noord.example")
    store = GroupFactory(organization=org, name="Receptie")
    depot = GroupFactory(organization=org, name="Keuken")
    MembershipFactory(group=store, user=leader, role=MembershipRole.MANAGER)
    staff = [MembershipFactory(group=store, user=UserFactory(organization=org, name=f"Receptie {i}")).user for i in range(4)]
    cooks = [MembershipFactory(group=depot, user=UserFactory(organization=org, name=f"Kok {i}")).user for i in range(3)]
    employee = staff[0]
    published = now - dt.timedelta(days=3)
    User.objects.filter(organization=org).update(date_joined=now - dt.timedelta(days=60))
    Membership.objects.filter(group__organization=org).update(created_at=now - dt.timedelta(days=60))
    announcement = group_post(
        store,
        author=leader,
        kind=PostKind.ANNOUNCEMENT,
        body="Nieuwe check-in procedure vanaf maandag",
        requires_acknowledgement=True,
        published_at=published,
    )
    depot_announcement = group_post(
        depot,
        author=admin,
        kind=PostKind.ANNOUNCEMENT,
        body="Keuken: nieuw allergenenbeleid",
        requires_acknowledgement=True,
        published_at=published,
    )
    for i, person in enumerate(staff[:3]):
        PostSeen.objects.create(post=announcement, user=person, seen_at=published + dt.timedelta(hours=i + 1))
        Acknowledgement.objects.create(post=announcement, user=person, acknowledged_at=published + dt.timedelta(days=i))
    PostSeen.objects.create(post=depot_announcement, user=cooks[0], seen_at=published + dt.timedelta(hours=2))
    post = group_post(store, author=staff[1], body="Wie ruilt zondag?", published_at=now - dt.timedelta(days=2))
    CommentFactory(post=post, author=staff[2], body="Ik!")
    Reaction.objects.create(post=post, user=staff[3], type="like")
    value = CompanyValueFactory(organization=org, name="Gastvrij")
    KudosFactory(giver=staff[1], recipients=[staff[2]], value=value)
    KudosFactory(giver=cooks[1], recipients=[cooks[2]])

    # Voice: an anonymous friction at the desk (its author must never show), an idea in the kitchen.
    from voice.services.signals import signal_create
    from voice.services.surveys import survey_create, survey_respond

    world_signal = signal_create(
        author=staff[1],
        kind="friction",
        title="Late check-out asked daily",
        body="Guests ask, we may not decide.",
        group_id=store.pk,
        anonymous=True,
    )
    signal_create(author=cooks[0], kind="idea", title="Softer kitchen music", body="The guests hear it.", group_id=depot.pk)
    survey = survey_create(
        actor=admin,
        title="Pulse Noord",
        closes_at=now + dt.timedelta(days=5),
        questions=[{"kind": "scale_0_10", "text": "How likely are you to recommend working here?"}],
    )
    question = survey.questions.get()
    for value, person in zip([9, 10, 7, 3, 9, 10], [*staff, *cooks], strict=False):
        survey_respond(user=person, survey=survey, answers=[{"question_id": question.pk, "value": value}])

    other = OrganizationFactory(name="Concurrent BV")
    marker = "FOREIGN-MARKER-7731"
    stranger = LeaderFactory(organization=other, name=f"{marker} person")
    foreign_group = GroupFactory(organization=other, name=f"{marker} group")
    MembershipFactory(group=foreign_group, user=stranger)
    colleague = MembershipFactory(group=foreign_group, user=UserFactory(organization=other, name=f"{marker} colleague")).user
    foreign = group_post(
        foreign_group, author=stranger, kind=PostKind.ANNOUNCEMENT, body=f"{marker} announcement", requires_acknowledgement=True
    )
    PostSeen.objects.create(post=foreign, user=stranger)
    KudosFactory(giver=stranger, recipients=[colleague], value=CompanyValueFactory(organization=other, name=f"{marker} value"))
    PostFactory(author=stranger, body=f"{marker} post")
    world = World(org, admin, leader, employee, store, depot, announcement, depot_announcement, marker)
    world.foreign_group = foreign_group
    world.signal = world_signal
    world.survey = survey
    world.foreign_post = foreign
    return world
