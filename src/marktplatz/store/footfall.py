"""SQL reads for the footfall import: which counted hours are stored, and each counter's span."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from marktplatz.domain.footfall_csv import CounterSpan
from marktplatz.store import tables as t

_CHUNK = 1_000  # ids per IN list: well under SQLite's and asyncpg's parameter limits


class SqlFootfall:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def stored_counts(self, event_ids: Sequence[UUID]) -> dict[UUID, int | None]:
        """The count stored under each of these event ids that exists."""
        e = t.events.c
        found: dict[UUID, int | None] = {}
        for start in range(0, len(event_ids), _CHUNK):
            chunk = event_ids[start : start + _CHUNK]
            rows = await self.conn.execute(select(e.event_id, e.count).where(e.event_id.in_(chunk)))
            found.update({r.event_id: r.count for r in rows})
        return found

    async def counter_spans(self, city_id: UUID) -> dict[UUID, CounterSpan]:
        """Per touchpoint of the city with people counts: its first and last hour, and how many."""
        e = t.events.c
        query = (
            select(
                e.touchpoint_id,
                func.min(e.occurred_at).label("first"),
                func.max(e.occurred_at).label("last"),
                func.count().label("hours"),
            )
            .where(e.city_id == city_id, text("kind = 'counter.count'"))
            .where(e.touchpoint_id.is_not(None))
            .group_by(e.touchpoint_id)
        )
        rows = await self.conn.execute(query)
        return {r.touchpoint_id: CounterSpan(r.first, r.last, int(r.hours)) for r in rows}
