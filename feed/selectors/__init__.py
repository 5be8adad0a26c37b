"""Reads of the feed, scoped to what the acting user may see. One module per use case, re-exported here.

Fan-out on read: a post is stored once with its audience (org-wide or groups) and
each reader's feed is a query over their organisation's posts filtered by that
audience. Nothing is copied per reader, so a post to 5,000 people is one row.
"""

from feed.selectors.feed import (
    FEED_ORDER,
    FEED_ORDERING,
    PINNED_LIMIT,
    PostChanges,
    feed_list,
    feed_page,
    feed_pinned,
    feed_visible,
    post_updates,
    posts_by_id,
    visible_posts,
)
from feed.selectors.goals import (
    access_goal,
    access_key_moment,
    goal_list,
    goal_update_list,
    goals_visible,
    key_moment_counts,
    key_moment_list,
    key_moments_visible,
)
from feed.selectors.posts import (
    access_comment,
    access_post,
    audience_user_ids,
    audience_users,
    comment_list,
    groups_of_organization,
    may_moderate,
    post_reach,
    viewers_of,
)
from feed.selectors.reach import not_acknowledged_list
from feed.selectors.reactions import reaction_list
from feed.selectors.scheduled import scheduled_post_list

__all__ = [
    "FEED_ORDER",
    "FEED_ORDERING",
    "PINNED_LIMIT",
    "PostChanges",
    "access_comment",
    "access_goal",
    "access_key_moment",
    "access_post",
    "audience_user_ids",
    "audience_users",
    "comment_list",
    "feed_list",
    "feed_page",
    "feed_pinned",
    "feed_visible",
    "goal_list",
    "goal_update_list",
    "goals_visible",
    "groups_of_organization",
    "key_moment_counts",
    "key_moment_list",
    "key_moments_visible",
    "may_moderate",
    "not_acknowledged_list",
    "post_reach",
    "post_updates",
    "posts_by_id",
    "reaction_list",
    "scheduled_post_list",
    "viewers_of",
    "visible_posts",
]
