"""Serializer fields every app shares."""

from django.core.validators import MinLengthValidator
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


class ServiceRuleMinLength(MinLengthValidator):
    """A minimum length the service enforces (in graphemes, after `clean_text` strips the text, with
    its own message and code), stated here so the OpenAPI schema lists it (`minLength`). Checks
    nothing itself: the service's answer is the one the client gets."""

    def __call__(self, value):
        return None


class RuleTextField(serializers.CharField):
    """Text whose length rule lives in the service; `service_min_length` puts it in the schema."""

    def __init__(self, *, service_min_length: int, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(ServiceRuleMinLength(service_min_length))
