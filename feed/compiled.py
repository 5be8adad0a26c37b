"""ORM queries compiled to SQL once per process, with the per-call values left as open slots.

Compiling a queryset (resolving the filters, the joins of select_related, the subqueries of an
audience rule) costs milliseconds of Python on every call; on the feed's hot path that was most
of a request (issue #10, F1). The SQL text only depends on the query's shape, so it is built
once from the same querysets the selectors define, with `Slot`s where the values go, and every
call runs it with the values filled in. Each call passes all its values: nothing of one call
survives in the cache but the SQL text and how to read its rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connections
from django.db.models import Expression, Field, Model, QuerySet
from django.db.models.query import get_related_populators

ModelT = TypeVar("ModelT", bound=Model)


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
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        instances = []
        for row in rows:
            if self.converters:
                row = list(row)
                for position, functions, column in self.converters:
                    value = row[position]
                    for function in functions:
                        value = function(value, column, connection)
                    row[position] = value
            instance = self.model.from_db(self.alias, self.init_list, row[self.model_columns])
            for populator in self.related_populators:
                populator.populate(row, instance)
            instances.append(instance)
        return instances
