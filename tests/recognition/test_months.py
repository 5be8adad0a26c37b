"""Month boundaries in the organisation's time zone, written before the round code that relies on them."""

import datetime as dt

from recognition.months import month_bounds, month_of, next_month, parse_month, previous_month

UTC = dt.UTC


def test_same_instant_is_a_different_month_in_amsterdam_and_new_york():
    instant = dt.datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    assert month_of(instant, "Europe/Amsterdam") == dt.date(2026, 4, 1)
    assert month_of(instant, "America/New_York") == dt.date(2026, 3, 1)


def test_march_in_amsterdam_starts_in_winter_time_and_ends_in_summer_time():
    opens, closes = month_bounds(dt.date(2026, 3, 1), "Europe/Amsterdam")
    assert opens == dt.datetime(2026, 2, 28, 23, 0, tzinfo=UTC)  # CET, +01:00
    assert closes == dt.datetime(2026, 3, 31, 22, 0, tzinfo=UTC)  # CEST, +02:00
    assert closes - opens == dt.timedelta(days=31, hours=-1)


def test_october_in_amsterdam_gains_the_hour_back():
    opens, closes = month_bounds(dt.date(2026, 10, 1), "Europe/Amsterdam")
    assert opens == dt.datetime(2026, 9, 30, 22, 0, tzinfo=UTC)
    assert closes == dt.datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
    assert closes - opens == dt.timedelta(days=31, hours=1)


def test_new_york_october_ends_before_its_dst_change_on_november_1st():
    # DST ends at 02:00 on 1 November 2026: local midnight is still EDT (-04:00).
    _, closes = month_bounds(dt.date(2026, 10, 1), "America/New_York")
    assert closes == dt.datetime(2026, 11, 1, 4, 0, tzinfo=UTC)
    _, closes_november = month_bounds(dt.date(2026, 11, 1), "America/New_York")
    assert closes_november == dt.datetime(2026, 12, 1, 5, 0, tzinfo=UTC)


def test_parse_month_rejects_other_shapes():
    import pytest

    for raw in ("2026-3", "202603", "2026-13", "march", "9999-12", "0001-01"):
        with pytest.raises(ValueError):
            parse_month(raw)


def test_month_helpers():
    assert next_month(dt.date(2026, 12, 1)) == dt.date(2027, 1, 1)
    assert previous_month(dt.date(2026, 1, 1)) == dt.date(2025, 12, 1)
    assert parse_month("2026-03") == dt.date(2026, 3, 1)
