"""Reads of polls (issue #21): a post's poll for someone who may open the post, its voters."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Membership, User
from feed.models import Post, PostGroup
from feed.poll_models import Poll, PollVote
from feed.selectors.posts import access_post
from server.api.exceptions import NotFound


def access_poll(*, user: User, post_id: int, lock: bool = False) -> Poll:
    """The poll of a published post the user may open, or NotFound (no such post, or no poll on it).

    `lock`: the poll's row FOR UPDATE, the lock every vote and close takes (counts stay exact).
    """
    post = access_post(user=user, post_id=post_id, include_unpublished=False)
    queryset = Poll.objects.filter(post=post)
    if lock:
        queryset = queryset.select_for_update()
    poll = queryset.first()
    if poll is None:
        raise NotFound()
    poll.post = post
    return poll


def in_poll_audience(*, user: User, post: Post) -> bool:
    """Whom the post is addressed to (and its author). Admins open every post to moderate it;
    they vote only where the post is theirs to read like anyone's."""
    if post.org_wide or post.author_id == user.pk:
        return True
    return Membership.objects.filter(user_id=user.pk, group_id__in=PostGroup.objects.filter(post=post).values("group_id")).exists()


def poll_voters(*, poll: Poll) -> QuerySet[PollVote]:
    """Every vote of a named poll with its voter, in the order cast (the caller checked the right)."""
    # The voter with their avatar, as AUTHOR_RELATED loads a card's author: no query per person.
    return PollVote.objects.filter(poll=poll).select_related("user", "user__avatar__media").order_by("id")


def poll_votes_of(*, poll: Poll, user: User) -> set[int]:
    return set(PollVote.objects.filter(poll=poll, user=user).values_list("option_id", flat=True))
