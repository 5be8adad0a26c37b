"""Factories for push: devices (each on its own auth session) and outbox events."""

from __future__ import annotations

import uuid

import factory
from django.conf import settings
from django.utils import timezone

from accounts.authentication import hash_token, new_raw_token
from accounts.models import AuthToken, User
from notifications.models import Device, OutboxEvent
from tests.factories import UserFactory


class AuthTokenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuthToken

    user = factory.SubFactory(UserFactory)
    key_hash = factory.LazyFunction(lambda: hash_token(new_raw_token()))
    device_name = "phone"
    expires_at = factory.LazyFunction(lambda: timezone.now() + settings.AUTH_TOKEN_TTL)


class DeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Device

    user = factory.SubFactory(UserFactory)
    auth_token = factory.SubFactory(AuthTokenFactory, user=factory.SelfAttribute("..user"))
    token = factory.Sequence(lambda n: f"fcm-token-{n:06d}-" + "x" * 140)
    platform = "android"
    locale = "en"
    last_seen_at = factory.LazyFunction(timezone.now)


class OutboxEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutboxEvent

    id = factory.LazyFunction(uuid.uuid4)
    type = "post.created"
    payload = factory.LazyFunction(dict)


def announcement(*, organization, author: User, body: str = "Store opens at 9 tomorrow", post_id: int = 7, ack: bool = False, **extra):
    return OutboxEventFactory(
        organization=organization,
        type="post.created",
        org_wide=True,
        payload={
            "post_id": post_id,
            "kind": "announcement",
            "author": {"id": author.pk, "name": author.name},
            "excerpt": body,
            "requires_acknowledgement": ack,
        },
        addressed=[],
        **extra,
    )


def devices_for_many(*, organization, count: int, language: str = "en") -> list[Device]:
    """`count` people with one device each, in a few bulk queries (benchmarks and batching)."""
    stamp = uuid.uuid4().hex[:8]
    users = User.objects.bulk_create(
        User(organization=organization, email=f"p{stamp}-{i}@example.com", name=f"Person {i:05d}", language=language, password="!")
        for i in range(count)
    )
    if users[0].pk is None:  # backends without RETURNING on bulk insert
        users = list(User.objects.filter(email__startswith=f"p{stamp}-").order_by("pk"))
    expires = timezone.now() + settings.AUTH_TOKEN_TTL
    tokens = AuthToken.objects.bulk_create(
        AuthToken(user=user, key_hash=hash_token(f"{stamp}-{user.pk}"), expires_at=expires) for user in users
    )
    now = timezone.now()
    return Device.objects.bulk_create(
        Device(user=user, auth_token=token, token=f"bulk-{stamp}-{user.pk}-" + "y" * 140, platform="android", last_seen_at=now)
        for user, token in zip(users, tokens, strict=True)
    )
