"""Award posts and cards name the month in the reader's language ("december 2026", "December 2026"),
not `2026-12` (issue #22): rendered when the card is served, so each reader gets their own."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feed.models import Post
from recognition.models import AwardResult
from recognition.services import award_round_close, award_round_pick_winner
from tests.factories import AdminFactory, LeaderFactory, OrganizationFactory, UserFactory
from tests.recognition.factories import AwardCategoryFactory, AwardRoundFactory, NominationFactory

UTC = dt.UTC
DECEMBER = dt.date(2026, 12, 1)
AFTER_DECEMBER = dt.datetime(2027, 1, 1, 6, tzinfo=UTC)


@pytest.fixture
def award_post(db):
    org = OrganizationFactory(default_language="nl")
    round = AwardRoundFactory(category=AwardCategoryFactory(organization=org, name="Collega van de maand"), month=DECEMBER)
    nomination = NominationFactory(round=round, nominee=UserFactory(organization=org, name="Daan"))
    award_round_close(round_id=round.pk, actor=AdminFactory(organization=org), now=AFTER_DECEMBER)
    return Post.objects.get(kind="award"), nomination


@pytest.mark.parametrize(
    ("language", "month_name", "body"),
    [
        ("nl", "december 2026", "Collega van de maand december 2026: gefeliciteerd, Daan!"),
        ("en", "December 2026", "Collega van de maand December 2026: congratulations Daan!"),
    ],
)
def test_the_award_post_names_the_month_in_the_readers_language(api, award_post, language, month_name, body):
    post, nomination = award_post
    reader = UserFactory(organization=post.organization, language=language)
    for client in (api(reader), api(UserFactory(organization=post.organization), language=language)):  # saved, or Accept-Language
        card = client.get(f"/api/v1/posts/{post.pk}").json()
        assert (card["award"]["month"], card["award"]["month_name"], card["body"]) == ("2026-12", month_name, body)
        [in_feed] = [c for c in client.get("/api/v1/feed", {"kind": "award"}).json()["results"] if c["id"] == post.pk]
        assert (in_feed["award"]["month_name"], in_feed["body"]) == (month_name, body)
        assert "2026-12" not in in_feed["body"]
        rounds = client.get("/api/v1/awards/rounds", {"month": "2026-12"}).json()["results"]
        assert [r["month_name"] for r in rounds] == [month_name]
        awards = client.get(f"/api/v1/users/{nomination.nominee_id}/recognition").json()["awards"]
        assert [a["month_name"] for a in awards] == [month_name]


def test_the_stored_post_speaks_the_organisations_language(award_post):
    post, _nomination = award_post
    assert post.body == "Collega van de maand december 2026: gefeliciteerd, Daan!"
    assert post.card["month"] == "2026-12" and "month_name" not in post.card  # the stored card stays language-neutral


def test_an_edited_award_post_keeps_its_edited_text(api, award_post):
    post, _nomination = award_post
    Post.objects.filter(pk=post.pk).update(body="Een eigen tekst", edited_at=AFTER_DECEMBER)
    card = api(UserFactory(organization=post.organization, language="en")).get(f"/api/v1/posts/{post.pk}").json()
    assert (card["body"], card["award"]["month_name"]) == ("Een eigen tekst", "December 2026")


def test_the_award_events_carry_the_month_in_the_organisations_language(events, db):
    org = OrganizationFactory(default_language="en")
    round = AwardRoundFactory(category=AwardCategoryFactory(organization=org, method="leader_pick"), month=DECEMBER)
    winner, other = NominationFactory(round=round), NominationFactory(round=round)
    award_round_close(round_id=round.pk, actor=AdminFactory(organization=org), now=AFTER_DECEMBER)
    award_round_pick_winner(actor=LeaderFactory(organization=org), round_id=round.pk, nominee_id=winner.nominee_id)
    payloads = [event["payload"] for event in events.of_type("award.announced")]
    assert {p["month_name"] for p in payloads} == {"December 2026"}
    assert {p.get("nomination_count") for p in payloads} == {None, 1}
    assert AwardResult.objects.get(round=round, nominee=other.nominee).rank == 2


def test_a_feed_page_of_award_posts_costs_the_same_queries_whatever_its_length(api, db):
    org = OrganizationFactory()
    admin = AdminFactory(organization=org)
    client = api(UserFactory(organization=org, language="nl"))
    client.get("/api/v1/me")

    def feed_queries(added: int) -> int:
        for _ in range(added):
            round = AwardRoundFactory(category=AwardCategoryFactory(organization=org), month=DECEMBER)
            NominationFactory(round=round)
            award_round_close(round_id=round.pk, actor=admin, now=AFTER_DECEMBER)
        with CaptureQueriesContext(connection) as captured:
            cards = client.get("/api/v1/feed", {"kind": "award"}).json()["results"]
        assert all(card["award"]["month_name"] == "december 2026" for card in cards)
        return len(captured)

    # The month is named from the card itself: no query per award post.
    assert feed_queries(1) == feed_queries(4)
