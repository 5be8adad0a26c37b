"""Writes of the feed. Other apps call these (never the models) to change posts."""

from feed.services.comment_edit import comment_update
from feed.services.interactions import (
    comment_create,
    comment_delete,
    comment_set_visibility,
    post_acknowledge,
    posts_seen,
    reaction_counts,
    reaction_delete,
    reaction_set,
)
from feed.services.post_edit import post_update
from feed.services.posts import (
    post_create,
    post_create_system,
    post_delete,
    post_pin,
    post_publish_now,
    post_set_visibility,
    posts_publish_due,
)

__all__ = [
    "comment_create",
    "comment_delete",
    "comment_set_visibility",
    "comment_update",
    "post_acknowledge",
    "post_create",
    "post_create_system",
    "post_delete",
    "post_pin",
    "post_publish_now",
    "post_set_visibility",
    "post_update",
    "posts_publish_due",
    "posts_seen",
    "reaction_counts",
    "reaction_delete",
    "reaction_set",
]
