"""Keep bearer tokens out of server logs.

uvicorn logs every WebSocket handshake with its query string at INFO level, and
`?token=` is one of the two ways a phone authenticates on the stream.
"""

from __future__ import annotations

import logging
import re

_TOKEN_IN_QUERY = re.compile(r"([?&]token=)[^&\s\"']+")


class RedactQueryTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "token=" in message:
            record.msg, record.args = _TOKEN_IN_QUERY.sub(r"\1[redacted]", message), ()
        return True


def install() -> None:
    for name in ("uvicorn.error", "uvicorn.access", "daphne.server", "django.channels.server"):
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactQueryTokens) for existing in logger.filters):
            logger.addFilter(RedactQueryTokens())
