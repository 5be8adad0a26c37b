"""The benchmark data set at a tiny scale: a smoke test that fails on a query-count or
correctness change in the feed, fan-out and push paths (never on wall time)."""

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import requires_postgres

pytestmark = [requires_postgres("bench/seed.py writes with PostgreSQL COPY"), pytest.mark.django_db(transaction=True)]


@pytest.fixture
def small_company(db):
    from bench import seed

    counts = seed.seed(0.002, random.Random(7))
    from accounts.models import User

    employee = User.objects.filter(organization__slug="bench-retail", role="employee", memberships__isnull=False).order_by("id").first()
    leader = User.objects.filter(organization__slug="bench-retail", role="admin").first()
    return counts, employee, leader


def test_feed_pages_cost_the_same_queries_at_every_size_and_never_count(small_company, api):
    counts, employee, _leader = small_company
    assert counts["posts"] >= 2000
    client = api(employee)
    client.get("/api/v1/me")
    seen = {}
    for size in (1, 20, 50):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/api/v1/feed?page_size={size}")
        assert response.status_code == 200
        assert len(response.json()["results"]) >= size
        seen[size] = len(captured.captured_queries)
        assert not [q for q in captured.captured_queries if "COUNT(*)" in q["sql"].upper()]
    assert len(set(seen.values())) == 1, seen
    assert seen[20] <= 9


def test_paging_the_whole_feed_never_shows_the_other_organisation(small_company, api):
    _counts, employee, _leader = small_company
    client = api(employee)
    url, pages = "/api/v1/feed?page_size=100", 0
    while url and pages < 60:
        body = client.get(url).json()
        assert not [post for post in body["results"] if "OTHER-ORG-MARKER" in post["body"]]
        url, pages = body["next"], pages + 1
    assert pages > 1


def test_org_wide_announcement_fans_out_in_a_fixed_number_of_queries_and_only_once(small_company, api):
    from notifications.models import Notification, OutboxEvent
    from notifications.services import outbox_event_deliver

    _counts, _employee, leader = small_company
    response = api(leader).post(
        "/api/v1/posts", {"body": "Smoke announcement", "kind": "announcement", "requires_acknowledgement": True}, format="json"
    )
    assert response.status_code == 201
    event = OutboxEvent.objects.filter(type="post.created").order_by("-created_at").first()
    assert event.delivered_at is not None  # eager delivery after commit
    addressed = Notification.objects.filter(event_id=event.pk).count()
    assert addressed >= 150  # everyone must acknowledge: each is addressed personally

    # Re-deliver from scratch (what the sweeper does after a crash): bulk work, no duplicates.
    OutboxEvent.objects.filter(pk=event.pk).update(
        delivered_at=None, inbox_written_at=None, realtime_sent_at=None, push_sent_at=None, locked_until=None
    )
    with CaptureQueriesContext(connection) as captured:
        assert outbox_event_deliver(event_id=event.pk) is True
    assert len(captured.captured_queries) <= 40, len(captured.captured_queries)
    assert Notification.objects.filter(event_id=event.pk).count() == addressed
