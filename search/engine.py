"""One search over one provider's rows: match, rank, keyset page, snippet.

PostgreSQL ranks by `ts_rank` (names by trigram similarity) and orders by rank, then
recency, then id; the cursor holds those three. To keep a common word ("klant", in a
third of a million posts) as fast as a rare one, only the `SEARCH_RANK_WINDOW` most recent
matches are ranked: the GIN index finds a rare word's few rows, and for a common word a
backward scan of the recency index stops after the window. Older matches of such a word
are not listed (nobody pages through 200 results on a phone; a more precise query finds
them).

SQLite (the embedded default) has no stemming or ranking: every term must occur in the
text (case-insensitive substring, so "klant" also finds "klanten", but "klanten" not
"klant"), phrases as written, `-term` excludes, `or` between alternatives; results are
newest first (rank 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.db import connections, router
from django.db.models import BigIntegerField, F, IntegerField, Q, QuerySet, Value

from search import sql
from search.query import SearchQuery
from search.registry import SearchProvider
from search.snippet import highlight, render_marked
from server.api.pagination import keyset_filter

ORDERING = [("search_rank", True), ("search_at", True), ("id", True)]


@dataclass(frozen=True)
class Hit:
    type: str
    id: int
    snippet: str


def _vendor(queryset: QuerySet) -> str:
    return connections[router.db_for_read(queryset.model)].vendor


def _column(model, name: str) -> str:
    return model._meta.get_field(name).column


def _simple_match(provider: SearchProvider, query: SearchQuery) -> Q:
    """The embedded match: OR of AND-groups, each term a case-insensitive substring of some text field."""

    def anywhere(text: str) -> Q:
        condition = Q()
        for name in provider.text_fields:
            condition |= Q(**{f"{name}__icontains": text})
        return condition

    match = Q(pk__in=[])
    for group in query.groups:
        condition = Q()
        for term in group:
            condition &= ~anywhere(term.text) if term.negated else anywhere(term.text)
        match |= condition
    return match


def matching(rows: QuerySet, *, provider: SearchProvider, query: SearchQuery) -> QuerySet:
    """`rows` narrowed to those the query matches, as search matches them, in their own order and
    unranked: for a list that filters by text (the feed's `?q=`). PostgreSQL: the stored vector
    (or the trigram name match); SQLite: every term a substring of a text field."""
    if _vendor(rows) != "postgresql":
        return rows.filter(_simple_match(provider, query))
    if provider.trigram_field:
        return rows.filter(sql.trigram_match(query, _column(rows.model, provider.trigram_field)))
    return rows.filter(sql.vector_match(query, provider.vector_column))


def _page_rows(*, provider: SearchProvider, query: SearchQuery, rows: QuerySet) -> QuerySet:
    """The matching rows as values (id, search_rank, search_at, snippet source), unordered."""
    model = rows.model
    if _vendor(rows) != "postgresql":
        return rows.filter(_simple_match(provider, query)).annotate(
            search_rank=Value(0, IntegerField()), search_at=F(provider.recency_field)
        )
    if provider.trigram_field:
        column = _column(model, provider.trigram_field)
        matched, rank, snippet = sql.trigram_match(query, column), sql.trigram_rank(query, column), None
    else:
        column = provider.vector_column
        matched, rank = sql.vector_match(query, column), sql.vector_rank(query, column)
        language = _column(model, provider.language_field) if provider.language_field else None
        snippet = sql.headline(query, [_column(model, name) for name in provider.text_fields], language)
    window = rows.filter(matched).order_by(*provider.window_order).values("pk")[: settings.SEARCH_RANK_WINDOW]
    page = model._base_manager.filter(pk__in=window).annotate(search_rank=rank, search_at=F(provider.recency_field))
    if snippet is not None:
        page = page.annotate(search_marked=snippet)
    return page


def _cursor_fields(provider: SearchProvider, model) -> Any:
    """What KeysetPagination reads a cursor's values with (a model's `_meta.get_field`): the
    rank is no field of the model, so this stands in for it."""
    fields = {"search_rank": IntegerField(), "search_at": model._meta.get_field(provider.recency_field), "id": BigIntegerField()}
    return SimpleNamespace(_meta=SimpleNamespace(get_field=fields.__getitem__))


def search_fetch(
    *, provider: SearchProvider, query: SearchQuery, user: Any, group_id: int | None, cursor: list[Any] | None, reverse: bool, limit: int
) -> list[dict[str, Any]]:
    """`limit` rows after `cursor` (before it when `reverse`) in (rank, recency, id) order, descending."""
    page = _page_rows(provider=provider, query=query, rows=provider.rows(user=user, group_id=group_id))
    if cursor is not None:
        page = page.filter(keyset_filter(ORDERING, cursor, after=not reverse))
    order = ["-search_rank", "-search_at", "-id"]
    if reverse:
        order = [name[1:] for name in order]
    extra = ["search_marked"] if "search_marked" in page.query.annotations else list(provider.text_fields)
    return list(page.order_by(*order).values("id", "search_rank", "search_at", *extra)[:limit])


def snippet_of(row: dict[str, Any], provider: SearchProvider, query: SearchQuery) -> str:
    if "search_marked" in row:
        return render_marked(row["search_marked"] or "")
    text = " · ".join(str(row[name]) for name in provider.text_fields if row.get(name))
    return highlight(text, query.positive_terms)


def hits(*, provider: SearchProvider, query: SearchQuery, user: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Results in the API's shape: type, id, snippet and the type's usual card."""
    cards = provider.cards(user=user, ids=[row["id"] for row in rows])
    return [
        {"type": provider.type, "id": row["id"], "snippet": snippet_of(row, provider, query), "item": cards[row["id"]]}
        for row in rows
        if row["id"] in cards
    ]


def cursor_fields(provider: SearchProvider, user: Any) -> Any:
    return _cursor_fields(provider, provider.rows(user=user, group_id=None).model)
