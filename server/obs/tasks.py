"""The request id travels with the Celery tasks a request causes (a message header), and back
into the context of the worker that runs them, so their log lines carry it too."""

from __future__ import annotations

import os

from celery import signals

from server.obs import context

HEADER = "request_id"


@signals.before_task_publish.connect
def _add_request_id(headers=None, **_kwargs) -> None:
    request_id = context.request_id()
    if headers is not None and request_id and HEADER not in headers:
        headers[HEADER] = request_id


_tokens: dict[str, object] = {}


@signals.task_prerun.connect
def _enter_task_context(task_id=None, task=None, **_kwargs) -> None:
    request_id = getattr(task.request, HEADER, None) if task is not None else None
    if not request_id:
        return
    if task.request.is_eager:
        return  # run inside the caller: its context is already the right one
    _tokens[task_id] = context.enter(context.RequestContext(request_id=request_id))


@signals.task_postrun.connect
def _leave_task_context(task_id=None, **_kwargs) -> None:
    token = _tokens.pop(task_id, None)
    if token is not None:
        context.leave(token)


@signals.worker_process_shutdown.connect
def _forget_dead_worker(pid=None, **_kwargs) -> None:
    """A Celery pool process that exits leaves the live gauges (multi-process metrics)."""
    from server.obs import metrics

    if metrics.MULTIPROCESS:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid or os.getpid())


@signals.worker_init.connect
def _serve_worker_metrics(**_kwargs) -> None:
    """A Celery worker's own /metrics on WORKER_METRICS_PORT (its pool processes summed): the
    delivery steps and pushes happen here, not in the web processes."""
    port = int(os.environ.get("WORKER_METRICS_PORT", "0") or 0)
    if not port:
        return
    from prometheus_client import REGISTRY, CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    from server.obs import metrics

    registry = REGISTRY
    if metrics.MULTIPROCESS:
        directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
        os.makedirs(directory, exist_ok=True)
        for name in os.listdir(directory):  # a previous run's processes are not this one's
            if name.endswith(".db"):
                os.remove(os.path.join(directory, name))
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    start_http_server(port, registry=registry)


@signals.worker_process_init.connect
def _trace_worker_process(**_kwargs) -> None:
    """Each Celery pool process starts tracing on its own (OTEL_*, SENTRY_DSN; off by default)."""
    from server.obs import tracing

    tracing.configure()
