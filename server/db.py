"""ORM queries compiled to SQL once per process, with the per-call values filled in on each call.

Compiling a queryset (resolving the filters, the joins of select_related, the subqueries of an
audience rule) costs about a millisecond of Python per query, more than PostgreSQL takes to run
the small ones; on the hot paths (token authentication on every request, `/me`, the unread
count, the feed) that was most of a request (issue #10). The SQL text only depends on the
query's shape, so it is built once from the same querysets the selectors define and run again
with the values of each call. Nothing of one call survives in the cache but the SQL text and
how to read its rows.

- `CompiledModelQuery` + `Slot`: model instances (with select_related objects), the values as
  named slots; what the feed and token authentication use.
- `CompiledQuery`: `values_list` rows or a count, the arguments found through marker values.

On PostgreSQL both run as **prepared statements** (`hot_cursor`): Django's default cursor binds
the values into the SQL text on the client, so PostgreSQL parses and plans every call again;
for the token lookup (three tables joined, every column) that planning was two thirds of its
cost in the database (326 → 153 µs a statement; `/me`'s groups and avatar 396 → 137 µs).
These statements are few, fixed and looked up by key, so one plan per connection fits them.
`DATABASE_PREPARED_STATEMENTS=False` turns this off (a pooler in transaction mode that cannot
keep prepared statements, e.g. PgBouncer before 1.21).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import connections, router
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import Count, Expression, Field, Model, QuerySet
from django.db.models.query import get_related_populators


def hot_cursor(connection):
    """A cursor of `connection` whose statements PostgreSQL prepares on first use and plans once
    per connection (a plain cursor elsewhere, or when the setting is off). It is Django's own
    cursor wrapper around it, so query logging, execute wrappers and `assertNumQueries` see
    every statement as usual."""
    if connection.vendor != "postgresql" or not settings.DATABASE_PREPARED_STATEMENTS:
        return connection.cursor()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        cursor = _prepared_cursor_class()(connection.connection)
    return _PreparedDebugCursor(cursor, connection) if connection.queries_logged else connection.make_cursor(cursor)


class _PreparedDebugCursor(CursorDebugWrapper):
    """Logs the statement with its values (DEBUG, tests): Django reads the text of the last query
    off a psycopg cursor, which a prepared execution does not keep."""

    def execute(self, sql, params=None):
        with self.debug_sql(self.db.ops.compose_sql(sql, params), params):
            return CursorWrapper.execute(self, sql, params)


@functools.cache
def _prepared_cursor_class():
    # Imported here: psycopg is only needed where PostgreSQL is configured.
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparedCursor(ServerBindingCursor):
        """Server-side binding ($1, $2 … sent apart from the text), prepared from the first call."""

        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True, binary=binary)

    return PreparedCursor


# Parameter values no real query uses, to find where each argument lands in the SQL params.
_MARKERS = (-7_340_001, -7_340_002, -7_340_003)


class CompiledQuery:
    def __init__(self, build: Callable[..., QuerySet], *, arity: int = 1, count: bool = False) -> None:
        self._build = build
        self._markers = _MARKERS[:arity]
        self._count = count
        self._model = None
        self._compiled: dict[str, tuple[str, list[Any], list[int | None]]] = {}

    def _compile(self, alias: str) -> tuple[str, list[Any], list[int | None]]:
        query = self._build(*self._markers).query
        if self._count:
            # The statement QuerySet.count() runs.
            query = query.chain()
            query.clear_ordering(force=True)
            query.clear_select_clause()
            query.add_annotation(Count("*"), alias="__count", select=True)
        sql, params = query.get_compiler(alias).as_sql()
        positions = [self._markers.index(value) if value in self._markers else None for value in params]
        if {position for position in positions if position is not None} != set(range(len(self._markers))):
            raise ValueError("Every argument must reach the SQL as a parameter.")
        return sql, list(params), positions

    def rows(self, *arguments: Any) -> list[tuple]:
        if self._model is None:
            self._model = self._build(*self._markers).model
        alias = router.db_for_read(self._model)
        compiled = self._compiled.get(alias)
        if compiled is None:
            compiled = self._compiled[alias] = self._compile(alias)
        sql, params, positions = compiled
        values = [value if position is None else arguments[position] for value, position in zip(params, positions, strict=True)]
        with hot_cursor(connections[alias]) as cursor:
            cursor.execute(sql, values)
            return cursor.fetchall()

    def scalar(self, *arguments: Any) -> Any:
        rows = self.rows(*arguments)
        return rows[0][0] if rows else None


ModelT = TypeVar("ModelT", bound=Model)


def convert_row(row: tuple, converters: tuple[tuple[int, tuple[Any, ...], Any], ...], connection) -> tuple | list:
    """A row with the compiler's converters applied (`(position, functions, column)`, as
    `compiler.get_converters` gives them), what iterating the queryset would have done."""
    if not converters:
        return row
    row = list(row)
    for position, functions, column in converters:
        value = row[position]
        for function in functions:
            value = function(value, column, connection)
        row[position] = value
    return row


class Slot(Expression):
    """A parameter left open when the query is compiled and filled in on every call."""

    def __init__(self, name: str, output_field: Field) -> None:
        super().__init__(output_field=output_field)
        self.name = name

    def __repr__(self) -> str:
        return f"Slot({self.name})"

    def as_sql(self, compiler, connection):
        return "%s", [self]


@dataclass(frozen=True)
class CompiledModelQuery(Generic[ModelT]):
    """A model queryset's SQL and what Django's ModelIterable needs to turn its rows into
    instances (with their select_related objects), taken from the compiler once."""

    alias: str
    sql: str
    params: tuple[Any, ...]
    # (position, converter functions, column) as the compiler would apply them: a converter takes
    # the connection it runs on as an argument, and what it depends on (time zone, backend) is
    # fixed per alias, which is part of the cache key.
    converters: tuple[tuple[int, tuple[Any, ...], Any], ...]
    model: type[ModelT]
    model_columns: slice
    init_list: tuple[str, ...]
    related_populators: tuple[Any, ...]

    @classmethod
    def of(cls, queryset: QuerySet[ModelT], alias: str) -> CompiledModelQuery[ModelT]:
        queryset = queryset.using(alias)
        if queryset._known_related_objects or queryset._prefetch_related_lookups or queryset.query.annotation_select:
            raise ValueError("Only plain model querysets (with select_related) are compiled.")
        compiler = queryset.query.get_compiler(alias)
        sql, params = compiler.as_sql()
        select, klass_info = compiler.select, compiler.klass_info
        fields = klass_info["select_fields"]
        model_columns = slice(fields[0], fields[-1] + 1)
        return cls(
            alias=alias,
            sql=sql,
            params=tuple(params),
            converters=tuple(
                (position, tuple(functions), column)
                for position, (functions, column) in compiler.get_converters(
                    [column for column, _sql, _alias in select[: compiler.col_count]]
                ).items()
            ),
            model=klass_info["model"],
            model_columns=model_columns,
            init_list=tuple(column[0].target.attname for column in select[model_columns]),
            # Stateless between rows (they hold the alias and column positions): built once.
            related_populators=tuple(get_related_populators(klass_info, select, alias)),
        )

    def fetch(self, values: Mapping[str, Any]) -> list[ModelT]:
        """The instances for `values` (one per slot name), as iterating the queryset would give them."""
        connection = connections[self.alias]
        params = [
            # The same preparation the lookup applies to a value (SQLite stores datetimes as UTC text).
            param.output_field.get_db_prep_value(values[param.name], connection, prepared=False) if isinstance(param, Slot) else param
            for param in self.params
        ]
        with hot_cursor(connection) as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        instances = []
        for row in rows:
            row = convert_row(row, self.converters, connection)
            instance = self.model.from_db(self.alias, self.init_list, row[self.model_columns])
            for populator in self.related_populators:
                populator.populate(row, instance)
            instances.append(instance)
        return instances
