"""Samples of the feed's events for the catalogue test (tests/notifications/test_catalogue.py).

Each raises its event type through the real services, in the variants its payload has.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from feed import services as feed
from feed.services import archive, goals, polls
from feed.services.mandatory_reads import mandatory_reads_process
from feed.services.remind_now import post_remind_now


def post_created(world) -> None:
    feed.post_create(author=world.employee, body=f"Who swaps a shift? @[user:{world.colleague.pk}]")
    feed.post_create(author=world.leader, body="New tills on Monday", kind="announcement", requires_acknowledgement=True)
    feed.post_create(author=world.leader, body="The bakery closes early", kind="announcement", group_ids=[world.group.pk])
    feed.post_create(author=world.employee, body="Lunch?", poll={"options": ["Pizza", "Soup"], "results": "after_vote"})


def post_updated(world) -> None:
    post = feed.post_create(author=world.employee, body="Lost keys")
    feed.post_update(actor=world.employee, post=post, body="Lost keys near the lockers")
    feed.post_pin(actor=world.leader, post=post, pinned=True)
    deadline = timezone.now() + timedelta(days=3)
    feed.post_create(
        author=world.leader, body="Read the manual", kind="announcement", requires_acknowledgement=True, acknowledgement_deadline=deadline
    )
    world.settings.FEED_ACK_REMINDER_OFFSETS_MINUTES = [24 * 60]
    mandatory_reads_process(now=deadline - timedelta(hours=23))  # a reminder
    mandatory_reads_process(now=deadline + timedelta(minutes=1))  # the summary after the deadline
    must_read = feed.post_create(author=world.leader, body="Read the rota", kind="announcement", requires_acknowledgement=True)
    post_remind_now(actor=world.leader, post=must_read)  # a reminder by hand, without a deadline


def post_deleted(world) -> None:
    feed.post_delete(actor=world.employee, post=feed.post_create(author=world.employee, body="Oops"))


def comment_created(world) -> None:
    post = feed.post_create(author=world.leader, body="Ideas for the window display?")
    comment = feed.comment_create(author=world.employee, post=post, body=f"Ask @[user:{world.colleague.pk}], she did it last year")
    feed.comment_create(author=world.colleague, post=post, body="Happy to help", parent_id=comment.pk)  # a reply


def comment_updated(world) -> None:
    post = feed.post_create(author=world.leader, body="Ideas for the window display?")
    comment = feed.comment_create(author=world.employee, post=post, body="Flowers!")
    feed.comment_update(actor=world.employee, comment=comment, body=f"Flowers! @[user:{world.colleague.pk}] knows a florist")


def comment_deleted(world) -> None:
    post = feed.post_create(author=world.leader, body="Ideas for the window display?")
    feed.comment_delete(actor=world.employee, comment=feed.comment_create(author=world.employee, post=post, body="Flowers!"))


def reaction_updated(world) -> None:
    post = feed.post_create(author=world.leader, body="We hit our target!")
    feed.reaction_set(user=world.employee, post=post, reaction_type="celebrate")
    feed.reaction_delete(user=world.employee, post=post)


def announcement_acknowledged(world) -> None:
    post = feed.post_create(author=world.leader, body="Fire drill at 10", kind="announcement", requires_acknowledgement=True)
    feed.post_acknowledge(user=world.employee, post=post)


def goal_updated(world) -> None:
    goal = goals.goal_create(
        actor=world.leader,
        title="Faster checkout",
        why="Guests wait less",
        how_to_help="Open a second till",
        target_value=60,
        unit="s",
        group_ids=[world.group.pk],
    )
    goals.goal_progress_add(actor=world.leader, goal=goal, note="Down to 70 seconds", current_value=70)


def key_moment_updated(world) -> None:
    moment = goals.key_moment_create(
        actor=world.leader, title="Greeting at the door", description="Within 10 seconds", expected_behaviour="Say hello"
    )
    goals.key_moment_update(actor=world.leader, key_moment=moment, expected_behaviour="Smile and say hello")
    archive.key_moment_set_archived(actor=world.leader, key_moment=moment, archived=True)
    archive.key_moment_set_archived(actor=world.leader, key_moment=moment, archived=False)


def poll_updated(world) -> None:
    # Each on a poll of its own: a second change to one poll within a second is coalesced into
    # a trailing frame a second later.
    shown = feed.post_create(author=world.employee, body="Lunch?", poll={"options": ["Pizza", "Soup"]})
    hidden = feed.post_create(
        author=world.employee, body="Dinner?", poll={"options": ["Fish", "Pasta"], "multiple": True, "results": "after_vote"}
    )
    closing = feed.post_create(
        author=world.leader, body="Party?", poll={"options": ["Yes", "No"], "results": "after_close", "anonymous": False}
    )
    pizza, fish = shown.poll.options.get(text="Pizza"), hidden.poll.options.order_by("position")
    polls.poll_vote(user=world.colleague, post_id=shown.pk, option_ids=[pizza.pk])
    polls.poll_vote(user=world.colleague, post_id=hidden.pk, option_ids=[option.pk for option in fish])
    polls.poll_close(actor=world.leader, post_id=closing.pk)


SAMPLES = {
    "post.created": post_created,
    "post.updated": post_updated,
    "post.deleted": post_deleted,
    "comment.created": comment_created,
    "comment.updated": comment_updated,
    "comment.deleted": comment_deleted,
    "reaction.updated": reaction_updated,
    "announcement.acknowledged": announcement_acknowledged,
    "goal.updated": goal_updated,
    "key_moment.updated": key_moment_updated,
    "poll.updated": poll_updated,
}
