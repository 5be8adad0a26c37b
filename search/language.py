"""The language of a text, for its stemming: Dutch, English, or the writer's own.

A handful of function words tells Dutch from English in a short staff post well enough
("de", "het", "een" against "the", "and", "is"); a text that shows neither clearly takes
the language its author set (or their organisation's), and the search vector of a row
without a language falls back to the `simple` configuration (exact words only).
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_DUTCH = frozenset(
    [
        "de",
        "het",
        "een",
        "en",
        "van",
        "ik",
        "je",
        "jij",
        "we",
        "wij",
        "zij",
        "ze",
        "is",
        "zijn",
        "was",
        "niet",
        "met",
        "voor",
        "op",
        "aan",
        "dat",
        "die",
        "dit",
        "deze",
        "er",
        "maar",
        "ook",
        "om",
        "bij",
        "naar",
        "uit",
        "als",
        "dan",
        "nog",
        "wel",
        "geen",
        "heb",
        "hebben",
        "heeft",
        "wordt",
        "worden",
        "kan",
        "kunnen",
        "moet",
        "moeten",
        "onze",
        "ons",
        "jullie",
        "wat",
        "hoe",
        "waar",
        "wie",
        "graag",
        "bedankt",
        "dank",
        "vandaag",
        "morgen",
    ]
)
_ENGLISH = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "of",
        "i",
        "you",
        "we",
        "they",
        "she",
        "he",
        "it",
        "is",
        "are",
        "was",
        "were",
        "not",
        "with",
        "for",
        "on",
        "at",
        "that",
        "this",
        "these",
        "those",
        "there",
        "but",
        "also",
        "to",
        "by",
        "from",
        "as",
        "than",
        "still",
        "no",
        "have",
        "has",
        "had",
        "will",
        "would",
        "can",
        "could",
        "must",
        "our",
        "us",
        "your",
        "what",
        "how",
        "where",
        "who",
        "please",
        "thanks",
        "thank",
        "today",
        "tomorrow",
    ]
)
LANGUAGES = ("nl", "en")


def detect_language(text: str, *, fallback: str = "") -> str:
    """ "nl" or "en" when the text's function words say so clearly, else `fallback` ("" = unknown)."""
    dutch = english = 0
    for word in _WORD.findall(text.lower()[:2000]):
        dutch += word in _DUTCH
        english += word in _ENGLISH
    if dutch >= 2 * english + 1 and dutch >= 2:
        return "nl"
    if english >= 2 * dutch + 1 and english >= 2:
        return "en"
    return fallback if fallback in LANGUAGES else ""


def writer_language(user) -> str:
    """The language a person writes in by default: their own, else their organisation's when it
    is already loaded (never a query for it: services run on hot paths with pinned query counts)."""
    if getattr(user, "language", ""):
        return user.language
    organization = user._state.fields_cache.get("organization") if user is not None else None
    return organization.default_language if organization is not None else ""


def text_language(text: str, *, writer) -> str:
    """The language of a row's text for its search vector: detected, else the writer's."""
    return detect_language(text, fallback=writer_language(writer))
