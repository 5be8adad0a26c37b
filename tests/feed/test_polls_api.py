"""Polls in posts (issue #21) through the API, as a phone uses them: create, vote, change,
withdraw, close (early and by time), result visibility, roles, audience, voters, query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import MembershipRole
from feed import services
from feed.models import Poll, PollOption, PollVote
from feed.services import polls
from tests.factories import AdminFactory, GroupFactory, LeaderFactory, MembershipFactory, OrganizationFactory, UserFactory


@pytest.fixture(autouse=True)
def no_deferred_frames(monkeypatch):
    """Trailing poll.updated frames are timers a second later (tests/realtime covers them);
    here they are only recorded, so no thread outlives a test."""
    deferred: list = []
    monkeypatch.setattr(polls, "_run_later", lambda delay, job: deferred.append((delay, job)))
    return deferred


def create(client, **poll):
    poll.setdefault("options", ["Pizza", "Soup", "Salad"])
    response = client.post("/api/v1/posts", {"body": "Lunch on Friday?", "poll": poll}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def vote(client, card, *texts):
    ids = [option["id"] for option in card["poll"]["options"] if option["text"] in texts]
    return client.put(f"/api/v1/posts/{card['id']}/poll/vote", {"option_ids": ids}, format="json")


def counts(card):
    return {option["text"]: option.get("votes") for option in card["poll"]["options"]}


@pytest.fixture
def people(org):
    org.org_wide_posting_open = True
    org.save(update_fields=["org_wide_posting_open"])
    return [UserFactory(organization=org) for _ in range(3)]


# --- Create -----------------------------------------------------------------------------------


def test_a_post_carries_a_poll_and_its_card_shows_it(api, employee, people):
    card = create(api(employee), multiple=False, results="always")
    poll = card["poll"]
    assert [option["text"] for option in poll["options"]] == ["Pizza", "Soup", "Salad"]
    assert poll | {"options": None} == {
        "options": None,
        "total_votes": 0,
        "my_votes": [],
        "results_visible": True,
        "multiple": False,
        "results": "always",
        "anonymous": True,
        "closes_at": None,
        "closed": False,
    }
    assert counts(card) == {"Pizza": 0, "Soup": 0, "Salad": 0}
    assert api(people[0]).get(f"/api/v1/posts/{card['id']}").json()["poll"]["options"] == poll["options"]


@pytest.mark.parametrize(
    ("poll", "field"),
    [
        ({"options": ["Only one"]}, "options"),
        ({"options": [f"Option {n}" for n in range(11)]}, "options"),
        ({"options": []}, "options"),
        ({"options": ["Pizza", "pizza"]}, "options"),
        ({"options": ["Pizza", "   "]}, None),
        ({"options": ["Pizza", "x" * 201]}, "options"),
        ({"options": ["Pizza", "Soup"], "results": "never"}, "results"),
        ({"options": ["Pizza", "Soup"], "closes_at": "2020-01-01T00:00:00Z"}, "closes_at"),
        ({"options": ["Pizza", "Soup"], "colour": "red"}, None),
    ],
)
def test_a_poll_is_refused_with_400(api, employee, people, poll, field):
    response = api(employee).post("/api/v1/posts", {"body": "Lunch?", "poll": poll}, format="json")
    assert response.status_code == 400, response.json()
    if field is not None:
        assert field in response.json()["error"]["fields"]["poll"]
    assert not Poll.objects.exists()


def test_ten_options_are_allowed(api, employee, people):
    card = create(api(employee), options=[f"Option {n}" for n in range(10)])
    assert len(card["poll"]["options"]) == 10


# --- Vote, change, withdraw ---------------------------------------------------------------------


def test_vote_change_and_withdraw_keep_the_counts_exact(api, employee, people):
    card = create(api(employee))
    alice, bob = api(people[0]), api(people[1])
    voted = vote(alice, card, "Pizza")
    assert voted.status_code == 200
    assert counts(voted.json()) == {"Pizza": 1, "Soup": 0, "Salad": 0}
    assert voted.json()["poll"]["my_votes"] == [PollOption.objects.get(text="Pizza").pk]
    vote(bob, card, "Pizza")
    changed = vote(alice, card, "Soup").json()
    assert counts(changed) == {"Pizza": 1, "Soup": 1, "Salad": 0} and changed["poll"]["total_votes"] == 2
    assert vote(alice, card, "Soup").status_code == 200  # the same choice again changes nothing
    assert alice.delete(f"/api/v1/posts/{card['id']}/poll/vote").status_code == 204
    after = alice.get(f"/api/v1/posts/{card['id']}").json()
    assert counts(after) == {"Pizza": 1, "Soup": 0, "Salad": 0}
    assert after["poll"]["total_votes"] == 1 and after["poll"]["my_votes"] == []
    assert alice.delete(f"/api/v1/posts/{card['id']}/poll/vote").status_code == 204  # idempotent


def test_single_choice_takes_one_option_multiple_takes_several(api, employee, people):
    single, multiple = create(api(employee)), create(api(employee), multiple=True)
    client = api(people[0])
    refused = vote(client, single, "Pizza", "Soup")
    assert refused.status_code == 400 and "option_ids" in refused.json()["error"]["fields"]
    both = vote(client, multiple, "Pizza", "Soup").json()
    assert counts(both) == {"Pizza": 1, "Soup": 1, "Salad": 0}
    assert both["poll"]["total_votes"] == 1  # people, not ticks
    narrowed = vote(client, multiple, "Salad").json()
    assert counts(narrowed) == {"Pizza": 0, "Soup": 0, "Salad": 1} and narrowed["poll"]["total_votes"] == 1


def test_option_ids_of_another_poll_or_none_are_a_400(api, employee, people):
    card, other = create(api(employee)), create(api(employee), options=["Yes", "No"])
    client = api(people[0])
    foreign = other["poll"]["options"][0]["id"]
    for option_ids in ([foreign], [], [card["poll"]["options"][0]["id"], foreign]):
        response = client.put(f"/api/v1/posts/{card['id']}/poll/vote", {"option_ids": option_ids}, format="json")
        assert response.status_code == 400 and "option_ids" in response.json()["error"]["fields"], option_ids
    assert not PollVote.objects.exists()


def test_a_post_without_a_poll_has_no_poll_routes(api, employee, people):
    post = services.post_create(author=employee, body="No poll here")
    client = api(people[0])
    assert client.put(f"/api/v1/posts/{post.pk}/poll/vote", {"option_ids": [1]}, format="json").status_code == 404
    assert client.delete(f"/api/v1/posts/{post.pk}/poll/vote").status_code == 404
    assert api(employee).post(f"/api/v1/posts/{post.pk}/poll/close").status_code == 404
    assert client.get(f"/api/v1/posts/{post.pk}").json()["poll"] is None


# --- Result visibility --------------------------------------------------------------------------


def test_always_shows_counts_to_everyone(api, employee, people):
    card = create(api(employee), results="always")
    vote(api(people[0]), card, "Pizza")
    seen = api(people[1]).get(f"/api/v1/posts/{card['id']}").json()["poll"]
    assert seen["results_visible"] and seen["total_votes"] == 1 and seen["options"][0]["votes"] == 1


def test_after_vote_hides_counts_and_total_until_i_vote(api, employee, people):
    card = create(api(employee), results="after_vote")
    vote(api(people[0]), card, "Pizza")
    client = api(people[1])
    before = client.get(f"/api/v1/posts/{card['id']}").json()["poll"]
    assert before["total_votes"] is None and not before["results_visible"]
    assert all("votes" not in option for option in before["options"])
    after = vote(client, card, "Soup").json()["poll"]
    assert after["results_visible"] and after["total_votes"] == 2
    assert [option["votes"] for option in after["options"]] == [1, 1, 0]
    # The feed shows the same card.
    feed_card = next(c for c in client.get("/api/v1/feed").json()["results"] if c["id"] == card["id"])
    assert feed_card["poll"] == after


def test_after_close_hides_counts_from_voters_too_until_it_closes(api, employee, people):
    card = create(api(employee), results="after_close")
    voter = api(people[0])
    hidden = vote(voter, card, "Pizza").json()["poll"]
    assert hidden["total_votes"] is None and "votes" not in hidden["options"][0] and hidden["my_votes"]
    closed = api(employee).post(f"/api/v1/posts/{card['id']}/poll/close").json()["poll"]
    assert closed["closed"] and closed["results_visible"] and closed["total_votes"] == 1
    other = api(people[1]).get(f"/api/v1/posts/{card['id']}").json()["poll"]
    assert other["options"][0]["votes"] == 1 and other["my_votes"] == []


# --- Closing ---------------------------------------------------------------------------------------


def test_after_an_early_close_votes_and_withdrawals_are_409(api, employee, people):
    card = create(api(employee))
    voter = api(people[0])
    vote(voter, card, "Pizza")
    assert api(employee).post(f"/api/v1/posts/{card['id']}/poll/close").status_code == 200
    assert api(employee).post(f"/api/v1/posts/{card['id']}/poll/close").status_code == 200  # idempotent
    for response in (vote(voter, card, "Soup"), voter.delete(f"/api/v1/posts/{card['id']}/poll/vote"), vote(api(people[1]), card, "Soup")):
        assert response.status_code == 409 and response.json()["error"]["code"] == "poll_closed"
    assert counts(voter.get(f"/api/v1/posts/{card['id']}").json()) == {"Pizza": 1, "Soup": 0, "Salad": 0}


def test_a_poll_closes_at_its_closing_time(api, employee, people, django_capture_on_commit_callbacks, events):
    closes_at = timezone.now() + timedelta(hours=1)
    card = create(api(employee), closes_at=closes_at.isoformat(), results="after_close")
    voter = api(people[0])
    assert vote(voter, card, "Pizza").status_code == 200
    Poll.objects.filter(pk=card["id"]).update(closes_at=timezone.now() - timedelta(seconds=1))  # time passes
    response = vote(voter, card, "Soup")
    assert response.status_code == 409 and response.json()["error"]["code"] == "poll_closed"
    shown = voter.get(f"/api/v1/posts/{card['id']}").json()["poll"]
    assert shown["closed"] and shown["options"][0]["votes"] == 1  # closed from closes_at on, before the job ran
    events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert polls.polls_close_due() == 1
        assert polls.polls_close_due() == 0  # recorded once
    [announced] = [event for event in events if event["type"] == "poll.updated"]
    assert announced["payload"]["poll"]["closed"] and announced["payload"]["poll"]["total_votes"] == 1
    assert Poll.objects.get(pk=card["id"]).closed_at is not None


def test_who_may_close_a_poll(api, org, employee, people):
    team = GroupFactory(organization=org)
    manager, plain_leader, admin = LeaderFactory(organization=org), LeaderFactory(organization=org), AdminFactory(organization=org)
    MembershipFactory(group=team, user=manager, role=MembershipRole.MANAGER)
    MembershipFactory(group=team, user=plain_leader)
    MembershipFactory(group=team, user=employee)
    MembershipFactory(group=team, user=people[0])

    def group_poll():
        response = api(employee).post(
            "/api/v1/posts", {"body": "Team lunch?", "group_ids": [team.pk], "poll": {"options": ["A", "B"]}}, format="json"
        )
        return response.json()["id"]

    post_id = group_poll()
    assert api(people[0]).post(f"/api/v1/posts/{post_id}/poll/close").status_code == 403
    assert api(plain_leader).post(f"/api/v1/posts/{post_id}/poll/close").status_code == 403
    for closer in (manager, admin, employee):
        post_id = group_poll()
        assert api(closer).post(f"/api/v1/posts/{post_id}/poll/close").json()["poll"]["closed"]
    org_wide = create(api(employee))
    assert api(people[1]).post(f"/api/v1/posts/{org_wide['id']}/poll/close").status_code == 403
    assert api(plain_leader).post(f"/api/v1/posts/{org_wide['id']}/poll/close").status_code == 200


# --- Audience ---------------------------------------------------------------------------------------


def test_only_the_posts_audience_votes(api, org, leader):
    team = GroupFactory(organization=org)
    member, outsider, admin = UserFactory(organization=org), UserFactory(organization=org), AdminFactory(organization=org)
    MembershipFactory(group=team, user=member)
    MembershipFactory(group=team, user=leader, role=MembershipRole.MANAGER)
    stranger = UserFactory(organization=OrganizationFactory())
    response = api(leader).post(
        "/api/v1/posts", {"body": "Shift swap?", "group_ids": [team.pk], "poll": {"options": ["A", "B"]}}, format="json"
    )
    card = response.json()
    assert vote(api(member), card, "A").status_code == 200
    assert vote(api(outsider), card, "A").status_code == 404  # cannot see the post
    assert vote(api(stranger), card, "A").status_code == 404
    refused = vote(api(admin), card, "A")  # sees it to moderate, is not addressed
    assert refused.status_code == 403
    assert PollVote.objects.count() == 1


# --- Who voted what ------------------------------------------------------------------------------------


def test_a_named_polls_voters_are_for_its_author_only(api, employee, people):
    card = create(api(employee), anonymous=False, multiple=True)
    vote(api(people[0]), card, "Pizza", "Soup")
    vote(api(people[1]), card, "Salad")
    listed = api(employee).get(f"/api/v1/posts/{card['id']}/poll/voters")
    assert listed.status_code == 200
    rows = listed.json()["results"]
    assert [(row["user"]["id"], row["option_id"]) for row in rows] == [
        (people[0].pk, PollOption.objects.get(text="Pizza").pk),
        (people[0].pk, PollOption.objects.get(text="Soup").pk),
        (people[1].pk, PollOption.objects.get(text="Salad").pk),
    ]
    assert api(people[0]).get(f"/api/v1/posts/{card['id']}/poll/voters").status_code == 403


def test_nobody_sees_who_voted_in_an_anonymous_poll(api, employee, people, org):
    card = create(api(employee))
    vote(api(people[0]), card, "Pizza")
    for person in (employee, people[0], AdminFactory(organization=org)):
        response = api(person).get(f"/api/v1/posts/{card['id']}/poll/voters")
        assert response.status_code == 403
    # No person anywhere in the card's poll (a bare id would also match a count or an option id).
    poll = api(employee).get(f"/api/v1/posts/{card['id']}").json()["poll"]
    assert people[0].name not in str(poll) and not any(key in str(poll) for key in ("'user'", "'voters'"))


@pytest.mark.parametrize("page_size", [1, 20])
def test_the_voters_list_is_a_fixed_number_of_queries(api, employee, org, people, django_assert_num_queries, page_size):
    card = create(api(employee), anonymous=False)
    poll = Poll.objects.get(pk=card["id"])
    option = poll.options.first()
    PollVote.objects.bulk_create([PollVote(poll=poll, option=option, user=UserFactory(organization=org)) for _ in range(25)])
    client = api(employee)
    client.get(f"/api/v1/posts/{card['id']}")  # the token's first use
    # token+user, post, poll, votes with their voters and avatars
    with django_assert_num_queries(4):
        response = client.get(f"/api/v1/posts/{card['id']}/poll/voters", {"page_size": page_size})
    assert len(response.json()["results"]) == page_size


@pytest.mark.parametrize("page_size", [1, 20])
def test_a_feed_of_polls_stays_at_its_query_count(api, employee, org, people, django_assert_num_queries, page_size):
    for index in range(25):
        post = services.post_create(author=employee, body=f"Poll {index}", poll={"options": ["A", "B", "C"], "multiple": True})
        poll = Poll.objects.get(pk=post.pk)
        for person in people:
            polls.poll_vote(user=person, post_id=poll.pk, option_ids=list(poll.options.values_list("pk", flat=True)[:2]))
    client = api(people[0])
    client.get("/api/v1/feed")
    # token+user, pinned block, posts page, card data: the same four as a feed without polls
    with django_assert_num_queries(4):
        results = client.get("/api/v1/feed", {"page_size": page_size}).json()["results"]
    assert len(results) == page_size
    assert all(card["poll"]["total_votes"] == 3 and len(card["poll"]["my_votes"]) == 2 for card in results)


# --- poll.updated: what the frame carries -------------------------------------------------------------


@pytest.mark.parametrize(("results", "shown"), [("always", True), ("after_vote", False), ("after_close", False)])
def test_the_frame_carries_counts_only_when_every_recipient_may_see_them(
    api, employee, people, events, django_capture_on_commit_callbacks, no_deferred_frames, results, shown
):
    card = create(api(employee), results=results)
    events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        vote(api(people[0]), card, "Pizza")
    [frame] = [event for event in events if event["type"] == "poll.updated"]
    assert frame["organization_id"] == employee.organization_id and frame["org_wide"]
    poll = frame["payload"]["poll"]
    assert frame["payload"]["post_id"] == card["id"] and "my_votes" not in poll
    assert poll["results_visible"] is shown
    assert (poll["total_votes"] == 1) if shown else (poll["total_votes"] is None and all("votes" not in o for o in poll["options"]))
    # Closing shows everyone the counts: its frame carries them whatever the rule.
    events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        api(employee).post(f"/api/v1/posts/{card['id']}/poll/close")
    assert not [event for event in events if event["type"] == "poll.updated"]  # within the second: coalesced
    [(delay, trailing)] = no_deferred_frames
    assert delay == 1
    with django_capture_on_commit_callbacks(execute=True):
        trailing()
    [closed] = [event for event in events if event["type"] == "poll.updated"]
    assert closed["payload"]["poll"]["closed"] and closed["payload"]["poll"]["total_votes"] == 1


def test_votes_within_the_interval_leave_one_trailing_frame(
    api, employee, people, events, django_capture_on_commit_callbacks, no_deferred_frames
):
    card = create(api(employee))
    events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        for person in people:
            vote(api(person), card, "Soup")
    assert len([event for event in events if event["type"] == "poll.updated"]) == 1  # the leading frame
    assert len(no_deferred_frames) == 1  # one trailing frame for the other two votes
    with django_capture_on_commit_callbacks(execute=True):
        no_deferred_frames[0][1]()
    last = [event for event in events if event["type"] == "poll.updated"][-1]
    assert last["payload"]["poll"]["total_votes"] == 3
