"""The JSON parser every API view uses: DRF's, guarded against bodies that would crash a view.

A body nested a thousand levels deep made the parser (or the first recursive walk after it)
raise RecursionError, a 500 with a traceback, even on the unauthenticated login; a lone
surrogate (`"\\ud800"`) parsed fine and then failed when echoed in an error message or saved.
Both are the client's fault, so both are a 400 here, for every route at once.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Deeper than any body of the API (a survey's answers are four levels) by a wide margin.
MAX_JSON_DEPTH = 32


class GuardedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("The JSON body is nested too deeply."))
        check_json(data)
        return data


def check_json(data: Any) -> None:
    """ParseError for nesting past MAX_JSON_DEPTH or a string that is not valid Unicode text."""
    pending: list[tuple[Any, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            items = list(value.keys()) + list(value.values())
        elif isinstance(value, list):
            items = value
        else:
            if isinstance(value, str):
                _check_text(value)
            continue
        if depth > MAX_JSON_DEPTH:
            raise ParseError(_("The JSON body is nested too deeply."))
        pending.extend((item, depth + 1) for item in items)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")  # in C: a lone surrogate cannot be encoded
    except UnicodeEncodeError:
        raise ParseError(_("The JSON body contains a lone surrogate, which is not text."))
