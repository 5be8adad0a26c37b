"""Token authentication runs precompiled SQL (accounts.authentication, server/db.py): the same
session, user and organisation as the ORM query it is compiled from, in one statement."""

from __future__ import annotations

import pytest

from accounts.authentication import _token_by_hash, hash_token
from accounts.models import AuthToken
from tests.factories import UserFactory, issue_token

pytestmark = pytest.mark.django_db


def test_the_compiled_token_lookup_answers_what_the_orm_answers(employee, other_org, django_assert_num_queries):
    raw = issue_token(employee)
    issue_token(UserFactory(organization=other_org))  # another organisation's session
    orm = AuthToken.objects.select_related("user", "user__organization").get(key_hash=hash_token(raw))
    with django_assert_num_queries(1):
        compiled = _token_by_hash(hash_token(raw))
        # The user and the organisation come with it: authentication needs no other query.
        assert (compiled.user.name, compiled.user.organization.name) == (orm.user.name, orm.user.organization.name)
    for instance, expected in ((compiled, orm), (compiled.user, orm.user), (compiled.user.organization, orm.user.organization)):
        fields = [field.attname for field in type(instance)._meta.concrete_fields]
        assert [getattr(instance, name) for name in fields] == [getattr(expected, name) for name in fields]
    assert _token_by_hash(hash_token("not-a-token")) is None
