"""factory_boy factories for accounts. Other apps keep theirs in tests/<app>/factories.py."""

import factory

from accounts.authentication import hash_token, new_raw_token
from accounts.models import AuthToken, Group, GroupKind, Membership, MembershipRole, Organization, Role, User

DEFAULT_PASSWORD = "correct horse battery staple"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    timezone = "Europe/Amsterdam"
    default_language = "en"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    email = factory.Sequence(lambda n: f"person{n}@example.com")
    name = factory.Sequence(lambda n: f"Person {n:04d}")
    role = Role.EMPLOYEE
    password = factory.django.Password(DEFAULT_PASSWORD)


class LeaderFactory(UserFactory):
    role = Role.LEADER


class AdminFactory(UserFactory):
    role = Role.ADMIN


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Group {n}")
    kind = GroupKind.TEAM
    allow_member_posts = True


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    group = factory.SubFactory(GroupFactory)
    user = factory.SubFactory(UserFactory, organization=factory.SelfAttribute("..group.organization"))
    role = MembershipRole.MEMBER


def issue_token(user: User, device_name: str = "test device") -> str:
    """A raw bearer token for `user` (a new device session)."""
    from django.conf import settings
    from django.utils import timezone

    raw = new_raw_token()
    AuthToken.objects.create(
        user=user, key_hash=hash_token(raw), device_name=device_name, expires_at=timezone.now() + settings.AUTH_TOKEN_TTL
    )
    return raw
