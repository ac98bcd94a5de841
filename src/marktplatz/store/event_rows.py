"""Journey events as driver-ready rows of the events table (for executemany and COPY)."""

from __future__ import annotations

from typing import Any

from marktplatz.domain.journey import JourneyEvent
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
