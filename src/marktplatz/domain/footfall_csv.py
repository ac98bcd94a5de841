"""Hourly pedestrian counts from laser-counter CSV exports (hystreet, open-data portals), by row."""

from __future__ import annotations

import csv
import functools
import io
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

from marktplatz.domain.errors import N_, InvalidInput
from marktplatz.domain.fleet_csv import FILE, Problem, decode_as
from marktplatz.domain.touchpoints import Touchpoint, TouchpointKind

MAX_BYTES = 5_000_000
MAX_ROWS = 100_000  # a year of hours for eleven counters
MAX_COUNT = 1_000_000  # people past one counter in one hour; more is a broken export
HOUR = timedelta(hours=1)
# Fixed for ever: the event ids of imported hours are made from it, so a file imported twice
# (or a corrected one) hits the same ids and is stored once.
EVENT_NAMESPACE = UUID("6f1d3c1e-2b7a-5c4e-9a51-f00df011c0de")

# What each needed column is called in the exports we know, written as _key() normalises.
ALIASES: dict[str, tuple[str, ...]] = {
    "location": (
        "location", "location name", "standort", "standortname", "ort", "zählstelle",
        "messstelle", "messpunkt", "name",
    ),
    "time": (
        "timestamp", "time", "datetime", "date time", "zeitpunkt", "zeitstempel", "zeit stempel",
        "zeit", "datum uhrzeit", "datum und uhrzeit",
    ),
    "count": (
        "pedestrians count", "pedestrian count", "pedestrians", "count", "passanten",
        "anzahl passanten", "passantenanzahl", "passanten gesamt", "anzahl", "fußgänger",
        "anzahl fußgänger",
    ),
}  # fmt: skip
# How a missing column is named to the person who fixes the file: German export, English export.
EXPECTED = {
    "location": "Standort / location",
    "time": "Zeitpunkt / timestamp",
    "count": "Passanten / pedestrians count",
}
_GERMAN_TIME = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4}),? +(\d{1,2}):(\d{2})(?::(\d{2}))?")
_SPACES = re.compile(r"[\s_\-/]+")
_NEGATIVE = re.compile(r"-\s*\d+")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CountRow:
    """One clean row: the hour starting at `hour` (UTC) at the location as the file names it."""

    row: int
    location: str
    hour: datetime
    count: int


@dataclass(frozen=True, slots=True)
class ParsedCounts:
    rows: list[CountRow]
    problems: list[Problem]
    encoding: str  # "utf-8" or "cp1252": the page says when the file was not UTF-8
    ignored: list[str]  # header cells of columns that are not read
    location_column: str = "location"  # as the header writes it, for problems found later


@dataclass(frozen=True, slots=True)
class Count:
    """A clean row matched to its people counter."""

    row: int
    touchpoint_id: UUID
    hour: datetime
    count: int


@dataclass(frozen=True, slots=True)
class CounterSpan:
    """The people counts stored for one counter: first and last hour, and how many rows."""

    first: datetime
    last: datetime
    rows: int


@functools.lru_cache(maxsize=4096)  # a file names few locations, on every one of its rows
def _key(text: str) -> str:
    return _SPACES.sub(" ", text.replace("\ufeff", "")).strip().casefold()


_ALIAS_KEYS = {_key(alias): role for role, names in ALIASES.items() for alias in names}


def parse_counts(data: bytes, tz: ZoneInfo, now: datetime) -> ParsedCounts:
    """Every row checked on its own and against the others (the same hour twice)."""
    try:
        text, encoding = decode_as(data, MAX_BYTES)
    except InvalidInput as exc:
        return ParsedCounts([], [Problem(FILE, "", exc.message, exc.params)], "", [])
    try:
        records = list(_records(text))
    except InvalidInput as exc:
        return ParsedCounts([], [Problem(FILE, "", exc.message, exc.params)], encoding, [])
    if not records:
        return ParsedCounts([], [Problem(FILE, "", N_("The file is empty."))], encoding, [])
    if len(records) - 1 > MAX_ROWS:
        message = N_("The file has %(n)s rows; at most %(max)s can be imported at once.")
        problem = Problem(FILE, "", message, {"n": len(records) - 1, "max": MAX_ROWS})
        return ParsedCounts([], [problem], encoding, [])
    header = records[0][1]
    columns, ignored, problems = _columns(header)
    if problems:
        return ParsedCounts([], problems, encoding, ignored)
    if len(records) == 1:
        problem = Problem(FILE, "", N_("The file has a header row but no counts."))
        return ParsedCounts([], [problem], encoding, ignored)
    reader = _RowReader(columns, tz, now)
    rows = [row for number, cells in records[1:] if (row := reader.read(number, cells))]
    problems = sorted(reader.problems, key=lambda p: p.row)
    return ParsedCounts(rows, problems, encoding, ignored, columns["location"][1])


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of every non-blank record; the delimiter is the header's most
    frequent of ; , and tab."""
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = max(";,\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1
    try:
        for cells in reader:
            if "".join(cells).strip():
                yield start, cells
            start = reader.line_num + 1
    except csv.Error:
        raise InvalidInput(
            "file", N_("The file is not valid CSV (a quote is not closed).")
        ) from None


def _columns(header: list[str]) -> tuple[dict[str, tuple[int, str]], list[str], list[Problem]]:
    """Where each needed column is (index, header as written), the ignored header cells, and the
    problems of the header: one for all missing columns, one per column given twice."""
    columns: dict[str, tuple[int, str]] = {}
    ignored: list[str] = []
    problems: list[Problem] = []
    for index, cell in enumerate(header):
        role = _ALIAS_KEYS.get(_key(cell))
        if role is None:
            if cell.strip():
                ignored.append(cell.strip())
        elif role in columns:
            message = N_("Two columns hold the same thing: “%(first)s” and “%(second)s”.")
            params = {"first": columns[role][1], "second": cell.strip()}
            problems.append(Problem(1, cell.strip(), message, params))
        else:
            columns[role] = (index, cell.strip())
    missing = [EXPECTED[role] for role in ALIASES if role not in columns]
    if missing:
        message = N_(
            "The header row lacks a column for: %(missing)s. It has: %(found)s. Expected are "
            "the columns location, time and count, named for example Standort, Zeitpunkt and "
            "Passanten, or location, timestamp and pedestrians count."
        )
        named = [f"“{cell.strip()[:40]}”" for cell in header if cell.strip()]
        found = ", ".join(named[:20]) + (" …" if len(named) > 20 else "") or "—"
        problems.insert(0, Problem(1, "", message, {"missing": "; ".join(missing), "found": found}))
    return columns, ignored, problems


class _RowReader:
    """Checks data rows one by one, remembering what it saw for the checks across rows."""

    def __init__(self, columns: dict[str, tuple[int, str]], tz: ZoneInfo, now: datetime) -> None:
        self.columns, self.tz, self.now = columns, tz, now
        self.problems: list[Problem] = []
        self.seen: dict[tuple[str, datetime], int] = {}  # (location, hour) → first row
        self.repeated: set[tuple[str, datetime]] = set()  # (location, local time) met once
        self.needed = max(index for index, _ in columns.values()) + 1
        self.indexes = [columns[role][0] for role in ALIASES]
        # Local time → its UTC hour(s): all counters of a file share their hours, so each local
        # hour is placed once (a None: the hour the clocks skip).
        self.placed: dict[datetime, tuple[datetime, datetime] | None] = {}

    def read(self, number: int, cells: list[str]) -> CountRow | None:
        needed = self.needed
        if len(cells) < needed:
            message = N_("This row has %(n)s fields, but at least %(needed)s are needed.")
            self._problem(number, "", message, n=len(cells), needed=needed)
            return None
        location, time, count = (cells[index].strip() for index in self.indexes)
        key = _key(location)
        hour = self._check(number, "time", self._hour, time, key)
        amount = self._check(number, "count", clean_count, count)
        if not location:
            self._problem(number, self.columns["location"][1], N_("The location is missing."))
        if hour is None or amount is None or not location:
            return None
        if (key, hour) in self.seen:
            message = N_("The same location and hour as in row %(other)s.")
            self._problem(number, self.columns["time"][1], message, other=self.seen[key, hour])
            return None
        self.seen[key, hour] = number
        return CountRow(number, location, hour, amount)

    def _check(self, number: int, role: str, rule: Callable[..., T], *args: str) -> T | None:
        try:
            return rule(*args)
        except InvalidInput as exc:
            self.problems.append(Problem(number, self.columns[role][1], exc.message, exc.params))
            return None

    def _problem(self, number: int, column: str, message: str, **params: object) -> None:
        self.problems.append(Problem(number, column, message, params))

    def _hour(self, text: str, location: str) -> datetime:
        moment = read_time(text)
        local = moment.tzinfo is None
        moment = self._local(moment, location) if local else moment.astimezone(UTC)
        if moment.minute or moment.second or moment.microsecond:
            raise InvalidInput(
                "time", N_("“%(value)s” is not the start of a full hour."), value=text[:40]
            )
        if moment + HOUR > self.now:
            raise InvalidInput(
                "time",
                N_("The hour %(value)s has not ended yet; only past hours can be imported."),
                value=text[:40],
            )
        return moment

    def _local(self, naive: datetime, location: str) -> datetime:
        """A local wall-clock time in UTC: the missing hour of spring is refused; of the autumn
        hour that comes twice, a location's first row is the first (summer time), its second the
        second, as the exports list them."""
        if naive not in self.placed:
            self.placed[naive] = _place(naive, self.tz)
        placed = self.placed[naive]
        if placed is None:
            raise InvalidInput(
                "time",
                N_("%(value)s does not exist here: the clocks went forward an hour that night."),
                value=naive.strftime("%d.%m.%Y %H:%M"),
            )
        first, second = placed
        if first == second:
            return first
        if (location, naive) in self.repeated:
            return second
        self.repeated.add((location, naive))
        return first


def _place(naive: datetime, tz: ZoneInfo) -> tuple[datetime, datetime] | None:
    """The UTC moments of a local time (two in the hour the clocks go back), or None for one
    the clocks skip."""
    moment = naive.replace(tzinfo=tz)
    if moment.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        return None
    return moment.astimezone(UTC), moment.replace(fold=1).astimezone(UTC)


def read_time(text: str) -> datetime:
    """German day.month.year hour:minute[:second], or ISO 8601 (with or without an offset)."""
    found = _GERMAN_TIME.fullmatch(text)
    try:
        if found:
            day, month, year, hour, minute, second = map(int, found.groups("0"))
            return datetime(year, month, day, hour, minute, second)  # noqa: DTZ001 - placed later
        if len(text) > len("2024-05-01"):  # a date alone would read as its midnight hour
            return datetime.fromisoformat(text)
    except ValueError:
        pass
    raise InvalidInput(
        "time",
        N_("“%(value)s” is not a time; write it like 01.05.2024 10:00 or %(iso)s."),
        iso="2024-05-01T10:00+02:00",
        value=text[:40],
    )


def clean_count(text: str) -> int:
    """A whole number of people from 0 to MAX_COUNT."""
    if not text:
        raise InvalidInput(
            "count",
            N_("The count is empty; leave the row out if the counter has no figure for the hour."),
        )
    if _NEGATIVE.fullmatch(text):
        raise InvalidInput("count", N_("A count cannot be negative."))
    if not text.isdigit():
        raise InvalidInput(
            "count", N_("“%(value)s” is not a whole number of people."), value=text[:40]
        )
    if int(text) > MAX_COUNT:
        raise InvalidInput(
            "count", N_("%(value)s people in one hour is more than a counter can see."), value=text
        )
    return int(text)


# --- matching locations to the city's people counters --------------------------------------


def match_counters(
    parsed: ParsedCounts, counters: Sequence[Touchpoint]
) -> tuple[list[Count], list[Problem]]:
    """Each row's location as a people counter's name or identifier (case does not matter).

    An unknown or ambiguous location is one problem, at the first row naming it, with how many
    rows name it and the counters there are: a year of one unknown name would else fill pages.
    """
    names: dict[str, list[Touchpoint]] = {}
    for point in counters:
        if point.kind is TouchpointKind.PEOPLE_COUNTER:
            for name in {_key(point.name), _key(point.identifier), _key(point.code)} - {""}:
                names.setdefault(name, []).append(point)
    uses = Counter(_key(row.location) for row in parsed.rows)
    counts, problems, told = [], [], set()
    for row in parsed.rows:
        key = _key(row.location)
        found = names.get(key, [])
        if len(found) == 1:
            counts.append(Count(row.row, found[0].id, row.hour, row.count))
        elif key not in told:
            told.add(key)
            problem = _unknown(row, uses[key], found, counters)
            problems.append(replace(problem, column=parsed.location_column))
    return counts, problems


def _unknown(
    row: CountRow, uses: int, found: list[Touchpoint], counters: Sequence[Touchpoint]
) -> Problem:
    params: dict[str, object] = {"location": row.location[:80], "rows": uses}
    if found:
        message = N_(
            "“%(location)s” (rows naming it: %(rows)s) names more than one people counter; "
            "use their identifiers: %(counters)s."
        )
        params["counters"] = ", ".join(f"{p.name} ({p.identifier})" for p in found)
        return Problem(row.row, "location", message, params)
    own = [p for p in counters if p.kind is TouchpointKind.PEOPLE_COUNTER]
    if not own:
        message = N_(
            "“%(location)s” (rows naming it: %(rows)s) is not a people counter of this city, "
            "and the city has none yet: add them to the touchpoints first."
        )
        return Problem(row.row, "location", message, params)
    message = N_(
        "“%(location)s” (rows naming it: %(rows)s) is not a people counter of this city. "
        "Its people counters are: %(counters)s."
    )
    params["counters"] = ", ".join(sorted(p.name for p in own))
    return Problem(row.row, "location", message, params)


def count_event_id(city_id: UUID, touchpoint_id: UUID, hour: datetime) -> UUID:
    """The same id for the same counter and hour, whichever file or run brings it."""
    stamp = hour.astimezone(UTC).strftime("%Y-%m-%dT%H")
    return uuid.uuid5(EVENT_NAMESPACE, f"{city_id}:{touchpoint_id}:{stamp}")
