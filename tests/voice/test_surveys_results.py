"""Survey results, breakdowns and trend: numbers only from enough people, and only for those allowed."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone

from tests.factories import AdminFactory, GroupFactory, LeaderFactory, MembershipFactory, OrganizationFactory, UserFactory
from tests.voice.survey_helpers import answers_for, make_survey
from voice.services.surveys import survey_create, survey_respond, surveys_tick

pytestmark = pytest.mark.django_db


def _team(org, size: int, group=None):
    group = group or GroupFactory(organization=org)
    people = [MembershipFactory(group=group, user=UserFactory(organization=org)).user for _ in range(size)]
    return group, people


def _answer(survey, people, **values):
    for index, person in enumerate(people):
        survey_respond(
            user=person,
            survey=survey,
            answers=answers_for(survey, **{k: v[index] if isinstance(v, list) else v for k, v in values.items()}),
        )


def test_results_count_rate_distribution_mean_enps_and_texts(api, org):
    admin_user = AdminFactory(organization=org)
    group, people = _team(org, 6)
    survey = make_survey(admin_user, group_ids=[group.pk])
    _answer(survey, people[:5], nps=[10, 9, 7, 3, 0], five=[5, 4, 4, 2, 1], choice=[0, 0, 1, 2, 0], text=["a", "b", "c", "d", "e"])
    body = api(admin_user).get(f"/api/v1/surveys/{survey.pk}/results").json()
    assert body["suppressed"] is False
    assert (body["response_count"], body["audience_size"], body["response_rate"]) == (5, 6, round(5 / 6, 4))
    nps, five, choice, multi, text = body["questions"]
    assert [bucket["count"] for bucket in nps["distribution"]] == [1, 0, 0, 1, 0, 0, 0, 1, 0, 1, 1]
    assert nps["mean"] == 5.8 and nps["enps"] == 0.0  # 2 promoters, 2 detractors of 5
    assert five["mean"] == 3.2 and five["enps"] is None
    assert [(bucket["text"], bucket["count"]) for bucket in choice["distribution"]] == [("Early", 3), ("Late", 1), ("Night", 1)]
    assert multi["answer_count"] == 5 and multi["distribution"][0]["count"] == 5
    assert sorted(text["texts"]) == ["a", "b", "c", "d", "e"] and text["distribution"] == []


@pytest.mark.parametrize("responses, suppressed", [(4, True), (5, False)])
def test_suppressed_below_the_minimum_group_size(api, org, responses, suppressed):
    admin_user = AdminFactory(organization=org)
    group, people = _team(org, 6)
    survey = make_survey(admin_user, group_ids=[group.pk])
    _answer(survey, people[:responses])
    body = api(admin_user).get(f"/api/v1/surveys/{survey.pk}/results").json()
    assert body["suppressed"] is suppressed
    if suppressed:
        assert "response_count" not in body and "questions" not in body and "response_rate" not in body


def test_the_minimum_is_the_organisations_setting(api):
    org = OrganizationFactory(survey_min_group_size=3)
    admin_user = AdminFactory(organization=org)
    group, people = _team(org, 3)
    survey = make_survey(admin_user, group_ids=[group.pk])
    _answer(survey, people)
    assert api(admin_user).get(f"/api/v1/surveys/{survey.pk}/results").json()["suppressed"] is False


@pytest.mark.parametrize(
    "size_a, size_b, shown_a, shown_b",
    [
        (5, 4, False, False),  # B below the minimum; A's complement (B) too: A - whole would reveal B
        (5, 5, True, True),
        (4, 6, False, False),  # A below; B's complement (A) below
        (6, 5, True, True),
    ],
)
def test_complement_rule_with_two_groups(api, org, size_a, size_b, shown_a, shown_b):
    admin_user = AdminFactory(organization=org)
    group_a, people_a = _team(org, size_a)
    group_b, people_b = _team(org, size_b)
    survey = make_survey(admin_user, group_ids=[group_a.pk, group_b.pk])
    _answer(survey, people_a + people_b)
    client = api(admin_user)
    assert client.get(f"/api/v1/surveys/{survey.pk}/results").json()["suppressed"] is False
    a = client.get(f"/api/v1/surveys/{survey.pk}/results?group={group_a.pk}").json()
    b = client.get(f"/api/v1/surveys/{survey.pk}/results?group={group_b.pk}").json()
    assert (not a["suppressed"], not b["suppressed"]) == (shown_a, shown_b)
    if shown_a:
        assert a["response_count"] == size_a and a["audience_size"] == size_a


def test_role_rules_on_results_trend_and_export(api, org, other_org):
    admin_user = AdminFactory(organization=org)
    group_a, people_a = _team(org, 5)
    group_b, people_b = _team(org, 5)
    leader = LeaderFactory(organization=org)
    MembershipFactory(group=group_a, user=leader, role="manager")
    survey = make_survey(admin_user, group_ids=[group_a.pk, group_b.pk])
    _answer(survey, people_a + people_b)
    base = f"/api/v1/surveys/{survey.pk}"
    for path in ("/results", "/trend", "/results/export"):
        assert api(admin_user).get(base + path).status_code == 200
        assert api(leader).get(base + path + f"?group={group_a.pk}").status_code == 200
        assert api(leader).get(base + path).status_code == 403
        assert api(leader).get(base + path + f"?group={group_b.pk}").status_code == 403
        assert api(people_a[0]).get(base + path).status_code == 403
        assert api(AdminFactory(organization=other_org)).get(base + path).status_code == 404
        assert api(admin_user).get(base + path + f"?group={GroupFactory(organization=other_org).pk}").status_code == 400


def test_creator_leader_sees_the_whole_survey(api, org):
    group, people = _team(org, 5)
    leader = LeaderFactory(organization=org)
    MembershipFactory(group=group, user=leader)
    survey = make_survey(leader, group_ids=[group.pk])
    _answer(survey, people)
    assert api(leader).get(f"/api/v1/surveys/{survey.pk}/results").json()["response_count"] == 5


def test_results_query_count_does_not_grow_with_responses(api, org, django_assert_num_queries):
    admin_user = AdminFactory(organization=org)
    group, people = _team(org, 12)
    survey = make_survey(admin_user, group_ids=[group.pk])
    _answer(survey, people[:5], text="x")
    client = api(admin_user)
    client.get(f"/api/v1/surveys/{survey.pk}/results")
    # token, survey (annotated), its groups, questions, options, instance, response count, tallies,
    # answered (multiple choice), texts; the audience's size is the instance's
    with django_assert_num_queries(10):
        assert client.get(f"/api/v1/surveys/{survey.pk}/results").json()["response_count"] == 5
    _answer(survey, people[5:], text="y")
    with django_assert_num_queries(10):
        assert client.get(f"/api/v1/surveys/{survey.pk}/results").json()["response_count"] == 12
    # + the group, its responses, the survey's groups and the group's audience count
    with django_assert_num_queries(14):
        assert client.get(f"/api/v1/surveys/{survey.pk}/results?group={group.pk}").json()["response_count"] == 12


def test_csv_export_of_the_aggregates(api, org):
    admin_user = AdminFactory(organization=org)
    group, people = _team(org, 5)
    survey = make_survey(admin_user, group_ids=[group.pk])
    _answer(survey, people, nps=[10, 10, 9, 5, 0], text="not in the export")
    response = api(admin_user).get(f"/api/v1/surveys/{survey.pk}/results/export")
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    nps = [row for row in rows if row["kind"] == "scale_0_10"]
    assert [row["count"] for row in nps] == ["1", "0", "0", "0", "0", "1", "0", "0", "0", "1", "2"]
    assert nps[0]["enps"] == "20.0" and nps[0]["response_count"] == "5"
    assert "not in the export" not in text


# --- Recurring surveys and the trend ---------------------------------------------------------------


def test_monthly_instances_keep_the_wall_clock_in_the_organisations_zone():
    org = OrganizationFactory(timezone="Europe/Amsterdam")
    admin_user = AdminFactory(organization=org)
    start = dt.datetime(2026, 1, 31, 8, 0, tzinfo=dt.UTC)  # 09:00 in Amsterdam (winter)
    survey = survey_create(
        actor=admin_user,
        title="Monthly",
        questions=[{"kind": "scale_0_10", "text": "NPS"}],
        opens_at=start,
        closes_at=start + dt.timedelta(days=3),
        recurrence={"every": "month"},
        now=start,
    )
    for month_end in (dt.datetime(2026, 2, 28, 9, tzinfo=dt.UTC), dt.datetime(2026, 3, 31, 8, tzinfo=dt.UTC)):
        surveys_tick(now=month_end)
    opens = list(survey.instances.order_by("number").values_list("opens_at", flat=True))
    # 31 January, then the last day of February, then 31 March at 09:00 summer time (07:00 UTC).
    assert opens == [start, dt.datetime(2026, 2, 28, 8, tzinfo=dt.UTC), dt.datetime(2026, 3, 31, 7, tzinfo=dt.UTC)]


def test_weekly_survey_makes_one_instance_per_week_and_skips_missed_ones(org):
    admin_user = AdminFactory(organization=org)
    start = timezone.now() - dt.timedelta(days=30)
    survey = survey_create(
        actor=admin_user,
        title="Weekly",
        questions=[{"kind": "scale_1_5", "text": "Week?"}],
        opens_at=start,
        closes_at=start + dt.timedelta(days=2),
        recurrence={"every": "week"},
        now=start,
    )
    surveys_tick(now=start + dt.timedelta(days=7, minutes=1))
    surveys_tick(now=start + dt.timedelta(days=7, minutes=2))  # twice: still one instance
    assert list(survey.instances.order_by("number").values_list("number", flat=True)) == [1, 2]
    surveys_tick(now=start + dt.timedelta(days=29))  # weeks 3 and 4 were missed (already closed): skipped
    assert list(survey.instances.order_by("number").values_list("number", flat=True)) == [1, 2, 5]


def test_trend_per_instance(api, org):
    admin_user = AdminFactory(organization=org)
    group, people = _team(org, 6)
    start = timezone.now() - dt.timedelta(days=21, hours=1)
    survey = survey_create(
        actor=admin_user,
        title="Weekly pulse",
        group_ids=[group.pk],
        questions=[{"kind": "scale_0_10", "text": "NPS"}, {"kind": "text", "text": "Why?", "required": False}],
        opens_at=start,
        closes_at=start + dt.timedelta(days=2),
        recurrence={"every": "week"},
        now=start,
    )
    question = survey.questions.get(kind="scale_0_10")
    for week, (count, value) in enumerate([(6, 10), (5, 6), (2, 8), (5, 9)]):
        moment = start + dt.timedelta(days=7 * week, hours=1)
        surveys_tick(now=moment)
        for person in people[:count]:
            survey_respond(user=person, survey=survey, answers=[{"question_id": question.pk, "value": value}], now=moment)
    surveys_tick(now=timezone.now())
    body = api(admin_user).get(f"/api/v1/surveys/{survey.pk}/trend").json()
    assert body["every"] == "week"
    points = body["instances"]
    assert [p["instance"]["number"] for p in points] == [1, 2, 3, 4]
    assert [p["suppressed"] for p in points] == [False, False, True, False]
    assert points[0]["response_rate"] == 1.0 and points[0]["questions"][0]["enps"] == 100.0
    assert points[1]["questions"][0]["mean"] == 6.0 and points[1]["questions"][0]["enps"] == -100.0
    assert "response_rate" not in points[2]
    assert [q["id"] for q in points[3]["questions"]] == [question.pk]  # scale questions only


def test_trend_query_count_does_not_grow_with_instances(api, org, django_assert_num_queries):
    admin_user = AdminFactory(organization=org)
    group, people = _team(org, 5)
    start = timezone.now() - dt.timedelta(days=35)
    survey = survey_create(
        actor=admin_user,
        title="Weekly pulse",
        group_ids=[group.pk],
        questions=[{"kind": "scale_0_10", "text": "NPS"}],
        opens_at=start,
        closes_at=start + dt.timedelta(days=2),
        recurrence={"every": "week"},
        now=start,
    )
    question = survey.questions.get()

    def run_week(week: int) -> None:
        moment = start + dt.timedelta(days=7 * week, hours=1)
        surveys_tick(now=moment)
        for person in people:
            survey_respond(user=person, survey=survey, answers=[{"question_id": question.pk, "value": 8}], now=moment)
        surveys_tick(now=moment + dt.timedelta(days=3))

    run_week(0)
    run_week(1)
    client = api(admin_user)
    client.get(f"/api/v1/surveys/{survey.pk}/trend")
    # token, survey, its groups, questions, options, instances, counts, scale tallies
    with django_assert_num_queries(8):
        assert len(client.get(f"/api/v1/surveys/{survey.pk}/trend").json()["instances"]) == 2
    run_week(2)
    run_week(3)
    with django_assert_num_queries(8):
        assert len(client.get(f"/api/v1/surveys/{survey.pk}/trend").json()["instances"]) == 4
