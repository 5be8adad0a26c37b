"""Keyset (cursor) pagination for every list.

A cursor holds the ordering values of the last row seen, so a page is an index
range scan: no COUNT(*), no OFFSET, and no duplicates or gaps when rows are added
while a client pages (DESIGN.md, performance shape). The queryset's `order_by`
decides the key; it must end with a unique field (`id`).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from server.api.exceptions import ValidationFailed

CURSOR_PARAM = "cursor"
PAGE_SIZE_PARAM = "page_size"
# (cursor values or None for the first page, reverse, limit) -> rows: see KeysetPagination.paginate.
KeysetFetch = Callable[[list[Any] | None, bool, int], list[Any]]


def _parse_ordering(queryset: QuerySet) -> list[tuple[str, bool]]:
    ordering = list(queryset.query.order_by) or list(queryset.model._meta.ordering)
    if not ordering:
        raise ValueError(f"Keyset pagination needs an ordered queryset ({queryset.model.__name__}).")
    return parse_ordering(ordering)


def parse_ordering(order_by: Sequence[Any]) -> list[tuple[str, bool]]:
    parsed: list[tuple[str, bool]] = []
    for item in order_by:
        if not isinstance(item, str):
            raise ValueError("Keyset pagination orders by field names only.")
        descending = item.startswith("-")
        parsed.append((item.lstrip("-"), descending))
    if parsed[-1][0] not in ("id", "pk"):
        raise ValueError("Keyset ordering must end with id to be unique.")
    return parsed


def _field_value(row: Any, name: str) -> Any:
    if isinstance(row, dict):
        return row[name]
    value = row
    for part in name.split("__"):
        value = getattr(value, part)
    return value


def _to_python(model: type[Model], name: str, raw: Any) -> Any:
    field = None
    for part in name.split("__"):
        field = model._meta.get_field("id" if part == "pk" else part)
        model = getattr(field, "related_model", None) or model
    return field.to_python(raw) if field is not None else raw


def _encode(values: Sequence[Any], reverse: bool) -> str:
    def plain(value: Any) -> Any:
        return value.isoformat() if hasattr(value, "isoformat") else value

    payload = json.dumps({"v": [plain(v) for v in values], "r": reverse}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _unencodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def decode_cursor(raw: str) -> tuple[list[Any], bool]:
    try:
        padded = raw + "=" * (-len(raw) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        values, reverse = payload["v"], bool(payload.get("r", False))
        # Cursors we hand out hold numbers, times and plain text: nothing nested, no NUL (PostgreSQL
        # refuses it in text: a 500), no lone surrogate (it cannot be encoded to reach the database).
        if not isinstance(values, list) or any(isinstance(value, (list, dict)) for value in values):
            raise ValueError
        for value in values:
            if isinstance(value, str) and ("\x00" in value or _unencodable(value)):
                raise ValueError
        return values, reverse
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise ValidationFailed(_("The cursor is not valid."), code="invalid_cursor", fields={CURSOR_PARAM: [_("Invalid cursor.")]})


def keyset_filter(ordering: list[tuple[str, bool]], values: Sequence[Any], *, after: bool) -> Q:
    """Rows strictly after (or before) `values` in `ordering`: (a, b) > (x, y) spelled as OR of ANDs."""
    condition = Q()
    for index in range(len(ordering) - 1, -1, -1):
        name, descending = ordering[index]
        # "after" in a descending order means smaller values, and vice versa.
        lookup = f"{name}__{'lt' if descending == after else 'gt'}"
        strict = Q(**{lookup: values[index]})
        if index == len(ordering) - 1:
            condition = strict
        else:
            condition = strict | (Q(**{name: values[index]}) & condition)
    first_name, first_descending = ordering[0]
    if len(ordering) > 1 and values[0] is not None:
        # Redundant but decisive: PostgreSQL cannot turn the OR form into an index range,
        # so without this bound a deep page scans (and filters) every row above the cursor.
        # With it the index scan starts at the cursor: page 1,000 costs what page 2 costs.
        bound = f"{first_name}__{'lte' if first_descending == after else 'gte'}"
        condition = Q(**{bound: values[0]}) & condition
    return condition


class KeysetPagination(BasePagination):
    page_size = settings.REST_FRAMEWORK.get("PAGE_SIZE", 20)
    max_page_size = settings.API_MAX_PAGE_SIZE

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(PAGE_SIZE_PARAM)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            raise ValidationFailed(_("page_size must be a number."), fields={PAGE_SIZE_PARAM: [_("Must be a number.")]})
        if size < 1:
            raise ValidationFailed(_("page_size must be at least 1."), fields={PAGE_SIZE_PARAM: [_("Must be at least 1.")]})
        return min(size, self.max_page_size)

    def paginate_queryset(self, queryset: QuerySet, request: Request, view: Any = None) -> list[Any]:
        def fetch(values: list[Any] | None, reverse: bool, limit: int) -> list[Any]:
            rows = queryset
            if values is not None:
                rows = rows.filter(keyset_filter(self.ordering, values, after=not reverse))
            if reverse:
                rows = rows.reverse()
            return list(rows[:limit])

        return self.paginate(request, ordering=_parse_ordering(queryset), model=queryset.model, fetch=fetch)

    def paginate(self, request: Request, *, ordering: list[tuple[str, bool]], model: type[Model], fetch: KeysetFetch) -> list[Any]:
        """A page for a caller that runs the query itself (the feed runs precompiled SQL).

        `fetch(values, reverse, limit)` returns at most `limit` rows in `ordering` (reversed when
        `reverse`), strictly after the cursor's `values` (before them when `reverse`), or from
        the start when `values` is None: what `paginate_queryset` does with a queryset.
        """
        self.request = request
        self.ordering = ordering
        size = self.get_page_size(request)
        raw_cursor = request.query_params.get(CURSOR_PARAM)
        self.had_cursor = bool(raw_cursor)
        reverse = False
        values = None
        if raw_cursor:
            values, reverse = decode_cursor(raw_cursor)
            # Cursors we hand out never hold null (keyset columns are not nullable); a forged
            # one would reach the database as `< NULL` and fail there (a 500, not a 400).
            if len(values) != len(self.ordering) or any(value is None for value in values):
                raise ValidationFailed(_("The cursor is not valid."), code="invalid_cursor")
            try:
                values = [_to_python(model, name, value) for (name, _desc), value in zip(self.ordering, values, strict=False)]
            except Exception:
                raise ValidationFailed(_("The cursor is not valid."), code="invalid_cursor")
        rows = fetch(values, reverse, size + 1)
        has_more = len(rows) > size
        rows = rows[:size]
        if reverse:
            rows.reverse()
        self.page = rows
        self.has_next = has_more if not reverse else True
        self.has_previous = (has_more if reverse else self.had_cursor) and bool(rows)
        return rows

    def _cursor_for(self, row: Any, *, reverse: bool) -> str:
        return _encode([_field_value(row, name) for name, _desc in self.ordering], reverse)

    def get_next_cursor(self) -> str | None:
        if not self.page or not self.has_next:
            return None
        return self._cursor_for(self.page[-1], reverse=False)

    def get_previous_cursor(self) -> str | None:
        if not self.page or not self.has_previous:
            return None
        return self._cursor_for(self.page[0], reverse=True)

    def _link(self, cursor: str | None) -> str | None:
        return replace_query_param(self.request.build_absolute_uri(), CURSOR_PARAM, cursor) if cursor else None

    def get_next_link(self) -> str | None:
        return self._link(self.get_next_cursor())

    def get_previous_link(self) -> str | None:
        return self._link(self.get_previous_cursor())

    def first_page_link(self) -> str:
        return remove_query_param(self.request.build_absolute_uri(), CURSOR_PARAM)

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            page_envelope(data, next_cursor=self.get_next_cursor(), previous_cursor=self.get_previous_cursor(), link=self._link)
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return page_envelope_schema(schema)

    def get_schema_operation_parameters(self, view: Any) -> list[dict]:
        return [
            {
                "name": CURSOR_PARAM,
                "required": False,
                "in": "query",
                "description": "Opaque: a page's `next_cursor` or `previous_cursor` (what its `next` or `previous` link carries).",
                "schema": {"type": "string"},
            },
            {
                "name": PAGE_SIZE_PARAM,
                "required": False,
                "in": "query",
                "description": f"Results per page, at most {self.max_page_size}.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]


def page_envelope(
    results: Any,
    *,
    next_cursor: str | None = None,
    previous_cursor: str | None = None,
    link: Callable[[str | None], str | None] | None = None,
) -> dict[str, Any]:
    """Every list's body. The cursors beside the links: an app that keeps its own base URL (or a
    generated client that takes query parameters, not URLs) passes `?cursor=` without parsing a link.
    A list that is complete in one page (a top 20) has all four null."""
    link = link or (lambda cursor: None)
    return {
        "results": results,
        "next": link(next_cursor),
        "previous": link(previous_cursor),
        "next_cursor": next_cursor,
        "previous_cursor": previous_cursor,
    }


def page_envelope_schema(results: dict) -> dict:
    return {
        "type": "object",
        "required": ["results", "next", "previous", "next_cursor", "previous_cursor"],
        "properties": {
            "results": results,
            "next": {"type": "string", "nullable": True, "format": "uri", "description": "The next page, or null on the last."},
            "previous": {"type": "string", "nullable": True, "format": "uri", "description": "The page before, or null on the first."},
            "next_cursor": {"type": "string", "nullable": True, "description": "The `cursor` of the next page, or null."},
            "previous_cursor": {"type": "string", "nullable": True, "description": "The `cursor` of the page before, or null."},
        },
    }


class OnePageSerializer(serializers.Serializer):
    """The page envelope's links and cursors, for a list that is complete in one page (a top 20, a
    round's standings): always null, so a client pages it like every other list. Subclasses add
    `results` and the list's context (its month, its round)."""

    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    next_cursor = serializers.CharField(allow_null=True)
    previous_cursor = serializers.CharField(allow_null=True)
