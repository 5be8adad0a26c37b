"""Traces are off by default; switched on, a post's request span is the parent of its delivery (issue #27)."""

from __future__ import annotations

import pytest
from django.db import connection
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from rest_framework.test import APIClient

from server.obs import tracing
from tests.factories import LeaderFactory, issue_token


def test_tracing_is_off_unless_the_environment_names_an_exporter(monkeypatch):
    for name in ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED"):
        monkeypatch.delenv(name, raising=False)
    assert not tracing.tracing_requested()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    assert tracing.tracing_requested()
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert not tracing.tracing_requested()


@pytest.fixture
def spans():
    exporter = InMemorySpanExporter()
    assert tracing.configure(span_processor=SimpleSpanProcessor(exporter))
    # psycopg is instrumented at connect: a connection opened before (the test database's
    # setup, when this test runs alone) would run its statements untraced.
    connection.close()
    try:
        yield exporter
    finally:
        tracing.shutdown()


@pytest.mark.django_db(transaction=True)  # on_commit runs inside the request, as in production
def test_the_delivery_of_a_post_is_in_the_trace_of_its_request(spans):
    from tests.factories import OrganizationFactory

    org = OrganizationFactory()
    leader = LeaderFactory(organization=org)
    client = APIClient()  # a new client loads the middleware the instrumentation added
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_token(leader)}")
    response = client.post("/api/v1/posts", {"body": "Getraceerd", "kind": "announcement"}, format="json")
    assert response.status_code == 201, response.content
    finished = spans.get_finished_spans()
    [request] = [
        span
        for span in finished
        if span.attributes.get("http.route") == "api/v1/posts" or (span.kind.name == "SERVER" and "posts" in span.name)
    ]
    delivery = [span for span in finished if "outbox_event_deliver_task" in span.name]
    assert delivery, [span.name for span in finished]
    assert {span.context.trace_id for span in delivery} == {request.context.trace_id}
    if connection.vendor == "postgresql":  # statements are traced through psycopg: SQLite has none
        sql = [span for span in finished if span.attributes.get("db.system") == "postgresql"]
        assert sql and {span.context.trace_id for span in sql} >= {request.context.trace_id}
    # Statements, never their values: the post's text is in no span attribute.
    assert not any("Getraceerd" in str(value) for span in finished for value in span.attributes.values())
