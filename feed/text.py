"""Rules for text people write (post and comment bodies) and the mentions in it."""

from __future__ import annotations

import re
import unicodedata

import grapheme
from django.utils.translation import gettext as _

from server.api.exceptions import ValidationFailed

MAX_BODY_GRAPHEMES = 5000
# Explicit bidi embeddings, overrides and isolates can make text display in a different
# order than it is stored ("Trojan Source"): a post could show one thing and say another.
# The implicit marks (U+200E, U+200F, U+061C) cannot reorder text and stay allowed.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
MENTION_PATTERN = re.compile(r"@\[user:(\d{1,12})\]")
# Characters that show as nothing beyond the format controls (zero-width space and joiners are
# category Cf): Hangul fillers and the blank braille pattern, the usual "empty message" tricks.
INVISIBLE_FILLERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _shows_nothing(text: str) -> bool:
    return all(c.isspace() or c in INVISIBLE_FILLERS or unicodedata.category(c) == "Cf" for c in text)


def clean_body(body: str, *, field: str = "body", allow_empty: bool = False) -> str:
    """The body as stored, or ValidationFailed naming `field`."""

    def fail(message: str, code: str) -> ValidationFailed:
        return ValidationFailed(message, code=code, fields={field: [message]})

    if "\x00" in body:
        raise fail(_("The text contains a NUL character, which is not allowed."), "nul_character")
    if any(character in BIDI_CONTROLS for character in body):
        raise fail(_("The text contains bidirectional override characters, which are not allowed."), "bidi_override")
    body = body.strip()
    # A text of zero-width characters looks empty, so it is empty (and stored as such).
    if _shows_nothing(body):
        body = ""
    if not body and not allow_empty:
        raise fail(_("The text may not be empty."), "empty")
    # Counted as people see characters: an emoji with a skin tone is one, not four code points.
    if grapheme.length(body, MAX_BODY_GRAPHEMES + 1) > MAX_BODY_GRAPHEMES:
        raise fail(_("The text is longer than %(max)d characters.") % {"max": MAX_BODY_GRAPHEMES}, "too_long")
    return body


def mentioned_user_ids(body: str) -> list[int]:
    seen: dict[int, None] = {}
    for match in MENTION_PATTERN.finditer(body):
        seen.setdefault(int(match.group(1)), None)
    return list(seen)
