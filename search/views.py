"""GET /api/v1/search: one type, cursor-paged, or the first few of every type, grouped.

Nothing of a search is stored (privacy): no history, no log line with the query; the
counter of the rate limit holds only the user's id.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from search import engine, registry
from search.query import MAX_QUERY_LENGTH, parse_query
from search.serializers import page_serializer
from server.api.exceptions import ValidationFailed
from server.api.pagination import KeysetPagination, page_envelope
from server.api.schema import ErrorSerializer
from server.api.throttling import ScopedUserThrottle
from server.api.views import APIView

# Without `?type=`: this many of each type, grouped in the types' order.
GROUP_PREVIEW = 3


class SearchThrottle(ScopedUserThrottle):
    scope = "search"


def _group_param(request) -> int | None:
    raw = request.query_params.get("group")
    return None if raw in (None, "") else int(raw)  # the contract checked it is a whole number


class SearchView(APIView):
    throttle_classes = [*APIView.throttle_classes, SearchThrottle]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "q",
                str,
                required=True,
                description=f"What to look for, at most {MAX_QUERY_LENGTH} characters: words (any form), "
                '"an exact phrase", -excluded, either or other; the last word also matches as a prefix. See docs/api.md, Search.',
            ),
            OpenApiParameter("type", str, enum=registry.types(), description="Only this type, cursor-paged. Absent: a few of every type."),
            OpenApiParameter("group", int, description="Only what is addressed to (people: who belong to) this group."),
            OpenApiParameter("cursor", str, description="With `type`: a page's `next_cursor` or `previous_cursor`."),
            OpenApiParameter("page_size", int, description="With `type`: results per page, at most 100."),
        ],
        responses={200: page_serializer(), 400: ErrorSerializer, 429: ErrorSerializer},
        operation_id="search",
        tags=["search"],
    )
    def get(self, request):
        query = parse_query(request.query_params.get("q"))
        group_id = _group_param(request)
        type = request.query_params.get("type") or None
        if type is not None:
            provider = registry.get(type)
            if provider is None:
                raise ValidationFailed(_("Unknown type."), fields={"type": [_("Unknown type.")]})
            return self._one_type(request, provider, query, group_id)
        if request.query_params.get("cursor"):
            message = _("A cursor pages one type: add `type`.")
            raise ValidationFailed(message, fields={"cursor": [message]})
        results, more = [], []
        for provider in registry.providers():
            rows = (
                []
                if not query.groups
                else engine.search_fetch(
                    provider=provider,
                    query=query,
                    user=request.user,
                    group_id=group_id,
                    cursor=None,
                    reverse=False,
                    limit=GROUP_PREVIEW + 1,
                )
            )
            if len(rows) > GROUP_PREVIEW:
                more.append(provider.type)
            results.extend(engine.hits(provider=provider, query=query, user=request.user, rows=rows[:GROUP_PREVIEW]))
        return Response({**page_envelope(results), "more": more})

    def _one_type(self, request, provider, query, group_id):
        paginator = KeysetPagination()

        def fetch(cursor, reverse, limit):
            if not query.groups:  # only exclusions: nothing to look for
                return []
            return engine.search_fetch(
                provider=provider, query=query, user=request.user, group_id=group_id, cursor=cursor, reverse=reverse, limit=limit
            )

        rows = paginator.paginate(request, ordering=engine.ORDERING, model=engine.cursor_fields(provider, request.user), fetch=fetch)
        response = paginator.get_paginated_response(engine.hits(provider=provider, query=query, user=request.user, rows=rows))
        response.data["more"] = []
        return response
