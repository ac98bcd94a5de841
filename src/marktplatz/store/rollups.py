"""SQL of the rollups: each hour (or day) recomputed from the raw events, stored and read back."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    and_,
    case,
    delete,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from marktplatz.domain.analytics import Buckets
from marktplatz.domain.journey import EventKind
from marktplatz.domain.kanon import Cell
from marktplatz.domain.rollups import CONSENTED, COOKIELESS, HOUR, NONE, RollupRow, Stat
from marktplatz.domain.sequences import day_rows
from marktplatz.store import tables as t
from marktplatz.store.sequences import SqlSightings

_e = t.events.c
_tp = t.touchpoints.c
_r = t.rollup_rows.c
_CONTENT_STATS = {
    EventKind.CONTENT_EXPOSED.value: Stat.EXPOSED,
    EventKind.CONTENT_VIEWED.value: Stat.VIEWED,
    EventKind.CONTENT_SAVED.value: Stat.SAVED,
    EventKind.COUPON_REDEEMED.value: Stat.REDEEMED,
    EventKind.CONTENT_WITHHELD.value: Stat.WITHHELD,
}
_CONTACT = EventKind.TOUCHPOINT_CONTACT.value


def _who() -> tuple[Any, ...]:
    """Events, distinct visitors told apart (pseudonyms and daily hashes), events with neither."""
    nobody = and_(_e.pseudonym.is_(None), _e.daily_hash.is_(None))
    return (
        func.count(),
        func.count(_e.pseudonym.distinct()) + func.count(_e.daily_hash.distinct()),
        func.coalesce(func.sum(case((nobody, 1), else_=0)), 0),
    )


def _text(value: object) -> str:
    return NONE if value is None else str(value)


class SqlRollups:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    # --- computing from raw events ---------------------------------------------------------

    async def compute_hour(self, city_id: UUID, hour: datetime) -> list[RollupRow]:
        """Every hourly stat of one city and hour, from the events that occurred in it."""
        within = and_(_e.city_id == city_id, _e.occurred_at >= hour, _e.occurred_at < hour + HOUR)
        rows: list[RollupRow] = []
        for stat, keys, where in self._hourly_queries():
            query = select(*keys, *_who(), func.coalesce(func.sum(_e.count), 0))
            query = (
                query.where(within, where).group_by(*keys) if keys else query.where(within, where)
            )
            if stat in (Stat.ZONE_CONTACTS, Stat.SHOP_CONTACTS):
                query = query.join_from(t.events, t.touchpoints, _tp.id == _e.touchpoint_id)
            for found in await self.conn.execute(query):
                rows.extend(_hour_rows(stat, hour, found))
        return rows

    @staticmethod
    def _hourly_queries() -> list[tuple[Stat, list[Any], ColumnElement[bool]]]:
        return [
            (Stat.CONTACTS, [_e.touchpoint_id], _e.kind == _CONTACT),
            (Stat.ZONE_CONTACTS, [_tp.zone_id], _e.kind == _CONTACT),
            (
                Stat.SHOP_CONTACTS,
                [_tp.shop_id],
                and_(_e.kind == _CONTACT, _tp.shop_id.is_not(None)),
            ),
            (Stat.PAGE_VIEWS, [], _e.kind == EventKind.PAGE_VIEW.value),
            (
                Stat.EXPOSED,  # all four content stats: the kind tells them apart
                [_e.kind, _e.content_id, _e.touchpoint_id],
                _e.kind.in_(list(_CONTENT_STATS)),
            ),
            (Stat.COUNTER, [_e.touchpoint_id], _e.kind == EventKind.COUNTER_COUNT.value),
        ]

    async def compute_day(self, city_id: UUID, start: datetime, end: datetime) -> list[RollupRow]:
        """One local day [start, end): its distinct visitors (consented and cookieless apart),
        and the paths between zones and the dwell per zone of its sighting sequences."""
        within = and_(_e.city_id == city_id, _e.occurred_at >= start, _e.occurred_at < end)
        query = select(
            func.count(_e.pseudonym.distinct()), func.count(_e.daily_hash.distinct())
        ).where(within)
        consented, cookieless = (await self.conn.execute(query)).one()
        visitors = [
            RollupRow(Stat.VISITORS, start, subject, NONE, int(n), int(n), 0)
            for subject, n in ((CONSENTED, consented), (COOKIELESS, cookieless))
            if n
        ]
        sightings = await SqlSightings(self.conn).by_pseudonym(city_id, start, end)
        return visitors + day_rows(sightings, start)

    # --- storing -----------------------------------------------------------------------------

    async def replace(
        self, city_id: UUID, stats: Iterable[Stat], hour: datetime, rows: Sequence[RollupRow]
    ) -> None:
        """The rows of these stats at this hour become exactly `rows` (idempotent)."""
        await self.conn.execute(
            delete(t.rollup_rows).where(
                _r.city_id == city_id, _r.hour == hour, _r.stat.in_([s.value for s in stats])
            )
        )
        if rows:
            await self.conn.execute(
                t.rollup_rows.insert(),
                [{"city_id": city_id, **_stored(row)} for row in rows],
            )

    async def filled_until(self, city_id: UUID) -> datetime | None:
        query = select(t.rollup_fill.c.filled_until).where(t.rollup_fill.c.city_id == city_id)
        found: datetime | None = (await self.conn.execute(query)).scalar()
        return found

    async def set_filled_until(self, city_id: UUID, until: datetime, now: datetime) -> None:
        """Move the fill state forward (never back: two runs may overlap)."""
        f = t.rollup_fill.c
        done = await self.conn.execute(
            update(t.rollup_fill)
            .where(f.city_id == city_id, f.filled_until < until)
            .values(filled_until=until, updated_at=now)
        )
        if done.rowcount == 0 and await self.filled_until(city_id) is None:
            await self.conn.execute(
                t.rollup_fill.insert().values(city_id=city_id, filled_until=until, updated_at=now)
            )

    async def first_event(self, city_id: UUID) -> datetime | None:
        query = select(func.min(_e.occurred_at)).where(_e.city_id == city_id)
        found: datetime | None = (await self.conn.execute(query)).scalar()
        return found

    async def marked(self, city_id: UUID, before: datetime) -> list[tuple[datetime, int]]:
        """Hours marked for a recompute that lie before `before`, with their mark's version."""
        d = t.rollup_dirty.c
        query = (
            select(d.hour, d.version).where(d.city_id == city_id, d.hour < before).order_by(d.hour)
        )
        return [(r.hour, int(r.version)) for r in await self.conn.execute(query)]

    async def unmark(self, city_id: UUID, hour: datetime, version: int | None = None) -> None:
        """Remove a mark, unless a writer marked the hour again since `version` was read."""
        d = t.rollup_dirty.c
        where = [d.city_id == city_id, d.hour == hour]
        if version is not None:
            where.append(d.version == version)
        await self.conn.execute(delete(t.rollup_dirty).where(*where))

    # --- reading ---------------------------------------------------------------------------

    async def rows(
        self,
        city_id: UUID,
        stats: Iterable[Stat],
        start: datetime,
        end: datetime,
        subjects: Iterable[str] | None = None,
    ) -> list[RollupRow]:
        """The stored rows of these stats in [start, end), optionally of some subjects only."""
        query = _within(select(t.rollup_rows), city_id, stats, start, end, subjects)
        return [
            RollupRow(
                Stat(r.stat), r.hour, r.subject, r.via, int(r.count), int(r.identified),
                int(r.anonymous),
            )
            for r in await self.conn.execute(query.order_by(_r.hour, _r.stat, _r.subject, _r.via))
        ]  # fmt: skip

    async def totals(
        self,
        city_id: UUID,
        stats: Iterable[Stat],
        start: datetime,
        end: datetime,
        subjects: Iterable[str] | None = None,
    ) -> list[RollupRow]:
        """The rows of [start, end) added up per stat, subject and via, as `combine` would:
        counts summed, the largest hour's visitors, anonymous events summed (hour: `start`)."""
        keys = (_r.stat, _r.subject, _r.via)
        added = select(*keys, func.sum(_r.count), func.max(_r.identified), func.sum(_r.anonymous))
        query = _within(added, city_id, stats, start, end, subjects)
        return [
            RollupRow(Stat(r[0]), start, r[1], r[2], int(r[3]), int(r[4]), int(r[5]))
            for r in await self.conn.execute(query.group_by(*keys).order_by(*keys))
        ]

    async def buckets(
        self,
        city_id: UUID,
        stats: Iterable[Stat],
        start: datetime,
        end: datetime,
        buckets: Buckets,
        subjects: Iterable[str] | None = None,
        *,
        by_subject: bool = True,
    ) -> dict[tuple[Stat, str, int], Cell]:
        """The rows of [start, end) added up per stat, subject (NONE without `by_subject`) and
        local-time bucket, as `combine` would: counts summed, the largest row's visitors plus
        the anonymous events summed. The database groups, so a year of hours stays cheap."""
        epoch = _Epoch(_r.hour)
        offset: ColumnElement[int] = _int(buckets.offsets[0][1])
        if len(buckets.offsets) > 1:
            offset = case(
                *[(epoch >= _int(since), _int(off)) for since, off in reversed(buckets.offsets)],
                else_=offset,
            )
        bucket = (epoch + offset) // _int(buckets.size)
        if buckets.cycle is not None:
            bucket = (bucket + _int(buckets.shift)) % _int(buckets.cycle)
        subject = _r.subject if by_subject else literal_column(f"'{NONE}'")
        inner = _within(
            select(
                _r.stat.label("stat"),
                subject.label("subject"),
                bucket.label("bucket"),
                _r.count,
                _r.identified,
                _r.anonymous,
            ),
            city_id,
            stats,
            start,
            end,
            subjects,
        ).subquery()
        keys = (inner.c.stat, inner.c.subject, inner.c.bucket)
        added = select(
            *keys,
            func.sum(inner.c.count),
            func.max(inner.c.identified),
            func.sum(inner.c.anonymous),
        ).group_by(*keys)
        return {
            (Stat(r[0]), str(r[1]), int(r[2])): Cell(int(r[3]), int(r[4]) + int(r[5]))
            for r in await self.conn.execute(added)
        }


class _Epoch(FunctionElement[int]):
    """Seconds since 1970-01-01 UTC of a stored moment (SQLite keeps UTC text)."""

    type = BigInteger()
    inherit_cache = True


@compiles(_Epoch)
def _epoch_sqlite(element: _Epoch, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(_Epoch, "postgresql")
def _epoch_postgres(element: _Epoch, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) AS BIGINT)"


def _int(value: int) -> ColumnElement[int]:
    """An integer written into the statement: a bound parameter would make the grouped
    expression differ between SELECT and GROUP BY on PostgreSQL."""
    return literal_column(str(int(value)), BigInteger)


def _within(
    query: Select[Any],
    city_id: UUID,
    stats: Iterable[Stat],
    start: datetime,
    end: datetime,
    subjects: Iterable[str] | None,
) -> Select[Any]:
    """The rows of some stats of a city in [start, end), optionally of some subjects only."""
    query = query.where(
        _r.city_id == city_id,
        _r.stat.in_([s.value for s in stats]),
        _r.hour >= start,
        _r.hour < end,
    )
    return query if subjects is None else query.where(_r.subject.in_(list(subjects)))


def _hour_rows(stat: Stat, hour: datetime, found: Any) -> list[RollupRow]:
    *keys, count, identified, anonymous, people = found
    if not count:  # an aggregate without GROUP BY answers an empty hour with a row of zeros
        return []
    if stat is Stat.COUNTER:
        people = int(people)  # counters count people, not visitors we could tell apart
        return [RollupRow(stat, hour, _text(keys[0]), NONE, people, 0, people)]
    if stat is Stat.EXPOSED:
        kind, content_id, touchpoint_id = keys
        stat, keys = _CONTENT_STATS[kind], [content_id, touchpoint_id]
    subject = _text(keys[0]) if keys else NONE
    via = _text(keys[1]) if len(keys) > 1 else NONE
    return [RollupRow(stat, hour, subject, via, int(count), int(identified), int(anonymous))]


def _stored(row: RollupRow) -> dict[str, Any]:
    return {
        "stat": row.stat.value,
        "hour": row.hour,
        "subject": row.subject,
        "via": row.via,
        "count": row.count,
        "identified": row.identified,
        "anonymous": row.anonymous,
    }
