"""Hourly rollups of journey events: resumable, idempotent, and redone when late events arrive.

Each hour is recomputed from the raw events as a whole and replaces what was stored for it, so
running an hour twice, or a backfill over any range, gives the same rows as the incremental
runs did. The fill state says up to which hour a city is done; a crash in between loses only
the hour in progress, which the next run does again. Events that arrive after their hour was
filled (the app's offline queue, an imported counter file) mark that hour in the writer's own
transaction, and the next run redoes it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from marktplatz.domain.cities import City
from marktplatz.domain.errors import N_, InvalidInput
from marktplatz.domain.rollups import DAILY, HOUR, Stat, closed_until, hour_of
from marktplatz.services.context import Context

HOURLY = tuple(s for s in Stat if s not in DAILY)
MAX_HOURS = 24 * 7  # hours filled per city and run: a long catch-up goes in steps
INTERVAL = timedelta(minutes=5)
log = logging.getLogger(__name__)


@dataclass(slots=True)
class RollupRun:
    """What one run did: hours filled for the first time, hours redone, days (re)computed."""

    filled: int = 0
    redone: int = 0
    days: int = 0
    behind: list[str] = field(default_factory=list)  # cities with hours left for the next run


async def run_rollups(
    ctx: Context, *, max_hours: int = MAX_HOURS, only: Collection[UUID] | None = None
) -> RollupRun:
    """Fill every city's closed hours, redo the marked ones, and the days they complete.

    `only` limits the run to some cities (by id).
    """
    until = closed_until(ctx.clock.now())
    async with ctx.uow() as uow:
        cities = await uow.cities.list()
    run = RollupRun()
    for city in cities:
        if only is not None and city.id not in only:
            continue
        await _run_city(ctx, city, until, max_hours, run)
    return run


async def _run_city(
    ctx: Context, city: City, until: datetime, max_hours: int, run: RollupRun
) -> None:
    start = await _fill_start(ctx, city.id, until)
    stop = min(until, start + max_hours * HOUR)
    days: set[date] = set()
    for hour in _hours(start, stop):
        await _redo_hour(ctx, city.id, hour, advance=True)
        days.add(_local_day(hour, city.tz))
        run.filled += 1
    if stop < until:
        run.behind.append(city.slug)
    async with ctx.uow() as uow:
        marked = await uow.rollups.marked(city.id, stop)
    if len(marked) > max_hours:  # a year of imported counts: redone over several runs
        marked = marked[:max_hours]
        if city.slug not in run.behind:
            run.behind.append(city.slug)
    for hour, version in marked:
        await _redo_hour(ctx, city.id, hour, version=version)
        days.add(_local_day(hour, city.tz))
        run.redone += 1
    for day in sorted(days):
        if _day_bounds(day, city.tz)[1] <= stop:
            await _redo_day(ctx, city.id, day, city.tz)
            run.days += 1


async def _fill_start(ctx: Context, city_id: UUID, until: datetime) -> datetime:
    """Where filling goes on: the fill state, else the first event's hour, else now."""
    async with ctx.uow() as uow:
        filled = await uow.rollups.filled_until(city_id)
        if filled is not None:
            return filled
        first = await uow.rollups.first_event(city_id)
    return min(hour_of(first), until) if first is not None else until


async def _redo_hour(
    ctx: Context,
    city_id: UUID,
    hour: datetime,
    *,
    advance: bool = False,
    version: int | None = None,
) -> None:
    """Recompute one hour in one transaction (with the fill state, when it moves it on)."""
    async with ctx.uow(write=True) as uow:
        if version is None:
            # The mark as it is now: a writer that marks the hour again after this read
            # bumps its version, and the mark survives for the next run.
            version = next(
                (v for h, v in await uow.rollups.marked(city_id, hour + HOUR) if h == hour), None
            )
        rows = await uow.rollups.compute_hour(city_id, hour)
        await uow.rollups.replace(city_id, HOURLY, hour, rows)
        if version is not None:
            await uow.rollups.unmark(city_id, hour, version)
        if advance:
            await uow.rollups.set_filled_until(city_id, hour + HOUR, ctx.clock.now())
        await uow.commit()


async def _redo_day(ctx: Context, city_id: UUID, day: date, tz: ZoneInfo) -> None:
    start, end = _day_bounds(day, tz)
    async with ctx.uow(write=True) as uow:
        rows = await uow.rollups.compute_day(city_id, start, end)
        await uow.rollups.replace(city_id, DAILY, start, rows)
        await uow.commit()


@dataclass(frozen=True, slots=True)
class Backfill:
    hours: int
    days: int


async def backfill(ctx: Context, city_slug: str, start: datetime, end: datetime) -> Backfill:
    """Recompute the rollups of [start, end) from the raw events (operators, `marktplatz rollup`).

    Only hours already filled are redone (the regular run fills the rest), and only while the
    raw events are still kept: recomputing a purged range would replace its rollups with zeros.
    """
    async with ctx.uow() as uow:
        city = await uow.cities.by_slug(city_slug)
        if city is None:
            raise InvalidInput("city", N_("Unknown city: %(value)s"), value=city_slug[:60])
        filled = await uow.rollups.filled_until(city.id)
        kept_from = await _events_kept_from(ctx, city.id)
    if start >= end:
        raise InvalidInput("start", N_("The start has to lie before the end."))
    if start < kept_from:
        raise InvalidInput(
            "start",
            N_("Raw events before %(value)s are no longer kept; their rollups cannot be redone."),
            value=kept_from.isoformat(timespec="minutes"),
        )
    stop = min(end, filled) if filled is not None else start
    hours = list(_hours(hour_of(start), stop))
    for hour in hours:
        await _redo_hour(ctx, city.id, hour)
        await asyncio.sleep(0)
    days = sorted({_local_day(h, city.tz) for h in hours})
    whole = [
        d
        for d in days
        if _day_bounds(d, city.tz)[0] >= start and _day_bounds(d, city.tz)[1] <= stop
    ]
    for day in whole:
        await _redo_day(ctx, city.id, day, city.tz)
    return Backfill(len(hours), len(whole))


async def _events_kept_from(ctx: Context, city_id: UUID) -> datetime:
    async with ctx.uow() as uow:
        policies = await uow.retention.policies()
    days = next((d for c, _, d in policies if c == city_id), None)
    return ctx.clock.now() - timedelta(days=days or ctx.retention_days)


async def rollups_forever(ctx: Context, interval: timedelta = INTERVAL) -> None:
    """Run the rollups now and then every `interval` until cancelled (`marktplatz serve`)."""
    while True:
        try:
            run = await run_rollups(ctx)
            if run.filled or run.redone:
                log.info("rollups: %d hours filled, %d redone", run.filled, run.redone)
            if run.behind:
                continue  # catching up: no pause until every city is current
        except Exception:  # a failed run must not end the schedule; the next one retries
            log.exception("rollups failed")
        await asyncio.sleep(interval.total_seconds())


def _hours(start: datetime, stop: datetime) -> Iterator[datetime]:
    hour = start
    while hour < stop:
        yield hour
        hour += HOUR


def _local_day(hour: datetime, tz: ZoneInfo) -> date:
    return hour.astimezone(tz).date()


def _day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants of a local day's midnights (23 or 25 hours apart on DST days)."""
    start = datetime.combine(day, time(0), tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tz).astimezone(UTC)
    return start, end
