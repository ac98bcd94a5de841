"""The fleet as CSV: reading an uploaded file row by row, with every problem, and writing one."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from marktplatz.domain.errors import N_, InvalidInput
from marktplatz.domain.fleet import FleetRow, clean_interval
from marktplatz.domain.geo import Location, make_location
from marktplatz.domain.text import clean_text
from marktplatz.domain.touchpoints import (
    BEACON_KINDS,
    LINK_KINDS,
    TouchpointKind,
    TouchpointStatus,
    canonical_identifier,
    clean_target,
    identifier_parts,
    is_code,
)

MAX_BYTES = 1_000_000
MAX_ROWS = 2000
# What an import reads; the export writes these and then READ_ONLY (ignored on import, so an
# exported file can be edited and imported again).
COLUMNS = (
    "identifier",
    "kind",
    "name",
    "lat",
    "lon",
    "shop",
    "placement",
    "status",
    "target",
    "expected_interval_hours",
    "battery_percent",
    "battery_at",
)
READ_ONLY = ("zone", "health", "last_contact", "contacts_per_day", "contacts_yesterday")
REQUIRED = ("kind", "name", "lat", "lon")
FILE = 0  # the row number of problems with the file as a whole
_EXAMPLES = {
    TouchpointKind.IBEACON: "ibeacon:<uuid>:<major>:<minor>",
    TouchpointKind.ALTBEACON: "altbeacon:<id1>:<id2>:<id3>",
    TouchpointKind.EDDYSTONE_UID: "eddystone-uid:<namespace>:<instance>",
}


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing to fix: the spreadsheet row (1 is the header, 0 the whole file) and column."""

    row: int
    column: str
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RowDraft:
    """One clean row. `identifier` is empty for a new code to be made; `columns` are those the
    file has: an update changes only those."""

    row: int
    identifier: str
    kind: TouchpointKind
    name: str
    location: Location
    shop: str
    placement: str
    status: TouchpointStatus
    target: str
    expected_interval_hours: int | None
    battery_percent: int | None
    battery_at: datetime | None
    columns: frozenset[str]


@dataclass(frozen=True, slots=True)
class ParsedFile:
    drafts: list[RowDraft]
    problems: list[Problem]


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252 (what older German Excel saves)."""
    return decode_as(data, MAX_BYTES)[0]


def decode_as(data: bytes, max_bytes: int) -> tuple[str, str]:
    """The text and the encoding it was read in: "utf-8" (BOM or not), else "cp1252"."""
    if len(data) > max_bytes:
        raise InvalidInput(
            "file",
            N_("The file is larger than %(max)s kB; please split it."),
            max=max_bytes // 1000,
        )
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        raise InvalidInput(
            "file", N_("This is not a CSV text file; please save it as CSV (UTF-8).")
        ) from None


def _records(text: str) -> list[list[str]]:
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error:
        raise InvalidInput(
            "file", N_("The file is not valid CSV (a quote is not closed).")
        ) from None


def _header_problems(header: list[str]) -> list[Problem]:
    problems = [
        Problem(1, name, N_("Unknown column “%(column)s”."), {"column": name})
        for name in header
        if name not in COLUMNS and name not in READ_ONLY
    ]
    problems += [
        Problem(1, name, N_("The column “%(column)s” is missing."), {"column": name})
        for name in REQUIRED
        if name not in header
    ]
    seen: set[str] = set()
    for name in header:
        if name in seen:
            problems.append(
                Problem(1, name, N_("The column “%(column)s” appears twice."), {"column": name})
            )
        seen.add(name)
    return problems


def parse_file(data: bytes, timezone: ZoneInfo) -> ParsedFile:
    """Every row checked on its own (the shop and identifier against the store come later)."""
    try:
        records = _records(decode(data))
    except InvalidInput as exc:
        return ParsedFile([], [Problem(FILE, "", exc.message, exc.params)])
    records = [r for r in records if any(cell.strip() for cell in r)]
    if not records:
        return ParsedFile([], [Problem(FILE, "", N_("The file is empty."))])
    header = [cell.strip().lower() for cell in records[0]]
    if len(records) - 1 > MAX_ROWS:
        message = N_("The file has %(n)s rows; at most %(max)s can be imported at once.")
        return ParsedFile(
            [], [Problem(FILE, "", message, {"n": len(records) - 1, "max": MAX_ROWS})]
        )
    problems = _header_problems(header)
    if problems:
        return ParsedFile([], problems)
    drafts: list[RowDraft] = []
    for number, record in enumerate(records[1:], start=2):
        cells = {
            name: (record[i].strip() if i < len(record) else "") for i, name in enumerate(header)
        }
        draft = _draft(number, cells, frozenset(header), timezone, problems)
        if draft is not None:
            drafts.append(draft)
    problems += duplicate_problems(drafts)
    return ParsedFile(drafts, problems)


def duplicate_problems(drafts: Iterable[RowDraft]) -> list[Problem]:
    """The same identifier twice in one file: which row should win is not ours to guess."""
    first: dict[str, int] = {}
    problems = []
    for draft in drafts:
        if not draft.identifier:
            continue
        if draft.identifier in first:
            message = N_("The same identifier as in row %(other)s.")
            problems.append(
                Problem(draft.row, "identifier", message, {"other": first[draft.identifier]})
            )
        first.setdefault(draft.identifier, draft.row)
    return problems


class _Row:
    """Checks one row's cells, collecting a problem per bad cell instead of stopping."""

    def __init__(self, number: int, cells: dict[str, str], problems: list[Problem]) -> None:
        self.number, self.cells, self.problems = number, cells, problems
        self.failed = False

    def check(self, column: str, rule: Callable[[str], Any]) -> Any:
        try:
            return rule(self.cells.get(column, ""))
        except InvalidInput as exc:
            self.problems.append(Problem(self.number, column, exc.message, exc.params))
            self.failed = True
            return None

    def location(self, lat: float | None, lon: float | None) -> Location | None:
        """The position, its problem named by the column at fault."""
        if lat is None or lon is None:
            return None
        try:
            return make_location(lat, lon)
        except InvalidInput as exc:
            column = "lon" if exc.field.endswith(".lon") else "lat"
            self.problems.append(Problem(self.number, column, exc.message, exc.params))
            return None


def _draft(
    number: int,
    cells: dict[str, str],
    columns: frozenset[str],
    timezone: ZoneInfo,
    problems: list[Problem],
) -> RowDraft | None:
    row = _Row(number, cells, problems)
    kind = row.check("kind", _kind)
    values = {
        "name": row.check("name", lambda v: clean_text(v, "name", max_len=120)),
        "lat": row.check("lat", lambda v: _coordinate(v, "lat")),
        "lon": row.check("lon", lambda v: _coordinate(v, "lon")),
        "shop": row.check("shop", lambda v: clean_text(v, "shop", max_len=60, required=False)),
        "placement": row.check(
            "placement", lambda v: clean_text(v, "placement", max_len=200, required=False)
        ),
        "status": row.check("status", _status),
        "interval": row.check("expected_interval_hours", clean_interval),
        "battery": row.check("battery_percent", lambda v: _whole(v, 0, 100, "battery_percent")),
        "battery_at": row.check("battery_at", lambda v: _moment(v, timezone)),
    }
    if kind is None:
        return None
    identifier = row.check("identifier", lambda v: _identifier(kind, v))
    target = row.check("target", lambda v: _target(kind, v))
    location = row.location(values["lat"], values["lon"])
    if row.failed or location is None:
        return None
    return RowDraft(
        row=number,
        identifier=identifier,
        kind=kind,
        name=values["name"],
        location=location,
        shop=values["shop"],
        placement=values["placement"],
        status=values["status"],
        target=target,
        expected_interval_hours=values["interval"],
        battery_percent=values["battery"],
        battery_at=values["battery_at"],
        columns=columns,
    )


def _kind(value: str) -> TouchpointKind:
    try:
        return TouchpointKind(value.lower())
    except ValueError:
        raise InvalidInput(
            "kind",
            N_("Unknown kind “%(value)s”; use one of: %(kinds)s."),
            value=value[:40],
            kinds=", ".join(k.value for k in TouchpointKind),
        ) from None


def _status(value: str) -> TouchpointStatus:
    try:
        return TouchpointStatus(value.lower() or "active")
    except ValueError:
        raise InvalidInput(
            "status",
            N_("Unknown status “%(value)s”; use active, inactive or retired."),
            value=value[:40],
        ) from None


def _coordinate(value: str, column: str) -> float:
    try:
        return float(value.replace(",", "."))
    except ValueError:
        raise InvalidInput(column, N_("Latitude and longitude must be numbers.")) from None


def _whole(value: str, low: int, high: int, column: str) -> int | None:
    if not value:
        return None
    if not value.isdigit() or not low <= int(value) <= high:
        raise InvalidInput(
            column, N_("Enter a whole number from %(low)s to %(high)s."), low=low, high=high
        )
    return int(value)


def _moment(value: str, timezone: ZoneInfo) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            "battery_at", N_("Enter a date and time like 2026-11-29 14:30.")
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone)


def _identifier(kind: TouchpointKind, value: str) -> str:
    """The canonical identifier, or "" for a code or device that gets a new code."""
    text = value.strip().lower()
    if kind in BEACON_KINDS:
        wrong = InvalidInput(
            "identifier",
            N_("A beacon needs its identifier, written like %(example)s."),
            example=_EXAMPLES[kind],
        )
        if not text.startswith(f"{kind.value}:"):
            raise wrong
        try:
            parts = identifier_parts(text)
        except (IndexError, ValueError):
            raise wrong from None
        return canonical_identifier(kind, parts, "")
    if not text:
        return ""
    code = text.removeprefix("code:")
    if not is_code(code):
        raise InvalidInput(
            "identifier",
            N_("Leave this empty for a new code, or give an existing one like %(example)s."),
            example="code:k7qf9m2x",
        )
    return f"code:{code}"


def _target(kind: TouchpointKind, value: str) -> str:
    if kind in LINK_KINDS:
        return clean_target(value)
    if value:
        raise InvalidInput("target", N_("Only QR, NFC and URL beacons have a target."))
    return ""


# --- export -------------------------------------------------------------------------------


def _decimal(number: float) -> str:
    # German Excel reads ";"-separated files with decimal commas.
    return str(number).replace(".", ",")


def _local(moment: datetime | None, timezone: ZoneInfo) -> str:
    return moment.astimezone(timezone).strftime("%Y-%m-%d %H:%M") if moment else ""


def export_csv(
    rows: Iterable[FleetRow],
    zone_names: Mapping[UUID, str],
    shop_slugs: Mapping[UUID, str],
    timezone: ZoneInfo,
) -> bytes:
    """The fleet as German Excel opens it: UTF-8 with BOM, ";" and decimal commas."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS + READ_ONLY)
    for row in rows:
        point = row.touchpoint
        writer.writerow(
            [
                point.identifier,
                point.kind.value,
                point.name,
                _decimal(point.location.lat),
                _decimal(point.location.lon),
                shop_slugs.get(point.shop_id, "") if point.shop_id else "",
                point.placement,
                point.status.value,
                point.target,
                point.expected_interval_hours or "",
                "" if point.battery_percent is None else point.battery_percent,
                _local(point.battery_at, timezone),
                zone_names.get(point.zone_id, "") if point.zone_id else "",
                row.health.value,
                _local(row.stats.last_at, timezone),
                _decimal(row.per_day),
                row.stats.yesterday,
            ]
        )
    return out.getvalue().encode("utf-8-sig")
