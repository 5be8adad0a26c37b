"""Objects of organisation A for the survey routes (see harness.py).

The survey asks organisation A's group_a, is open and has been answered by its employee:
nobody of organisation B, whatever their role, may learn it exists, and a colleague of A
outside group_a may not reach it either (test_isolation_matrix.GROUP_OR_PERSON_SCOPED).
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from voice.services.surveys import survey_create, survey_respond


def _survey(world):
    def make():
        survey = survey_create(
            actor=world.admin_a,
            title="Tenancy pulse",
            group_ids=[world.group_a.pk],
            questions=[{"kind": "scale_0_10", "text": "How likely are you to recommend working here?"}],
            closes_at=timezone.now() + dt.timedelta(days=7),
        )
        survey_respond(user=world.employee_a, survey=survey, answers=[{"question_id": survey.questions.get().pk, "value": 9}])
        return survey

    return world.once("voice.survey", make)


TENANCY_FIXTURES = {"survey_id": lambda world: _survey(world).pk}
