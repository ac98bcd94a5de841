"""When indexed content may be shown, as spans of POSIX seconds worked out once per index.

A decision then asks one bisect per candidate instead of evaluating the window (dates, weekdays,
times of day, DST) and the shop's opening hours again. Each span set is built by evaluating the
engine's own checks (`Window.contains_at`, `ShopPlace.open_state`) at every instant where their
answer can change, so it cannot disagree with them; a window's weekdays and times of day are
only enumerated for the days the index covers (`Coverage`), outside of which the engine checks
in full.
"""

from __future__ import annotations

import functools
import math
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from marktplatz.domain.content import WEEKDAYS, Window

# Ascending boundaries: shown from [0] to [1], from [2] to [3] …, and from the last one on when
# their number is odd. () is never, (-inf,) always.
Spans = tuple[float, ...]
ALWAYS: Spans = (-math.inf,)
NEVER: Spans = ()
_DAY = timedelta(days=1)
_STEP_S = 3600  # offsets of a timezone are looked at hourly; none changes twice in an hour


def shown_in(spans: Spans, stamp: float) -> bool:
    return bisect_right(spans, stamp) & 1 == 1


def spans_of(edges: Iterable[float], shown: Callable[[float], bool]) -> Spans:
    """The spans of a check whose answer can change only at `edges` (each span starts at one)."""
    points = sorted({e for e in edges if math.isfinite(e)})
    state = shown(points[0] - 1.0 if points else 0.0)
    result = [-math.inf] if state else []
    for point in points:
        if shown(point) != state:
            state = not state
            result.append(point)
    return tuple(result)


def overlap(a: Spans, b: Spans) -> Spans:
    """Shown in both `a` and `b`."""
    return spans_of((*a, *b), lambda stamp: shown_in(a, stamp) and shown_in(b, stamp))


def open_spans(
    spans: tuple[tuple[float, float], ...] | None,
    open_state: Callable[[float, float], str | None],
    soon_seconds: float,
) -> Spans:
    """When a shop counts as open (or opening within `soon_seconds`) for the engine."""
    if spans is None:
        return NEVER
    edges = [e for start, end in spans for e in (start - soon_seconds, start, end)]
    return spans_of(edges, lambda stamp: open_state(stamp, soon_seconds) is not None)


@dataclass(frozen=True, slots=True)
class Coverage:
    """The instants [start, end) for which window spans are exact, and the zone's offset changes
    around them (at a change the local time jumps, and with it a window's time of day)."""

    tz: ZoneInfo
    start: float
    end: float
    changes: tuple[float, ...]

    def covers(self, stamp: float) -> bool:
        return self.start <= stamp < self.end


def coverage(tz: ZoneInfo, start: datetime, end: datetime) -> Coverage:
    lo, hi = start.timestamp(), end.timestamp()
    return Coverage(tz, lo, hi, tuple(_offset_changes(tz, lo - 2 * 86_400, hi + 2 * 86_400)))


def window_spans(window: Window, cover: Coverage) -> Spans:
    """When `window` is open, exact within `cover`: its dates, and its weekdays and times of
    day (worked out once per pattern: many windows share one)."""
    starts, ends = window.starts_at, window.ends_at
    if starts is not None and ends is not None and ends <= starts:
        return NEVER
    dates = ALWAYS if starts is None else (starts.timestamp(),)
    if ends is not None:
        dates = (*dates, ends.timestamp())
    if window.weekdays == WEEKDAYS and window.day_start is None:
        return dates
    return overlap(dates, _daily_spans(cover, window.weekdays, window.day_start, window.day_end))


@functools.lru_cache(maxsize=256)
def _daily_spans(
    cover: Coverage, weekdays: frozenset[int], day_start: time | None, day_end: time | None
) -> Spans:
    pattern = Window(None, None, weekdays, day_start, day_end)
    tz = cover.tz

    def shown(stamp: float) -> bool:
        local = datetime.fromtimestamp(stamp, tz)
        return pattern.contains_at(local, local.weekday(), local.time())

    edges = [cover.start, cover.end, *cover.changes, *_daily_edges(cover, day_start, day_end)]
    return spans_of(edges, shown)


def _daily_edges(cover: Coverage, *times: time | None) -> list[float]:
    """Each instant of the covered days at which the local time passes midnight or `times`
    (twice for a time that occurs twice when the clocks go back)."""
    tz, first = cover.tz, _local_day(cover.start, cover.tz) - _DAY
    days = (_local_day(cover.end, tz) - first).days + 2
    moments = [time(0), *(t for t in times if t is not None)]
    return [
        datetime.combine(first + n * _DAY, moment, tz).replace(fold=fold).timestamp()
        for n in range(days)
        for moment in moments
        for fold in (0, 1)
    ]


def _local_day(stamp: float, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(stamp, tz).date()


def _offset_changes(tz: ZoneInfo, lo: float, hi: float) -> list[float]:
    """The instants (whole seconds) in [lo, hi) at which the zone's UTC offset changes."""
    found = []
    stamp = math.floor(lo)
    offset = _offset(tz, stamp)
    while stamp < hi:
        step = stamp + _STEP_S
        if _offset(tz, step) != offset:
            found.append(float(_first_change(tz, stamp, step)))
            offset = _offset(tz, step)
        stamp = step
    return found


def _first_change(tz: ZoneInfo, before: int, after: int) -> int:
    """The first second after `before` with the offset `after` has (found by halving)."""
    old = _offset(tz, before)
    while after - before > 1:
        middle = (before + after) // 2
        if _offset(tz, middle) == old:
            before = middle
        else:
            after = middle
    return after


def _offset(tz: ZoneInfo, stamp: int) -> timedelta | None:
    return datetime.fromtimestamp(stamp, tz).utcoffset()
