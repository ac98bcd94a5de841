"""Importing hourly people counts from counter exports: a dry run, then every row or none."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from marktplatz.domain.accounts import User
from marktplatz.domain.cities import City
from marktplatz.domain.errors import DomainError, NotFound
from marktplatz.domain.fleet_csv import Problem
from marktplatz.domain.footfall_csv import (
    Count,
    CounterSpan,
    ParsedCounts,
    count_event_id,
    match_counters,
    parse_counts,
)
from marktplatz.domain.journey import Channel, EventKind, JourneyEvent
from marktplatz.domain.touchpoints import Touchpoint, TouchpointKind
from marktplatz.services.access import access_city
from marktplatz.services.audit import audit
from marktplatz.services.context import Context
from marktplatz.services.ports import UnitOfWork

# The writer refuses more than its queue holds at once; a big file goes in slices of this.
WRITE_BATCH = 5_000


@dataclass(frozen=True, slots=True)
class FootfallPlan:
    """What an import does (or, in a dry run, would do); nothing while `problems` is not empty.

    `stored` rows were imported before and are not written again; of those, `different` hold
    another count than the file: the stored count stays (one hour is one event, once).
    """

    problems: list[Problem]
    rows: int
    new: int
    stored: int
    different: int
    encoding: str
    ignored: list[str]


class FootfallRefused(DomainError):
    """The file has problems: nothing was imported."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


@dataclass(frozen=True, slots=True)
class _Checked:
    parsed: ParsedCounts
    counts: list[Count]
    problems: list[Problem]
    stored: dict[UUID, int | None]


async def _check(ctx: Context, uow: UnitOfWork, city: City, data: bytes) -> _Checked:
    """The file's own problems, its locations matched to the city's counters, and which of its
    hours are stored already."""
    parsed = parse_counts(data, city.tz, ctx.clock.now())
    counts, unknown = match_counters(parsed, await uow.touchpoints.list_for_city(city.id))
    problems = sorted([*parsed.problems, *unknown], key=lambda p: p.row)
    ids = [count_event_id(city.id, c.touchpoint_id, c.hour) for c in counts]
    stored = await uow.footfall.stored_counts(ids) if not problems else {}
    return _Checked(parsed, counts, problems, stored)


def _plan(city: City, checked: _Checked) -> FootfallPlan:
    different = 0
    for count in checked.counts:
        event_id = count_event_id(city.id, count.touchpoint_id, count.hour)
        if event_id in checked.stored and checked.stored[event_id] != count.count:
            different += 1
    rows = len(checked.parsed.rows)
    return FootfallPlan(
        problems=checked.problems,
        rows=rows,
        new=len(checked.counts) - len(checked.stored),
        stored=len(checked.stored),
        different=different,
        encoding=checked.parsed.encoding,
        ignored=checked.parsed.ignored,
    )


def _events(ctx: Context, city: City, checked: _Checked) -> list[JourneyEvent]:
    """The rows not stored yet as counter.count events of the hour they count."""
    now = ctx.clock.now()
    events = []
    for count in checked.counts:
        event_id = count_event_id(city.id, count.touchpoint_id, count.hour)
        if event_id in checked.stored:
            continue
        events.append(
            JourneyEvent(
                event_id=event_id,
                kind=EventKind.COUNTER_COUNT,
                city_id=city.id,
                occurred_at=count.hour,
                received_at=now,
                touchpoint_id=count.touchpoint_id,
                content_id=None,
                channel=Channel.COUNTER,
                count=count.count,
            )
        )
    return events


async def import_footfall(
    ctx: Context, actor: User | None, city_id: UUID, data: bytes, *, dry_run: bool
) -> FootfallPlan:
    """Store each row of a counter export as the hour's counter.count event (city staff).

    A dry run only checks and says how many rows are new. A real import writes nothing unless
    every row is clean (else FootfallRefused with every problem) and is audited. The event ids
    come from city, counter and hour, so importing a file again stores nothing twice; the
    writer's ON CONFLICT keeps that true for two imports of one file at the same time.
    """
    async with ctx.uow() as uow:
        city = await access_city(uow, actor, city_id)
        checked = await _check(ctx, uow, city, data)
    plan = _plan(city, checked)
    if dry_run:
        return plan
    if plan.problems:
        raise FootfallRefused(plan.problems)
    events = _events(ctx, city, checked)
    for start in range(0, len(events), WRITE_BATCH):
        await ctx.events.append(events[start : start + WRITE_BATCH])
    async with ctx.uow(write=True) as uow:
        detail = [f"{plan.rows} rows", f"{plan.new} new", f"{plan.stored} already stored"]
        await audit(uow, ctx, actor, city.id, "footfall.imported", "city", city.id, detail)
        await uow.commit()
    return plan


@dataclass(frozen=True, slots=True)
class CounterRow:
    """A people counter of the city and the counts stored for it (None: none yet)."""

    touchpoint: Touchpoint
    span: CounterSpan | None


async def counter_spans(ctx: Context, actor: User | None, city_id: UUID) -> list[CounterRow]:
    """Every people counter of the city with its first and last stored hour (city staff)."""
    async with ctx.uow() as uow:
        city = await access_city(uow, actor, city_id)
        points = await uow.touchpoints.list_for_city(city.id)
        spans = await uow.footfall.counter_spans(city.id)
    counters: Sequence[Touchpoint] = sorted(
        (p for p in points if p.kind is TouchpointKind.PEOPLE_COUNTER), key=lambda p: p.name
    )
    return [CounterRow(point, spans.get(point.id)) for point in counters]


async def import_footfall_as(
    ctx: Context, email: str, city_slug: str, data: bytes, *, dry_run: bool
) -> FootfallPlan:
    """import_footfall for an operator's command line, in the name (and with the rights) of the
    city staff account `email`, so the audit log names a person; NotFound for an unknown one."""
    async with ctx.uow() as uow:
        user = await uow.users.by_email(email.strip().lower())
        city = await uow.cities.by_slug(city_slug)
    if user is None or city is None:
        raise NotFound("user" if user is None else "city")
    return await import_footfall(ctx, user, city.id, data, dry_run=dry_run)
