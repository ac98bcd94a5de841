"""The opening hours editor's model: weekday rows, holidays and special days, to and from OSM."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

WEEKDAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DAY_MINUTES = 24 * 60
MAX_PERIODS = 3

Span = tuple[int, int]
"""Minutes from midnight; an end past `DAY_MINUTES` ends that much into the next day."""


@dataclass(frozen=True, slots=True)
class SpecialDay:
    """A date or date range with other hours than usual; no spans means closed."""

    first: date
    last: date
    spans: tuple[Span, ...]
    note: str = ""


@dataclass(frozen=True, slots=True)
class HoursPlan:
    """What the editor can express; a day without spans is closed."""

    week: tuple[tuple[Span, ...], ...]
    holidays: tuple[Span, ...] = ()
    special_days: tuple[SpecialDay, ...] = ()


@dataclass(frozen=True, slots=True)
class ReadPlan:
    """A stored string read back into the editor, and how many past special days were left out."""

    plan: HoursPlan
    dropped_past: int


CLOSED_WEEK: tuple[tuple[Span, ...], ...] = ((),) * 7
EMPTY_PLAN = HoursPlan(CLOSED_WEEK)

_TIME = r"(\d{2}):(\d{2})"
_SPANS = rf"{_TIME}-{_TIME}(?:,{_TIME}-{_TIME})*"
_STATE = rf"(?P<state>off|closed|{_SPANS})"
_DAY = "|".join(WEEKDAYS)
_DAYS = rf"(?P<days>(?:{_DAY})(?:-(?:{_DAY}))?(?:,(?:{_DAY})(?:-(?:{_DAY}))?)*)(?P<ph>,PH)?"
_MONTH = "|".join(MONTHS)
_WEEKDAY_RULE = re.compile(rf"{_DAYS} {_STATE}")
_HOLIDAY_RULE = re.compile(rf"PH {_STATE}")
_SPECIAL_RULE = re.compile(
    rf"(?P<y1>\d{{4}}) (?P<m1>{_MONTH}) (?P<d1>\d{{1,2}})"
    rf"(?:-(?:(?P<y2>\d{{4}}) )?(?:(?P<m2>{_MONTH}) )?(?P<d2>\d{{1,2}}))?"
    rf' {_STATE}(?: "(?P<note>[^"]*)")?'
)
_SPAN = re.compile(_TIME + "-" + _TIME)
# Weekday rules joined additively (", ") keep a night that runs past midnight into a day with
# its own rule; with ";" the later rule would replace that whole day, the night's end included.
_ADDITIVE = re.compile(r", (?=(?:" + _DAY + r")\b)")


def clock(minutes: int) -> str:
    """ "09:30" for 570; the end of a day is "24:00"; past it, the next day's clock time."""
    if minutes > DAY_MINUTES:
        minutes -= DAY_MINUTES
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def is_overnight(span: Span) -> bool:
    return span[1] > DAY_MINUTES


# --- writing -------------------------------------------------------------------------------


def write_osm(plan: HoursPlan) -> str:
    """The compact OSM string for a checked plan; "" when it opens nowhere and says nothing."""
    weekday_rules = _weekday_rules(plan.week)
    if not weekday_rules and not plan.holidays and not plan.special_days:
        return ""
    joiner = ", " if any(is_overnight(s) for day in plan.week for s in day) else "; "
    rules = [joiner.join(weekday_rules)] if weekday_rules else []
    rules.append(f"PH {_state(plan.holidays)}")
    dated = sorted([*_followers(plan), *plan.special_days], key=lambda s: s.first)
    rules.extend(_special_rule(special) for special in dated)
    return "; ".join(rules)


def _followers(plan: HoursPlan) -> list[SpecialDay]:
    """The usual hours, as dated rules, of each day after a special day that ends a night.

    A dated rule replaces only its own date: the night of the weekday it replaced would still
    run on past midnight into the next day. Stating that next day's hours again ends it there.
    Dated rules go in date order: a later special day then replaces a night such a rule starts.
    """
    covered = {s.first + timedelta(days=n) for s in plan.special_days for n in _days(s)}
    found: list[SpecialDay] = []
    for special in plan.special_days:
        following = special.last + timedelta(days=1)
        night = any(map(is_overnight, plan.week[special.last.weekday()]))
        if night and following not in covered:
            found.append(SpecialDay(following, following, plan.week[following.weekday()]))
    return found


def _days(special: SpecialDay) -> range:
    return range((special.last - special.first).days + 1)


def _weekday_rules(week: Sequence[tuple[Span, ...]]) -> list[str]:
    """One rule per set of weekdays with equal hours, in the order of their first day."""
    groups: dict[tuple[Span, ...], list[int]] = {}
    for index, spans in enumerate(week):
        if spans:
            groups.setdefault(spans, []).append(index)
    return [f"{_day_list(days)} {_state(spans)}" for spans, days in groups.items()]


def _day_list(days: list[int]) -> str:
    """ "Mo-We,Fr" for Monday to Wednesday and Friday; two days in a row stay a list ("Mo,Tu")."""
    runs: list[list[int]] = []
    for day in days:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ",".join(
        f"{WEEKDAYS[run[0]]}-{WEEKDAYS[run[-1]]}"
        if len(run) > 2
        else ",".join(WEEKDAYS[d] for d in run)
        for run in runs
    )


def _state(spans: tuple[Span, ...]) -> str:
    if not spans:
        return "off"
    return ",".join(f"{clock(start)}-{clock(end)}" for start, end in spans)


def _osm_date(day: date) -> str:
    return f"{day.year} {MONTHS[day.month - 1]} {day.day}"


def _special_rule(special: SpecialDay) -> str:
    dates = _osm_date(special.first)
    if special.last != special.first:
        dates += f"-{_osm_date(special.last)}"
    note = f' "{special.note}"' if special.note else ""
    return f"{dates} {_state(special.spans)}{note}"


# --- reading -------------------------------------------------------------------------------


def read_osm(raw: str, today: date) -> ReadPlan | None:
    """The plan behind `raw`, or None when it says more than the editor can show.

    Only the shapes the editor writes are read: weekday rules, then at most one PH rule, then
    special days. Anything else (comments on weekdays, months, "24/7", rules for the same day
    twice) is left to the expert field rather than being lost on the next save.
    """
    text = raw.strip()
    if not text:
        return ReadPlan(EMPTY_PLAN, 0)
    week: list[tuple[Span, ...] | None] = [None] * 7
    holidays: tuple[Span, ...] | None = None
    specials: list[SpecialDay] = []
    for rule in (part.strip() for part in text.split(";")):
        if _WEEKDAY_RULE.fullmatch(rule) or _additive(rule):
            also_holidays = _set_days(week, rule)
            if holidays is not None or specials or also_holidays is None:
                return None
            holidays = also_holidays or None
        elif match := _HOLIDAY_RULE.fullmatch(rule):
            spans = _spans(match["state"], nights=False)
            if holidays is not None or specials or spans is None:
                return None
            holidays = spans
        elif match := _SPECIAL_RULE.fullmatch(rule):
            special = _special(match)
            if special is None:
                return None
            specials.append(special)
        else:
            return None
    plan = HoursPlan(tuple(day or () for day in week), holidays or ())
    entered = _without_followers(plan, specials)
    if any(is_overnight(span) for special in entered for span in special.spans):
        return None
    current = tuple(s for s in entered if s.last >= today)
    return ReadPlan(replace(plan, special_days=current), len(entered) - len(current))


def _without_followers(plan: HoursPlan, specials: list[SpecialDay]) -> list[SpecialDay]:
    """The special days as entered: the rules `_followers` wrote are left out again."""
    ends = {s.last + timedelta(days=1) for s in specials}
    guess = [
        s
        for s in specials
        if s.first == s.last and s.first in ends and s.spans == plan.week[s.first.weekday()]
    ]
    entered = [s for s in specials if s not in guess]
    written = _followers(replace(plan, special_days=tuple(entered)))
    return [s for s in specials if s not in written]


def _additive(rule: str) -> bool:
    parts = _ADDITIVE.split(rule)
    return len(parts) > 1 and all(_WEEKDAY_RULE.fullmatch(part) for part in parts)


def _set_days(week: list[tuple[Span, ...] | None], rule: str) -> tuple[Span, ...] | None:
    """Apply one rule (maybe of additive parts) to the week; what it says for holidays ("Su,PH").

    None when the editor cannot follow it. A later rule replaces a day an earlier one named, as
    in OSM; parts of one additive rule must not name a day twice, and a replaced day must not
    be part of a night past midnight, whose end the replacement would cut off.
    """
    holidays: tuple[Span, ...] = ()
    named: set[int] = set()
    for part in _ADDITIVE.split(rule):
        match = _WEEKDAY_RULE.fullmatch(part)
        spans = _spans(match["state"], nights=True) if match else None
        if match is None or spans is None or (match["ph"] and not _fits_holidays(spans)):
            return None
        holidays = spans if match["ph"] else holidays
        for index in _day_indexes(match["days"]):
            earlier = week[index]
            nights = any(map(is_overnight, (*spans, *(earlier or ()))))
            if index in named or (earlier is not None and nights):
                return None
            named.add(index)
            week[index] = spans
    return holidays


def _fits_holidays(spans: tuple[Span, ...]) -> bool:
    return bool(spans) and not any(map(is_overnight, spans))


def _day_indexes(days: str) -> list[int]:
    indexes: list[int] = []
    for item in days.split(","):
        first, _, last = item.partition("-")
        start, end = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
        indexes.extend(
            range(start, end + 1) if end >= start else [*range(start, 7), *range(end + 1)]
        )
    return indexes


def _spans(state: str, *, nights: bool) -> tuple[Span, ...] | None:
    if state in ("off", "closed"):
        return ()
    spans: list[Span] = []
    for match in _SPAN.finditer(state):
        start = int(match[1]) * 60 + int(match[2])
        end = int(match[3]) * 60 + int(match[4])
        if end <= start and nights:
            end += DAY_MINUTES
        if start >= DAY_MINUTES or end <= start or end >= 2 * DAY_MINUTES:
            return None
        if end > DAY_MINUTES and not nights:
            return None
        spans.append((start, end))
    return tuple(spans) if len(spans) <= MAX_PERIODS else None


def _special(match: re.Match[str]) -> SpecialDay | None:
    spans = _spans(match["state"], nights=True)  # nights only in rules `_followers` wrote
    try:
        first = date(int(match["y1"]), MONTHS.index(match["m1"]) + 1, int(match["d1"]))
        last = first
        if match["d2"]:
            month = MONTHS.index(match["m2"]) + 1 if match["m2"] else first.month
            last = date(int(match["y2"] or first.year), month, int(match["d2"]))
    except ValueError:
        return None
    if spans is None or last < first:
        return None
    return SpecialDay(first, last, spans, match["note"] or "")
