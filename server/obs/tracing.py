"""Traces (OpenTelemetry) and error reports (Sentry), both off unless the environment asks.

OpenTelemetry starts when the standard variables name an exporter: `OTEL_EXPORTER_OTLP_ENDPOINT`
(or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), or `OTEL_TRACES_EXPORTER=otlp|console`; everything
else (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, sampling with `OTEL_TRACES_SAMPLER`) is
read by the SDK itself. Django, psycopg, Redis and Celery are instrumented; Celery carries the
trace context in the task message, so a post's request span is the parent of its delivery
task's spans (the outbox delivery and push batches). Sentry starts with `SENTRY_DSN`.

`configure()` runs once per process: server/asgi.py for the web server, and the Celery
`worker_process_init` signal for each worker process (server/obs/tasks.py).
"""

from __future__ import annotations

import logging
import os

logger = logging.getLogger(__name__)
_configured = False


def tracing_requested() -> bool:
    exporter = os.environ.get("OTEL_TRACES_EXPORTER", "")
    if exporter == "none" or os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    return bool(exporter or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def configure(*, span_processor=None) -> bool:
    """Start tracing and error reporting as the environment says; True when tracing is on.

    `span_processor` replaces the exporter (tests pass an in-memory one, and `shutdown()` after).
    """
    testing = span_processor is not None
    global _configured
    if _configured:
        return True
    _configure_sentry()
    if span_processor is None and not tracing_requested():
        return False
    from opentelemetry import trace
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    provider = TracerProvider(resource=Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "frontline-app")}))
    if span_processor is None:
        if os.environ.get("OTEL_TRACES_EXPORTER") == "console":
            exporter = ConsoleSpanExporter()
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter()  # endpoint, headers, timeout from OTEL_EXPORTER_OTLP_*
        span_processor = BatchSpanProcessor(exporter)
    provider.add_span_processor(span_processor)
    if not testing:
        trace.set_tracer_provider(provider)
    # Query text only, never the bound values (they hold message bodies); no SQL commenter.
    DjangoInstrumentor().instrument(tracer_provider=provider, is_sql_commentor_enabled=False)
    PsycopgInstrumentor().instrument(tracer_provider=provider, enable_commenter=False, skip_dep_check=True)
    RedisInstrumentor().instrument(tracer_provider=provider)
    CeleryInstrumentor().instrument(tracer_provider=provider)
    _configured = True
    logger.info("OpenTelemetry tracing on")
    return True


def _configure_sentry() -> None:
    dsn = os.environ.get("SENTRY_DSN", "")
    if not dsn:
        return
    import sentry_sdk

    sentry_sdk.init(
        dsn=dsn,
        environment=os.environ.get("SENTRY_ENVIRONMENT", "production"),
        traces_sample_rate=float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE", "0") or 0),
        send_default_pii=False,  # no user e-mails, IPs or request bodies in error reports
    )


def shutdown() -> None:
    """Undo `configure()` (tests): the instrumentation leaves Django, psycopg, Redis and Celery."""
    global _configured
    if not _configured:
        return
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    for instrumentor in (DjangoInstrumentor(), PsycopgInstrumentor(), RedisInstrumentor(), CeleryInstrumentor()):
        instrumentor.uninstrument()
    _configured = False
