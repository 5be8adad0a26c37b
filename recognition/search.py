"""Kudos found by their message (search.registry): the same rows as the kudos list.

A kudos whose feed card a moderator hid or removed is not found either: hidden content never is.
`?group=` keeps kudos received by someone of that group.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import User
from recognition import selectors
from recognition.models import Kudos, KudosRecipient
from recognition.serializers import KudosSerializer
from search.registry import SearchProvider, register


def _rows(*, user: User, group_id: int | None) -> QuerySet[Kudos]:
    kudos = Kudos.objects.filter(organization_id=user.organization_id).filter(
        Q(post__isnull=True) | Q(post__hidden_at__isnull=True, post__removed_at__isnull=True)
    )
    if group_id is not None:
        kudos = kudos.filter(Exists(KudosRecipient.objects.filter(kudos=OuterRef("pk"), recipient__memberships__group_id=group_id)))
    return kudos


def _cards(*, user: User, ids: list[int]) -> dict[int, dict[str, Any]]:
    return {kudos.pk: KudosSerializer(kudos).data for kudos in selectors.kudos_list(user=user).filter(pk__in=ids)}


def register_search() -> None:
    register(
        SearchProvider(
            type="kudos",
            position=60,
            rows=_rows,
            cards=_cards,
            card_serializer=KudosSerializer,
            text_fields=("message",),
            recency_field="created_at",
        )
    )
