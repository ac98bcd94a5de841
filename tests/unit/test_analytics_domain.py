"""Dashboard figures: periods, months, event hours and uplift, the category median."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from marktplatz.domain.analytics import (
    HOURS_OF_WEEK,
    CampaignUplift,
    Group,
    compare,
    event_hours,
    group,
    month_period,
    period,
    uplift_of,
    utc_offsets,
    week_hours,
)
from marktplatz.domain.errors import InvalidInput
from marktplatz.domain.rollups import HOUR, NONE, RollupRow, Stat

BERLIN = ZoneInfo("Europe/Berlin")
TODAY = date(2026, 11, 30)


def test_the_default_period_is_the_28_days_before_today() -> None:
    found = period(None, None, TODAY, BERLIN)
    assert (found.first, found.last) == (date(2026, 11, 2), date(2026, 11, 29))
    # whole local days: 1 November 0:00 in Berlin is 31 October 23:00 UTC
    assert period("2026-11-01", "2026-11-01", TODAY, BERLIN).start == datetime(
        2026, 10, 31, 23, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("first", "last", "field", "message"),
    [
        ("2026-11-10", "2026-11-01", "first", "The first day has to lie before the last day."),
        ("2025-01-01", "2026-11-01", "first", "Choose a period of at most 366 days."),
        (None, "2026-12-01", "last", "The last day cannot lie in the future."),
        ("1.11.2026", None, "first", "Give a date as YYYY-MM-DD."),
    ],
)
def test_a_bad_period_names_its_field(
    first: str | None, last: str | None, field: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        period(first, last, TODAY, BERLIN)
    assert (refused.value.field, refused.value.message) == (field, message)


def test_a_month_is_whole_and_the_default_is_the_last_that_ended() -> None:
    assert month_period(None, TODAY, BERLIN).first == date(2026, 10, 1)
    assert month_period(None, TODAY, BERLIN).last == date(2026, 10, 31)
    february = month_period("2026-02", TODAY, BERLIN)
    assert (february.first, february.last) == (date(2026, 2, 1), date(2026, 2, 28))
    assert february.previous_month().first == date(2026, 1, 1)
    assert month_period("2026-11", TODAY, BERLIN).last == TODAY  # the running month so far
    with pytest.raises(InvalidInput):
        month_period("2026-12", TODAY, BERLIN)
    with pytest.raises(InvalidInput):
        month_period("Nov", TODAY, BERLIN)


def test_an_event_covers_whole_hours_and_lasts_three_without_an_end() -> None:
    start = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
    assert event_hours(start, start + timedelta(minutes=90)) == (
        datetime(2026, 11, 28, 9, tzinfo=UTC),
        datetime(2026, 11, 28, 11, tzinfo=UTC),
    )
    assert event_hours(start, None)[1] == datetime(2026, 11, 28, 13, tzinfo=UTC)


def row(at: datetime, count: int, identified: int = 0) -> RollupRow:
    return RollupRow(Stat.ZONE_CONTACTS, at, "z", NONE, count, identified, count - identified)


def test_uplift_is_against_the_mean_of_the_shown_weeks() -> None:
    # given an event hour with 30 contacts; the weeks before 10, 20, hidden (2 visitors), 30
    start = datetime(2026, 11, 28, 10, tzinfo=UTC)
    rows = [row(start, 30)]
    for weeks, count in ((4, 10), (3, 20), (1, 30)):
        rows.append(row(start - timedelta(weeks=weeks), count))
    rows.append(row(start - timedelta(weeks=2), 2, identified=0))
    # when
    found = uplift_of("Markt", start, start + HOUR, rows)
    # then the hidden week is left out of the mean: (10 + 20 + 30) / 3 = 20, so +50 %
    assert found.weeks == [10, 20, None, 30]
    assert (found.during, found.baseline, found.uplift) == (30, 20, 0.5)


def test_the_median_needs_five_shops() -> None:
    assert compare(7, [1, 7, 9, 30]).median is None
    assert compare(7, [1, 7, 9, 30, 40]).median == 9
    assert compare(None, [0, 0, 0, 5, 5]).own is None


def test_the_offsets_change_with_summer_time() -> None:
    # given a week in Berlin in which summer time ends (25 October 2026, 3:00 → 2:00)
    start = datetime(2026, 10, 21, tzinfo=UTC)
    found = utc_offsets(BERLIN, start, start + timedelta(days=7))
    # then two offsets hold: +2 h until 1:00 UTC of the 25th, +1 h from then on
    switch = datetime(2026, 10, 25, 1, tzinfo=UTC)
    assert found == ((int(start.timestamp()), 7200), (int(switch.timestamp()), 3600))
    # and a winter week has one, whose buckets fold hours onto the week (Monday 0:00 = 0)
    monday = datetime(2026, 11, 23, tzinfo=UTC)
    winter = week_hours(BERLIN, monday, monday + timedelta(days=7))
    monday_nine = datetime(2026, 11, 23, 8, tzinfo=UTC).timestamp()
    bucket = (int(monday_nine) + 3600) // winter.size + winter.shift
    assert len(winter.offsets) == 1
    assert bucket % HOURS_OF_WEEK == 9


def test_a_campaign_group_shows_only_what_rests_on_five_visitors() -> None:
    assert group(40, 10) == Group(40, 10)
    assert group(40, 10).rate == 0.25
    assert group(4, 1) == Group(None, None)  # too few in the group
    assert group(40, 3) == Group(40, None)  # too few came
    assert group(40, 38) == Group(40, None)  # too few did not come: that is about 2 people
    assert group(40, 0) == Group(40, 0)  # nobody came: no one's secret


def test_uplift_is_the_difference_of_the_rates() -> None:
    found = CampaignUplift("c", "Sehtest", "Optik", group(100, 30), group(50, 10))
    assert found.uplift == pytest.approx(0.1)
    assert CampaignUplift("c", "t", "s", group(100, 30), group(4, 1)).uplift is None
