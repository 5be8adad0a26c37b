"""seed_demo's monthly pulse: three past instances make a trend, the fourth is open for answers."""

from __future__ import annotations

import pytest

from accounts import demo as accounts_demo
from voice import survey_demo
from voice.models import Survey

pytestmark = pytest.mark.django_db


def test_demo_pulse_has_a_trend_and_an_open_instance(api):
    context = accounts_demo.seed()
    survey_demo.seed(context)
    survey_demo.seed(context)  # idempotent
    [survey] = Survey.objects.filter(organization=context.organization)
    admin = api(context.admin)
    trend = admin.get(f"/api/v1/surveys/{survey.pk}/trend").json()
    points = trend["instances"]
    assert [p["instance"]["closed"] for p in points] == [True, True, True, False]
    means = [p["questions"][0]["mean"] for p in points[:3]]
    assert not any(p["suppressed"] for p in points[:3]) and means == sorted(means)
    employee = api(context.employees[-1])
    [listed] = employee.get("/api/v1/surveys?status=open").json()["results"]
    assert listed["id"] == survey.pk and listed["instance"]["number"] == 4
