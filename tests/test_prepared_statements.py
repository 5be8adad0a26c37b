"""The hot statements run as prepared statements on PostgreSQL (server/db.py `hot_cursor`).

What must hold: the same answers as Django's own cursor, every statement still seen by query
counting, prepared once per connection (not once per call), nothing prepared when the setting
is off, and Django's own statements never prepared (a pooler without prepared-statement support
only needs the setting turned off).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feed.models import Post
from server import db as server_db
from tests.conftest import IS_POSTGRES, requires_postgres
from tests.factories import GroupFactory, MembershipFactory
from tests.feed.factories import PostFactory

pytestmark = requires_postgres("prepared statements are PostgreSQL's")


def _prepared() -> dict[str, int]:
    """The statements this connection has prepared, with how often each ran as prepared."""
    with connection.cursor() as cursor:
        # generic_plans + custom_plans: PostgreSQL 14+.
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements WHERE from_sql IS FALSE")
        return dict(cursor.fetchall())


def _ran_since(before: dict[str, int]) -> dict[str, int]:
    """Prepared executions per statement since `before` (the connection outlives one test)."""
    return {statement: runs - before.get(statement, 0) for statement, runs in _prepared().items() if runs != before.get(statement, 0)}


def _me_statements(prepared: dict[str, int]) -> dict[str, int]:
    return {statement: runs for statement, runs in prepared.items() if "accounts_authtoken" in statement or "media_useravatar" in statement}


def test_me_runs_prepared_statements_planned_once_per_connection(api, employee, org, django_assert_num_queries):
    MembershipFactory(user=employee, group=GroupFactory(organization=org, name="Store 12"))
    client = api(employee)
    client.get("/api/v1/me")  # the token's first use writes last_used_at
    before = _prepared()
    first = client.get("/api/v1/me").json()
    for _ in range(4):
        with django_assert_num_queries(2):  # still counted like any other statement
            assert client.get("/api/v1/me").json() == first
    statements = _me_statements(_ran_since(before))
    # The token lookup and /me's groups-and-avatar read, each run 5 times as prepared.
    assert len(statements) == 2, statements
    assert sorted(statements.values()) == [5, 5]
    assert first["groups"][0]["name"] == "Store 12"


def test_unread_count_and_feed_run_prepared(api, employee, org):
    PostFactory.create_batch(3, organization=org)
    client = api(employee)
    client.get("/api/v1/me")
    before = _prepared()
    for _ in range(3):
        assert client.get("/api/v1/notifications/unread-count").json() == {"count": 0}
        assert len(client.get("/api/v1/feed").json()["results"]) == 3
    statements = _ran_since(before)
    assert any('COUNT(*) AS "__count" FROM "notifications_notification"' in statement for statement in statements)
    feed = {statement: runs for statement, runs in statements.items() if 'FROM "feed_post"' in statement}
    assert len(feed) == 3, list(statements)  # the pinned posts, the page, its cards
    assert set(feed.values()) == {3}, feed


def test_django_own_statements_are_never_prepared(employee, org):
    PostFactory.create_batch(2, organization=org)
    before = _prepared()
    for _ in range(6):  # above psycopg's prepare threshold of 5
        assert Post.objects.filter(organization=org).count() == 2
    assert not any('"feed_post"' in statement for statement in _ran_since(before))


def test_setting_off_prepares_nothing_and_answers_the_same(api, employee, org, settings):
    MembershipFactory(user=employee, group=GroupFactory(organization=org))
    client = api(employee)
    prepared_answer = client.get("/api/v1/me").json()
    settings.DATABASE_PREPARED_STATEMENTS = False
    before = _prepared()
    for _ in range(3):
        assert client.get("/api/v1/me").json() == prepared_answer
    assert _me_statements(_ran_since(before)) == {}


def test_hot_cursor_is_a_logged_django_cursor(db):
    with CaptureQueriesContext(connection) as captured, server_db.hot_cursor(connection) as cursor:
        cursor.execute("SELECT %s::int + 1", [41])
        assert cursor.fetchone() == (42,)
    # With its values, as Django logs its own statements (DEBUG, test failures).
    assert [query["sql"] for query in captured.captured_queries] == ["SELECT 41::int + 1"]


def test_a_rollback_discards_the_statements_and_the_next_request_prepares_them_again(api, employee):
    """psycopg deallocates every prepared statement of a connection when a transaction or a
    savepoint is rolled back (the objects they refer to may be gone); the next call prepares
    again and answers as before."""
    from django.db import transaction

    client = api(employee)
    first = client.get("/api/v1/me").json()
    with pytest.raises(RuntimeError), transaction.atomic():
        assert client.get("/api/v1/me").json() == first
        raise RuntimeError
    assert _me_statements(_prepared()) == {}
    assert client.get("/api/v1/me").json() == first
    assert sorted(_me_statements(_prepared()).values()) == [1, 1]


def test_setting_is_known_to_every_environment():
    assert IS_POSTGRES
    from django.conf import settings

    assert settings.DATABASES["default"]["OPTIONS"].get("prepare_threshold") is not None
