"""The SQL of search: stored generated tsvector columns (migrations) and the expressions over them.

PostgreSQL: each searchable table has a stored generated column `search_vector`, built from
its text in the row's language (`dutch`/`english` stemming) plus the same text in `simple`
(exact words, so names and codes match as typed), and a GIN index on it. Being generated,
it changes in the same statement as the text: an edit, an erasure's anonymisation, a new
row; hidden and removed rows are filtered by the query, in the same transaction as ever.

SQLite (the embedded default) has no tsvector: the migrations skip it there and the same
API matches with a documented simpler rule (search.engine).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import migrations
from django.db.models import BooleanField, Expression, IntegerField, TextField

from search.query import SearchQuery
from search.snippet import HEADLINE_OPTIONS

# Row language → text search configuration; anything else is `simple` only.
CONFIGS = {"nl": "dutch", "en": "english"}
RANK_SCALE = 10_000


# --- Migrations -----------------------------------------------------------------------------


def _document(columns: Sequence[tuple[str, str]], config: str) -> str:
    return " || ".join(f"setweight(to_tsvector('{config}'::regconfig, coalesce({column}, '')), '{weight}')" for column, weight in columns)


def vector_sql(*, table: str, columns: Sequence[tuple[str, str]], language_column: str | None, index: str) -> tuple[str, str]:
    """DDL adding `search_vector` (generated, stored) and its GIN index; and the DDL undoing it.

    `columns`: (column, weight A-D) in the order they are read.
    """
    if language_column:
        stemmed = " ".join(f"WHEN '{language}' THEN {_document(columns, config)}" for language, config in CONFIGS.items())
        expression = f"(CASE {language_column} {stemmed} ELSE ''::tsvector END) || {_document(columns, 'simple')}"
    else:
        expression = _document(columns, "simple")
    forward = (
        f"ALTER TABLE {table} ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({expression}) STORED; "
        f"CREATE INDEX {index} ON {table} USING gin (search_vector);"
    )
    backward = f"DROP INDEX IF EXISTS {index}; ALTER TABLE {table} DROP COLUMN IF EXISTS search_vector;"
    return forward, backward


def postgresql_only(forward: str, backward: str) -> migrations.RunPython:
    """A migration step that runs on PostgreSQL and does nothing elsewhere (SQLite still migrates)."""

    def run(sql: str):
        def step(apps, schema_editor):
            if schema_editor.connection.vendor == "postgresql":
                schema_editor.execute(sql)

        return step

    return migrations.RunPython(run(forward), run(backward), elidable=False)


# --- Query expressions ----------------------------------------------------------------------


class BaseTableSQL(Expression):
    """SQL over columns of the query's own table, written as `{table}.column`.

    The generated columns are not model fields (every Post query would fetch the vector), so
    they are named in SQL; `{table}` becomes the table's alias at compile time, which is `U0`
    when the query runs as a subquery (the window of candidates), so the reference stays right.
    """

    def __init__(self, template: str, params: Sequence[Any] = (), output_field=None):
        super().__init__(output_field=output_field)
        self.template, self.params = template, tuple(params)

    def as_sql(self, compiler, connection):
        table = compiler.quote_name_unless_alias(compiler.query.get_initial_alias())
        return self.template.replace("{table}", table), list(self.params)


def query_values(query: SearchQuery) -> dict[str, Any]:
    """The values a query's SQL takes, by name: what the expressions below bind, and what a
    statement compiled once per shape (search.engine) is filled with on each call."""
    terms = query.positive_terms or [query.text]
    values = {"text": query.text, "head": query.head, "last": query.last, "prefix": f"'{query.last.lower()}':*", "terms": " ".join(terms)}
    for index, term in enumerate(terms):
        values[f"like{index}"], values[f"term{index}"] = _like(term), term
    return values


def query_shape(query: SearchQuery) -> tuple[bool, int]:
    """What the SQL text of a query depends on (the rest are values): a prefix or not, and how
    many words the trigram match tests one by one."""
    return bool(query.last), len(query.positive_terms or [query.text])


def _tsquery(query: SearchQuery, values: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """Every language's reading of the query, OR-ed: a Dutch post matches its Dutch stems, an
    English one its English stems, and either its exact words (`simple`)."""
    if not query.last:
        sql = " || ".join(f"websearch_to_tsquery('{config}'::regconfig, %s)" for config in ("dutch", "english", "simple"))
        return f"({sql})", [values["text"]] * 3
    stemmed = [
        f"(websearch_to_tsquery('{config}'::regconfig, %s) && (plainto_tsquery('{config}'::regconfig, %s) "
        f"|| to_tsquery('simple'::regconfig, %s)))"
        for config in ("dutch", "english")
    ]
    simple = "(websearch_to_tsquery('simple'::regconfig, %s) && to_tsquery('simple'::regconfig, %s))"
    params = [values["head"], values["last"], values["prefix"]] * 2 + [values["head"], values["prefix"]]
    return f"({' || '.join([*stemmed, simple])})", params


def vector_match(query: SearchQuery, column: str, values: Mapping[str, Any] | None = None) -> BaseTableSQL:
    tsquery, params = _tsquery(query, values or query_values(query))
    return BaseTableSQL(f"{{table}}.{column} @@ {tsquery}", params, output_field=BooleanField())


def vector_rank(query: SearchQuery, column: str, values: Mapping[str, Any] | None = None) -> BaseTableSQL:
    tsquery, params = _tsquery(query, values or query_values(query))
    return BaseTableSQL(f"(ts_rank({{table}}.{column}, {tsquery}) * {RANK_SCALE})::integer", params, output_field=IntegerField())


def _text(columns: Sequence[str]) -> str:
    return (
        " || ' · ' || ".join(f"coalesce({{table}}.{column}, '')" for column in columns)
        if len(columns) > 1
        else (f"coalesce({{table}}.{columns[0]}, '')")
    )


def headline(
    query: SearchQuery, text_columns: Sequence[str], language_column: str | None, values: Mapping[str, Any] | None = None
) -> BaseTableSQL:
    """The matched words marked in their text (search.snippet), stemmed as the row's vector was."""
    tsquery, params = _tsquery(query, values or query_values(query))
    if language_column:
        whens = " ".join(f"WHEN '{language}' THEN '{config}'::regconfig" for language, config in CONFIGS.items())
        config = f"CASE {{table}}.{language_column} {whens} ELSE 'simple'::regconfig END"
    else:
        config = "'simple'::regconfig"
    return BaseTableSQL(
        f"ts_headline({config}, {_text(text_columns)}, {tsquery}, %s)", [*params, HEADLINE_OPTIONS], output_field=TextField()
    )


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def trigram_match(query: SearchQuery, column: str, values: Mapping[str, Any] | None = None) -> BaseTableSQL:
    """Names: every typed word is inside the name or close to one of its words (pg_trgm's strict
    word similarity, threshold 0.5: "Eline" finds "Elin"). Word by word, so each condition is a
    scan of the trigram GIN index and a common word ("de") costs a bitmap, not a similarity per name."""
    values = values or query_values(query)
    count = query_shape(query)[1]
    per_term = " AND ".join(f"({{table}}.{column} ILIKE %s OR %s <<%% {{table}}.{column})" for _ in range(count))
    params = [value for index in range(count) for value in (values[f"like{index}"], values[f"term{index}"])]
    return BaseTableSQL(f"({per_term})", params, output_field=BooleanField())


def trigram_rank(query: SearchQuery, column: str, values: Mapping[str, Any] | None = None) -> BaseTableSQL:
    values = values or query_values(query)
    return BaseTableSQL(
        f"(strict_word_similarity(%s, {{table}}.{column}) * {RANK_SCALE})::integer", [values["terms"]], output_field=IntegerField()
    )
