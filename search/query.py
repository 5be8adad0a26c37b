"""The query syntax (PostgreSQL's `websearch_to_tsquery`, plus a prefix for the last word).

    klant service      both words (any form: "klanten" finds "klant", "returns" finds "return")
    "return policy"    the exact phrase
    kassa -rooster     "kassa" but not "rooster"
    kerst or pasen     either word
    klan               as someone types: the last word also matches as a prefix ("klant", "klanten")

The prefix applies to the last word when it is a plain word at the end of the query (not
in quotes, not excluded, no space typed after it) and the query has no `or`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from server.api.exceptions import ValidationFailed

MAX_QUERY_LENGTH = 200
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_PLAIN_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True)
class Term:
    text: str
    negated: bool = False


@dataclass(frozen=True)
class SearchQuery:
    text: str
    # The prefix split (PostgreSQL): `head` as websearch_to_tsquery reads it, `last` a plain
    # word that also matches as a prefix. `last` is "" when no prefix applies.
    head: str = ""
    last: str = ""
    # The same query as OR of AND-groups of terms: the embedded SQLite match and snippets.
    groups: list[list[Term]] = field(default_factory=list)

    @property
    def positive_terms(self) -> list[str]:
        return [term.text for group in self.groups for term in group if not term.negated]


def parse_query(raw: str | None) -> SearchQuery:
    if raw is None or not raw.strip():
        message = _("Type something to search for.")
        raise ValidationFailed(message, fields={"q": [message]})
    if len(raw) > MAX_QUERY_LENGTH:
        message = _("A search is at most %(count)d characters.") % {"count": MAX_QUERY_LENGTH}
        raise ValidationFailed(message, fields={"q": [message]})
    text = " ".join(raw.split())
    groups: list[list[Term]] = [[]]
    has_or = False
    last_token = None
    for match in _TOKEN.finditer(text):
        negated, phrase, word = match.group(1), match.group(2), match.group(3)
        last_token = match
        if word is not None and word.lower() == "or":
            has_or = True
            if groups[-1]:
                groups.append([])
            continue
        if phrase is not None:
            if phrase.strip():
                groups[-1].append(Term(" ".join(phrase.split()), negated=bool(negated)))
            continue
        is_negated = word.startswith("-") and len(word) > 1
        body = word[1:] if is_negated else word
        groups[-1].append(Term(body, negated=is_negated))
    groups = [group for group in groups if any(not term.negated for term in group)]
    head, last = text, ""
    ends_typing = not raw[-1].isspace()
    if last_token is not None and last_token.group(3) and ends_typing and not has_or:
        candidate = last_token.group(3)
        if _PLAIN_WORD.fullmatch(candidate):
            head, last = text[: last_token.start()].strip(), candidate
    return SearchQuery(text=text, head=head, last=last, groups=groups)
