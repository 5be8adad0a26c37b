"""Polls in posts (issue #21): create with the post, vote, change or withdraw a vote, close, and
`poll.updated` coalesced to at most one frame per post per interval.

Votes and closing lock the poll's row, so the maintained counts (Poll.voter_count,
PollOption.vote_count) stay exact and no vote lands after a close.

Coalescing (`poll_changed`, after commit): the first change after a quiet interval announces at
once (leading edge); changes within the interval leave one trailing announcement, scheduled an
interval later, which reads the counts when it runs, so the final counts always arrive. The
state is two cache keys per post (Redis `SET NX EX` with REDIS_URL): `window` (a frame went out
less than an interval ago) and `pending` (a trailing frame is scheduled). No periodic job: a
quiet poll costs nothing. With Celery workers the trailing frame is a task with a countdown;
in the embedded default tasks run eagerly, so it is a timer on the server's event loop (or a
thread outside one) that runs the same task there.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from asgiref.sync import SyncToAsync, sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from feed import events
from feed.models import Post
from feed.poll_cards import poll_event_state
from feed.poll_models import MAX_POLL_OPTIONS, MIN_POLL_OPTIONS, Poll, PollOption, PollResults, PollVote
from feed.selectors import polls as poll_selectors
from feed.selectors.posts import may_moderate
from notifications import services as notifications
from server.api.exceptions import Conflict, NotAllowed, ValidationFailed
from server.api.text import clean_text

logger = logging.getLogger(__name__)

# A trailing frame scheduled but lost (a worker killed) blocks frames of its post this long at most.
PENDING_TTL_SECONDS = 10


# --- Create (with the post) ------------------------------------------------------------------


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, fields={"poll": {field: [message]}})


def poll_validate(*, poll: dict[str, Any], visible_from: datetime) -> dict[str, Any]:
    """The poll of a post being written, checked and cleaned; raises 400 on `poll.<field>`."""
    options = poll.get("options") or []
    if not MIN_POLL_OPTIONS <= len(options) <= MAX_POLL_OPTIONS:
        raise _invalid("options", _("A poll has %(min)d to %(max)d options.") % {"min": MIN_POLL_OPTIONS, "max": MAX_POLL_OPTIONS})
    texts = [clean_text(text, field="poll") for text in options]
    if len({text.casefold() for text in texts}) != len(texts):
        raise _invalid("options", _("Two options have the same text."))
    results = poll.get("results") or PollResults.ALWAYS
    if results not in PollResults.values:
        raise _invalid("results", _("Unknown results rule."))
    closes_at = poll.get("closes_at")
    if closes_at is not None and closes_at <= visible_from:
        raise _invalid("closes_at", _("The poll must close after the post is published."))
    return {
        "options": texts,
        "multiple": bool(poll.get("multiple", False)),
        "results": results,
        "anonymous": bool(poll.get("anonymous", True)),
        "closes_at": closes_at,
    }


def poll_create(*, post: Post, poll: dict[str, Any]) -> Poll:
    """Inside post creation's transaction, before the post is announced (its card shows the poll)."""
    created = Poll.objects.create(
        post=post,
        multiple=poll["multiple"],
        results=poll["results"],
        anonymous=poll["anonymous"],
        closes_at=poll["closes_at"],
        created_at=post.created_at,
    )
    PollOption.objects.bulk_create([PollOption(poll=created, position=index, text=text) for index, text in enumerate(poll["options"])])
    return created


# --- Vote ---------------------------------------------------------------------------------------


def _open_for(*, user: User, poll: Poll) -> None:
    if not poll_selectors.in_poll_audience(user=user, post=poll.post):
        raise NotAllowed(_("Only the people the post is addressed to can vote."))
    if poll.is_closed():
        raise Conflict(_("This poll is closed."), code="poll_closed")


def _choices(*, poll: Poll, option_ids: list[int]) -> set[int]:
    chosen = list(dict.fromkeys(option_ids))
    if not chosen:
        message = _("Choose an option (DELETE withdraws a vote).")
        raise ValidationFailed(message, fields={"option_ids": [message]})
    if len(chosen) > 1 and not poll.multiple:
        message = _("This poll takes one option.")
        raise ValidationFailed(message, fields={"option_ids": [message]})
    found = set(PollOption.objects.filter(poll=poll, pk__in=chosen).values_list("pk", flat=True))
    unknown = [option_id for option_id in chosen if option_id not in found]
    if unknown:
        message = _("Not options of this poll: %(ids)s.") % {"ids": ", ".join(map(str, unknown))}
        raise ValidationFailed(message, fields={"option_ids": [message]})
    return found


def _set_votes(*, poll: Poll, user: User, chosen: set[int]) -> bool:
    """Replace the user's votes by `chosen` under the poll's row lock; False when nothing changed."""
    current = poll_selectors.poll_votes_of(poll=poll, user=user)
    if current == chosen:
        return False
    dropped, added = current - chosen, chosen - current
    voters = 0 if bool(current) == bool(chosen) else (1 if chosen else -1)
    if connection.vendor == "postgresql":
        _apply_votes(poll_id=poll.pk, user_id=user.pk, dropped=sorted(dropped), added=sorted(added), voters=voters)
    else:
        if dropped:
            PollVote.objects.filter(poll=poll, user=user, option_id__in=dropped).delete()
            PollOption.objects.filter(pk__in=dropped).update(vote_count=F("vote_count") - 1)
        if added:
            now = timezone.now()
            PollVote.objects.bulk_create(
                [PollVote(poll=poll, option_id=option_id, user=user, created_at=now) for option_id in sorted(added)]
            )
            PollOption.objects.filter(pk__in=added).update(vote_count=F("vote_count") + 1)
        if voters:
            Poll.objects.filter(pk=poll.pk).update(voter_count=F("voter_count") + voters)
    post_id = poll.pk
    transaction.on_commit(lambda: poll_changed(post_id=post_id))
    return True


def _locked_open(poll: Poll) -> Poll:
    """The poll's row lock, taken after every check that does not need it: each vote holds it, so
    what runs under it bounds the votes per second of one poll (S1). Closing takes the same lock,
    so whether it is still open is read again under it."""
    locked = Poll.objects.select_for_update().only("post_id", "closed_at", "closes_at").get(pk=poll.pk)
    if locked.is_closed():
        raise Conflict(_("This poll is closed."), code="poll_closed")
    return poll


def _apply_votes(*, poll_id: int, user_id: int, dropped: list[int], added: list[int], voters: int) -> None:
    """PostgreSQL: the votes dropped and added and every count they change, in one statement
    (data-modifying CTEs) instead of up to five, under the poll's row lock: the lock is held for
    as many round trips fewer (S1: 10,000 votes a minute on one poll)."""
    vote, option, poll = (model._meta.db_table for model in (PollVote, PollOption, Poll))
    sql = f"""
        WITH dropped AS (
            DELETE FROM {vote} WHERE poll_id = %(poll)s AND user_id = %(user)s AND option_id = ANY(%(dropped)s::bigint[])
            RETURNING option_id
        ), added AS (
            INSERT INTO {vote} (poll_id, option_id, user_id, created_at)
            SELECT %(poll)s, chosen, %(user)s, %(now)s FROM unnest(%(added)s::bigint[]) AS chosen
            RETURNING option_id
        ), counted AS (
            UPDATE {option} SET vote_count = {option}.vote_count + change.delta
            FROM (
                SELECT option_id, sum(delta)::integer AS delta
                FROM (SELECT option_id, -1 AS delta FROM dropped UNION ALL SELECT option_id, 1 FROM added) AS changes
                GROUP BY option_id
            ) AS change
            WHERE {option}.id = change.option_id
            RETURNING 1
        )
        UPDATE {poll} SET voter_count = voter_count + %(voters)s WHERE {Poll._meta.pk.column} = %(poll)s AND %(voters)s <> 0
    """  # noqa: S608 (table names from the models; every value a parameter)
    values = {"poll": poll_id, "user": user_id, "dropped": dropped, "added": added, "now": timezone.now(), "voters": voters}
    with connection.cursor() as cursor:
        cursor.execute(sql, values)


def poll_vote(*, user: User, post_id: int, option_ids: list[int]) -> None:
    """Vote, or change one's vote, while the poll is open (409 `poll_closed` after)."""
    poll = poll_selectors.access_poll(user=user, post_id=post_id)
    _open_for(user=user, poll=poll)
    chosen = _choices(poll=poll, option_ids=option_ids)
    with transaction.atomic():
        _set_votes(poll=_locked_open(poll), user=user, chosen=chosen)


def poll_vote_withdraw(*, user: User, post_id: int) -> None:
    poll = poll_selectors.access_poll(user=user, post_id=post_id)
    _open_for(user=user, poll=poll)
    with transaction.atomic():
        _set_votes(poll=_locked_open(poll), user=user, chosen=set())


# --- Close ----------------------------------------------------------------------------------------


def may_close(*, user: User, post: Post) -> bool:
    """The author, an admin, or a leader: any leader for an org-wide post, a manager of one of
    its groups for a group post (who moderates it)."""
    if post.author_id == user.pk or user.is_org_admin:
        return True
    return user.is_leader_or_admin and (post.org_wide or may_moderate(user=user, post=post))


def poll_close(*, actor: User, post_id: int) -> Poll:
    """Close early; idempotent (a closed poll stays as it is)."""
    with transaction.atomic():
        poll = poll_selectors.access_poll(user=actor, post_id=post_id, lock=True)
        if not may_close(user=actor, post=poll.post):
            raise NotAllowed(_("Only the author, a leader or an admin can close a poll."))
        if poll.closed_at is None:
            now = timezone.now()
            # Past its closing time it was already closed: record that moment, not now.
            poll.closed_at = min(now, poll.closes_at) if poll.closes_at is not None else now
            poll.closed_by = actor
            poll.save(update_fields=["closed_at", "closed_by"])
            transaction.on_commit(lambda: poll_changed(post_id=poll.pk))
        return poll


def polls_close_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Beat, every minute: record polls whose closing time has passed and announce them (their
    counts now show to everyone). The poll is closed from closes_at on whatever this job does."""
    now = now or timezone.now()
    due = list(Poll.objects.filter(closed_at__isnull=True, closes_at__lte=now).order_by("closes_at").values_list("pk", flat=True)[:limit])
    closed = 0
    for post_id in due:
        with transaction.atomic():
            # The guarded update is the idempotency: of two overlapping runs, one records it.
            if Poll.objects.filter(pk=post_id, closed_at__isnull=True).update(closed_at=F("closes_at")):
                closed += 1
                transaction.on_commit(functools.partial(poll_changed, post_id=post_id))
    return closed


# --- poll.updated, coalesced -----------------------------------------------------------------------


def _window_key(post_id: int) -> str:
    return f"poll-frame:{post_id}:window"


def _pending_key(post_id: int) -> str:
    return f"poll-frame:{post_id}:pending"


def poll_changed(*, post_id: int) -> None:
    """After a committed change: announce now, or leave one trailing announcement (module doc)."""
    interval = settings.POLL_FRAME_INTERVAL_SECONDS
    try:
        if cache.get(_pending_key(post_id)):
            return  # the trailing frame reads the counts when it runs, this change included
        if cache.add(_window_key(post_id), 1, timeout=interval):
            from feed.tasks import poll_updated_announce_task  # tasks import the services

            poll_updated_announce_task.delay(post_id)
        elif cache.add(_pending_key(post_id), 1, timeout=PENDING_TTL_SECONDS):
            _announce_later(post_id=post_id, countdown=interval)
    except Exception:
        # The vote is committed; a frame is a courtesy (catch-up and the card carry the counts).
        logger.exception("poll.updated for post %s not scheduled", post_id)


def poll_trailing_announce(*, post_id: int) -> bool:
    """The trailing frame: it opens a new window first, so the next change waits an interval."""
    cache.set(_window_key(post_id), 1, timeout=settings.POLL_FRAME_INTERVAL_SECONDS)
    cache.delete(_pending_key(post_id))
    return poll_updated_announce(post_id=post_id)


def poll_updated_announce(*, post_id: int) -> bool:
    """Emit `poll.updated` with the counts as they are now; False when the post is gone."""
    from feed.services.posts import post_audience  # posts imports this module

    with transaction.atomic():
        poll = (
            Poll.objects.filter(pk=post_id, post__published_at__isnull=False, post__removed_at__isnull=True, post__hidden_at__isnull=True)
            .select_related("post")
            .prefetch_related("options")
            .first()
        )
        if poll is None:
            return False
        now = timezone.now()
        # Catch-up (/feed/updates) hands the card out again: a reconnecting phone gets the counts.
        Post.objects.filter(pk=post_id).update(updated_at=now)
        payload = {"post_id": post_id, "poll": poll_event_state(poll, now=now)}
        notifications.emit(events.POLL_UPDATED, payload=payload, **post_audience(poll.post))
    return True


def _announce_later(*, post_id: int, countdown: float) -> None:
    from feed.tasks import poll_updated_announce_task

    if not poll_updated_announce_task.app.conf.task_always_eager:
        poll_updated_announce_task.apply_async((post_id,), {"trailing": True}, countdown=countdown)
        return
    # Eager tasks ignore a countdown (they would run now): wait in this process instead.
    _run_later(countdown, functools.partial(poll_updated_announce_task.apply, args=(post_id,), kwargs={"trailing": True}))


_background: set[asyncio.Task] = set()


def _run_later(delay: float, job: Callable[[], Any]) -> None:
    def run() -> None:
        try:
            job()
        except Exception:
            logger.exception("Deferred poll frame failed")
        finally:
            connections.close_all()  # this thread's own connections

    loop = _server_loop()
    if loop is None and connections["default"].vendor == "sqlite" and connections["default"].is_in_memory_db():
        # Another thread's connection to an in-memory database sees an empty one (a management
        # command or test on `sqlite://:memory:`, never a server): send the trailing frame now.
        run()
        return
    if loop is None:
        timer = threading.Timer(delay, run)
        timer.daemon = True
        timer.start()
        return

    def start() -> None:
        # Entered as a request is (sync_to_async from the server's loop): Channels' in-memory
        # layer, which belongs to that loop, is reached from it.
        task = loop.create_task(sync_to_async(run, thread_sensitive=False)())
        _background.add(task)
        task.add_done_callback(_background.discard)

    loop.call_soon_threadsafe(loop.call_later, delay, start)


def _server_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop of the ASGI server this request runs under, if any."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        pass
    local = SyncToAsync.threadlocal
    if getattr(local, "main_event_loop_pid", None) == os.getpid():
        loop = getattr(local, "main_event_loop", None)
        if loop is not None and not loop.is_closed():
            return loop
    return None
