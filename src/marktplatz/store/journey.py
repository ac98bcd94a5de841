"""SQL repositories for visitors, consents, a visitor's data (export, erase) and retention."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from marktplatz.domain.consent import ConsentRecord, Purpose, Visitor
from marktplatz.store import tables as t


class Erasure(StrEnum):
    """How a visitor's rows leave a table when the visitor asks for erasure."""

    DELETE = "delete"  # the rows go
    UNLINK = "unlink"  # the rows stay, their visitor column gets a one-way stand-in
    CLEAR = "clear"  # the rows stay, their visitor column is emptied


# Every table with a visitor column, with that column and how it is erased. The meta-test
# tests/integration/test_erasure_coverage.py fails for a visitor column missing here.
# Order matters: consents first. The event writer reads a visitor's consent rows with a share
# lock (PostgreSQL), so this UPDATE waits for a batch in flight to commit, and the DELETE of the
# events that follows then sees that batch too; a batch starting later finds no consent left.
ERASURE: dict[str, tuple[str, Erasure]] = {
    # Proof of consent (Art. 7(1) GDPR) outlives the data it allowed, but no longer names anyone.
    "consents": ("pseudonym", Erasure.UNLINK),
    "events": ("pseudonym", Erasure.DELETE),
    # A coupon is also the shop's record of a sale: it stays, but no longer names anyone, nor
    # ties the erased visitor's coupons to each other.
    "coupons": ("pseudonym", Erasure.CLEAR),
    # The path that led to a redemption is the visitor's own data: it goes.
    "coupon_touches": ("pseudonym", Erasure.DELETE),
    "visitors": ("pseudonym", Erasure.DELETE),
}


class SqlVisitors:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(self, pseudonym: str) -> Visitor | None:
        query = select(t.visitors).where(t.visitors.c.pseudonym == pseudonym)
        row = (await self.conn.execute(query)).first()
        return Visitor(**row._mapping) if row else None

    async def add(self, visitor: Visitor) -> None:
        await self.conn.execute(t.visitors.insert().values(**asdict(visitor)))


class SqlConsents:
    """Append-only: consent records are added, never changed (erasure aside)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, records: list[ConsentRecord]) -> None:
        rows = [{**asdict(r), "purpose": r.purpose.value} for r in records]
        await self.conn.execute(t.consents.insert(), rows)

    async def for_pseudonym(self, pseudonym: str) -> list[ConsentRecord]:
        query = (
            select(t.consents).where(t.consents.c.pseudonym == pseudonym).order_by(t.consents.c.id)
        )
        rows = await self.conn.execute(query)
        return [
            ConsentRecord(
                pseudonym=r.pseudonym,
                purpose=Purpose(r.purpose),
                granted=r.granted,
                text_version=r.text_version,
                at=r.at,
            )
            for r in rows
        ]


class SqlVisitorData:
    """Everything stored under one pseudonym, to hand out or to erase (see ERASURE)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def events(self, pseudonym: str) -> list[dict[str, Any]]:
        query = (
            select(t.events)
            .where(t.events.c.pseudonym == pseudonym)
            .order_by(t.events.c.occurred_at, t.events.c.event_id)
        )
        return [dict(r._mapping) for r in await self.conn.execute(query)]

    async def cities(self, pseudonym: str) -> list[UUID]:
        """The cities holding events or coupons of the pseudonym (whose logs note a request)."""
        events = select(t.events.c.city_id).where(t.events.c.pseudonym == pseudonym)
        coupons = select(t.coupons.c.city_id).where(t.coupons.c.pseudonym == pseudonym)
        rows = await self.conn.execute(events.union(coupons))
        return sorted({row[0] for row in rows}, key=str)

    async def erase(self, pseudonym: str, stand_in: str) -> dict[str, int]:
        """Rows erased per table; each statement uses the index on the visitor column."""
        counts: dict[str, int] = {}
        for name, (column, how) in ERASURE.items():
            table: Table = t.metadata.tables[name]
            match = table.c[column] == pseudonym
            if how is Erasure.DELETE:
                result = await self.conn.execute(delete(table).where(match))
            else:
                value = stand_in if how is Erasure.UNLINK else None
                result = await self.conn.execute(update(table).where(match).values({column: value}))
            counts[name] = int(result.rowcount or 0)
        return counts


class SqlRetention:
    """Per-city retention and the deletions of the purge job, in short statements."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def policies(self) -> list[tuple[UUID, str, int | None]]:
        """(city id, timezone, retention days or None for the installation's default)."""
        query = select(t.cities.c.id, t.cities.c.timezone, t.cities.c.retention_days)
        return [(r.id, r.timezone, r.retention_days) for r in await self.conn.execute(query)]

    async def set_days(self, city_id: UUID, days: int | None) -> None:
        await self.conn.execute(
            update(t.cities).where(t.cities.c.id == city_id).values(retention_days=days)
        )

    async def delete_events(self, city_id: UUID, before: datetime, limit: int) -> int:
        """At most `limit` pseudonymous events of the city that occurred before `before`."""
        e = t.events.c
        batch = (
            select(e.event_id)
            .where(e.city_id == city_id, e.occurred_at < before, e.pseudonym.is_not(None))
            .limit(limit)
        )
        result = await self.conn.execute(delete(t.events).where(e.event_id.in_(batch)))
        return int(result.rowcount or 0)

    async def forget_coupon_visitors(self, city_id: UUID, before: datetime) -> int:
        """Empty the pseudonym of the city's coupons saved before `before`; drop their touches."""
        c = t.coupons.c
        old = select(c.id).where(
            c.city_id == city_id, c.saved_at < before, c.pseudonym.is_not(None)
        )
        await self.conn.execute(
            delete(t.coupon_touches).where(t.coupon_touches.c.coupon_id.in_(old))
        )
        result = await self.conn.execute(
            update(t.coupons).where(c.id.in_(old)).values(pseudonym=None)
        )
        return int(result.rowcount or 0)

    async def delete_salts(self, city_id: UUID, before_day: str) -> int:
        s = t.daily_salts.c
        result = await self.conn.execute(
            delete(t.daily_salts).where(s.city_id == city_id, s.day < before_day)
        )
        return int(result.rowcount or 0)

    async def delete_orphan_salts(self) -> int:
        """Salts of cities that no longer exist: no timezone to keep them for."""
        s = t.daily_salts.c
        result = await self.conn.execute(
            delete(t.daily_salts).where(s.city_id.not_in(select(t.cities.c.id)))
        )
        return int(result.rowcount or 0)
