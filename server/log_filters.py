"""Filters of the logging configuration (settings.LOGGING)."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied


class NoPermissionDeniedTraceback(logging.Filter):
    """Keep Django's "Forbidden (Permission denied)" line, drop its traceback.

    A refused page (an org admin on a page their role does not open) is an answer, not a fault:
    the traceback of the PermissionDenied that produced it says nothing an operator needs.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], PermissionDenied):
            record.exc_info = None
            record.exc_text = None
        return True


class DatabaseOutageWithoutTraceback(logging.Filter):
    """A request answered 503 because the database is unreachable: one line, not a traceback
    per request (hundreds a second during a restart, burying what matters)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from server.api.exceptions import is_database_unavailable

        if record.exc_info and is_database_unavailable(record.exc_info[1]):
            first_line = (str(record.exc_info[1]).splitlines() or [""])[0].replace("%", "%%")
            record.msg = f"{record.msg} (database unavailable: {first_line})"
            record.exc_info = None
            record.exc_text = None
        return True
