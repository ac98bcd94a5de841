"""Consented visitors' touchpoint sightings of a period, with the zone of each touchpoint."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from marktplatz.domain.journey import EventKind
from marktplatz.domain.rollups import NONE
from marktplatz.domain.sequences import Sighting
from marktplatz.store import tables as t


class SqlSightings:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def by_pseudonym(
        self, city_id: UUID, start: datetime, end: datetime
    ) -> dict[str, list[Sighting]]:
        """Per pseudonym its contacts in the city in UTC [start, end), by time, with their zone.

        Only contacts with a pseudonym: an event without one cannot be linked to any other,
        and the cookieless daily hashes are never joined to pseudonyms. A contact whose
        touchpoint stands outside every zone (or is gone, or is another city's) has the zone
        NONE. The scan follows ix_events_city_occurred; ordering by that index's second column
        needs no sort on SQLite (PostgreSQL sorts the day's contacts in memory), and grouping
        in Python keeps each pseudonym's sightings in that order.
        """
        e, tp = t.events.c, t.touchpoints.c
        query = (
            select(e.pseudonym, e.occurred_at, tp.zone_id)
            .select_from(
                t.events.outerjoin(
                    t.touchpoints, (tp.id == e.touchpoint_id) & (tp.city_id == e.city_id)
                )
            )
            .where(
                e.city_id == city_id,
                e.occurred_at >= start,
                e.occurred_at < end,
                e.kind == EventKind.TOUCHPOINT_CONTACT.value,
                e.pseudonym.is_not(None),
            )
            .order_by(e.occurred_at)
        )
        found: dict[str, list[Sighting]] = defaultdict(list)
        for pseudonym, occurred_at, zone_id in await self.conn.execute(query):
            found[pseudonym].append((occurred_at, NONE if zone_id is None else str(zone_id)))
        return dict(found)
