"""cards.iso renders exactly what DRF's DateTimeField would (the API's date format)."""

from datetime import UTC, datetime, timedelta
from datetime import timezone as dt_timezone
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from rest_framework.fields import DateTimeField

from feed.cards import iso

VALUES = [
    datetime(2026, 11, 29, 22, 40, 5, 123456, tzinfo=UTC),
    datetime(2026, 11, 29, 22, 40, 5, tzinfo=UTC),
    datetime(2026, 3, 29, 1, 30, tzinfo=ZoneInfo("Europe/Amsterdam")),
    datetime(2026, 7, 1, 12, 0, tzinfo=dt_timezone(timedelta(hours=-5, minutes=-30))),
    datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
]


@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize("zone", [None, "Europe/Amsterdam", "America/St_Johns"])
def test_iso_matches_drf(value, zone):
    if zone is None:
        assert iso(value) == DateTimeField().to_representation(value)
        return
    with timezone.override(ZoneInfo(zone)):
        assert iso(value) == DateTimeField().to_representation(value)


def test_iso_of_none_is_none():
    assert iso(None) is None
