"""People found by name (search.registry): active colleagues of the searcher's organisation.

PostgreSQL matches names by trigram (pg_trgm, migration 0004): typos and variants ("Eline"
finds "Elin"). Only the name is searched, never the e-mail address (private to admins) nor
anything a person wrote: finding a person's posts by their name would also find what they
chose to say anonymously elsewhere (voice signals).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from accounts import selectors
from accounts.models import Membership, User
from accounts.serializers import ColleagueSerializer
from search.registry import SearchProvider, register


def _people(*, user: User, group_id: int | None) -> QuerySet[User]:
    people = User.objects.filter(organization_id=user.organization_id, is_active=True)
    if group_id is not None:
        people = people.filter(Exists(Membership.objects.filter(user=OuterRef("pk"), group_id=group_id)))
    return people


def _cards(*, user: User, ids: list[int]) -> dict[int, dict[str, Any]]:
    people = selectors.user_list(actor=user).filter(pk__in=ids)
    context = {"request": SimpleNamespace(user=user)}
    return {person.pk: ColleagueSerializer(person, context=context).data for person in people}


def register_search() -> None:
    register(
        SearchProvider(
            type="person",
            position=10,
            rows=_people,
            cards=_cards,
            card_serializer=ColleagueSerializer,
            text_fields=("name",),
            recency_field="date_joined",
            vector_column=None,
            language_field=None,
            trigram_field="name",
        )
    )
