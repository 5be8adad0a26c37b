"""Calendar months in an organisation's time zone.

A month is a local-calendar notion: "March" in Amsterdam ends at a different
instant than "March" in New York, and the offset at its start can differ from
the one at its end (DST). Everything here goes through zoneinfo and converts
to UTC only at the edge.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.utils.formats import date_format

UTC = dt.UTC


def month_of(instant: dt.datetime, tz_name: str) -> dt.date:
    """First day of the month that `instant` falls in, on the calendar of `tz_name`."""
    return instant.astimezone(zoneinfo.ZoneInfo(tz_name)).date().replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return dt.date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def previous_month(month: dt.date) -> dt.date:
    return dt.date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def month_start(month: dt.date, tz_name: str) -> dt.datetime:
    """The instant local midnight on the 1st begins, in UTC."""
    local = dt.datetime(month.year, month.month, 1, tzinfo=zoneinfo.ZoneInfo(tz_name))
    # A zone may skip midnight (a DST jump at 00:00); the round trip through UTC lands on the real instant.
    return local.astimezone(UTC)


def month_bounds(month: dt.date, tz_name: str) -> tuple[dt.datetime, dt.datetime]:
    return month_start(month, tz_name), month_start(next_month(month), tz_name)


def parse_month(raw: str) -> dt.date:
    """`YYYY-MM` → first day of that month; ValueError otherwise."""
    year, _, month = raw.partition("-")
    if len(year) != 4 or len(month) != 2:
        raise ValueError(raw)
    # Year 9999's December has no next month to end at, and year 1 cannot be shifted to UTC
    # everywhere: outside these years a month would be a 500, not a 400.
    if not 1900 <= int(year) <= 9998:
        raise ValueError(raw)
    return dt.date(int(year), int(month), 1)


def month_name(month: dt.date) -> str:
    """The month as people read it in the active language: "december 2026" (nl), "December 2026" (en).
    Call it while the reader's language is active (a request is; a push or event picks its own)."""
    return date_format(month, "YEAR_MONTH_FORMAT")
