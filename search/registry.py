"""Which apps can be searched, and how: each app registers a provider in its `AppConfig.ready`.

`search` sits below every app (import-linter layers), so it imports none of them; an app
describes its searchable rows here instead (the pattern of accounts.avatars and
notifications.catalogue). See docs/search.md for how to add a type (the voice app's `signal`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet


@dataclass(frozen=True)
class SearchProvider:
    # The `type` of its results and of `?type=`: "post", "person", "signal"...
    type: str
    # Where its group comes in results without `?type=` (small first).
    position: int
    # The rows the user may see, narrowed to one group when `group_id` is set: the same
    # selector (and so the same audience rule) as the app's own list. Unordered.
    rows: Callable[..., QuerySet]  # rows(*, user, group_id: int | None) -> QuerySet
    # The usual cards of a page of ids, in the API's shape: {id: card}; ids the user may not
    # see (anymore) are left out. A fixed number of queries whatever the page size.
    cards: Callable[..., dict[int, dict[str, Any]]]  # cards(*, user, ids: list[int]) -> {id: card}
    # The card's serializer, for the OpenAPI schema only.
    card_serializer: type
    # The text that is searched and highlighted, in the order a snippet shows it.
    text_fields: Sequence[str]
    # The recency of a row (ties of rank, and the window of candidates ranked; see engine).
    recency_field: str
    # The order of the window of candidates ranked (search.engine): newest first along an index
    # the rows' filter can use. Ids grow with time, so the primary key serves any table.
    window_order: tuple[str, ...] = ("-pk",)
    # PostgreSQL: the stored generated tsvector column of the row's table (see search.sql);
    # None with `trigram`.
    vector_column: str | None = "search_vector"
    # PostgreSQL: the row's language column ("nl", "en", "" = unknown) that picked the
    # stemming of its vector, so the snippet stems the same way. None: "simple".
    language_field: str | None = "language"
    # PostgreSQL: match this text column by trigram similarity (pg_trgm) instead of a
    # vector: names ("Eline" finds "Elin"). Needs a `gin_trgm_ops` index on it.
    trigram_field: str | None = None


_providers: dict[str, SearchProvider] = {}


def register(provider: SearchProvider) -> None:
    if provider.type in _providers and _providers[provider.type] != provider:
        raise ValueError(f"Search type {provider.type!r} is registered twice.")
    _providers[provider.type] = provider


def providers() -> list[SearchProvider]:
    return sorted(_providers.values(), key=lambda provider: (provider.position, provider.type))


def get(type: str) -> SearchProvider | None:
    return _providers.get(type)


def types() -> list[str]:
    return [provider.type for provider in providers()]
