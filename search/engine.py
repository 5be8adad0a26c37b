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

import logging
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.db import connections, router
from django.db.models import BigIntegerField, F, IntegerField, Q, QuerySet, TextField, Value

from search import sql
from search.query import SearchQuery
from search.registry import SearchProvider
from search.snippet import highlight, render_marked
from server.api.pagination import keyset_filter
from server.db import Slot, convert_row

logger = logging.getLogger(__name__)

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


def _page_rows(*, provider: SearchProvider, query: SearchQuery, rows: QuerySet, values: dict[str, Any] | None = None) -> QuerySet:
    """The matching rows as values (id, search_rank, search_at, snippet source), unordered.
    `values`: the query's values (sql.query_values), or Slots in their place when compiling."""
    model = rows.model
    if _vendor(rows) != "postgresql":
        return rows.filter(_simple_match(provider, query)).annotate(
            search_rank=Value(0, IntegerField()), search_at=F(provider.recency_field)
        )
    if provider.trigram_field:
        column = _column(model, provider.trigram_field)
        matched, rank, snippet = sql.trigram_match(query, column, values), sql.trigram_rank(query, column, values), None
    else:
        column = provider.vector_column
        matched, rank = sql.vector_match(query, column, values), sql.vector_rank(query, column, values)
        language = _column(model, provider.language_field) if provider.language_field else None
        snippet = sql.headline(query, [_column(model, name) for name in provider.text_fields], language, values)
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


def _statement(
    *,
    provider: SearchProvider,
    query: SearchQuery,
    user: Any,
    group_id: Any,
    cursor: list[Any] | None,
    reverse: bool,
    limit: int,
    values: dict[str, Any] | None = None,
) -> QuerySet:
    page = _page_rows(provider=provider, query=query, rows=provider.rows(user=user, group_id=group_id), values=values)
    if cursor is not None:
        page = page.filter(keyset_filter(ORDERING, cursor, after=not reverse))
    order = ["-search_rank", "-search_at", "-id"]
    if reverse:
        order = [name[1:] for name in order]
    extra = ["search_marked"] if "search_marked" in page.query.annotations else list(provider.text_fields)
    return page.order_by(*order).values("id", "search_rank", "search_at", *extra)[:limit]


def search_fetch(
    *, provider: SearchProvider, query: SearchQuery, user: Any, group_id: int | None, cursor: list[Any] | None, reverse: bool, limit: int
) -> list[dict[str, Any]]:
    """`limit` rows after `cursor` (before it when `reverse`) in (rank, recency, id) order, descending."""
    arguments = {
        "provider": provider,
        "query": query,
        "user": user,
        "group_id": group_id,
        "cursor": cursor,
        "reverse": reverse,
        "limit": limit,
    }
    model = row_model(provider, user)
    alias = router.db_for_read(model)
    if connections[alias].vendor == "postgresql":
        compiled = _compiled_statement(alias, **arguments)
        if compiled is not None:
            return compiled.fetch(alias, **arguments)
    return list(_statement(**arguments))


# --- The statement compiled once per shape (PostgreSQL) -------------------------------------
#
# Building a search's queryset (the provider's audience rule, the match, rank and snippet
# expressions, the keyset condition) and compiling it cost ~2 ms of Python a request, a fifth
# of Q1's budget, every time the same SQL text. As the feed does (server.db), the text is
# built once per shape (type, the searcher's role, a group or not, a cursor or not, the query's
# shape, page size) with stand-ins for the values, and filled in on each call. The audience
# rules depend on the searcher only through their role, id and organisation (the stand-in user
# has those); a compile that runs a query, or whose text differs from the one the ORM builds
# for the same call, is not kept (that shape keeps the ORM path), and with
# SEARCH_VERIFY_COMPILED (the tests) every call is checked against the ORM's statement.

_ORG, _USER, _GROUP = -7_350_001, -7_350_002, -7_350_003
_CURSOR_SLOTS = ("cursor_rank", "cursor_at", "cursor_id")
_MAX_SHAPES = 4096
_compiled: dict[tuple, _Compiled | None] = {}
_models: dict[str, Any] = {}


def row_model(provider: SearchProvider, user: Any):
    """The model of a provider's rows (the same for every searcher)."""
    model = _models.get(provider.type)
    if model is None:
        model = _models[provider.type] = provider.rows(user=user, group_id=None).model
    return model


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    names: tuple[str, ...]
    converters: tuple[tuple[int, tuple[Any, ...], Any], ...]

    def bind(self, alias: str, *, query: SearchQuery, user: Any, group_id: int | None, cursor: list[Any] | None) -> list[Any]:
        connection = connections[alias]
        values = {**sql.query_values(query), **dict(zip(_CURSOR_SLOTS, cursor or (), strict=False))}
        markers = {_ORG: user.organization_id, _USER: user.pk, _GROUP: group_id}
        return [
            param.output_field.get_db_prep_value(values[param.name], connection, prepared=False)
            if isinstance(param, Slot)
            else markers[param]
            if type(param) is int and param in markers
            else param
            for param in self.params
        ]

    def fetch(self, alias: str, *, provider, query, user, group_id, cursor, reverse, limit) -> list[dict[str, Any]]:
        connection = connections[alias]
        params = self.bind(alias, query=query, user=user, group_id=group_id, cursor=cursor)
        if settings.SEARCH_VERIFY_COMPILED:
            expected = _statement(provider=provider, query=query, user=user, group_id=group_id, cursor=cursor, reverse=reverse, limit=limit)
            expected_sql, expected_params = expected.query.get_compiler(alias).as_sql()
            if not _same_statement((expected_sql, expected_params), (self.sql, params)):
                raise AssertionError(f"The compiled search statement of {provider.type!r} differs from the ORM's.")
        # A plain cursor, not a prepared statement: the plan depends on how common the words are
        # (the GIN index for a rare one, the recency index for a common one), so it is planned anew.
        with connection.cursor() as db:
            db.execute(self.sql, params)
            rows = db.fetchall()
        return [dict(zip(self.names, convert_row(row, self.converters, connection), strict=True)) for row in rows]


def _same_statement(orm: tuple[str, Any], compiled: tuple[str, Any]) -> bool:
    """The same SQL and values; a Slot on the right of a comparison is parenthesised, `= (%s)`."""
    return orm[0].replace("(%s)", "%s") == compiled[0].replace("(%s)", "%s") and list(orm[1]) == list(compiled[1])


def _refuse_queries(execute, sql_text, params, many, context):
    raise RuntimeError("A search provider ran a query while its statement was being built.")


def _compiled_statement(alias: str, *, provider, query, user, group_id, cursor, reverse, limit) -> _Compiled | None:
    has_last, term_count = sql.query_shape(query)
    key = (alias, provider.type, user.role, group_id is not None, cursor is not None, reverse, has_last, term_count, limit)
    if key in _compiled:
        return _compiled[key]
    compiled = None
    try:
        stand_in = type(user)(pk=_USER, organization_id=_ORG, role=user.role)
        model = row_model(provider, user)
        fields = {"search_rank": IntegerField(), "search_at": model._meta.get_field(provider.recency_field), "id": BigIntegerField()}
        slots = [Slot(slot, fields[name]) for slot, (name, _descending) in zip(_CURSOR_SLOTS, ORDERING, strict=True)]
        values = {name: Slot(name, TextField()) for name in sql.query_values(query)}
        with connections[alias].execute_wrapper(_refuse_queries):
            statement = _statement(
                provider=provider,
                query=query,
                user=stand_in,
                group_id=_GROUP if group_id is not None else None,
                cursor=slots if cursor is not None else None,
                reverse=reverse,
                limit=limit,
                values=values,
            )
            compiler = statement.query.get_compiler(alias)
            text, params = compiler.as_sql()
        query_ = statement.query
        names = (*query_.extra_select, *query_.values_select, *query_.annotation_select)
        converters = compiler.get_converters([column for column, _sql, _alias in compiler.select[: compiler.col_count]])
        candidate = _Compiled(
            sql=text,
            params=tuple(params),
            names=tuple(names),
            converters=tuple((position, tuple(functions), column) for position, (functions, column) in converters.items()),
        )
        # The same statement the ORM builds for this call, or the shape is not kept.
        real = _statement(provider=provider, query=query, user=user, group_id=group_id, cursor=cursor, reverse=reverse, limit=limit)
        real_sql, real_params = real.query.get_compiler(alias).as_sql()
        bound = candidate.bind(alias, query=query, user=user, group_id=group_id, cursor=cursor)
        if _same_statement((real_sql, real_params), (text, bound)):
            compiled = candidate
        else:
            logger.warning("search: the statement of %s (shape %s) is not compiled: it differs from the ORM's", provider.type, key[2:])
    except Exception:
        logger.warning("search: the statement of %s (shape %s) is not compiled", provider.type, key[2:], exc_info=True)
    if len(_compiled) >= _MAX_SHAPES:  # page sizes x word counts x roles...: bounded, rarely reached
        _compiled.clear()
    _compiled[key] = compiled
    return compiled


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
    return _cursor_fields(provider, row_model(provider, user))
