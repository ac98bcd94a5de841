"""Fleet health: how long a touchpoint may stay silent, and what its silence means."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from uuid import UUID
from zoneinfo import ZoneInfo

from marktplatz.domain.errors import N_, InvalidInput
from marktplatz.domain.touchpoints import Touchpoint, TouchpointKind, TouchpointStatus

# Hours a touchpoint of each kind may stay silent before it counts as silent. Clock hours,
# nights included: a beacon on the beacon mile is passed every few hours while shops are open,
# so 12 h still covers a quiet night; a code in the pavement may wait days for its next scan.
DEFAULT_INTERVAL_HOURS: dict[TouchpointKind, int] = {
    TouchpointKind.IBEACON: 12,
    TouchpointKind.EDDYSTONE_UID: 12,
    TouchpointKind.EDDYSTONE_URL: 12,
    TouchpointKind.ALTBEACON: 12,
    TouchpointKind.QR: 72,
    TouchpointKind.NFC: 72,
    TouchpointKind.WIFI_PORTAL: 12,
    TouchpointKind.PEOPLE_COUNTER: 2,
    TouchpointKind.WEBCAM: 2,
    TouchpointKind.VOICE: 168,
    TouchpointKind.KIOSK: 24,
    TouchpointKind.WEB_WIDGET: 24,
}
ALERT_FACTOR = 3  # silent for three intervals: an alert, somebody should go and look
MAX_INTERVAL_HOURS = 24 * 90
STATS_DAYS = 7


class Health(StrEnum):
    """Worst first in RANK; inactive and retired touchpoints are not expected to be heard."""

    ALERT = "alert"
    WARNING = "warning"
    NEVER_SEEN = "never-seen"
    OK = "ok"
    INACTIVE = "inactive"


RANK = {health: rank for rank, health in enumerate(Health)}
SILENT = frozenset({Health.ALERT, Health.WARNING})


@dataclass(frozen=True, slots=True)
class ContactStats:
    """One touchpoint's contacts: the last one, those of the last 7 days and of yesterday."""

    last_at: datetime | None = None
    week: int = 0
    yesterday: int = 0


@dataclass(frozen=True, slots=True)
class FleetRow:
    """A touchpoint with its contacts and health at one moment."""

    touchpoint: Touchpoint
    stats: ContactStats
    health: Health
    interval_hours: int
    silent_for: timedelta | None

    @property
    def per_day(self) -> float:
        """Average contacts per day over the last STATS_DAYS full days."""
        return round(self.stats.week / STATS_DAYS, 1)

    @property
    def overdue(self) -> float:
        """Silence as a multiple of the interval (0 when never seen or not silent)."""
        if self.silent_for is None:
            return 0.0
        return self.silent_for / timedelta(hours=self.interval_hours)


def interval_of(touchpoint: Touchpoint) -> int:
    """The touchpoint's own expected interval in hours, else its kind's default."""
    return touchpoint.expected_interval_hours or DEFAULT_INTERVAL_HOURS[touchpoint.kind]


def clean_interval(value: object, field: str = "expected_interval_hours") -> int | None:
    """An own expected interval in whole hours, or None (left empty) for the kind's default."""
    text = str(value).strip() if value is not None else ""
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= MAX_INTERVAL_HOURS:
        raise InvalidInput(
            field,
            N_("Enter a whole number from %(low)s to %(high)s."),
            low=1,
            high=MAX_INTERVAL_HOURS,
        )
    return int(text)


def health_of(touchpoint: Touchpoint, last_at: datetime | None, now: datetime) -> Health:
    """ok / warning (silent past the interval) / alert (past ALERT_FACTOR intervals) / …"""
    if touchpoint.status is not TouchpointStatus.ACTIVE:
        return Health.INACTIVE
    if last_at is None:
        return Health.NEVER_SEEN
    interval = timedelta(hours=interval_of(touchpoint))
    silence = now - last_at
    if silence > ALERT_FACTOR * interval:
        return Health.ALERT
    return Health.WARNING if silence > interval else Health.OK


def fleet_rows(
    points: Iterable[Touchpoint], stats: dict[UUID, ContactStats], now: datetime
) -> list[FleetRow]:
    """Each touchpoint with its stats (none: never seen) and health at `now`."""
    rows = []
    for point in points:
        found = stats.get(point.id, ContactStats())
        rows.append(
            FleetRow(
                touchpoint=point,
                stats=found,
                health=health_of(point, found.last_at, now),
                interval_hours=interval_of(point),
                silent_for=now - found.last_at if found.last_at else None,
            )
        )
    return rows


def worst_silent(rows: Iterable[FleetRow], limit: int = 5) -> list[FleetRow]:
    """The silent touchpoints, alerts first, longest overdue first."""
    silent = [row for row in rows if row.health in SILENT]
    return sorted(silent, key=lambda r: (RANK[r.health], -r.overdue))[:limit]


@dataclass(frozen=True, slots=True)
class StatsWindow:
    """The UTC bounds of the contact statistics: the last 7 full local days and yesterday."""

    week_start: datetime
    yesterday_start: datetime
    today_start: datetime


def stats_window(now: datetime, timezone: ZoneInfo) -> StatsWindow:
    """Day bounds in the city's local time (midnight there), as aware datetimes."""
    today = now.astimezone(timezone).date()

    def midnight(days_ago: int) -> datetime:
        return datetime.combine(today - timedelta(days=days_ago), time(0), timezone)

    return StatsWindow(midnight(STATS_DAYS), midnight(1), midnight(0))


# --- sorting and filtering of the fleet table ---------------------------------------------

SORT_KEYS = ("name", "kind", "zone", "health", "last_contact", "per_day")


@dataclass(frozen=True, slots=True)
class FleetQuery:
    """The table's GET parameters, cleaned: unknown values fall back to showing everything."""

    kind: str = ""
    zone: str = ""
    health: str = ""
    q: str = ""
    sort: str = "health"
    descending: bool = False

    @classmethod
    def of(cls, kind: str, zone: str, health: str, q: str, sort: str, order: str) -> FleetQuery:
        return cls(
            kind=kind if kind in {k.value for k in TouchpointKind} else "",
            zone=zone,
            health=health if health in {h.value for h in Health} else "",
            q=q.strip()[:100],
            sort=sort if sort in SORT_KEYS else "health",
            descending=order == "desc",
        )


def _zone_name(point: Touchpoint, zone_names: dict[UUID, str]) -> str:
    return zone_names.get(point.zone_id, "") if point.zone_id else ""


def _matches(row: FleetRow, query: FleetQuery, zone_names: dict[UUID, str]) -> bool:
    point = row.touchpoint
    if query.kind and point.kind.value != query.kind:
        return False
    if query.zone and str(point.zone_id or "none") != query.zone:
        return False
    if query.health and row.health.value != query.health:
        return False
    needle = query.q.casefold()
    haystack = (point.name, point.identifier, point.placement, _zone_name(point, zone_names))
    return not needle or any(needle in text.casefold() for text in haystack)


def _sort_key(row: FleetRow, sort: str, zone_names: dict[UUID, str]) -> tuple[object, ...]:
    point = row.touchpoint
    name = point.name.casefold()
    if sort == "kind":
        return (point.kind.value, name)
    if sort == "zone":
        return (_zone_name(point, zone_names).casefold(), name)
    if sort == "health":
        return (RANK[row.health], -row.overdue, name)
    if sort == "last_contact":
        last = row.stats.last_at
        return (last is None, last.timestamp() if last else 0.0, name)
    if sort == "per_day":
        return (row.stats.week, name)
    return (name,)


def select_rows(
    rows: Sequence[FleetRow], query: FleetQuery, zone_names: dict[UUID, str]
) -> list[FleetRow]:
    """The rows that match the filters, in the asked order."""
    found = [row for row in rows if _matches(row, query, zone_names)]
    found.sort(key=lambda row: _sort_key(row, query.sort, zone_names), reverse=query.descending)
    return found
