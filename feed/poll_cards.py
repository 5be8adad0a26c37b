"""The `poll` of a post card, and who may see its counts (issue #21).

The card query (feed.cards) reads a poll in the same single SELECT as the rest of the card:
`poll_card_columns` are three more correlated subqueries (the poll, its options with their
maintained counts, the viewer's own choices), so a page with polls costs no extra query.

Counts are shown when the poll's `results` rule allows it for this viewer:
`always`; `after_vote` once the viewer has voted; `after_close` once the poll is closed;
every poll once it is closed. Hidden counts are absent (`votes`) or null (`total_votes`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.db.models import JSONField, OuterRef, Subquery
from django.db.models.functions import JSONObject
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from feed.poll_models import Poll, PollOption, PollResults, PollVote


def results_visible(*, results: str, closed: bool, voted: bool) -> bool:
    if closed or results == PollResults.ALWAYS:
        return True
    return results == PollResults.AFTER_VOTE and voted


def poll_card_columns(*, with_viewer: bool, viewer_slot: Any) -> dict[str, Any]:
    from feed.cards import JSONList  # feed.cards imports this module

    of_post = {"poll": OuterRef("pk")}
    columns: dict[str, Any] = {
        "poll_state": Subquery(
            Poll.objects.filter(post=OuterRef("pk")).values(
                json=JSONObject(
                    multiple="multiple",
                    results="results",
                    anonymous="anonymous",
                    closes_at="closes_at",
                    closed_at="closed_at",
                    voter_count="voter_count",
                )
            )[:1],
            output_field=JSONField(),
        ),
        "poll_options": Subquery(
            PollOption.objects.filter(**of_post)
            .order_by()
            .values("poll")
            .annotate(rows=JSONList(JSONObject(id="id", text="text", position="position", votes="vote_count"), order_by=("position",)))
            .values("rows"),
            output_field=JSONField(),
        ),
    }
    if with_viewer:
        columns["my_poll_votes"] = Subquery(
            PollVote.objects.filter(**of_post, user_id=viewer_slot)
            .order_by()
            .values("poll")
            .annotate(ids=JSONList("option_id", order_by=("option_id",)))
            .values("ids"),
            output_field=JSONField(),
        )
    return columns


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    moment = parse_datetime(value) if isinstance(value, str) else value
    return timezone.make_aware(moment, UTC) if timezone.is_naive(moment) else moment  # SQLite: naive UTC text


def poll_state(
    *,
    multiple: bool,
    results: str,
    anonymous: bool,
    closes_at: datetime | None,
    closed_at: datetime | None,
    voter_count: int,
    options: list[dict[str, Any]],
    my_votes: list[int],
    now: datetime | None = None,
) -> dict[str, Any]:
    """The poll as the viewer who chose `my_votes` sees it (no choices: someone who has not voted)."""
    from feed.cards import iso

    now = now or timezone.now()
    closed = closed_at is not None or (closes_at is not None and closes_at <= now)
    visible = results_visible(results=results, closed=closed, voted=bool(my_votes))
    return {
        "options": [
            {"id": option["id"], "text": option["text"], **({"votes": option["votes"]} if visible else {})}
            for option in sorted(options, key=lambda option: option["position"])
        ],
        "total_votes": voter_count if visible else None,
        "my_votes": sorted(my_votes),
        "results_visible": visible,
        "multiple": multiple,
        "results": results,
        "anonymous": anonymous,
        "closes_at": iso(closes_at),
        "closed": closed,
    }


def poll_from_row(row: dict[str, Any], *, now: datetime) -> dict[str, Any] | None:
    """The card's `poll` from the card query's row (None: the post has no poll)."""
    state = _json(row["poll_state"])
    if not state:
        return None
    return poll_state(
        multiple=bool(state["multiple"]),
        results=state["results"],
        anonymous=bool(state["anonymous"]),
        closes_at=_time(state["closes_at"]),
        closed_at=_time(state["closed_at"]),
        voter_count=state["voter_count"],
        options=_json(row["poll_options"]) or [],
        my_votes=_json(row.get("my_poll_votes")) or [],
        now=now,
    )


def poll_event_state(poll: Poll, *, now: datetime | None = None) -> dict[str, Any]:
    """What every recipient of a `poll.updated` frame may see: the card's poll for someone who
    has not voted, without `my_votes` (the frame is one text for the whole audience)."""
    options = [{"id": o.pk, "text": o.text, "position": o.position, "votes": o.vote_count} for o in poll.options.all()]
    state = poll_state(
        multiple=poll.multiple,
        results=poll.results,
        anonymous=poll.anonymous,
        closes_at=poll.closes_at,
        closed_at=poll.closed_at,
        voter_count=poll.voter_count,
        options=options,
        my_votes=[],
        now=now,
    )
    del state["my_votes"]
    return state


__all__ = ["poll_card_columns", "poll_event_state", "poll_from_row", "poll_state", "results_visible"]
