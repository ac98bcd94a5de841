"""The opening hours editor's model: what it writes parses and means what was entered."""

from __future__ import annotations

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from marktplatz.domain.hours import END_OF_DAY, check_hours, open_intervals, week_schedule
from marktplatz.domain.hours_editor import (
    DAY_MINUTES,
    EMPTY_PLAN,
    HoursPlan,
    Span,
    SpecialDay,
    read_osm,
    write_osm,
)
from marktplatz.domain.hours_form import (
    HoursInvalid,
    Problem,
    Row,
    copy_monday,
    editable_plan,
    plan_fields,
    read_fields,
)

BERLIN = ZoneInfo("Europe/Berlin")
STATE = "NW"
TODAY = date(2027, 2, 20)
WEEK = date(2027, 3, 1)  # a Monday; no public holiday in NW from 1 to 7 March 2027
LABOUR_DAY = date(2027, 5, 1)  # a Saturday and a public holiday everywhere


# --- generating plans ----------------------------------------------------------------------


@st.composite
def spans(draw: st.DrawFn, *, nights: bool) -> tuple[Span, ...]:
    """Up to three periods with gaps between them; the last may run past midnight."""
    count = draw(st.integers(0, 3))
    points = sorted(
        draw(st.sets(st.integers(0, DAY_MINUTES // 5), min_size=2 * count, max_size=2 * count))
    )
    found = [(points[i] * 5, points[i + 1] * 5) for i in range(0, len(points), 2)]
    if found and nights and draw(st.booleans()):
        start = found[-1][0]
        found[-1] = (start, DAY_MINUTES + draw(st.integers(1, max(1, start - 1))))
    return tuple(found)


@st.composite
def special_days(draw: st.DrawFn) -> tuple[SpecialDay, ...]:
    days = sorted(draw(st.sets(st.integers(0, 6), max_size=3)))
    found: list[SpecialDay] = []
    for offset in days:
        first = WEEK + timedelta(days=offset)
        if found and found[-1].last >= first:
            continue
        last = first + timedelta(days=draw(st.integers(0, 1)))
        note = draw(st.sampled_from(["", "Inventur", "Betriebsausflug"]))
        found.append(SpecialDay(first, last, draw(spans(nights=False)), note))
    return tuple(found)


@st.composite
def plans(draw: st.DrawFn) -> HoursPlan:
    week = tuple(draw(spans(nights=True)) for _ in range(7))
    return HoursPlan(week, draw(spans(nights=False)), draw(special_days()))


def accepted(plan: HoursPlan) -> HoursPlan | None:
    """The plan as the editor's form takes it back, or None when the form refuses it."""
    try:
        return read_fields(plan_fields(plan), TODAY)
    except HoursInvalid:
        return None


# --- what the entered plan should mean -----------------------------------------------------


def as_times(found: list[Span]) -> tuple[tuple[time, time], ...]:
    def clock(minutes: int) -> time:
        return END_OF_DAY if minutes >= DAY_MINUTES else time(minutes // 60, minutes % 60)

    return tuple((clock(start), clock(end)) for start, end in found)


def special_on(plan: HoursPlan, day: date) -> SpecialDay | None:
    return next((s for s in plan.special_days if s.first <= day <= s.last), None)


def expected_day(plan: HoursPlan, day: date) -> tuple[tuple[time, time], ...]:
    """A special day replaces the whole day; otherwise the weekday's periods, plus the end of
    a night that began the day before."""
    special = special_on(plan, day)
    if special is not None:
        return as_times(list(special.spans))
    own = [(start, min(end, DAY_MINUTES)) for start, end in plan.week[day.weekday()]]
    before = day - timedelta(days=1)
    spill = [] if special_on(plan, before) else plan.week[before.weekday()]
    nights = [(0, end - DAY_MINUTES) for _, end in spill if end > DAY_MINUTES]
    return as_times(nights + own)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans())
def test_every_accepted_plan_writes_hours_that_mean_exactly_what_was_entered(
    plan: HoursPlan,
) -> None:
    # given
    checked = accepted(plan)
    assume(checked is not None)  # hypothesis fails the test if it must refuse too many
    assert checked is not None
    # when
    raw = write_osm(checked)
    week = week_schedule(raw, WEEK, BERLIN, STATE)
    labour_day = week_schedule(raw, LABOUR_DAY, BERLIN, STATE, days=1)
    # then
    assert check_hours(raw).valid, raw
    if not raw:
        assert checked == EMPTY_PLAN
        return
    assert week is not None
    assert labour_day is not None
    assert [d.intervals for d in week] == [
        expected_day(checked, WEEK + timedelta(days=i)) for i in range(7)
    ], raw
    assert labour_day[0].intervals == as_times(list(checked.holidays)), raw
    assert open_intervals(raw, WEEK, BERLIN, STATE) is not None


@settings(max_examples=150, deadline=None)
@given(plans())
def test_what_the_editor_writes_reads_back_to_the_same_plan(plan: HoursPlan) -> None:
    # given
    checked = accepted(plan)
    assume(checked is not None)  # hypothesis fails the test if it must refuse too many
    assert checked is not None
    raw = write_osm(checked)
    # when
    read = read_osm(raw, TODAY)
    # then
    assert read is not None, raw
    assert write_osm(read.plan) == raw
    assert (read.plan.week, read.plan.holidays) == (checked.week, checked.holidays)
    # A closed special day right after a night's special day may read back as the rule the
    # editor writes there anyway: the same string, so the same meaning.
    assert editable_plan(raw, TODAY) == read


# --- writing -------------------------------------------------------------------------------

LUNCH = ((540, 780), (870, 1110))


def test_equal_weekdays_merge_into_ranges_and_lists() -> None:
    week = (LUNCH, LUNCH, ((540, 780),), LUNCH, LUNCH, ((600, 960),), ())
    plan = HoursPlan(week, (), (SpecialDay(date(2026, 12, 24), date(2026, 12, 24), ((600, 840),)),))
    assert write_osm(plan) == (
        "Mo,Tu,Th,Fr 09:00-13:00,14:30-18:30; We 09:00-13:00; Sa 10:00-16:00; PH off; "
        "2026 Dec 24 10:00-14:00"
    )


def test_a_night_past_midnight_joins_the_weekday_rules_additively() -> None:
    week = ((), (), (), (), ((1080, 1560),), ((1080, 1560),), ((840, 1200),))
    raw = write_osm(HoursPlan(week))
    assert raw == "Fr,Sa 18:00-02:00, Su 14:00-20:00; PH off"
    (sunday,) = week_schedule(raw, date(2027, 3, 7), BERLIN, STATE, days=1) or ()
    assert sunday.intervals == ((time(0), time(2)), (time(14), time(20)))


def test_closed_special_range_with_a_note() -> None:
    special = SpecialDay(date(2026, 12, 28), date(2027, 1, 2), (), "Inventur")
    assert write_osm(HoursPlan(((),) * 7, (), (special,))) == (
        'PH off; 2026 Dec 28-2027 Jan 2 off "Inventur"'
    )


def test_nothing_entered_writes_nothing() -> None:
    assert write_osm(EMPTY_PLAN) == ""


# --- reading -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "24/7",
        'Mo-Fr 09:00-18:00 "nach Vereinbarung"',
        "Feb-Oct Mo-Su 10:00-22:00",
        "PH off; Mo-Fr 09:00-18:00",
        "Mo-Fr 09:00-12:00,13:00-14:00,15:00-16:00,17:00-18:00",
        "Mo-Fr 09:00-13:00,12:00-18:00",
        "Mo 18:00-02:00; Mo 10:00-12:00",
        "Mo-Fr 09:00-18:00 || Sa 10:00-12:00",
    ],
)
def test_what_the_form_cannot_show_is_left_to_the_expert_field(raw: str) -> None:
    assert editable_plan(raw, TODAY) is None


def test_hand_written_hours_are_read_with_holidays_and_overrides() -> None:
    read = editable_plan("Mo-Fr 07:30-13:00,14:30-18:00; We 07:30-13:00; Su,PH 10:00-12:00", TODAY)
    assert read is not None
    assert read.plan.week[2] == ((450, 780),)
    assert read.plan.week[0] == ((450, 780), (870, 1080))
    assert read.plan.holidays == read.plan.week[6] == ((600, 720),)


def test_past_special_days_are_dropped_and_counted() -> None:
    read = read_osm("Mo 09:00-12:00; PH off; 2027 Jan 02 off; 2027 Mar 01 off", TODAY)
    assert read is not None
    assert read.dropped_past == 1
    assert [s.first for s in read.plan.special_days] == [date(2027, 3, 1)]


# --- the form's messages -------------------------------------------------------------------


def problems(**values: str) -> list[Problem]:
    with pytest.raises(HoursInvalid) as caught:
        read_fields(values, TODAY)
    return caught.value.problems


def monday(**values: str) -> dict[str, str]:
    return {"d0_open": "1", "d0_0_from": "09:00", "d0_0_to": "13:00", **values}


def test_a_period_ending_before_it_starts_names_its_row() -> None:
    (problem,) = problems(**monday(d0_1_from="09:00", d0_1_to="08:00", d0_0_from="", d0_0_to=""))
    assert problem == Problem(
        "d0_1_to",
        Row("day", 0, 2),
        "ends at %(end)s, before it starts at %(start)s.",
        {"start": "09:00", "end": "08:00"},
    )


@pytest.mark.parametrize(
    ("values", "field", "row", "message"),
    [
        (
            monday(d0_1_from="12:00", d0_1_to="15:00"),
            "d0_1_from",
            Row("day", 0, 2),
            "overlaps period %(other)s (%(range)s).",
        ),
        (
            monday(d0_1_from="13:00", d0_1_to="15:00"),
            "d0_1_from",
            Row("day", 0, 2),
            "starts exactly when period %(other)s ends. Please join both into one period.",
        ),
        (monday(d0_1_from="14:00"), "d0_1_to", Row("day", 0, 2), "the end time is missing."),
        (monday(d0_1_to="18:00"), "d0_1_from", Row("day", 0, 2), "the start time is missing."),
        (
            monday(d0_0_from="9 Uhr"),
            "d0_0_from",
            Row("day", 0, 1),
            "“%(value)s” is not a time. Please write it like 09:00.",
        ),
        (
            monday(d0_0_from="25:00"),
            "d0_0_from",
            Row("day", 0, 1),
            "“%(value)s” is not a time. Please write it like 09:00.",
        ),
        (
            monday(d0_0_to="09:00"),
            "d0_0_to",
            Row("day", 0, 1),
            "starts and ends at %(start)s. Please enter when it ends.",
        ),
        (
            monday(d0_0_from="24:00", d0_0_to="02:00"),
            "d0_0_from",
            Row("day", 0, 1),
            "a period cannot start at 24:00.",
        ),
        (
            {"d1_open": "1"},
            "d1_0_from",
            Row("day", 1),
            "is marked open but has no times. Enter at least one period or mark the day closed.",
        ),
        (
            monday(d0_0_to="10:00", d0_0_night="1"),
            "d0_0_to",
            Row("day", 0, 1),
            "ends the next day at %(end)s, 24 hours or more after it starts at %(start)s.",
        ),
        (
            monday(
                d0_0_from="20:00",
                d0_0_to="03:00",
                d0_0_night="1",
                d1_open="1",
                d1_0_from="02:00",
                d1_0_to="09:00",
            ),
            "d1_0_from",
            Row("day", 1, 1),
            "starts at %(start)s, but the night from the day before lasts until %(end)s.",
        ),
        (
            {"ph_mode": "hours", "ph_0_from": "12:00", "ph_0_to": "10:00"},
            "ph_0_to",
            Row("holidays", 0, 1),
            "ends at %(end)s, before it starts at %(start)s.",
        ),
        ({"s0_note": "Inventur"}, "s0_from", Row("special", 0), "the date is missing."),
        (
            {"s0_from": "31.02.2027"},
            "s0_from",
            Row("special", 0),
            "“%(value)s” is not a date. Please choose one like 24.12.2026.",
        ),
        (
            {"s0_from": "2027-03-05", "s0_to": "2027-03-04"},
            "s0_to",
            Row("special", 0),
            "ends on %(last)s, before it begins on %(first)s.",
        ),
        (
            {"s0_from": "2027-02-19"},
            "s0_from",
            Row("special", 0),
            "%(date)s is in the past. Please remove this special day.",
        ),
        (
            {"s0_from": "2027-03-01", "s0_to": "2027-06-01"},
            "s0_to",
            Row("special", 0),
            "spans more than %(max)s days.",
        ),
        (
            {"s0_from": "2027-03-01", "s0_to": "2027-03-03", "s1_from": "2027-03-03"},
            "s1_from",
            Row("special", 1),
            "overlaps special day %(other)s.",
        ),
        (
            {"s0_from": "2027-03-01", "s0_note": 'Sag "Hallo"'},
            "s0_note",
            Row("special", 0),
            "the note may have at most %(max)s characters and no quotation marks.",
        ),
        (
            {"s0_from": "2027-03-01", "s0_mode": "hours"},
            "s0_0_from",
            Row("special", 0),
            "is marked open but has no times. Enter at least one period or mark the day closed.",
        ),
    ],
)
def test_each_wrong_entry_has_its_own_message(
    values: dict[str, str], field: str, row: Row, message: str
) -> None:
    found = problems(**values)
    assert [(p.field, p.row, p.message) for p in found] == [(field, row, message)]


def test_too_many_special_days_for_the_stored_length_are_refused() -> None:
    values = {"special_rows": "20"}
    for index in range(20):
        day = (date(2027, 3, 1) + timedelta(days=index)).isoformat()
        values |= {f"s{index}_from": day, f"s{index}_note": "Betriebsferien wegen Umbau"}
    (problem,) = problems(**values)
    assert problem.row == Row("form")


def test_closed_days_keep_their_times_out_of_the_plan() -> None:
    plan = read_fields({"d0_0_from": "09:00", "d0_0_to": "08:00"}, TODAY)
    assert plan == EMPTY_PLAN


def test_midnight_as_the_end_and_a_german_date_are_understood() -> None:
    plan = read_fields(
        {"d5_open": "1", "d5_0_from": "18:00", "d5_0_to": "00:00", "s0_from": "01.03.2027"},
        TODAY,
    )
    assert plan.week[5] == ((1080, DAY_MINUTES),)
    assert plan.special_days == (SpecialDay(date(2027, 3, 1), date(2027, 3, 1), ()),)


def test_copy_monday_fills_tuesday_to_friday_only() -> None:
    copied = copy_monday(monday(d0_1_from="14:30", d0_1_to="18:30", d5_open="1"))
    assert [copied.get(f"d{day}_1_to") for day in range(7)] == ["18:30"] * 5 + [None, None]
    assert copied["d4_open"] == "1"
    assert copied["d5_open"] == "1"


def test_times_are_read_as_typed_on_a_phone() -> None:
    values = {"d0_open": "1", "d0_0_from": "9", "d0_0_to": "12.30", "d0_1_from": "1330"}
    plan = read_fields({**values, "d0_1_to": "18,45"}, TODAY)
    assert plan.week[0] == ((540, 750), (810, 1125))
