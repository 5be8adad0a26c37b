"""Serializer fields every app shares."""

from rest_framework import serializers

# Ids are PostgreSQL bigints: a larger number from a client must be a 400, not a database error.
MAX_ID = 2**63 - 1


class IdField(serializers.IntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class IdListField(serializers.ListField):
    def __init__(self, **kwargs):
        kwargs.setdefault("child", IdField())
        kwargs.setdefault("max_length", 500)
        super().__init__(**kwargs)
