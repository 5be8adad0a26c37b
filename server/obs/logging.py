"""Log records that carry their request, as JSON lines in production.

`RequestContextFilter` adds `request_id`, `user_id` and `organization_id` to every record
(settings.LOGGING attaches it to the handler, so third-party loggers get them too);
`JsonFormatter` writes one JSON object per line. `LOG_FORMAT=plain` (the default with
DEBUG on, as under `make run`) keeps lines a person reads, with the request id in them.

Nothing secret is logged: the project never logs tokens, passwords, codes or message
bodies, and tests/test_log_secrets.py greps a scripted session's whole log for them.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from server.obs import context

# Attributes every LogRecord has; anything else on a record was passed with `extra=`.
_SECRET_EXTRA_KEYS = frozenset({"args", "kwargs", "return_value"})
_RESERVED = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id", "user_id", "organization_id"}


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        ctx = context.current()
        record.request_id = getattr(record, "request_id", None) or ctx.request_id or "-"
        record.user_id = getattr(record, "user_id", None) or ctx.user_id
        record.organization_id = getattr(record, "organization_id", None) or ctx.organization_id
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "user_id": getattr(record, "user_id", None),
            "organization_id": getattr(record, "organization_id", None),
        }
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                if isinstance(value, dict):
                    # Celery's task lines carry the task's arguments (`data.args`): codes and ids
                    # that must not reach a log. The task's name, id and timing stay.
                    value = {k: v for k, v in value.items() if k not in _SECRET_EXTRA_KEYS}
                entry[key] = value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
