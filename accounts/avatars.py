"""Avatars on people's cards: media stores them, accounts shows them.

accounts sits below media and imports nothing of it (import-linter holds that). media
registers in its `AppConfig.ready()` how a user's avatar image is reached from `User` and
how its URLs are made; accounts' selectors join it and its serializers draw it through this
module. Without a registered source people have no avatar.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AvatarSource:
    relation: str  # the path from User to the avatar's image (select_related, values), e.g. "avatar__media"
    urls: Callable[[int, str], dict[str, str] | None]  # the image's variant URLs from its id and status


_source: AvatarSource | None = None


def register(source: AvatarSource) -> None:
    global _source
    _source = source


def relation() -> str | None:
    return _source.relation if _source is not None else None


def related(prefix: str = "") -> list[str]:
    """What to `select_related` for the avatars of the users at `prefix` ("" for User itself, "user__" ...)."""
    return [f"{prefix}{_source.relation}"] if _source is not None else []


def urls(image_id: int, status: str) -> dict[str, str] | None:
    return _source.urls(image_id, status) if _source is not None else None


def of(user: Any) -> dict[str, str] | None:
    """The avatar URLs of a user whose avatar was selected with `related()` (a missing one costs no query)."""
    if _source is None:
        return None
    image = user
    for step in _source.relation.split("__"):
        # A reverse one-to-one without a row raises (an AttributeError): no avatar.
        image = getattr(image, step, None)
        if image is None:
            return None
    return _source.urls(image.pk, image.status)
