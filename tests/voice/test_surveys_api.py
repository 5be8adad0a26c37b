"""Surveys through the public API, as a phone and a leader's app call it."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from tests.conftest import requires_postgres
from tests.factories import AdminFactory, GroupFactory, LeaderFactory, MembershipFactory, UserFactory
from tests.voice.survey_helpers import QUESTIONS, answers_for, make_survey
from voice.models import SurveyAnswer, SurveyParticipation, SurveyResponse

pytestmark = pytest.mark.django_db


def _body(**fields):
    body = {"title": "Monthly pulse", "questions": QUESTIONS, "closes_at": (timezone.now() + dt.timedelta(days=3)).isoformat()}
    return body | fields


# --- Create -------------------------------------------------------------------------------------------


def test_admin_creates_an_org_wide_survey_open_now(api, admin_user, employee):
    response = api(admin_user).post("/api/v1/surveys", _body(intro="Two minutes."), format="json")
    assert response.status_code == 201, response.json()
    survey = response.json()
    assert survey["anonymous"] is True and survey["groups"] == [] and survey["status"] == "open"
    assert [q["kind"] for q in survey["questions"]] == [q["kind"] for q in QUESTIONS]
    assert [o["text"] for o in survey["questions"][2]["options"]] == ["Early", "Late", "Night"]
    assert survey["questions"][3]["required"] is False and survey["recurrence"] is None
    listed = api(employee).get("/api/v1/surveys?status=open").json()["results"]
    assert [(s["id"], s["my_status"]) for s in listed] == [(survey["id"], "not_started")]


def test_leader_creates_for_own_groups_only(api, org):
    leader = LeaderFactory(organization=org)
    own, other = GroupFactory(organization=org), GroupFactory(organization=org)
    MembershipFactory(group=own, user=leader, role="manager")
    client = api(leader)
    assert client.post("/api/v1/surveys", _body(group_ids=[own.pk]), format="json").status_code == 201
    assert client.post("/api/v1/surveys", _body(group_ids=[other.pk]), format="json").status_code == 403
    assert client.post("/api/v1/surveys", _body(), format="json").status_code == 403  # the whole organisation: admins


def test_employee_may_not_create(api, employee):
    response = api(employee).post("/api/v1/surveys", _body(), format="json")
    assert response.status_code == 403


@pytest.mark.parametrize(
    "change, field",
    [
        ({"questions": []}, "questions"),
        ({"questions": [{"kind": "single_choice", "text": "One?", "options": ["only"]}]}, "questions"),
        ({"questions": [{"kind": "scale_1_5", "text": "Hm?", "options": ["a", "b"]}]}, "questions"),
        ({"closes_at": "2020-01-01T00:00:00Z"}, "closes_at"),
        ({"recurrence": {"every": "week"}, "closes_at": (timezone.now() + dt.timedelta(days=9)).isoformat()}, "closes_at"),
        ({"recurrence": {"every": "day"}}, "recurrence"),
    ],
)
def test_invalid_surveys_are_400_naming_the_field(api, admin_user, change, field):
    response = api(admin_user).post("/api/v1/surveys", _body(**change), format="json")
    assert response.status_code == 400, response.json()
    assert any(key.startswith(field) for key in response.json()["error"]["fields"])


def test_group_of_another_organisation_is_400(api, admin_user, other_org):
    foreign = GroupFactory(organization=other_org)
    response = api(admin_user).post("/api/v1/surveys", _body(group_ids=[foreign.pk]), format="json")
    assert response.status_code == 400 and "group_ids" in response.json()["error"]["fields"]


# --- Who sees it ----------------------------------------------------------------------------------------


def test_audience_sees_it_once_open_others_get_404(api, org, admin_user):
    group = GroupFactory(organization=org)
    member = MembershipFactory(group=group).user
    outsider = UserFactory(organization=org)
    survey = make_survey(admin_user, group_ids=[group.pk], opens_in=dt.timedelta(hours=2))
    assert api(member).get(f"/api/v1/surveys/{survey.pk}").status_code == 404  # scheduled: not yet
    assert api(admin_user).get(f"/api/v1/surveys/{survey.pk}").json()["status"] == "scheduled"
    live = make_survey(admin_user, group_ids=[group.pk])
    assert api(member).get(f"/api/v1/surveys/{live.pk}").status_code == 200
    assert api(outsider).get(f"/api/v1/surveys/{live.pk}").status_code == 404
    assert [s["id"] for s in api(outsider).get("/api/v1/surveys").json()["results"]] == []


def test_list_filters_and_my_status(api, org, admin_user, employee):
    answered = make_survey(admin_user, title="Answered")
    waiting = make_survey(admin_user, title="Waiting")
    client = api(employee)
    assert client.post(f"/api/v1/surveys/{answered.pk}/responses", {"answers": answers_for(answered)}, format="json").status_code == 201
    rows = {s["title"]: s for s in client.get("/api/v1/surveys?status=open").json()["results"]}
    assert rows["Answered"]["my_status"] == "submitted" and rows["Waiting"]["my_status"] == "not_started"
    assert client.get("/api/v1/surveys?status=closed").json()["results"] == []
    assert client.get("/api/v1/surveys?status=gossip").status_code == 400
    assert waiting.pk


def test_list_query_count_does_not_grow_with_the_page(api, org, admin_user, employee, django_assert_num_queries):
    group = GroupFactory(organization=org)
    MembershipFactory(group=group, user=employee)
    for _ in range(3):
        make_survey(admin_user, group_ids=[group.pk])
    client = api(employee)
    client.get("/api/v1/surveys")  # warm the token cache and contract
    # the token (with its user), the page, its groups
    with django_assert_num_queries(3):
        assert len(client.get("/api/v1/surveys?page_size=2").json()["results"]) == 2
    for _ in range(6):
        make_survey(admin_user, group_ids=[group.pk])
    with django_assert_num_queries(3):
        assert len(client.get("/api/v1/surveys?page_size=8").json()["results"]) == 8


# --- Change before it opens --------------------------------------------------------------------------


def test_patch_and_delete_only_before_it_opens(api, admin_user, org):
    later = make_survey(admin_user, opens_in=dt.timedelta(days=1))
    client = api(admin_user)
    response = client.patch(f"/api/v1/surveys/{later.pk}", {"title": "Renamed", "questions": QUESTIONS[:1]}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["title"] == "Renamed" and len(response.json()["questions"]) == 1
    now = make_survey(admin_user)
    assert client.patch(f"/api/v1/surveys/{now.pk}", {"title": "Too late"}, format="json").status_code == 409
    assert client.delete(f"/api/v1/surveys/{now.pk}").status_code == 409
    assert client.delete(f"/api/v1/surveys/{later.pk}").status_code == 204


def test_only_creator_or_admin_may_change(api, org):
    leader, other_leader = LeaderFactory(organization=org), LeaderFactory(organization=org)
    group = GroupFactory(organization=org)
    MembershipFactory(group=group, user=leader)
    MembershipFactory(group=group, user=other_leader)
    survey = make_survey(leader, group_ids=[group.pk], opens_in=dt.timedelta(days=1))
    assert api(other_leader).patch(f"/api/v1/surveys/{survey.pk}", {"title": "Mine now"}, format="json").status_code == 403
    assert api(other_leader).delete(f"/api/v1/surveys/{survey.pk}").status_code == 403
    assert api(AdminFactory(organization=org)).patch(f"/api/v1/surveys/{survey.pk}", {"title": "Fixed"}, format="json").status_code == 200


# --- Answering ---------------------------------------------------------------------------------------


def test_one_submission_per_person(api, admin_user, employee):
    survey = make_survey(admin_user)
    client = api(employee)
    first = client.post(f"/api/v1/surveys/{survey.pk}/responses", {"answers": answers_for(survey, text="Fine")}, format="json")
    assert first.status_code == 201 and first.json() == {}
    again = client.post(f"/api/v1/surveys/{survey.pk}/responses", {"answers": answers_for(survey)}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_submitted"
    assert SurveyResponse.objects.count() == 1 and SurveyParticipation.objects.count() == 1


def test_all_answers_are_validated_together(api, admin_user, employee, other_org):
    survey = make_survey(admin_user)
    other = make_survey(AdminFactory(organization=other_org))
    answers = answers_for(survey)
    answers[0]["value"] = 11
    answers[1] = {"question_id": answers[1]["question_id"], "text": "five"}
    answers[2]["option_ids"] = [other.questions.get(kind="single_choice").options.first().pk]
    answers.append({"question_id": other.questions.first().pk, "value": 5})
    response = api(employee).post(f"/api/v1/surveys/{survey.pk}/responses", {"answers": answers}, format="json")
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert {"answers[0].value", "answers[1].value", "answers[2].option_ids", "answers[4].question_id"} <= set(fields)
    assert not SurveyParticipation.objects.exists() and not SurveyAnswer.objects.exists()


def test_required_questions_and_single_choice(api, admin_user, employee):
    survey = make_survey(admin_user)
    answers = answers_for(survey)
    answers[2]["option_ids"] = [o.pk for o in survey.questions.get(kind="single_choice").options.all()[:2]]
    response = api(employee).post(f"/api/v1/surveys/{survey.pk}/responses", {"answers": answers[1:]}, format="json")
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert "answers" in fields and "answers[1].option_ids" in fields


def test_outside_the_audience_or_window(api, org, admin_user, employee):
    group = GroupFactory(organization=org)
    survey = make_survey(admin_user, group_ids=[group.pk])
    assert api(employee).post(f"/api/v1/surveys/{survey.pk}/responses", {"answers": answers_for(survey)}, format="json").status_code == 404
    later = make_survey(admin_user, opens_in=dt.timedelta(hours=1))
    response = api(admin_user).post(f"/api/v1/surveys/{later.pk}/responses", {"answers": answers_for(later)}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "survey_not_open"


@requires_postgres()
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_submission_under_concurrency(api, org):
    admin, person = AdminFactory(organization=org), UserFactory(organization=org)
    survey = make_survey(admin)
    body = {"answers": answers_for(survey)}
    clients = [api(person) for _ in range(6)]
    barrier = threading.Barrier(len(clients))
    codes: list[int] = []

    def submit(client):
        try:
            barrier.wait()
            codes.append(client.post(f"/api/v1/surveys/{survey.pk}/responses", body, format="json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [201] + [409] * 5
    assert SurveyResponse.objects.count() == 1 and SurveyParticipation.objects.count() == 1


@pytest.mark.parametrize("field", ["question_id", "option_ids"])
def test_foreign_and_missing_answer_ids_get_the_same_400(api, admin_user, employee, other_org, field):
    survey = make_survey(admin_user)
    other = make_survey(AdminFactory(organization=other_org))
    foreign_question = other.questions.get(kind="single_choice")
    foreign = foreign_question.pk if field == "question_id" else foreign_question.options.first().pk
    errors = []
    for value in (foreign, 987_654_321):
        answers = answers_for(survey)
        answers[2][field] = value if field == "question_id" else [value]
        response = api(employee).post(f"/api/v1/surveys/{survey.pk}/responses", {"answers": answers}, format="json")
        assert response.status_code == 400
        error = response.json()["error"]
        assert f"answers[2].{field}" in error["fields"]
        errors.append(str(error).replace(str(value), "<id>"))
    assert errors[0] == errors[1]
    assert not SurveyParticipation.objects.exists()
