"""The event path: services announce changes with `emit`.

This is the hook the realtime issue fills in (outbox row in the caller's
transaction, delivered after commit). Until then it validates and does nothing.
"""

from __future__ import annotations

from typing import Any

EVENT_TYPES = frozenset(
    {
        "post.created",
        "post.updated",
        "post.deleted",
        "comment.created",
        "reaction.updated",
        "kudos.created",
        "award.announced",
        "goal.updated",
        "key_moment.updated",
        "media.ready",
        "notification.created",
        "announcement.acknowledged",
    }
)


def emit(
    *,
    type: str,
    organization_id: int,
    payload: dict[str, Any],
    group_ids: list[int] | None = None,
    user_ids: list[int] | None = None,
    org_wide: bool = False,
    addressed: list[dict[str, Any]] | None = None,
) -> None:
    """Announce a change to its audience.

    Audience: the whole organisation (`org_wide`), members of `group_ids`, and/or
    `user_ids`. `addressed` lists people addressed personally (in-app notification
    and push): `{"user_id": .., "reason": "mention"|"comment"|...}`.
    """
    if type not in EVENT_TYPES:
        raise ValueError(f"Unknown event type {type!r}")
