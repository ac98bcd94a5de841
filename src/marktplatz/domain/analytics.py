"""Dashboard figures from rollup rows: periods, heatmaps, daily series and tables, k-anonymous."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from marktplatz.domain.content import EVENT_LENGTH, Content
from marktplatz.domain.errors import N_, InvalidInput
from marktplatz.domain.flows import Dwell, Flows
from marktplatz.domain.kanon import Cell, K, suppressed
from marktplatz.domain.rollups import HOUR, RollupRow, Stat, combine, hour_of
from marktplatz.domain.shops import Shop

MAX_DAYS = 366
DEFAULT_DAYS = 28
MIN_SHOPS = 5  # a category median is shown only when this many shops contribute
HOURS_OF_WEEK = 7 * 24
STEPS = (Stat.EXPOSED, Stat.VIEWED, Stat.SAVED, Stat.REDEEMED)

Key = TypeVar("Key", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Period:
    """Whole local days from `first` to `last`, both included, in the city's time zone."""

    first: date
    last: date
    tz: ZoneInfo

    @property
    def start(self) -> datetime:
        return local_midnight(self.first, self.tz)

    @property
    def end(self) -> datetime:
        return local_midnight(self.last + timedelta(days=1), self.tz)

    def previous_month(self) -> Period:
        """The calendar month before the one this period starts in."""
        last = self.first.replace(day=1) - timedelta(days=1)
        return Period(last.replace(day=1), last, self.tz)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tz).astimezone(UTC)


def period(first: str | None, last: str | None, today: date, tz: ZoneInfo) -> Period:
    """The period asked for (ISO dates), by default the last DEFAULT_DAYS days before today."""
    end = _day(last, "last") if last else today - timedelta(days=1)
    start = _day(first, "first") if first else end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise InvalidInput("first", N_("The first day has to lie before the last day."))
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidInput("first", N_("Choose a period of at most 366 days."))
    if end > today:
        raise InvalidInput("last", N_("The last day cannot lie in the future."))
    return Period(start, end, tz)


def month_period(value: str | None, today: date, tz: ZoneInfo) -> Period:
    """A whole calendar month ("2026-11"), by default the last month that has ended."""
    if value is None:
        first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    else:
        try:
            first = date.fromisoformat(f"{value.strip()[:7]}-01")
        except ValueError as exc:
            raise InvalidInput("month", N_("Give a month as YYYY-MM.")) from exc
    if first > today:
        raise InvalidInput("month", N_("The month cannot lie in the future."))
    following = (first + timedelta(days=32)).replace(day=1)
    return Period(first, min(following - timedelta(days=1), today), tz)


def _day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value[:10])
    except ValueError as exc:
        raise InvalidInput(field, N_("Give a date as YYYY-MM-DD.")) from exc


@dataclass(frozen=True, slots=True)
class Table(Generic[Key]):
    """Shown counts per key (None: fewer than K visitors) and a total that gives none away."""

    values: dict[Key, int | None]
    total: int | None

    @property
    def hidden(self) -> int:
        return sum(1 for v in self.values.values() if v is None)


def table(rows: Iterable[RollupRow], key: Callable[[RollupRow], Key | None]) -> Table[Key]:
    """Rows grouped by `key` (None: left out), each group one cell, suppressed together."""
    groups: dict[Key, list[RollupRow]] = defaultdict(list)
    for row in rows:
        found = key(row)
        if found is not None:
            groups[found].append(row)
    return tabled({k: combine(rs) for k, rs in groups.items()})


def tabled(cells: Mapping[Key, Cell]) -> Table[Key]:
    """Cells (each from `combine`, here or in the database), suppressed together."""
    values, total = suppressed(cells)
    return Table(values, total)


def hour_of_week(moment: datetime, tz: ZoneInfo) -> int:
    """0 = Monday 0:00–1:00 … 167 = Sunday 23:00–24:00, in the city's time."""
    local = moment.astimezone(tz)
    return local.weekday() * 24 + local.hour


EPOCH = date(1970, 1, 1)  # a Thursday: its hour 0 is hour 72 of the week


@dataclass(frozen=True, slots=True)
class Buckets:
    """Local-time buckets of stored UTC hours, so the database can group by them.

    A stored hour `h` falls in bucket ((epoch(h) + offset(h)) // size + shift) % cycle, where
    epoch(h) counts seconds since 1970-01-01 UTC and offset(h) is the city's UTC offset at h:
    `offsets` lists from which epoch second on which offset holds, the first from the start.
    """

    offsets: tuple[tuple[int, int], ...]
    size: int
    shift: int = 0
    cycle: int | None = None


def utc_offsets(tz: ZoneInfo, start: datetime, end: datetime) -> tuple[tuple[int, int], ...]:
    """The city's UTC offsets over [start, end), in seconds: each from its first whole hour."""
    found: list[tuple[int, int]] = []
    moment = hour_of(start)
    while moment < end or not found:
        offset = moment.astimezone(tz).utcoffset()
        seconds = int(offset.total_seconds()) if offset is not None else 0
        if not found or found[-1][1] != seconds:
            found.append((int(moment.timestamp()), seconds))
        moment += HOUR
    return tuple(found)


def week_hours(tz: ZoneInfo, start: datetime, end: datetime) -> Buckets:
    """Buckets by hour of the week (as `hour_of_week`)."""
    return Buckets(utc_offsets(tz, start, end), 3600, shift=72, cycle=HOURS_OF_WEEK)


def local_days(tz: ZoneInfo, start: datetime, end: datetime) -> Buckets:
    """Buckets by local day; `bucket_day` turns one into its date."""
    return Buckets(utc_offsets(tz, start, end), 86400)


def bucket_day(bucket: int) -> date:
    return EPOCH + timedelta(days=bucket)


def counts(cells: Mapping[Key, int]) -> Table[Key]:
    """Counts whose every unit is a person (people counters, distinct visitors of a day)."""
    return tabled({k: Cell(v, v) for k, v in cells.items()})


@dataclass(frozen=True, slots=True)
class Comparison:
    """One shop's figure beside the median of its category (None below MIN_SHOPS shops)."""

    own: int | None  # None: the shop's own figure rests on fewer than K visitors
    median: float | None
    shops: int


def compare(own: int | None, others: Sequence[int]) -> Comparison:
    """`others` holds every contributing shop's figure, the own one included."""
    median = statistics.median(others) if len(others) >= MIN_SHOPS else None
    return Comparison(own, median, len(others))


def share(part: int | None, whole: int | None) -> float | None:
    """part / whole, when both are shown and the whole is not zero."""
    if part is None or not whole:
        return None
    return part / whole


@dataclass(frozen=True, slots=True)
class CityFootfall:
    period: Period
    zones: list[tuple[str, str]]  # (subject, name); "" is "outside every zone"
    heat: Table[tuple[str, int]]  # (zone, hour of the week)
    contacts: Table[date]  # touchpoint contacts per day
    people: Table[date]  # people counted by the counters per day
    page_views: Table[date]
    visitors: dict[str, Table[date]]  # consented / cookieless distinct visitors per day
    counters: int  # how many people counters the city has
    flows: Flows  # moves between zones (consented visitors only)
    dwell: list[Dwell]  # stays per zone and band
    events: list[EventUplift]  # the city's events of the period, against the weeks before


@dataclass(frozen=True, slots=True)
class ShopResults:
    shop: Shop
    period: Period
    contents: list[Content]
    by_content: dict[Stat, Table[str]]  # per step: content id → count
    by_touchpoint: dict[Stat, Table[str]]  # per step: touchpoint id ("" none) → count
    touchpoints: dict[str, str]  # id → name
    contacts: Table[date]  # contacts at the shop's own touchpoints per day
    category: dict[Stat, Comparison]


BASELINE_WEEKS = 4  # an event's hours are compared with the same hours of the weeks before


@dataclass(frozen=True, slots=True)
class EventUplift:
    """Footfall during an event beside the same weekday and hours of the weeks before.

    `weeks` holds the contacts of the comparison weeks, oldest first (None: fewer than K
    visitors). The uplift is relative (0.25 = 25 % more) against their mean.
    """

    title: str
    start: datetime
    end: datetime
    during: int | None
    weeks: list[int | None]

    @property
    def baseline(self) -> float | None:
        shown = [w for w in self.weeks if w is not None]
        return sum(shown) / len(shown) if shown else None

    @property
    def uplift(self) -> float | None:
        base = self.baseline
        if self.during is None or not base:
            return None
        return self.during / base - 1


def event_hours(starts_at: datetime, ends_at: datetime | None) -> tuple[datetime, datetime]:
    """The whole hours an event covers (an event without an end lasts EVENT_LENGTH)."""
    end = ends_at or starts_at + EVENT_LENGTH
    first = hour_of(starts_at)
    last = hour_of(end)
    return first, last if last == end else last + HOUR


def uplift_of(title: str, start: datetime, end: datetime, rows: Sequence[RollupRow]) -> EventUplift:
    """The event's cell and its comparison weeks' cells, each shown only from K visitors."""

    def cell(shift: int) -> int | None:
        since, until = start - timedelta(weeks=shift), end - timedelta(weeks=shift)
        found = combine(r for r in rows if since <= r.hour < until)
        return found.count if found.visitors >= K or found.visitors == 0 else None

    weeks = [cell(shift) for shift in range(BASELINE_WEEKS, 0, -1)]
    return EventUplift(title, start, end, cell(0), weeks)


@dataclass(frozen=True, slots=True)
class Group:
    """Visitors of one group of a campaign and how many of them came to the shop afterwards.

    `visitors` and `came` are None where fewer than K visitors stand behind them; `came` is
    also hidden when fewer than K did not come (that, too, would be about a few people).
    """

    visitors: int | None
    came: int | None

    @property
    def rate(self) -> float | None:
        if not self.visitors or self.came is None:
            return None
        return self.came / self.visitors


def group(visitors: int, came: int) -> Group:
    """A campaign group's counts, each shown only where it rests on K visitors (or on none)."""

    def safe(n: int) -> bool:
        return n == 0 or n >= K

    if not safe(visitors):
        return Group(None, None)
    return Group(visitors, came if safe(came) and safe(visitors - came) else None)


@dataclass(frozen=True, slots=True)
class CampaignUplift:
    """An offer's exposed visitors against the control group, who would have seen it."""

    content_id: str
    title: str
    shop: str
    exposed: Group
    control: Group

    @property
    def uplift(self) -> float | None:
        """The difference of the two rates, in shares (0.04 = 4 percentage points)."""
        if self.exposed.rate is None or self.control.rate is None:
            return None
        return self.exposed.rate - self.control.rate
