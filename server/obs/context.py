"""The request a piece of work belongs to: its id and who made it, for log lines and events.

Set by `RequestContextMiddleware` for an HTTP request, by the Celery signal handlers
(server/obs/tasks.py) for a task the request caused, and by the outbox delivery for the event
it caused; read by the log filter and by `notifications.emit` (the event keeps the id). A
contextvar, so each asyncio task and each thread of the ASGI server sees its own.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace

# What a client may send as X-Request-ID: a proxy's id or a phone's own (uuid, hex, base64url).
_VALID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    user_id: int | None = None
    organization_id: int | None = None


_EMPTY = RequestContext()
_current: ContextVar[RequestContext] = ContextVar("request_context", default=_EMPTY)


def new_request_id() -> str:
    return uuid.uuid4().hex


def clean_request_id(value: str | None) -> str:
    """The client's id when it is a sane token, else a new one (never echo arbitrary bytes into logs)."""
    if value and _VALID.match(value):
        return value
    return new_request_id()


def current() -> RequestContext:
    return _current.get()


def request_id() -> str:
    return _current.get().request_id


def bind(**changes) -> None:
    """Add to the current context (the person, once authentication has run)."""
    _current.set(replace(_current.get(), **changes))


@contextmanager
def scope(context: RequestContext) -> Iterator[RequestContext]:
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def enter(ctx: RequestContext):
    """Make `ctx` current until `leave(token)` (a Celery task, an outbox delivery)."""
    return _current.set(ctx)


def leave(token) -> None:
    _current.reset(token)
