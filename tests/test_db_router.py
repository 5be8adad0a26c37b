"""Read replicas with read-your-writes (server/db_router.py, issue #26, docs/scaling.md).

The "replica" is a second connection to the test database frozen in a REPEATABLE READ snapshot
taken after the people exist and before anyone posts: a replica that lags and receives no more
writes. Reads routed to it cannot see the post; reads on the primary can.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import connections, transaction

from server.db_router import ReplicaRouter
from tests.conftest import requires_postgres
from tests.factories import LeaderFactory, UserFactory

pytestmark = [requires_postgres("the lagging replica is a REPEATABLE READ snapshot"), pytest.mark.django_db(transaction=True)]


@pytest.fixture
def lagging_replica(settings):
    """Adds a "replica" alias and freezes it at the database's state of now."""
    primary = connections["default"]
    # A connection made here, not a configured alias: the test framework's guard allows it.
    replica = primary.__class__(dict(primary.settings_dict), alias="replica")
    connections["replica"] = replica
    settings.DATABASE_REPLICAS = ["replica"]
    settings.READ_YOUR_WRITES_SECONDS = 1

    def freeze() -> None:
        replica.set_autocommit(False)
        with replica.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("SELECT 1 FROM accounts_user LIMIT 1")  # the snapshot is taken here

    yield freeze
    if not replica.get_autocommit():
        replica.rollback()
        replica.set_autocommit(True)
    replica.close()
    del connections["replica"]


def feed_ids(client) -> list[int]:
    response = client.get("/api/v1/feed")
    assert response.status_code == 200
    return [card["id"] for card in response.json()["results"]]


def test_the_writer_reads_the_primary_for_the_window_everyone_else_the_replica(api, lagging_replica, org, monkeypatch):
    monkeypatch.setattr("feed.selectors.feed.UPDATES_SETTLE", timedelta(0))  # the catch-up sees the post at once
    author = LeaderFactory(organization=org)
    colleague = UserFactory(organization=org)
    author_client, colleague_client = api(author), api(colleague)
    cursor = colleague_client.get("/api/v1/feed/updates").json()["cursor"]
    lagging_replica()

    response = author_client.post("/api/v1/posts", {"body": "Shift swap board is open"}, format="json")
    assert response.status_code == 201
    post_id = response.json()["id"]

    assert feed_ids(author_client) == [post_id]  # their own post, at once: the primary
    assert feed_ids(colleague_client) == []  # the replica has not seen it yet
    # The catch-up after a reconnect never reads a replica: nothing is lost to its lag.
    updates = colleague_client.get("/api/v1/feed/updates", {"since": cursor})
    assert updates.status_code == 200, updates.content
    assert [card["id"] for card in updates.json()["results"]] == [post_id]

    time.sleep(1.1)  # READ_YOUR_WRITES_SECONDS passes
    assert feed_ids(author_client) == []  # the author reads the (lagging) replica again


def test_reads_in_a_transaction_and_outside_requests_use_the_primary(lagging_replica, settings):
    router = ReplicaRouter()
    from accounts.models import User

    assert router.db_for_read(User) is None  # no request: a task, a command
    assert router.db_for_write(User) == "default"
    assert router.allow_migrate("replica", "accounts") is False
    assert router.allow_migrate("default", "accounts") is None
    with transaction.atomic():
        assert router.db_for_read(User) is None


def test_no_replica_configured_changes_nothing(settings):
    settings.DATABASE_REPLICAS = []
    router = ReplicaRouter()
    assert router.db_for_read(None) is None and router.db_for_write(None) is None
    assert router.allow_migrate("default", "accounts") is None and router.allow_relation(None, None) is None
