"""The opening hours editor's form: its fields to a checked plan, with a reason per row."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

from marktplatz.domain.errors import N_, DomainError
from marktplatz.domain.hours_editor import (
    DAY_MINUTES,
    MAX_PERIODS,
    HoursPlan,
    ReadPlan,
    Span,
    SpecialDay,
    clock,
    is_overnight,
    read_osm,
    write_osm,
)
from marktplatz.domain.shops import MAX_HOURS_LENGTH

MAX_SPECIAL_DAYS = 20
MAX_SPECIAL_SPAN_DAYS = 62
MAX_NOTE_LENGTH = 40
BLANK_SPECIAL_ROWS = 2
# "09:00", and as typed on a phone's keypad: "9.00", "9,00", "900", "9".
_TIME = re.compile(r"(\d{1,2})(?:[:.,]?(\d{2}))?")
_GERMAN_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")


@dataclass(frozen=True, slots=True)
class Row:
    """Where a problem is: a weekday (0 = Monday), holidays, a special day or the whole form.

    `period` counts the time rows of that day from 1; 0 means the day itself.
    """

    kind: str
    index: int = 0
    period: int = 0


@dataclass(frozen=True, slots=True)
class Problem:
    """One wrong entry: the input to mark, its row, and a msgid with %(name)s parameters."""

    field: str
    row: Row
    message: str
    params: Mapping[str, object] = dataclasses.field(default_factory=dict)


class HoursInvalid(DomainError):
    """The editor's form has wrong entries; nothing of it may be saved."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class _Entry:
    """A filled-in time row: its number on the form and its span."""

    period: int
    span: Span


def _prefix(row: Row) -> str:
    return {"day": f"d{row.index}", "holidays": "ph", "special": f"s{row.index}"}.get(row.kind, "")


# --- plan to fields ------------------------------------------------------------------------


def plan_fields(plan: HoursPlan) -> dict[str, str]:
    """The form's values for a plan, with blank rows for new special days."""
    values: dict[str, str] = {}
    for index, spans in enumerate(plan.week):
        values[f"d{index}_open"] = "1" if spans else ""
        values.update(_span_fields(f"d{index}", spans))
    values["ph_mode"] = "hours" if plan.holidays else "closed"
    values.update(_span_fields("ph", plan.holidays))
    for index, special in enumerate(plan.special_days):
        prefix = f"s{index}"
        values[f"{prefix}_from"] = special.first.isoformat()
        values[f"{prefix}_to"] = special.last.isoformat() if special.last != special.first else ""
        values[f"{prefix}_mode"] = "hours" if special.spans else "closed"
        values[f"{prefix}_note"] = special.note
        values.update(_span_fields(prefix, special.spans))
    values["special_rows"] = str(min(MAX_SPECIAL_DAYS, len(plan.special_days) + BLANK_SPECIAL_ROWS))
    return values


def _span_fields(prefix: str, spans: tuple[Span, ...]) -> dict[str, str]:
    values: dict[str, str] = {}
    for period, (start, end) in enumerate(spans):
        values[f"{prefix}_{period}_from"] = clock(start)
        values[f"{prefix}_{period}_to"] = "00:00" if end == DAY_MINUTES else clock(end)
        values[f"{prefix}_{period}_night"] = "1" if is_overnight((start, end)) else ""
    return values


def special_rows(values: Mapping[str, str]) -> int:
    """How many special-day rows the submitted form had (bounded)."""
    text = values.get("special_rows", "")
    count = int(text) if text.isdigit() else BLANK_SPECIAL_ROWS
    return max(BLANK_SPECIAL_ROWS, min(count, MAX_SPECIAL_DAYS))


def copy_monday(values: Mapping[str, str]) -> dict[str, str]:
    """The form with Monday's opening and time rows copied to Tuesday to Friday."""
    copied = dict(values)
    for index in range(1, 5):
        for suffix in ("open", *_period_suffixes()):
            copied[f"d{index}_{suffix}"] = values.get(f"d0_{suffix}", "")
    return copied


def _period_suffixes() -> list[str]:
    return [f"{p}_{part}" for p in range(MAX_PERIODS) for part in ("from", "to", "night")]


# --- fields to plan ------------------------------------------------------------------------


def read_fields(values: Mapping[str, str], today: date) -> HoursPlan:
    """The checked plan of a submitted form; raises HoursInvalid naming every wrong row."""
    problems: list[Problem] = []
    week = tuple(_weekday(values, index, problems) for index in range(7))
    _check_nights(week, problems)
    holidays: tuple[_Entry, ...] = ()
    if values.get("ph_mode") == "hours":
        holidays = _periods(values, Row("holidays"), problems, nights=False)
    specials = _special_days(values, today, problems)
    plan = HoursPlan(_spans(week), tuple(e.span for e in holidays), specials)
    if not problems and len(write_osm(plan)) > MAX_HOURS_LENGTH:
        problems.append(
            Problem(
                "special_rows",
                Row("form"),
                N_("These opening hours are too long to store. Please remove some special days."),
            )
        )
    if problems:
        raise HoursInvalid(problems)
    return plan


def _spans(week: tuple[tuple[_Entry, ...], ...]) -> tuple[tuple[Span, ...], ...]:
    return tuple(tuple(entry.span for entry in day) for day in week)


def _weekday(values: Mapping[str, str], index: int, problems: list[Problem]) -> tuple[_Entry, ...]:
    if not values.get(f"d{index}_open"):
        return ()
    return _periods(values, Row("day", index), problems, nights=True)


def _periods(
    values: Mapping[str, str], row: Row, problems: list[Problem], *, nights: bool
) -> tuple[_Entry, ...]:
    """The filled-in time rows of a day, in time order, each checked alone and against the rest."""
    prefix = _prefix(row)
    entries: list[_Entry] = []
    for period in range(MAX_PERIODS):
        name = f"{prefix}_{period}"
        night = nights and bool(values.get(f"{name}_night"))
        span = _span(values, name, Row(row.kind, row.index, period + 1), night, problems)
        if span is not None:
            entries.append(_Entry(period + 1, span))
    if not entries and not any(
        p.row.kind == row.kind and p.row.index == row.index for p in problems
    ):
        problems.append(
            Problem(
                f"{prefix}_0_from",
                row,
                N_(
                    "is marked open but has no times. Enter at least one period "
                    "or mark the day closed."
                ),
            )
        )
    entries.sort(key=lambda entry: entry.span)
    _check_overlaps(entries, row, problems)
    return tuple(entries)


def _span(
    values: Mapping[str, str], name: str, row: Row, night: bool, problems: list[Problem]
) -> Span | None:
    start_text = values.get(f"{name}_from", "").strip()
    end_text = values.get(f"{name}_to", "").strip()
    if not start_text and not end_text:
        return None
    start = _minutes(start_text, f"{name}_from", row, problems, N_("the start time is missing."))
    end = _minutes(end_text, f"{name}_to", row, problems, N_("the end time is missing."))
    if start is None or end is None:
        return None
    if start == DAY_MINUTES:
        problems.append(Problem(f"{name}_from", row, N_("a period cannot start at 24:00.")))
        return None
    if end == 0:
        end = DAY_MINUTES  # "until 00:00" is midnight at the end of the day
    params = {"start": clock(start), "end": clock(end)}
    if night and end < DAY_MINUTES:
        if end >= start:
            message = N_(
                "ends the next day at %(end)s, 24 hours or more after it starts at %(start)s."
            )
            problems.append(Problem(f"{name}_to", row, message, params))
            return None
        return (start, end + DAY_MINUTES)
    if end == start:
        problems.append(
            Problem(
                f"{name}_to",
                row,
                N_("starts and ends at %(start)s. Please enter when it ends."),
                params,
            )
        )
        return None
    if end < start:
        message = N_("ends at %(end)s, before it starts at %(start)s.")
        problems.append(Problem(f"{name}_to", row, message, params))
        return None
    return (start, end)


def _minutes(text: str, name: str, row: Row, problems: list[Problem], missing: str) -> int | None:
    if not text:
        problems.append(Problem(name, row, missing))
        return None
    match = _TIME.fullmatch(text)
    hours, minutes = (int(match[1]), int(match[2] or 0)) if match else (99, 99)
    if hours * 60 + minutes > DAY_MINUTES or minutes > 59:
        problems.append(
            Problem(
                name,
                row,
                N_("“%(value)s” is not a time. Please write it like 09:00."),
                {"value": text[:20]},
            )
        )
        return None
    return hours * 60 + minutes


def _check_overlaps(entries: list[_Entry], row: Row, problems: list[Problem]) -> None:
    for before, after in pairwise(entries):
        field_name = f"{_prefix(row)}_{after.period - 1}_from"
        where = Row(row.kind, row.index, after.period)
        other = {
            "other": before.period,
            "range": f"{clock(before.span[0])}–{clock(before.span[1])}",
        }
        if after.span[0] < before.span[1]:
            message = N_("overlaps period %(other)s (%(range)s).")
            problems.append(Problem(field_name, where, message, other))
        elif after.span[0] == before.span[1]:
            message = N_(
                "starts exactly when period %(other)s ends. Please join both into one period."
            )
            problems.append(Problem(field_name, where, message, other))


def _check_nights(week: tuple[tuple[_Entry, ...], ...], problems: list[Problem]) -> None:
    """A night running past midnight must be over before the next day's first period starts."""
    for index, day in enumerate(week):
        night = next((e for e in day if is_overnight(e.span)), None)
        following = week[(index + 1) % 7]
        if night is None or not following:
            continue
        first = following[0]
        if first.span[0] <= night.span[1] - DAY_MINUTES:
            problems.append(
                Problem(
                    f"d{(index + 1) % 7}_{first.period - 1}_from",
                    Row("day", (index + 1) % 7, first.period),
                    N_(
                        "starts at %(start)s, but the night from the day before "
                        "lasts until %(end)s."
                    ),
                    {"start": clock(first.span[0]), "end": clock(night.span[1])},
                )
            )


def _special_days(
    values: Mapping[str, str], today: date, problems: list[Problem]
) -> tuple[SpecialDay, ...]:
    found: list[tuple[int, SpecialDay]] = []
    for index in range(special_rows(values)):
        special = _special_day(values, index, today, problems)
        if special is not None:
            _check_special_overlap(found, index, special, problems)
            found.append((index, special))
    return tuple(sorted((s for _, s in found), key=lambda s: s.first))


def _special_day(
    values: Mapping[str, str], index: int, today: date, problems: list[Problem]
) -> SpecialDay | None:
    prefix, row = f"s{index}", Row("special", index)
    filled = [values.get(f"{prefix}_{part}", "").strip() for part in ("from", "to", "note")]
    filled += [values.get(f"{prefix}_{suffix}", "").strip() for suffix in _period_suffixes()]
    if not any(filled):
        return None
    before = len(problems)
    first = _date(values, f"{prefix}_from", row, problems, required=True)
    last = _date(values, f"{prefix}_to", row, problems, required=False) or first
    note = _note(values, prefix, row, problems)
    hours = values.get(f"{prefix}_mode") == "hours"
    entries = _periods(values, row, problems, nights=False) if hours else ()
    if first is None or last is None or len(problems) > before:
        return None
    if not _check_dates(first, last, today, prefix, row, problems):
        return None
    return SpecialDay(first, last, tuple(e.span for e in entries), note)


def _date(
    values: Mapping[str, str], name: str, row: Row, problems: list[Problem], *, required: bool
) -> date | None:
    text = values.get(name, "").strip()
    if not text:
        if required:
            problems.append(Problem(name, row, N_("the date is missing.")))
        return None
    german = _GERMAN_DATE.fullmatch(text)
    try:
        if german:
            return date(int(german[3]), int(german[2]), int(german[1]))
        return date.fromisoformat(text)
    except ValueError:
        message = N_("“%(value)s” is not a date. Please choose one like 24.12.2026.")
        problems.append(Problem(name, row, message, {"value": text[:20]}))
        return None


def _note(values: Mapping[str, str], prefix: str, row: Row, problems: list[Problem]) -> str:
    note = " ".join(values.get(f"{prefix}_note", "").split())
    if len(note) > MAX_NOTE_LENGTH or '"' in note:
        message = N_("the note may have at most %(max)s characters and no quotation marks.")
        problems.append(Problem(f"{prefix}_note", row, message, {"max": MAX_NOTE_LENGTH}))
    return note


def _check_dates(
    first: date, last: date, today: date, prefix: str, row: Row, problems: list[Problem]
) -> bool:
    if last < first:
        message = N_("ends on %(last)s, before it begins on %(first)s.")
        problems.append(Problem(f"{prefix}_to", row, message, {"first": first, "last": last}))
    elif last < today:
        message = N_("%(date)s is in the past. Please remove this special day.")
        problems.append(Problem(f"{prefix}_from", row, message, {"date": last}))
    elif last - first >= timedelta(days=MAX_SPECIAL_SPAN_DAYS):
        message = N_("spans more than %(max)s days.")
        problems.append(Problem(f"{prefix}_to", row, message, {"max": MAX_SPECIAL_SPAN_DAYS}))
    else:
        return True
    return False


def _check_special_overlap(
    found: list[tuple[int, SpecialDay]], index: int, special: SpecialDay, problems: list[Problem]
) -> None:
    for other_index, other in found:
        if special.first <= other.last and other.first <= special.last:
            problems.append(
                Problem(
                    f"s{index}_from",
                    Row("special", index),
                    N_("overlaps special day %(other)s."),
                    {"other": other_index + 1},
                )
            )
            return


def editable_plan(raw: str, today: date) -> ReadPlan | None:
    """The stored hours as the editor shows them; None when the editor cannot show them all.

    A string is editable only if the editor reads it and accepts what it read, so that saving
    the form unchanged never drops or alters a rule.
    """
    read = read_osm(raw, today)
    if read is None:
        return None
    try:
        plan = read_fields(plan_fields(read.plan), today)
    except HoursInvalid:
        return None
    return ReadPlan(plan, read.dropped_past)
