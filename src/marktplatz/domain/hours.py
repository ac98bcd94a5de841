"""Shop opening hours: OpenStreetMap expressions evaluated against German state holidays."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays

# The bundled type stub predates ParserError, which is what the parser actually raises.
from opening_hours import (  # type: ignore[attr-defined]
    OpeningHours,
    ParserError,
    State,
)

LOOKAHEAD = timedelta(days=8)
"""How far ahead `evaluate_hours` looks for the next opening or closing."""

END_OF_DAY = time.max
"""Stands for 24:00 as the end of a `DayHours` interval that reaches or crosses midnight."""

_ONE_DAY = timedelta(days=1)
_TOKEN = re.compile(r'("[^"]*"|;|\|\|)')
_RULE_SEPARATORS = frozenset({";", "||"})
_PUBLIC_HOLIDAY = re.compile(r"\bPH\b")
_EVERY_DAY = "Mo-Su"
_TIME_OR_STATE = re.compile(
    r"\d:\d|24/7|sunrise|sunset|dawn|dusk|\b(?:open|closed|off|unknown)\b",
)
_ERROR_POSITION = re.compile(r"-->\s*(\d+):(\d+)")


@dataclass(frozen=True, slots=True)
class HoursCheck:
    """Whether a raw opening hours string parses, and why not."""

    valid: bool
    error: str | None


class OpenState(StrEnum):
    """What a shop's opening hours say about one moment."""

    OPEN = "open"
    CLOSED = "closed"
    # Closed now, and not open at any time today, because today is a state public holiday.
    HOLIDAY = "holiday"
    # The hours say "unknown" or only carry a comment such as "nach Vereinbarung", or are empty.
    UNKNOWN = "unknown"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class HoursStatus:
    """The state of a shop at one moment, and when it next opens or closes.

    `next_change` is in the city's timezone: the next opening when not open, the closing when
    open; None when that lies beyond `LOOKAHEAD`, or the state is unknown or invalid.
    `holiday_name` names today's state public holiday in German, whatever the state.
    """

    state: OpenState
    next_change: datetime | None
    holiday_name: str | None
    error: str | None


@dataclass(frozen=True, slots=True)
class DayHours:
    """The open intervals of one local day; `END_OF_DAY` (`time.max`) stands for 24:00."""

    day: date
    intervals: tuple[tuple[time, time], ...]
    holiday_name: str | None


@dataclass(frozen=True, slots=True)
class _Span:
    # Both ends are UTC instants; see `_midnight` for why.
    start: datetime
    end: datetime
    state: State


@dataclass(frozen=True, slots=True)
class _Schedule:
    regular: OpeningHours
    # None means closed all day on a public holiday.
    on_holidays: OpeningHours | None


def check_hours(raw: str) -> HoursCheck:
    """Tell whether `raw` parses; an empty string is valid and means "no hours given"."""
    if not raw.strip():
        return HoursCheck(valid=True, error=None)
    try:
        OpeningHours(raw)
    except ParserError as exc:
        return HoursCheck(valid=False, error=_reason(exc))
    return HoursCheck(valid=True, error=None)


def evaluate_hours(raw: str, at: datetime, tz: ZoneInfo, federal_state: str) -> HoursStatus:
    """Evaluate `raw` at the aware moment `at` in `tz` with the holidays of `federal_state`.

    Never raises for a bad `raw`; raises `ValueError` for a naive `at` or an unknown state.
    """
    now = _as_utc(at)
    today = now.astimezone(tz).date()
    holiday_name = _holiday_name(federal_state, today)
    if not raw.strip():
        return HoursStatus(OpenState.UNKNOWN, None, holiday_name, None)
    try:
        schedule = _compile(raw, tz)
    except ParserError as exc:
        return HoursStatus(OpenState.INVALID, None, holiday_name, _reason(exc))
    last_day = (now + LOOKAHEAD).astimezone(tz).date()
    return _status(_timeline(schedule, today, last_day, tz, federal_state), now, tz, holiday_name)


def _status(
    spans: list[_Span], now: datetime, tz: ZoneInfo, holiday_name: str | None
) -> HoursStatus:
    """Read the state at `now` and the next opening or closing off a timeline starting today."""
    horizon = now + LOOKAHEAD
    index = next(i for i, span in enumerate(spans) if span.start <= now < span.end)
    current, later = spans[index], spans[index + 1 :]
    if current.state is State.UNKNOWN:
        return HoursStatus(OpenState.UNKNOWN, None, holiday_name, None)
    if current.state is State.OPEN:
        closing = current.end if later and current.end <= horizon else None
        return HoursStatus(OpenState.OPEN, _local(closing, tz), holiday_name, None)
    opening = next((s.start for s in later if s.state is State.OPEN and s.start <= horizon), None)
    state = OpenState.CLOSED
    if holiday_name is not None and not _opens_on(spans, now.astimezone(tz).date(), tz):
        state = OpenState.HOLIDAY
    return HoursStatus(state, _local(opening, tz), holiday_name, None)


def week_schedule(
    raw: str, start: date, tz: ZoneInfo, federal_state: str, days: int = 7
) -> tuple[DayHours, ...] | None:
    """Open intervals for `days` local days from `start`; None when `raw` is empty or invalid."""
    dates = [start + offset * _ONE_DAY for offset in range(days)]
    names = [_holiday_name(federal_state, day) for day in dates]
    schedule = _schedule_or_none(raw, tz)
    if schedule is None:
        return None
    return tuple(
        _day_hours(schedule, day, tz, name) for day, name in zip(dates, names, strict=True)
    )


def _schedule_or_none(raw: str, tz: ZoneInfo) -> _Schedule | None:
    """The compiled hours; None when they are empty or do not parse."""
    if not raw.strip():
        return None
    try:
        return _compile(raw, tz)
    except ParserError:
        return None


def _day_hours(schedule: _Schedule, day: date, tz: ZoneInfo, holiday_name: str | None) -> DayHours:
    midnight = _midnight(day + _ONE_DAY, tz)
    intervals = tuple(
        (
            span.start.astimezone(tz).time(),
            END_OF_DAY if span.end >= midnight else span.end.astimezone(tz).time(),
        )
        for span in _merge(_day_spans(schedule, day, tz, holiday_name))
        if span.state is State.OPEN
    )
    return DayHours(day, intervals, holiday_name)


def _compile(raw: str, tz: ZoneInfo) -> _Schedule:
    """Parse `raw` and derive how it behaves on public holidays; raises `ParserError`."""
    parsed = OpeningHours(raw, timezone=tz)
    expression = _bare_comments_unknown(raw)
    regular = _try_parse(expression, tz) or parsed
    if str(regular.normalize()) == "24/7":
        # "24/7" promises every hour of the year, holidays included.
        return _Schedule(regular, regular)
    if not _mentions_public_holidays(expression):
        # German shops close on public holidays unless their hours say otherwise.
        return _Schedule(regular, None)
    # The library knows only nationwide holidays. So PH is rewritten to match every day, and that
    # variant is used on exactly the days the state calendar names. Offsets ("PH +1 day") do not
    # survive the rewrite; such expressions fall back to closed on holidays.
    candidates = (_every_day_a_holiday(expression), _every_day_a_holiday(str(regular)))
    return _Schedule(regular, next(filter(None, (_try_parse(c, tz) for c in candidates)), None))


def _try_parse(expression: str, tz: ZoneInfo) -> OpeningHours | None:
    try:
        return OpeningHours(expression, timezone=tz)
    except ParserError:
        return None


def _tokens(expression: str) -> list[str]:
    """Split into comments, rule separators and the selector text between them."""
    return [token for token in _TOKEN.split(expression) if token]


def _is_comment(token: str) -> bool:
    return token.startswith('"')


def _mentions_public_holidays(expression: str) -> bool:
    return any(
        not _is_comment(token) and _PUBLIC_HOLIDAY.search(token) for token in _tokens(expression)
    )


def _every_day_a_holiday(expression: str) -> str:
    return "".join(
        token if _is_comment(token) else _PUBLIC_HOLIDAY.sub(_EVERY_DAY, token)
        for token in _tokens(expression)
    )


def _bare_comments_unknown(expression: str) -> str:
    """Mark rules made only of selectors and a comment, like "nach Vereinbarung", as unknown."""
    # The library reads such a rule as open all day, but in OSM practice a bare comment
    # ("by appointment") means nobody can say whether the shop is open.
    parts: list[str] = []
    rule: list[str] = []
    for token in [*_tokens(expression), ";"]:  # the extra separator closes the last rule
        if token in _RULE_SEPARATORS:
            parts.extend(_bare_comment_unknown(rule))
            parts.append(token)
            rule = []
        else:
            rule.append(token)
    return "".join(parts[:-1])


def _bare_comment_unknown(rule: list[str]) -> list[str]:
    comments = [index for index, token in enumerate(rule) if _is_comment(token)]
    selectors = "".join(token for token in rule if not _is_comment(token))
    if not comments or _TIME_OR_STATE.search(selectors):
        return rule
    first = comments[0]
    before = "".join(rule[:first])
    marked = f"{before.rstrip()} unknown " if before.strip() else f"{before}unknown "
    return [marked, *rule[first:]]


def _timeline(
    schedule: _Schedule, first: date, last: date, tz: ZoneInfo, federal_state: str
) -> list[_Span]:
    """Spans of equal state covering the local days `first` to `last`, holidays applied."""
    spans: list[_Span] = []
    day = first
    while day <= last:
        spans.extend(_day_spans(schedule, day, tz, _holiday_name(federal_state, day)))
        day += _ONE_DAY
    return _merge(spans)


def _day_spans(
    schedule: _Schedule, day: date, tz: ZoneInfo, holiday_name: str | None
) -> list[_Span]:
    # Each day is evaluated on its own so that the state calendar, not the library's, decides
    # which days are holidays.
    start, end = _midnight(day, tz), _midnight(day + _ONE_DAY, tz)
    hours = schedule.regular if holiday_name is None else schedule.on_holidays
    if hours is None:
        return [_Span(start, end, State.CLOSED)]
    return [
        _Span(span_start.astimezone(UTC), span_end.astimezone(UTC), state)
        for span_start, span_end, state, _ in hours.intervals(
            start.astimezone(tz), end.astimezone(tz)
        )
    ]


def _merge(spans: Iterable[_Span]) -> list[_Span]:
    """Join neighbouring spans of the same state, e.g. ones that differ only in comment."""
    merged: list[_Span] = []
    for span in spans:
        if span.start >= span.end:
            continue
        if merged and merged[-1].state is span.state and merged[-1].end == span.start:
            merged[-1] = _Span(merged[-1].start, span.end, span.state)
        else:
            merged.append(span)
    return merged


def _opens_on(spans: Iterable[_Span], day: date, tz: ZoneInfo) -> bool:
    start, end = _midnight(day, tz), _midnight(day + _ONE_DAY, tz)
    return any(s.state is State.OPEN and s.start < end and s.end > start for s in spans)


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    """The start of `day` in `tz`, as a UTC instant."""
    # Instants are compared in UTC: Python compares datetimes sharing a tzinfo by wall clock,
    # which is wrong in the repeated hour when DST ends.
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def _as_utc(at: datetime) -> datetime:
    if at.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got {at!r}")
    return at.astimezone(UTC)


def _local(instant: datetime | None, tz: ZoneInfo) -> datetime | None:
    return None if instant is None else instant.astimezone(tz)


def _holiday_name(federal_state: str, day: date) -> str | None:
    return _state_holidays(federal_state, day.year).get(day)


_HOLIDAY_LANGUAGES = {"de": "de", "en": "en_US"}


def holiday_name(federal_state: str, day: date, language: str = "de") -> str | None:
    """The name of the state's public holiday on `day` in a site language (German otherwise)."""
    code = _HOLIDAY_LANGUAGES.get(language, "de")
    return _state_holidays(federal_state, day.year, code).get(day)


@lru_cache(maxsize=256)
def _state_holidays(federal_state: str, year: int, language: str = "de") -> Mapping[date, str]:
    """Names of the public holidays of one federal state in one year."""
    try:
        calendar = holidays.country_holidays(
            "DE", subdiv=federal_state, years=year, language=language
        )
    except NotImplementedError as exc:
        raise ValueError(f"unknown German federal state: {federal_state!r}") from exc
    return MappingProxyType(dict(calendar.items()))


def _reason(error: ParserError) -> str:
    """Condense the parser's multi-line report to one line: what it expected, and where."""
    message = str(error)
    expectations = [
        line.strip().removeprefix("=").strip()
        for line in message.splitlines()
        if line.strip().startswith("=")
    ]
    position = _ERROR_POSITION.search(message)
    if not expectations or position is None:
        return " ".join(message.split())
    line, column = position.groups()
    return f"{expectations[-1]} (line {line}, column {column})"


def open_intervals(
    raw: str, start: date, tz: ZoneInfo, federal_state: str, days: int = 8
) -> tuple[tuple[datetime, datetime], ...] | None:
    """The open spans (UTC instants) of `days` local days from `start`, holidays applied.

    None when the hours are empty or invalid, or say "unknown" at some point: then nobody can
    tell whether the shop is open, and callers that need an open shop treat it as closed.
    """
    schedule = _schedule_or_none(raw, tz)
    if schedule is None:
        return None
    spans = _timeline(schedule, start, start + (days - 1) * _ONE_DAY, tz, federal_state)
    if any(span.state is State.UNKNOWN for span in spans):
        return None
    return tuple((s.start, s.end) for s in spans if s.state is State.OPEN)
