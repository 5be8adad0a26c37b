import datetime as dt
import threading

import pytest
from django.core.management import call_command
from django.db import connection

from recognition.models import AuditAction, AwardResult, AwardRound, DecisionMethod, Endorsement, RecognitionAuditEntry, RoundStatus
from recognition.services import award_round_close, award_rounds_close_due
from tests.conftest import requires_postgres
from tests.factories import AdminFactory, LeaderFactory, OrganizationFactory, UserFactory
from tests.recognition.factories import AwardCategoryFactory, AwardRoundFactory, NominationFactory

UTC = dt.UTC
MARCH = dt.date(2026, 3, 1)
OCTOBER = dt.date(2026, 10, 1)

pytestmark = pytest.mark.django_db


def round_in(tz: str, month: dt.date, **category_fields) -> AwardRound:
    org = OrganizationFactory(timezone=tz)
    return AwardRoundFactory(category=AwardCategoryFactory(organization=org, **category_fields), month=month)


def status(round: AwardRound) -> str:
    round.refresh_from_db()
    return round.status


def test_same_instant_closes_amsterdam_but_not_new_york():
    amsterdam = round_in("Europe/Amsterdam", MARCH)
    new_york = round_in("America/New_York", MARCH)
    award_rounds_close_due(now=dt.datetime(2026, 3, 31, 23, 30, tzinfo=UTC))  # 01:30 on 1 April in Amsterdam
    assert status(amsterdam) == RoundStatus.CLOSED
    assert status(new_york) == RoundStatus.OPEN  # 19:30 on 31 March in New York
    award_rounds_close_due(now=dt.datetime(2026, 4, 1, 4, 0, tzinfo=UTC))  # midnight EDT
    assert status(new_york) == RoundStatus.CLOSED


def test_amsterdam_march_closes_at_summer_time_midnight():
    round = round_in("Europe/Amsterdam", MARCH)
    award_rounds_close_due(now=dt.datetime(2026, 3, 31, 21, 59, tzinfo=UTC))
    assert status(round) == RoundStatus.OPEN
    award_rounds_close_due(now=dt.datetime(2026, 3, 31, 22, 0, tzinfo=UTC))
    assert status(round) == RoundStatus.CLOSED


def test_new_york_october_closes_before_the_dst_change_on_november_1st():
    round = round_in("America/New_York", OCTOBER)
    award_rounds_close_due(now=dt.datetime(2026, 11, 1, 3, 59, tzinfo=UTC))
    assert status(round) == RoundStatus.OPEN
    award_rounds_close_due(now=dt.datetime(2026, 11, 1, 4, 0, tzinfo=UTC))
    assert status(round) == RoundStatus.CLOSED


def test_the_sweep_opens_the_new_months_round():
    round = round_in("Europe/Amsterdam", MARCH)
    sweep = award_rounds_close_due(now=dt.datetime(2026, 3, 31, 22, 0, tzinfo=UTC))
    assert sweep.closed == [round.pk]
    april = AwardRound.objects.get(category=round.category, month=dt.date(2026, 4, 1))
    assert april.status == RoundStatus.OPEN
    assert april.opens_at == round.closes_at


def test_most_nominations_decides_by_nominators_then_endorsements_then_earliest(events):
    round = round_in("Europe/Amsterdam", MARCH)
    org = round.organization
    alice, bob, carol = UserFactory.create_batch(3, organization=org)
    for _ in range(2):
        NominationFactory(round=round, nominee=alice)
    bob_nominations = [NominationFactory(round=round, nominee=bob) for _ in range(2)]
    NominationFactory(round=round, nominee=carol)
    # Alice and Bob tie on two nominators; Bob has an endorsement.
    Endorsement.objects.create(nomination=bob_nominations[0], user=carol)
    award_rounds_close_due(now=dt.datetime(2026, 4, 1, tzinfo=UTC))
    round.refresh_from_db()
    assert round.status == RoundStatus.ANNOUNCED
    assert round.decided_by == DecisionMethod.MOST_NOMINATIONS
    ranking = list(AwardResult.objects.filter(round=round).order_by("rank").values_list("nominee_id", "nomination_count", "is_winner"))
    assert ranking == [(bob.pk, 2, True), (alice.pk, 2, False), (carol.pk, 1, False)]
    [announced] = [e for e in events.of_type("award.announced") if e.get("org_wide")]
    assert announced["payload"]["winners"] == [{"id": bob.pk, "name": bob.name, "reason": bob_nominations[0].reason}]
    assert {"user_id": bob.pk, "reason": "award"} in announced["addressed"]
    private = [e for e in events.of_type("award.announced") if "nomination_count" in e["payload"]]
    assert sorted((e["user_ids"][0], e["payload"]["nomination_count"]) for e in private) == sorted([(alice.pk, 2), (carol.pk, 1)])
    assert all(e["addressed"] == [{"user_id": e["user_ids"][0], "reason": "nomination"}] for e in private)


def test_earliest_nomination_breaks_a_full_tie():
    round = round_in("Europe/Amsterdam", MARCH)
    first = NominationFactory(round=round)
    NominationFactory(round=round)
    award_rounds_close_due(now=dt.datetime(2026, 4, 1, tzinfo=UTC))
    assert AwardResult.objects.get(round=round, is_winner=True).nominee_id == first.nominee_id


def test_closing_twice_gives_one_result_one_announcement(events):
    round = round_in("Europe/Amsterdam", MARCH)
    NominationFactory(round=round)
    NominationFactory(round=round)
    admin = AdminFactory(organization=round.organization)
    now = dt.datetime(2026, 4, 1, tzinfo=UTC)
    award_rounds_close_due(now=now)
    award_rounds_close_due(now=now + dt.timedelta(hours=1))
    award_round_close(round_id=round.pk, actor=admin)
    assert AwardResult.objects.filter(round=round).count() == 2
    assert RecognitionAuditEntry.objects.filter(round=round, action=AuditAction.ROUND_CLOSED).count() == 1
    assert RecognitionAuditEntry.objects.filter(round=round, action=AuditAction.ROUND_ANNOUNCED).count() == 1
    assert len(events.of_type("award.announced")) == 2  # one announcement + one private "you were nominated"
    from feed.models import Post

    assert Post.objects.filter(kind="award").count() == 1


def test_scheduler_does_not_close_a_running_month():
    round = round_in("Europe/Amsterdam", MARCH)
    award_round_close(round_id=round.pk, now=dt.datetime(2026, 3, 15, tzinfo=UTC))
    assert status(round) == RoundStatus.OPEN


def test_a_round_without_nominations_closes_without_announcement(events):
    round = round_in("Europe/Amsterdam", MARCH)
    award_rounds_close_due(now=dt.datetime(2026, 4, 1, tzinfo=UTC))
    assert status(round) == RoundStatus.CLOSED
    assert events == []


def test_admin_close_api_is_the_same_idempotent_service(api, events):
    round = round_in("Europe/Amsterdam", MARCH)
    NominationFactory(round=round)
    admin = AdminFactory(organization=round.organization)
    assert api(UserFactory(organization=round.organization)).post(f"/api/v1/awards/rounds/{round.pk}/close").status_code == 403
    client = api(admin)
    first = client.post(f"/api/v1/awards/rounds/{round.pk}/close")
    second = client.post(f"/api/v1/awards/rounds/{round.pk}/close")
    assert first.status_code == second.status_code == 200
    assert first.json()["status"] == second.json()["status"] == "announced"
    entry = RecognitionAuditEntry.objects.get(round=round, action=AuditAction.ROUND_CLOSED)
    assert entry.actor_id == admin.pk
    assert len([e for e in events.of_type("award.announced") if e.get("org_wide")]) == 1


def test_close_award_rounds_command(capsys):
    amsterdam = round_in("Europe/Amsterdam", MARCH)
    new_york = round_in("America/New_York", MARCH)
    call_command("close_award_rounds", "--now", "2026-04-01T01:30:00+02:00")
    assert status(amsterdam) == RoundStatus.CLOSED
    assert status(new_york) == RoundStatus.OPEN
    assert f"closed 1 round(s) [{amsterdam.pk}]" in capsys.readouterr().out


def test_hourly_task_is_scheduled_and_runs_the_sweep(settings, time_machine_now):
    from recognition.tasks import award_rounds_close_task

    entry = settings.CELERY_BEAT_SCHEDULE["recognition-close-award-rounds"]
    assert entry["task"] == "recognition.tasks.award_rounds_close_task"
    assert entry["schedule"] == 3600.0
    round = round_in("Europe/Amsterdam", MARCH)
    time_machine_now(dt.datetime(2026, 4, 1, 0, 5, tzinfo=UTC))
    assert award_rounds_close_task.delay().get()["closed"] == [round.pk]


# --- leader pick --------------------------------------------------------------------------------


def leader_pick_round():
    round = round_in("Europe/Amsterdam", MARCH, method=DecisionMethod.LEADER_PICK, leader_pick_days=5)
    org = round.organization
    leader = LeaderFactory(organization=org)
    return round, leader


def pick(api, user, round, nominee_id):
    return api(user).post(f"/api/v1/awards/rounds/{round.pk}/winner", {"nominee_id": nominee_id}, format="json")


def test_leader_pick_round_waits_until_a_leader_picks(api, events):
    round, leader = leader_pick_round()
    a = NominationFactory(round=round)
    b = NominationFactory(round=round)
    assert pick(api, leader, round, b.nominee_id).json()["error"]["code"] == "round_open"
    award_rounds_close_due(now=dt.datetime(2026, 4, 1, tzinfo=UTC))
    round.refresh_from_db()
    assert round.status == RoundStatus.CLOSED
    assert round.pick_deadline == dt.datetime(2026, 4, 6, tzinfo=UTC)
    assert events == []
    assert pick(api, UserFactory(organization=round.organization), round, b.nominee_id).status_code == 403
    response = pick(api, leader, round, b.nominee_id)
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "announced"
    winner = AwardResult.objects.get(round=round, is_winner=True)
    assert winner.nominee_id == b.nominee_id
    round.refresh_from_db()
    assert (round.decided_by, round.picked_by_id) == ("leader_pick", leader.pk)
    assert RecognitionAuditEntry.objects.filter(round=round, action=AuditAction.WINNER_PICKED, actor=leader).exists()
    assert pick(api, leader, round, a.nominee_id).status_code == 409
    results = api(UserFactory(organization=round.organization)).get(f"/api/v1/awards/rounds/{round.pk}/results").json()
    assert results["winners"][0]["why"].startswith(f"Picked by {leader.name}")


def test_a_leader_cannot_pick_themself_and_it_is_logged(api):
    round, leader = leader_pick_round()
    NominationFactory(round=round, nominee=leader)
    award_rounds_close_due(now=dt.datetime(2026, 4, 1, tzinfo=UTC))
    response = pick(api, leader, round, leader.pk)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "self_pick"
    assert status(round) == RoundStatus.CLOSED
    assert RecognitionAuditEntry.objects.filter(round=round, action=AuditAction.SELF_PICK_REFUSED, actor=leader).count() == 1


def test_pick_must_be_a_nominee_of_the_round(api):
    round, leader = leader_pick_round()
    NominationFactory(round=round)
    award_rounds_close_due(now=dt.datetime(2026, 4, 1, tzinfo=UTC))
    response = pick(api, leader, round, UserFactory(organization=round.organization).pk)
    assert response.status_code == 400
    assert "nominee_id" in response.json()["error"]["fields"]


def test_most_nominations_categories_take_no_pick(api):
    round = round_in("Europe/Amsterdam", MARCH)
    nomination = NominationFactory(round=round)
    award_rounds_close_due(now=dt.datetime(2026, 4, 1, tzinfo=UTC))
    response = pick(api, LeaderFactory(organization=round.organization), round, nomination.nominee_id)
    assert response.json()["error"]["code"] == "not_leader_pick"


def test_nobody_picked_in_time_falls_back_to_most_nominations(events):
    round, _leader = leader_pick_round()
    nomination = NominationFactory(round=round)
    award_rounds_close_due(now=dt.datetime(2026, 4, 1, tzinfo=UTC))
    award_rounds_close_due(now=dt.datetime(2026, 4, 5, tzinfo=UTC))
    assert status(round) == RoundStatus.CLOSED
    sweep = award_rounds_close_due(now=dt.datetime(2026, 4, 6, tzinfo=UTC))
    assert sweep.fell_back == [round.pk]
    round.refresh_from_db()
    assert (round.status, round.decided_by) == (RoundStatus.ANNOUNCED, "most_nominations_fallback")
    assert AwardResult.objects.get(round=round, is_winner=True).nominee_id == nomination.nominee_id
    assert RecognitionAuditEntry.objects.filter(round=round, action=AuditAction.PICK_FALLBACK).count() == 1


def test_confidential_nominators_appear_in_no_event(events):
    round = round_in("Europe/Amsterdam", MARCH, confidential=True)
    nominators = UserFactory.create_batch(3, organization=round.organization, name="Secret Nominator")
    for nominator in nominators:
        NominationFactory(round=round, nominator=nominator)
    award_rounds_close_due(now=dt.datetime(2026, 4, 1, tzinfo=UTC))
    assert len(events) == 3
    text = str(events)
    assert "Secret Nominator" not in text
    assert "nominator" not in text
    # Nominators hear of the award as part of the audience, never as the ones who nominated.
    assert {a["reason"] for e in events for a in e["addressed"] if a["user_id"] in {n.pk for n in nominators}} == {"award"}


@requires_postgres()
@pytest.mark.django_db(transaction=True)
def test_concurrent_closes_give_one_result(events):
    round = round_in("Europe/Amsterdam", MARCH)
    for _ in range(3):
        NominationFactory(round=round)
    admin = AdminFactory(organization=round.organization)
    barrier = threading.Barrier(8)
    errors: list[Exception] = []

    def close(index: int):
        try:
            barrier.wait()
            if index % 2:
                award_round_close(round_id=round.pk, actor=admin)
            else:
                award_rounds_close_due(now=dt.datetime(2026, 4, 1, tzinfo=UTC))
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=close, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert status(round) == RoundStatus.ANNOUNCED
    assert AwardResult.objects.filter(round=round).count() == 3
    assert AwardResult.objects.filter(round=round, is_winner=True).count() == 1
    assert RecognitionAuditEntry.objects.filter(round=round, action=AuditAction.ROUND_CLOSED).count() == 1
    assert len([e for e in events.of_type("award.announced") if e.get("org_wide")]) == 1
    assert len([e for e in events.of_type("award.announced") if "nomination_count" in e["payload"]]) == 2
    from feed.models import Post

    assert Post.objects.filter(kind="award").count() == 1


def test_announcement_creates_one_award_post_for_the_categorys_audience(api):
    from feed.models import Post

    round = round_in("Europe/Amsterdam", MARCH)
    admin = AdminFactory(organization=round.organization)
    nomination = NominationFactory(round=round)
    award_rounds_close_due(now=dt.datetime(2026, 4, 1, tzinfo=UTC))
    award_rounds_close_due(now=dt.datetime(2026, 4, 1, 1, tzinfo=UTC))
    award_round_close(round_id=round.pk, actor=admin)
    post = Post.objects.get(kind="award")
    round.refresh_from_db()
    assert round.post_id == post.pk
    assert post.author_id == admin.pk  # the scheduler decided; the organisation's first admin signs
    assert post.card["winners"] == [{"id": nomination.nominee_id, "name": nomination.nominee.name, "reason": nomination.reason}]
    assert post.card["month"] == "2026-03"
    card = api(nomination.nominee).get(f"/api/v1/posts/{post.pk}").json()
    assert card["award"]["winners"][0]["id"] == nomination.nominee_id


def test_one_failing_round_does_not_keep_the_others_open(monkeypatch):
    from recognition.services import closing

    broken = round_in("Europe/Amsterdam", MARCH)
    healthy = round_in("Europe/Amsterdam", MARCH)
    real_standings = closing._standings

    def standings(round):
        if round.pk == broken.pk:
            raise RuntimeError("boom")
        return real_standings(round)

    monkeypatch.setattr(closing, "_standings", standings)
    sweep = award_rounds_close_due(now=dt.datetime(2026, 4, 1, tzinfo=UTC))
    assert sweep.closed == [healthy.pk]
    assert status(broken) == RoundStatus.OPEN  # rolled back, retried next hour
    monkeypatch.setattr(closing, "_standings", real_standings)
    assert award_rounds_close_due(now=dt.datetime(2026, 4, 1, 1, tzinfo=UTC)).closed == [broken.pk]


def test_a_group_categorys_announcement_goes_to_its_groups(events):
    from accounts.models import Membership
    from feed.models import Post
    from tests.factories import GroupFactory

    round = round_in("Europe/Amsterdam", MARCH)
    org = round.organization
    team = GroupFactory(organization=org)
    round.category.groups.set([team])
    members = UserFactory.create_batch(3, organization=org)
    for person in members:
        Membership.objects.create(group=team, user=person)
    outsider = UserFactory(organization=org)
    AdminFactory(organization=org)
    NominationFactory(round=round, nominator=members[0], nominee=members[1])
    award_rounds_close_due(now=dt.datetime(2026, 4, 1, tzinfo=UTC))
    [announced] = [e for e in events.of_type("award.announced") if "winners" in e["payload"]]
    assert (announced["org_wide"], announced["group_ids"], announced["user_ids"]) == (False, [team.pk], [members[1].pk])
    addressed = {a["user_id"] for a in announced["addressed"]}
    assert addressed == {p.pk for p in members} and outsider.pk not in addressed
    post = Post.objects.get(kind="award")
    assert not post.org_wide and list(post.groups.values_list("pk", flat=True)) == [team.pk]


# --- a leader's pick with a reason (issue #22) -----------------------------------------------------


def test_the_leaders_reason_is_stored_and_shown_in_results_and_on_the_award_card(api):
    round, leader = leader_pick_round()
    ahead = [NominationFactory(round=round) for _ in range(2)]
    for nomination in ahead:  # two nominees ahead on nominations; the leader picks the third
        NominationFactory(round=round, nominee=nomination.nominee)
    picked = NominationFactory(round=round)
    award_rounds_close_due(now=dt.datetime(2026, 4, 1, tzinfo=UTC))
    assert AwardResult.objects.get(round=round, nominee=picked.nominee).rank == 3
    reason = "Calmly ran the store through the power cut on the busiest Saturday."
    response = api(leader).post(
        f"/api/v1/awards/rounds/{round.pk}/winner", {"nominee_id": picked.nominee_id, "reason": reason}, format="json"
    )
    assert response.status_code == 200, response.json()
    round.refresh_from_db()
    assert round.pick_reason == reason
    entry = RecognitionAuditEntry.objects.get(round=round, action=AuditAction.WINNER_PICKED)
    assert entry.data == {"nominee_id": picked.nominee_id, "reason": reason}

    results = api(UserFactory(organization=round.organization)).get(f"/api/v1/awards/rounds/{round.pk}/results").json()
    assert results["pick_reason"] == reason
    assert [(w["nominee"]["id"], w["rank"], w["reason"]) for w in results["winners"]] == [(picked.nominee_id, 1, reason)]
    # The picked winner is rank 1; those it passed move one down, in their order.
    assert [(r["rank"], r["nominee"]["id"]) for r in results["results"]] == [
        (1, picked.nominee_id),
        (2, ahead[0].nominee_id),
        (3, ahead[1].nominee_id),
    ]
    card = api(picked.nominee).get(f"/api/v1/posts/{round.post_id}").json()["award"]
    assert card["winners"] == [{"id": picked.nominee_id, "name": picked.nominee.name, "reason": reason}]


def test_a_pick_without_a_reason_quotes_the_nomination_and_a_bidi_reason_is_refused(api):
    round, leader = leader_pick_round()
    nomination = NominationFactory(round=round)
    award_rounds_close_due(now=dt.datetime(2026, 4, 1, tzinfo=UTC))
    url = f"/api/v1/awards/rounds/{round.pk}/winner"
    refused = api(leader).post(url, {"nominee_id": nomination.nominee_id, "reason": "Great \u202ework"}, format="json")
    assert refused.status_code == 400 and "reason" in refused.json()["error"]["fields"]
    assert status(round) == RoundStatus.CLOSED
    assert pick(api, leader, round, nomination.nominee_id).status_code == 200
    results = api(leader).get(f"/api/v1/awards/rounds/{round.pk}/results").json()
    assert results["pick_reason"] is None
    assert results["winners"][0]["reason"] == nomination.reason
