"""The search answer's shape, for the OpenAPI schema: each result's `item` is its type's usual card."""

from __future__ import annotations

from functools import cache

from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from search import registry


def _result_serializer(provider: registry.SearchProvider) -> type[serializers.Serializer]:
    name = "".join(part.title() for part in provider.type.split("_"))
    attributes = {
        "type": serializers.ChoiceField(choices=[(provider.type, provider.type)]),
        "id": serializers.IntegerField(),
        "snippet": serializers.CharField(help_text="The matching text, HTML-escaped, with `<mark>` around the matched words."),
        "item": provider.card_serializer(),
        "__module__": __name__,
        "__doc__": f"A {provider.type} found by search.",
    }
    return type(f"Search{name}ResultSerializer", (serializers.Serializer,), attributes)


@cache
def result_serializer() -> PolymorphicProxySerializer:
    return PolymorphicProxySerializer(
        component_name="SearchResult",
        serializers={provider.type: _result_serializer(provider) for provider in registry.providers()},
        resource_type_field_name="type",
        many=True,
    )


@cache
def page_serializer() -> type[serializers.Serializer]:
    attributes = {
        "results": result_serializer(),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "next_cursor": serializers.CharField(allow_null=True),
        "previous_cursor": serializers.CharField(allow_null=True),
        "more": serializers.ListField(
            child=serializers.ChoiceField(choices=registry.types()),
            help_text="Without `type`: the types with more results than shown (ask again with `?type=`). With `type`: empty.",
        ),
        "__module__": __name__,
        "__doc__": "Search results: with `type` one cursor page of that type; without, the first few of every type, grouped.",
    }
    return type("SearchPageSerializer", (serializers.Serializer,), attributes)
