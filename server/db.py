"""ORM queries compiled once per process, for the few reads every phone makes constantly.

Compiling a small queryset to SQL costs ~1 ms of CPU, more than PostgreSQL takes to run
it: at hundreds of `/me` or unread-count requests a second that is most of the budget.
`CompiledQuery` builds the queryset once with marker parameter values, keeps the SQL,
and runs it again with the real values. The SQL is the ORM's own (same joins, filters,
ordering, tenancy scoping); only `values_list` queries of plain columns (ints, strings)
and `count()` are allowed, whose rows need no converters on any backend we run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connections, router
from django.db.models import Count, QuerySet

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
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, values)
            return cursor.fetchall()

    def scalar(self, *arguments: Any) -> Any:
        rows = self.rows(*arguments)
        return rows[0][0] if rows else None
