"""Anonymous by construction: after people answer, nothing stored or logged links a person to their answers.

The read-back walks every table of the database (introspected, not listed) and every log
record written while the answers went in.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

import pytest
from django.contrib import admin
from django.db import connection

from moderation.erasure import erasure_now
from moderation.privacy import user_export
from server.models import IdempotencyRecord
from tests.factories import AdminFactory, GroupFactory, MembershipFactory, UserFactory
from tests.voice.survey_helpers import answers_for, make_survey
from voice.models import SurveyAnswer, SurveyParticipation, SurveyResponse, SurveyResponseGroup

pytestmark = pytest.mark.django_db

ANSWER_TABLES = {m._meta.db_table for m in (SurveyResponse, SurveyAnswer, SurveyResponseGroup)}


def _all_rows() -> dict[str, tuple[list[str], list[tuple]]]:
    tables = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 (introspected names)
            tables[table] = ([column[0] for column in cursor.description], cursor.fetchall())
    return tables


def _column_types(table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        return {
            column.name: connection.introspection.get_field_type(column.type_code, column)
            for column in connection.introspection.get_table_description(cursor, table)
        }


@pytest.fixture
def answered(api, org, caplog):
    """Eight people of two groups answer an anonymous survey, one with a retry key; the log is captured."""
    admin_user = AdminFactory(organization=org)
    teams = [GroupFactory(organization=org), GroupFactory(organization=org)]
    people = []
    for index in range(8):
        person = UserFactory(organization=org, name=f"Respondent {index}")
        MembershipFactory(group=teams[index % 2], user=person)
        people.append(person)
    survey = make_survey(admin_user)
    markers = {}
    caplog.set_level(logging.DEBUG)
    for index, person in enumerate(people):
        markers[person.pk] = f"secret-{uuid.uuid4().hex}"
        headers = {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())} if index == 3 else {}
        body = {"answers": answers_for(survey, nps=index % 11, text=markers[person.pk])}
        assert api(person).post(f"/api/v1/surveys/{survey.pk}/responses", body, format="json", **headers).status_code == 201
    return {"survey": survey, "people": people, "markers": markers, "log": list(caplog.records)}


def test_no_table_links_a_person_to_an_answer(answered):
    people, markers = answered["people"], answered["markers"]
    person_ids = {person.pk for person in people}
    response_ids = {str(pk) for pk in SurveyResponse.objects.values_list("pk", flat=True)}
    answer_ids = {str(pk) for pk in SurveyAnswer.objects.values_list("pk", flat=True)}
    assert len(response_ids) == len(people)
    answer_keys = response_ids | answer_ids
    tables = _all_rows()

    for table in ANSWER_TABLES:
        columns, rows = tables[table]
        types = _column_types(table)
        # No exact time and no serial key: nothing orders the answers by submission.
        assert not [c for c, t in types.items() if t in ("DateTimeField", "TimeField")], table
        # A UUID column (SQLite, the embedded default, stores one as char(32)); every value a random (v4) UUID.
        assert types["id"] == ("UUIDField" if connection.vendor == "postgresql" else "CharField"), table
        assert all(uuid.UUID(str(row[columns.index("id")])).version == 4 for row in rows), table
        if "respondent_id" in columns:
            assert {row[columns.index("respondent_id")] for row in rows} == {None}

    # The walk did see the answers (the check below is not vacuous).
    stored_texts = {row[-1] for row in tables[SurveyAnswer._meta.db_table][1]}
    assert set(markers.values()) <= {str(cell) for row in tables[SurveyAnswer._meta.db_table][1] for cell in row}
    assert stored_texts and len(tables) > 40

    participation_table = SurveyParticipation._meta.db_table
    assert set(tables[participation_table][0]) == {"id", "instance_id", "user_id"}
    assert {row[2] for row in tables[participation_table][1]} == person_ids

    for table, (_columns, rows) in tables.items():
        if table in ANSWER_TABLES:
            continue
        for row in rows:
            text = " ".join(str(cell) for cell in row)
            # No other table names an answer or a response, nor quotes a text answer.
            assert not any(key in text for key in answer_keys), f"{table} refers to an answer: {row}"
            assert not any(marker in text for marker in markers.values()), f"{table} holds a text answer: {row}"

    # The person who sent an Idempotency-Key left a record: a path and a time, no trace of the body.
    record = IdempotencyRecord.objects.get()
    assert bytes(record.response_body) == b"{}"


def test_no_log_record_links_a_person_to_an_answer(answered):
    markers = answered["markers"]
    response_ids = {str(pk) for pk in SurveyResponse.objects.values_list("pk", flat=True)}
    for record in answered["log"]:
        line = record.getMessage() + " " + " ".join(f"{key}={value}" for key, value in vars(record).items() if key not in ("msg", "args"))
        assert not any(marker in line for marker in markers.values()), line
        assert not any(response_id in line for response_id in response_ids), line


def test_answers_carry_the_day_only(answered):
    days = set(SurveyResponse.objects.values_list("submitted_on", flat=True))
    assert len(days) == 1 and isinstance(next(iter(days)), dt.date) and not isinstance(next(iter(days)), dt.datetime)


def test_no_admin_page_shows_answers_or_participation():
    for model in (SurveyResponse, SurveyAnswer, SurveyResponseGroup, SurveyParticipation):
        assert model not in admin.site._registry


def test_an_idempotency_key_does_not_fingerprint_the_answers(api, org):
    survey = make_survey(AdminFactory(organization=org))
    person = UserFactory(organization=org)
    client = api(person)
    key = {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())}
    first = client.post(f"/api/v1/surveys/{survey.pk}/responses", {"answers": answers_for(survey, nps=1)}, format="json", **key)
    assert first.status_code == 201
    # A different body under the same key replays instead of 422: the body was never hashed.
    retry = client.post(f"/api/v1/surveys/{survey.pk}/responses", {"answers": answers_for(survey, nps=10)}, format="json", **key)
    assert retry.status_code == 201 and retry["Idempotent-Replayed"] == "true"


# --- Named surveys: answers are personal data -------------------------------------------------------


def test_named_answers_are_exported_and_erased_anonymous_ones_stay(api, org):
    admin_user = AdminFactory(organization=org)
    person = UserFactory(organization=org)
    named = make_survey(admin_user, anonymous=False, title="Named")
    anonymous = make_survey(admin_user, title="Anonymous")
    client = api(person)
    for survey in (named, anonymous):
        body = {"answers": answers_for(survey, text=f"my words on {survey.title}")}
        assert client.post(f"/api/v1/surveys/{survey.pk}/responses", body, format="json").status_code == 201
    export = user_export(user=person)
    assert [row["instance_id"] for row in export["survey_responses"]] == [named.instances.get().pk]
    assert "my words on Named" in [row["text"] for row in export["survey_answers"]]
    assert "my words on Anonymous" not in str(export)
    assert len(export["survey_participations"]) == 2

    erasure_now(actor=admin_user, user=person)
    assert not SurveyResponse.objects.filter(instance__survey=named).exists()
    assert not SurveyParticipation.objects.filter(user=person).exists()
    assert SurveyAnswer.objects.filter(text="my words on Anonymous").exists()
