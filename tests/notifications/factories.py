"""Events as the feed emits them, for tests that need notifications without feed."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from feed.events import POST_CREATED
from notifications.models import OutboxEvent
from notifications.services import emit


def post_card(*, post_id: int = 1, author_id: int = 1, body: str = "Hello", group_ids: list[int] | None = None) -> dict[str, Any]:
    """A post card shaped like the REST API's (feed.serializers.PostCardSerializer), for a viewer without reaction."""
    return {
        "id": post_id,
        "kind": "post",
        "author": {"id": author_id, "name": "Author", "avatar": None},
        "body": body,
        "audience": "groups" if group_ids else "organization",
        "groups": [{"id": gid, "name": f"Group {gid}", "kind": "team"} for gid in group_ids or []],
        "images": [],
        "created_at": "2026-11-23T10:00:00Z",
        "publish_at": None,
        "published_at": "2026-11-23T10:00:00Z",
        "edited_at": None,
        "pinned": False,
        "comment_count": 0,
        "reaction_counts": {"like": 0, "heart": 0, "clap": 0, "celebrate": 0, "insightful": 0},
        "my_reaction": None,
        "requires_acknowledgement": False,
        "acknowledgement_deadline": None,
        "acknowledged_by_me": False,
        "my_acknowledged_at": None,
        "kudos": None,
        "award": None,
        "goal": None,
        "poll": None,
    }


def emit_post(
    *,
    organization_id: int,
    group_ids: list[int] | None = None,
    addressed: list[dict[str, Any]] | None = None,
    body: str = "Hello",
    post_id: int = 1,
    author_id: int = 1,
) -> OutboxEvent:
    """Emit post.created in its own transaction, as the feed's post_create would."""
    with transaction.atomic():
        return emit(
            POST_CREATED,
            organization_id=organization_id,
            payload=post_card(post_id=post_id, author_id=author_id, body=body, group_ids=group_ids),
            org_wide=not group_ids,
            group_ids=group_ids or [],
            addressed=addressed or [],
        )
