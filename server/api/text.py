"""The one rule for text people write, wherever it goes (posts, comments, goals, kudos, nominations).

Lives at the bottom of the layers (server/api) so every app can use it, whatever it imports.
"""

from __future__ import annotations

import unicodedata

import grapheme
from django.utils.translation import gettext as _

from server.api.exceptions import ValidationFailed

MAX_TEXT_GRAPHEMES = 5000
# Explicit bidi embeddings, overrides and isolates can make text display in a different
# order than it is stored ("Trojan Source"): a post could show one thing and say another.
# The implicit marks (U+200E, U+200F, U+061C) cannot reorder text and stay allowed.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Characters that show as nothing beyond the format controls (zero-width space and joiners are
# category Cf): Hangul fillers and the blank braille pattern, the usual "empty message" tricks.
INVISIBLE_FILLERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _shows_nothing(text: str) -> bool:
    return all(c.isspace() or c in INVISIBLE_FILLERS or unicodedata.category(c) == "Cf" for c in text)


def clean_text(
    text: str | None, *, field: str, allow_empty: bool = False, min_length: int = 0, max_length: int = MAX_TEXT_GRAPHEMES
) -> str:
    """The text as stored (stripped), or ValidationFailed naming `field`.

    Lengths count graphemes, characters as people see them: an emoji with a skin tone is
    one, not four code points.
    """

    def fail(message: str, code: str) -> ValidationFailed:
        return ValidationFailed(message, code=code, fields={field: [message]})

    text = text or ""
    if "\x00" in text:
        raise fail(_("The text contains a NUL character, which is not allowed."), "nul_character")
    if any(character in BIDI_CONTROLS for character in text):
        raise fail(_("The text contains bidirectional override characters, which are not allowed."), "bidi_override")
    text = text.strip()
    # A text of zero-width characters looks empty, so it is empty (and stored as such).
    if _shows_nothing(text):
        text = ""
    if not text:
        if allow_empty:
            return text
        raise fail(_("The text may not be empty."), "empty")
    if min_length and grapheme.length(text, min_length) < min_length:
        raise fail(_("Write at least %(n)d characters.") % {"n": min_length}, "too_short")
    if grapheme.length(text, max_length + 1) > max_length:
        raise fail(_("The text is longer than %(max)d characters.") % {"max": max_length}, "too_long")
    return text
