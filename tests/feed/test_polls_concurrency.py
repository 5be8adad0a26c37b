"""Votes racing on one poll (PostgreSQL: the vote change runs as one statement under the poll's
row lock): counts stay equal to the votes, whoever changes what, and a close racing the votes
leaves nothing counted after it."""

from __future__ import annotations

import pytest

from feed.poll_models import Poll, PollOption, PollVote
from feed.services import polls
from feed.services import posts as post_services
from server.api.exceptions import Conflict
from tests.concurrency import race
from tests.conftest import requires_postgres
from tests.factories import LeaderFactory, OrganizationFactory, UserFactory

pytestmark = [requires_postgres(), pytest.mark.django_db(transaction=True)]


def _poll(*, multiple: bool):
    org = OrganizationFactory()
    author = LeaderFactory(organization=org)
    post = post_services.post_create(
        author=author, body="Lunch?", poll={"options": ["Pizza", "Soup", "Salad"], "multiple": multiple, "results": "always"}
    )
    return post, list(PollOption.objects.filter(poll_id=post.pk).order_by("position").values_list("pk", flat=True)), org


def _exact(post_id: int) -> None:
    for option in PollOption.objects.filter(poll_id=post_id):
        assert option.vote_count == PollVote.objects.filter(option=option).count(), option.text
    assert Poll.objects.get(pk=post_id).voter_count == PollVote.objects.filter(poll_id=post_id).values("user_id").distinct().count()


@pytest.mark.parametrize("multiple", [False, True])
def test_racing_votes_changes_and_withdrawals_keep_exact_counts(multiple):
    post, options, org = _poll(multiple=multiple)
    people = [UserFactory(organization=org) for _ in range(6)]
    for n, person in enumerate(people):
        polls.poll_vote(user=person, post_id=post.pk, option_ids=[options[n % 3]])
    calls = []
    for n, person in enumerate(people):
        # Each person twice at once (a double tap) and everyone at the same moment: changes,
        # a second option, withdrawals.
        chosen = [options[(n + 1) % 3], options[(n + 2) % 3]] if multiple else [options[(n + 1) % 3]]
        calls.append(lambda person=person, chosen=chosen: polls.poll_vote(user=person, post_id=post.pk, option_ids=chosen))
        if n % 2:
            calls.append(lambda person=person: polls.poll_vote_withdraw(user=person, post_id=post.pk))
        else:
            calls.append(lambda person=person, chosen=chosen: polls.poll_vote(user=person, post_id=post.pk, option_ids=chosen))
    race(calls, expected=(Conflict,))
    _exact(post.pk)
    for person in people[::2]:
        assert PollVote.objects.filter(poll_id=post.pk, user=person).count() == (2 if multiple else 1)


def test_a_close_racing_votes_leaves_no_vote_after_it():
    post, options, org = _poll(multiple=False)
    people = [UserFactory(organization=org) for _ in range(8)]
    author = post.author
    calls = [lambda person=person: polls.poll_vote(user=person, post_id=post.pk, option_ids=[options[0]]) for person in people]
    calls.append(lambda: polls.poll_close(actor=author, post_id=post.pk))
    results = race(calls, expected=(Conflict,))
    closed_at = Poll.objects.get(pk=post.pk).closed_at
    assert closed_at is not None
    assert all(vote.created_at <= closed_at for vote in PollVote.objects.filter(poll_id=post.pk))
    refused = [result for result in results if isinstance(result, Conflict)]
    assert PollVote.objects.filter(poll_id=post.pk).count() + len(refused) == len(people)
    _exact(post.pk)
