"""The feed's events: posts, comments, reactions, acknowledgements, goals and key moments.

Registered in `FeedConfig.ready()`; services raise them with `notifications.services.emit`.
Payload shapes live in `feed/event_payloads.py` (named by path: they build on the API's
serializers, which import the services that import this module).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from notifications.catalogue import AudiencePush, EventType, Push, PushContext, PushText, Quote, Reason
from notifications.push_texts import colleague, excerpt, named

# --- Pushes -----------------------------------------------------------------------------------


def _announcement_text(context: PushContext) -> PushText:
    actor, snippet = colleague(context.payload), excerpt(context.payload)
    if context.must_read:
        return PushText(_("Please read and confirm"), _("%(actor)s: %(excerpt)s") % {"actor": actor, "excerpt": snippet})
    return PushText(_("Announcement from %(actor)s") % {"actor": actor}, snippet)


ANNOUNCEMENT_PUSH = Push(
    kind="announcement",
    channel="announcements",
    preference="announcement",
    text=_announcement_text,
    links=("posts/{post_id}",),
    collapse="post-{post_id}",
    # An announcement that asks for acknowledgement always arrives, at high priority.
    must_read=lambda payload: bool(payload.get("requires_acknowledgement")),
    must_read_channel="announcements_required",
)
POST_PUSH = Push(
    kind="post",
    channel="posts",
    preference="post",
    text=lambda c: PushText(_("New post by %(actor)s") % {"actor": colleague(c.payload)}, excerpt(c.payload)),
    links=("posts/{post_id}",),
    collapse="post-{post_id}",
)
MENTION_PUSH = Push(
    kind="mention",
    channel="mentions",
    preference="mention",
    text=lambda c: PushText(_("%(actor)s mentioned you") % {"actor": colleague(c.payload)}, excerpt(c.payload)),
    links=("posts/{post_id}/comments/{comment_id}", "posts/{post_id}"),
)
COMMENT_PUSH = Push(
    kind="comment",
    channel="comments",
    preference="comment",
    text=lambda c: PushText(_("%(actor)s commented on your post") % {"actor": colleague(c.payload)}, excerpt(c.payload)),
    links=("posts/{post_id}/comments/{comment_id}", "posts/{post_id}"),
    # A busy thread shows its latest comment, not a pile.
    collapse="comments-{post_id}",
)
GOAL_PUSH = Push(
    kind="goal",
    channel="goals",
    preference="goal",
    text=lambda c: PushText(_("Goal update: %(title)s") % {"title": named(c.payload, "goal", "key_moment", "title")}, excerpt(c.payload)),
    links=("goals/{goal_id}", "posts/{post_id}"),
    collapse="goal-{goal_id}",
)
KEY_MOMENT_PUSH = Push(
    kind="key_moment",
    channel="goals",
    preference="key_moment",
    text=lambda c: PushText(
        _("Key moment updated: %(title)s") % {"title": named(c.payload, "goal", "key_moment", "title")}, excerpt(c.payload)
    ),
    links=("key-moments/{key_moment_id}", "posts/{post_id}"),
    collapse="key-moment-{key_moment_id}",
)

REPLY_PUSH = Push(
    kind="reply",
    channel="comments",
    preference="comment",
    text=lambda c: PushText(_("%(actor)s replied to your comment") % {"actor": colleague(c.payload)}, excerpt(c.payload)),
    links=("posts/{post_id}/comments/{comment_id}", "posts/{post_id}"),
    collapse="comments-{post_id}",
)

# --- Why people are addressed ---------------------------------------------------------------------

MENTION = Reason("mention", "Mentioned", push=MENTION_PUSH)
COMMENT = Reason("comment", "Comment on my post", push=COMMENT_PUSH)
ANNOUNCEMENT = Reason("announcement", "Announcement to acknowledge", push=ANNOUNCEMENT_PUSH)
REPLY = Reason("reply", "Reply to my comment", push=REPLY_PUSH)

# --- Event types ----------------------------------------------------------------------------------

# A post card carries the cards of system posts (`kudos`, `goal`) whose ids a push may name.
_POST_IDS = ("post_id", "kudos_id", "goal_id")
_QUOTES_POST = (Quote("post", "id"),)

POST_CREATED = EventType(
    name="post.created",
    summary="A post was published (written now, or scheduled and now due; also kudos, award, goal and key-moment posts).",
    payload="feed.serializers.PostCardSerializer",
    audience="the post's audience: the organisation, or the members of its groups",
    reasons=(MENTION, ANNOUNCEMENT),
    audience_pushes=(
        AudiencePush(ANNOUNCEMENT_PUSH, when=lambda p: p.get("kind", "post") == "announcement", condition="kind: announcement"),
        AudiencePush(POST_PUSH, when=lambda p: p.get("kind", "post") == "post", condition="kind: post"),
    ),
    push_ids=_POST_IDS,
    quotes=_QUOTES_POST,
)
POST_UPDATED = EventType(
    name="post.updated",
    summary="A post changed (edited, pinned, shown again, a comment count), or a reminder or summary of a mandatory read.",
    payload="feed.event_payloads.PostUpdatedSerializer",
    audience="the post's audience; a reminder only those still to acknowledge, a summary the author and group managers",
    reasons=(ANNOUNCEMENT,),
    push_ids=_POST_IDS,
    quotes=_QUOTES_POST,
)
POST_DELETED = EventType(
    name="post.deleted",
    summary="A post was deleted by its author, or hidden or removed by moderation: drop it from the screen.",
    payload="feed.serializers.RemovedPostSerializer",
    audience="the post's audience",
)
COMMENT_CREATED = EventType(
    name="comment.created",
    summary="A comment was written, or shown again after moderation (same id).",
    payload="feed.serializers.CommentSerializer",
    audience="the post's audience",
    reasons=(MENTION, COMMENT, REPLY),
    push_ids=("post_id", "comment_id"),
    quotes=(Quote("post", "post_id"), Quote("comment", "id")),
)
COMMENT_UPDATED = EventType(
    name="comment.updated",
    summary="A comment's author edited it: replace it (same id); people it newly mentions are notified.",
    payload="feed.serializers.CommentSerializer",
    audience="the post's audience",
    reasons=(MENTION,),
    push_ids=("post_id", "comment_id"),
    quotes=(Quote("post", "post_id"), Quote("comment", "id")),
)
COMMENT_DELETED = EventType(
    name="comment.deleted",
    summary="A comment was deleted by its author, or hidden or removed by moderation: drop it.",
    payload="feed.event_payloads.RemovedCommentSerializer",
    audience="the post's audience",
)
REACTION_UPDATED = EventType(
    name="reaction.updated",
    summary="Someone set, changed or took back their reaction to a post (`type` null: taken back).",
    payload="feed.event_payloads.ReactionUpdatedSerializer",
    audience="the post's audience",
)
ANNOUNCEMENT_ACKNOWLEDGED = EventType(
    name="announcement.acknowledged",
    summary="Someone acknowledged an announcement: its live reach.",
    payload="feed.event_payloads.AcknowledgedSerializer",
    audience="the post's author",
)
GOAL_UPDATED = EventType(
    name="goal.updated",
    summary="A goal was created, changed or reported on.",
    payload="feed.event_payloads.GoalUpdatedSerializer",
    audience="the goal's audience: the organisation, or the members of its groups",
    audience_pushes=(AudiencePush(GOAL_PUSH),),
    push_ids=("goal_id",),
)
KEY_MOMENT_UPDATED = EventType(
    name="key_moment.updated",
    summary="A key moment of the customer journey was created or changed.",
    payload="feed.event_payloads.KeyMomentUpdatedSerializer",
    audience="the key moment's audience: the organisation, or the members of its groups",
    audience_pushes=(AudiencePush(KEY_MOMENT_PUSH),),
    push_ids=("key_moment_id",),
)

POLL_UPDATED = EventType(
    name="poll.updated",
    summary="Votes on a post's poll changed, or it closed: at most one frame per post per second, the last with the final counts.",
    payload="feed.poll_serializers.PollUpdatedSerializer",
    audience="the post's audience (no push)",
)

EVENT_TYPES = (
    POST_CREATED,
    POST_UPDATED,
    POST_DELETED,
    COMMENT_CREATED,
    COMMENT_UPDATED,
    COMMENT_DELETED,
    REACTION_UPDATED,
    ANNOUNCEMENT_ACKNOWLEDGED,
    GOAL_UPDATED,
    KEY_MOMENT_UPDATED,
    POLL_UPDATED,
)
REASONS = (MENTION, COMMENT, ANNOUNCEMENT, REPLY)
