from io import StringIO

import pytest
from django.core.management import call_command

from moderation.models import FlaggedKeyword, Report, ReportCase

pytestmark = pytest.mark.django_db


def test_seed_demo_gives_moderators_keywords_and_an_open_report(api):
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    assert FlaggedKeyword.objects.count() == 4
    assert Report.objects.count() == 1
    case = ReportCase.objects.get()
    assert case.status == "open"
