"""Journey events as driver-ready rows of the events table (for executemany and COPY)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from marktplatz.domain.journey import JourneyEvent
from marktplatz.domain.rollups import hour_of, is_late
from marktplatz.store import tables as t

EVENT_COLUMNS = (
    "event_id",
    "kind",
    "city_id",
    "occurred_at",
    "received_at",
    "touchpoint_id",
    "content_id",
    "channel",
    "proximity",
    "rssi",
    "count",
    "path",
    "pseudonym",
    "daily_hash",
    "schema_version",
    "decision_id",
    "reasons",
)
if tuple(column.name for column in t.events.columns) != EVENT_COLUMNS:
    raise RuntimeError("event_tuple() no longer matches the events table")  # pragma: no cover


def event_tuple(event: JourneyEvent) -> tuple[Any, ...]:
    """The stored columns of an event, in the order of EVENT_COLUMNS."""
    return (
        event.event_id,
        event.kind.value,
        event.city_id,
        event.occurred_at,
        event.received_at,
        event.touchpoint_id,
        event.content_id,
        event.channel.value if event.channel else None,
        event.proximity.value if event.proximity else None,
        event.rssi,
        event.count,
        event.path,
        event.pseudonym,
        event.daily_hash,
        event.schema_version,
        event.decision_id,
        event.reasons,
    )


def late_hours(events: Sequence[JourneyEvent]) -> list[tuple[UUID, datetime, datetime]]:
    """(city, hour, now) for each hour the events reach that may have been rolled up already."""
    hours = {
        (e.city_id, hour_of(e.occurred_at)) for e in events if is_late(e.occurred_at, e.received_at)
    }
    if not hours:
        return []
    now = max(e.received_at for e in events)
    return [(city_id, hour, now) for city_id, hour in sorted(hours)]
