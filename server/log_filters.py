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
