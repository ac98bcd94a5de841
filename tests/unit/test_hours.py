"""Unit tests for opening hours evaluation with German state holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marktplatz.domain.hours import (
    END_OF_DAY,
    DayHours,
    HoursCheck,
    HoursStatus,
    OpenState,
    check_hours,
    evaluate_hours,
    holiday_name,
    week_schedule,
)

BERLIN = ZoneInfo("Europe/Berlin")
SHOP = "Mo-Fr 09:00-13:00,14:30-18:30; Sa 09:00-14:00"
LUNCH_BREAK_DAY = ((time(9), time(13)), (time(14, 30), time(18, 30)))
INVALID_EXAMPLES = ["Mo-Fr 9-18 Uhr", "täglich geöffnet", "garbage !! ;;", "Mo-Fr 10:00-18:00;"]

# Fragments of real expressions, so that generated strings often parse and get evaluated.
FRAGMENTS = [
    "Mo-Fr", "Sa", "Su", "PH", "SH", " ", ",", ";", " || ", "off", "unknown", '"nach Vereinbarung"',
    "09:00-13:00", "14:30-18:30", "22:00-02:00", "24/7", "Dec 24", "week 01-53", "easter",
    "sunrise-sunset", "+1 day", "10:00+", "2026", "Jan-Mar",
]  # fmt: skip


def berlin(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def test_lunch_break_is_closed_until_the_afternoon_opening() -> None:
    # given a Monday at 13:30, during the lunch break
    at = berlin(2026, 6, 8, 13, 30)

    # when
    status = evaluate_hours(SHOP, at, BERLIN, "NW")

    # then
    assert status == HoursStatus(OpenState.CLOSED, berlin(2026, 6, 8, 14, 30), None, None)


def test_open_shop_reports_its_closing_time() -> None:
    # given a Monday morning and a Monday afternoon
    morning, afternoon = berlin(2026, 6, 8, 10), berlin(2026, 6, 8, 15)

    # when
    in_the_morning = evaluate_hours(SHOP, morning, BERLIN, "NW")
    in_the_afternoon = evaluate_hours(SHOP, afternoon, BERLIN, "NW")

    # then
    assert in_the_morning == HoursStatus(OpenState.OPEN, berlin(2026, 6, 8, 13), None, None)
    assert in_the_afternoon == HoursStatus(OpenState.OPEN, berlin(2026, 6, 8, 18, 30), None, None)


def test_saturday_is_a_half_day() -> None:
    # given Saturday late morning and Saturday afternoon
    morning, afternoon = berlin(2026, 6, 6, 11), berlin(2026, 6, 6, 15)

    # when
    in_the_morning = evaluate_hours(SHOP, morning, BERLIN, "NW")
    in_the_afternoon = evaluate_hours(SHOP, afternoon, BERLIN, "NW")

    # then
    assert in_the_morning == HoursStatus(OpenState.OPEN, berlin(2026, 6, 6, 14), None, None)
    assert in_the_afternoon == HoursStatus(OpenState.CLOSED, berlin(2026, 6, 8, 9), None, None)


def test_sunday_is_closed_until_monday_morning() -> None:
    # given a Sunday noon
    at = berlin(2026, 6, 7, 12)

    # when
    status = evaluate_hours(SHOP, at, BERLIN, "NW")

    # then
    assert status == HoursStatus(OpenState.CLOSED, berlin(2026, 6, 8, 9), None, None)


def test_at_in_another_timezone_is_converted_to_the_city() -> None:
    # given 11:00 UTC, which is 13:00 in Berlin in summer
    at = datetime(2026, 6, 8, 11, tzinfo=UTC)

    # when
    status = evaluate_hours(SHOP, at, BERLIN, "NW")

    # then
    assert status == HoursStatus(OpenState.CLOSED, berlin(2026, 6, 8, 14, 30), None, None)
    assert status.next_change is not None
    assert status.next_change.tzinfo is BERLIN


@pytest.mark.parametrize(
    ("federal_state", "expected"),
    [
        ("NW", HoursStatus(OpenState.HOLIDAY, berlin(2026, 6, 5, 9), "Fronleichnam", None)),
        ("BY", HoursStatus(OpenState.HOLIDAY, berlin(2026, 6, 5, 9), "Fronleichnam", None)),
        ("NI", HoursStatus(OpenState.OPEN, berlin(2026, 6, 4, 13), None, None)),
        ("HH", HoursStatus(OpenState.OPEN, berlin(2026, 6, 4, 13), None, None)),
    ],
)
def test_corpus_christi_closes_shops_only_where_it_is_a_holiday(
    federal_state: str, expected: HoursStatus
) -> None:
    # given Fronleichnam, Thursday 4 June 2026, at 10:00
    at = berlin(2026, 6, 4, 10)

    # when
    status = evaluate_hours(SHOP, at, BERLIN, federal_state)

    # then
    assert status == expected


def test_reformation_day_is_a_holiday_in_lower_saxony_only() -> None:
    # given Reformationstag, Saturday 31 October 2026, at 10:00
    at = berlin(2026, 10, 31, 10)

    # when
    in_lower_saxony = evaluate_hours(SHOP, at, BERLIN, "NI")
    in_north_rhine_westphalia = evaluate_hours(SHOP, at, BERLIN, "NW")

    # then
    assert in_lower_saxony == HoursStatus(
        OpenState.HOLIDAY, berlin(2026, 11, 2, 9), "Reformationstag", None
    )
    assert in_north_rhine_westphalia == HoursStatus(
        OpenState.OPEN, berlin(2026, 10, 31, 14), None, None
    )


def test_ph_off_applies_on_the_state_holidays() -> None:
    # given hours that close on public holidays, evaluated on Fronleichnam
    raw = "Mo-Sa 09:00-18:00; PH off"
    at = berlin(2026, 6, 4, 10)

    # when
    in_nrw = evaluate_hours(raw, at, BERLIN, "NW")
    in_lower_saxony = evaluate_hours(raw, at, BERLIN, "NI")

    # then
    assert in_nrw == HoursStatus(OpenState.HOLIDAY, berlin(2026, 6, 5, 9), "Fronleichnam", None)
    assert in_lower_saxony == HoursStatus(OpenState.OPEN, berlin(2026, 6, 4, 18), None, None)


def test_ph_hours_replace_the_weekday_hours_on_a_state_holiday() -> None:
    # given hours with shorter opening on public holidays
    raw = "Mo-Sa 09:00-18:00; PH 10:00-14:00"

    # when
    before = evaluate_hours(raw, berlin(2026, 6, 4, 9, 30), BERLIN, "NW")
    during = evaluate_hours(raw, berlin(2026, 6, 4, 11), BERLIN, "NW")
    after = evaluate_hours(raw, berlin(2026, 6, 4, 15), BERLIN, "NW")
    elsewhere = evaluate_hours(raw, berlin(2026, 6, 4, 9, 30), BERLIN, "NI")

    # then
    assert before == HoursStatus(OpenState.CLOSED, berlin(2026, 6, 4, 10), "Fronleichnam", None)
    assert during == HoursStatus(OpenState.OPEN, berlin(2026, 6, 4, 14), "Fronleichnam", None)
    assert after == HoursStatus(OpenState.CLOSED, berlin(2026, 6, 5, 9), "Fronleichnam", None)
    assert elsewhere == HoursStatus(OpenState.OPEN, berlin(2026, 6, 4, 18), None, None)


def test_christmas_next_opening_skips_both_holidays_and_sunday() -> None:
    # given Christmas Eve 2026 (a Thursday): 25 and 26 December are holidays, 27 is a Sunday
    raw = "Mo-Sa 09:00-18:00"

    # when
    afternoon = evaluate_hours(raw, berlin(2026, 12, 24, 16), BERLIN, "NW")
    evening = evaluate_hours(raw, berlin(2026, 12, 24, 18), BERLIN, "NW")
    christmas_day = evaluate_hours(raw, berlin(2026, 12, 25, 12), BERLIN, "NW")

    # then
    assert afternoon == HoursStatus(OpenState.OPEN, berlin(2026, 12, 24, 18), None, None)
    assert evening == HoursStatus(OpenState.CLOSED, berlin(2026, 12, 28, 9), None, None)
    assert christmas_day == HoursStatus(
        OpenState.HOLIDAY, berlin(2026, 12, 28, 9), "Erster Weihnachtstag", None
    )


def test_always_open_has_no_next_change_even_on_a_holiday() -> None:
    # given an ordinary Monday and Fronleichnam
    monday, holiday = berlin(2026, 6, 8, 3), berlin(2026, 6, 4, 3)

    # when
    on_monday = evaluate_hours("24/7", monday, BERLIN, "NW")
    on_holiday = evaluate_hours("24/7", holiday, BERLIN, "NW")

    # then
    assert on_monday == HoursStatus(OpenState.OPEN, None, None, None)
    assert on_holiday == HoursStatus(OpenState.OPEN, None, "Fronleichnam", None)


@pytest.mark.parametrize("raw", ["", "   "])
def test_no_hours_given_is_unknown_and_valid(raw: str) -> None:
    # given no hours at all
    at = berlin(2026, 6, 8, 10)

    # when
    status = evaluate_hours(raw, at, BERLIN, "NW")
    check = check_hours(raw)

    # then
    assert status == HoursStatus(OpenState.UNKNOWN, None, None, None)
    assert check == HoursCheck(valid=True, error=None)


@pytest.mark.parametrize("raw", ["unknown", '"nach Vereinbarung"', 'Mo-Fr "by appointment"'])
def test_unknown_and_by_appointment_hours_are_unknown(raw: str) -> None:
    # given a Monday morning
    at = berlin(2026, 6, 8, 10)

    # when
    status = evaluate_hours(raw, at, BERLIN, "NW")

    # then
    assert status == HoursStatus(OpenState.UNKNOWN, None, None, None)


def test_appointment_only_saturday_keeps_weekday_hours() -> None:
    # given regular weekday hours and Saturdays by appointment
    raw = 'Mo-Fr 10:00-18:00; Sa "nach Vereinbarung"'

    # when
    friday = evaluate_hours(raw, berlin(2026, 6, 5, 11), BERLIN, "NW")
    saturday = evaluate_hours(raw, berlin(2026, 6, 6, 11), BERLIN, "NW")

    # then
    assert friday == HoursStatus(OpenState.OPEN, berlin(2026, 6, 5, 18), None, None)
    assert saturday == HoursStatus(OpenState.UNKNOWN, None, None, None)


def test_check_hours_accepts_a_valid_expression() -> None:
    # given
    raw = "Mo-Fr 09:00-13:00,14:30-18:30; Sa 09:00-14:00; PH off"

    # when
    check = check_hours(raw)

    # then
    assert check == HoursCheck(valid=True, error=None)


def test_check_hours_reports_the_parser_reason_on_one_line() -> None:
    # given hours written as free text
    raw = "Mo-Fr 9-18 Uhr"

    # when
    check = check_hours(raw)

    # then
    assert check == HoursCheck(
        valid=False,
        error="expected EOI, any_rule_separator, rules_modifier, timespan, or holiday "
        "(line 1, column 7)",
    )


@pytest.mark.parametrize("raw", INVALID_EXAMPLES)
def test_unparseable_hours_are_invalid_with_the_parser_reason(raw: str) -> None:
    # given
    at = berlin(2026, 6, 8, 10)

    # when
    status = evaluate_hours(raw, at, BERLIN, "NW")
    check = check_hours(raw)

    # then
    assert check.valid is False
    assert check.error is not None
    assert "\n" not in check.error
    assert status == HoursStatus(OpenState.INVALID, None, None, check.error)
    assert week_schedule(raw, date(2026, 6, 8), BERLIN, "NW") is None


@settings(max_examples=150, deadline=None, database=None)
@given(raw=st.text() | st.lists(st.sampled_from(FRAGMENTS), max_size=8).map("".join))
def test_evaluation_never_raises_for_any_string(raw: str) -> None:
    # given any string at all, evaluated at the start of the October DST change
    at = berlin(2026, 10, 25, 2, 30)

    # when
    check = check_hours(raw)
    status = evaluate_hours(raw, at, BERLIN, "NW")
    schedule = week_schedule(raw, date(2026, 10, 24), BERLIN, "NW", days=3)

    # then
    assert (status.state is OpenState.INVALID) == (not check.valid)
    assert status.error == check.error
    assert check.error is None or "\n" not in check.error
    assert (schedule is None) == (not check.valid or not raw.strip())


def test_week_schedule_shows_lunch_breaks_and_holidays() -> None:
    # given the week of Fronleichnam in NRW
    start = date(2026, 6, 1)

    # when
    schedule = week_schedule(SHOP, start, BERLIN, "NW")

    # then
    assert schedule == (
        DayHours(date(2026, 6, 1), LUNCH_BREAK_DAY, None),
        DayHours(date(2026, 6, 2), LUNCH_BREAK_DAY, None),
        DayHours(date(2026, 6, 3), LUNCH_BREAK_DAY, None),
        DayHours(date(2026, 6, 4), (), "Fronleichnam"),
        DayHours(date(2026, 6, 5), LUNCH_BREAK_DAY, None),
        DayHours(date(2026, 6, 6), ((time(9), time(14)),), None),
        DayHours(date(2026, 6, 7), (), None),
    )


def test_week_schedule_uses_ph_hours_on_a_state_holiday() -> None:
    # given
    raw = "Mo-Sa 09:00-18:00; PH 10:00-14:00"

    # when
    schedule = week_schedule(raw, date(2026, 6, 4), BERLIN, "NW", days=2)

    # then
    assert schedule == (
        DayHours(date(2026, 6, 4), ((time(10), time(14)),), "Fronleichnam"),
        DayHours(date(2026, 6, 5), ((time(9), time(18)),), None),
    )


def test_week_schedule_cuts_overnight_hours_at_midnight() -> None:
    # given a bar open past midnight on Friday and Saturday
    raw = "Fr-Sa 20:00-02:00"

    # when
    schedule = week_schedule(raw, date(2026, 6, 5), BERLIN, "NW", days=3)

    # then
    assert schedule == (
        DayHours(date(2026, 6, 5), ((time(20), END_OF_DAY),), None),
        DayHours(date(2026, 6, 6), ((time(0), time(2)), (time(20), END_OF_DAY)), None),
        DayHours(date(2026, 6, 7), ((time(0), time(2)),), None),
    )


def test_week_schedule_of_empty_hours_is_none() -> None:
    # given / when
    schedule = week_schedule("", date(2026, 6, 1), BERLIN, "NW")

    # then
    assert schedule is None


def test_next_change_across_spring_dst_change() -> None:
    # given Saturday afternoon before the switch to summer time on Sunday 29 March 2026
    at = berlin(2026, 3, 28, 15)

    # when
    status = evaluate_hours(SHOP, at, BERLIN, "NW")

    # then
    assert status == HoursStatus(OpenState.CLOSED, berlin(2026, 3, 30, 9), None, None)
    assert status.next_change is not None
    assert status.next_change.utcoffset() == timedelta(hours=2)
    assert status.next_change.astimezone(UTC) - at.astimezone(UTC) == timedelta(hours=41)


def test_night_hours_on_the_spring_dst_night_lose_an_hour() -> None:
    # given hours spanning the skipped hour 02:00-03:00 on 29 March 2026
    raw = "Mo-Su 01:00-04:00"
    at = berlin(2026, 3, 29, 1, 30)

    # when
    status = evaluate_hours(raw, at, BERLIN, "NW")

    # then
    assert status == HoursStatus(OpenState.OPEN, berlin(2026, 3, 29, 4), None, None)
    assert status.next_change is not None
    assert status.next_change.astimezone(UTC) - at.astimezone(UTC) == timedelta(hours=1, minutes=30)


def test_autumn_dst_week_keeps_local_opening_times() -> None:
    # given the week ending with the switch back to winter time on Sunday 25 October 2026
    start = date(2026, 10, 19)

    # when
    schedule = week_schedule(SHOP, start, BERLIN, "NW", days=8)
    status = evaluate_hours(SHOP, berlin(2026, 10, 24, 15), BERLIN, "NW")

    # then
    assert schedule is not None
    assert [day.intervals for day in schedule] == [
        *[LUNCH_BREAK_DAY] * 5,
        ((time(9), time(14)),),
        (),
        LUNCH_BREAK_DAY,
    ]
    assert status == HoursStatus(OpenState.CLOSED, berlin(2026, 10, 26, 9), None, None)
    assert status.next_change is not None
    assert status.next_change.utcoffset() == timedelta(hours=1)


def test_naive_at_is_rejected() -> None:
    # given a datetime without timezone
    at = datetime(2026, 6, 8, 10)  # noqa: DTZ001 - the naive value is the point of the test

    # when / then
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate_hours(SHOP, at, BERLIN, "NW")


def test_unknown_federal_state_is_rejected() -> None:
    # given / when / then
    with pytest.raises(ValueError, match="unknown German federal state: 'XX'"):
        evaluate_hours(SHOP, berlin(2026, 6, 8, 10), BERLIN, "XX")


def test_holiday_names_follow_the_site_language() -> None:
    # given Corpus Christi 2026 in North Rhine-Westphalia
    day = date(2026, 6, 4)
    # then
    assert holiday_name("NW", day) == "Fronleichnam"
    assert holiday_name("NW", day, "en") == "Corpus Christi"
    assert holiday_name("NI", day, "en") is None
