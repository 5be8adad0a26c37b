"""Mentions in the text people write (the text's own rules: server.api.text.clean_text)."""

from __future__ import annotations

import re

MENTION_PATTERN = re.compile(r"@\[user:(\d{1,12})\]")


def mentioned_user_ids(body: str) -> list[int]:
    seen: dict[int, None] = {}
    for match in MENTION_PATTERN.finditer(body):
        seen.setdefault(int(match.group(1)), None)
    return list(seen)
