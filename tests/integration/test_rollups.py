"""Rollups on a real database: exact hourly rows, resumable, idempotent, redone for late events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marktplatz.bootstrap import App
from marktplatz.domain.analytics import bucket_day, hour_of_week, local_days, week_hours
from marktplatz.domain.errors import InvalidInput
from marktplatz.domain.journey import EventKind, JourneyEvent
from marktplatz.domain.kanon import Cell
from marktplatz.domain.rollups import HOUR, NONE, RollupRow, Stat, combine, hour_of
from marktplatz.domain.touchpoints import Touchpoint
from marktplatz.domain.zones import Zone
from marktplatz.services import cities, rollups, touchpoints
from marktplatz.store import tables as t
from support import SQUARE, Tenant, make_tenant, page_view_row, unique

ADMIN = "city-admin"
P1, P2, P3 = "a" * 32, "b" * 32, "c" * 32


def base_hour() -> datetime:
    """Two days back: closed, and inside every retention period."""
    return hour_of(datetime.now(UTC)) - timedelta(hours=48)


def event(tenant: Tenant, kind: EventKind, at: datetime, **fields: Any) -> JourneyEvent:
    fields = {"touchpoint_id": None, "content_id": None, **fields}
    return JourneyEvent(
        event_id=uuid.uuid4(),
        kind=kind,
        city_id=tenant.city.id,
        occurred_at=at,
        received_at=datetime.now(UTC),
        **fields,
    )


async def zone_and_points(composed: App, tenant: Tenant) -> tuple[Zone, Touchpoint, Touchpoint]:
    admin = tenant.users[ADMIN]
    zone = await cities.create_zone(
        composed.ctx,
        admin,
        tenant.city.id,
        {"slug": unique("zone"), "name": "Altstadt", "description": "", "geometry": SQUARE},
    )
    street = await touchpoints.create_touchpoint(
        composed.ctx,
        admin,
        tenant.city.id,
        {"kind": "qr", "name": "Pflaster", "lat": 52.105, "lon": 8.75, "target": "/"},
    )
    shop = await touchpoints.create_touchpoint(
        composed.ctx,
        admin,
        tenant.city.id,
        {
            "kind": "nfc",
            "name": "Schaufenster",
            "lat": 52.105,
            "lon": 8.75,
            "target": "/",
            "shop_id": str(tenant.shop_a.id),
        },
    )
    return zone, street, shop


async def stored(composed: App, tenant: Tenant) -> list[RollupRow]:
    async with composed.ctx.uow() as uow:
        far = datetime(2000, 1, 1, tzinfo=UTC)
        return await uow.rollups.rows(tenant.city.id, list(Stat), far, far + timedelta(days=99999))


async def run(composed: App, tenant: Tenant, **kwargs: Any) -> rollups.RollupRun:
    return await rollups.run_rollups(composed.ctx, only={tenant.city.id}, **kwargs)


async def test_an_hour_is_rolled_up_exactly(composed: App) -> None:
    # given contacts in a zone and at a shop, page views with and without consent, an exposure
    # and a people count, all in one hour two days ago
    tenant = await make_tenant(composed)
    zone, street, shop = await zone_and_points(composed, tenant)
    hour = base_hour()
    at = hour + timedelta(minutes=10)
    contact = EventKind.TOUCHPOINT_CONTACT
    await composed.writer.append(
        [
            event(tenant, contact, at, touchpoint_id=street.id, pseudonym=P1),
            event(tenant, contact, at, touchpoint_id=street.id, pseudonym=P1),
            event(tenant, contact, at, touchpoint_id=street.id),
            event(tenant, contact, at, touchpoint_id=shop.id, pseudonym=P2),
            event(tenant, EventKind.PAGE_VIEW, at, path="/", daily_hash="h" * 64),
            event(tenant, EventKind.PAGE_VIEW, at, path="/", pseudonym=P3),
            event(
                tenant, EventKind.CONTENT_EXPOSED, at, content_id="offer-1", touchpoint_id=shop.id
            ),
            event(tenant, EventKind.COUNTER_COUNT, at, touchpoint_id=street.id, count=120),
            event(tenant, EventKind.COUNTER_COUNT, at + HOUR, touchpoint_id=street.id, count=80),
        ]
    )
    # (the writer keeps a pseudonym only with consent: these have none, so none is stored)
    # when the rollups run
    done = await run(composed, tenant)
    # then each stat of the first hour holds exactly what happened in it
    rows = {(r.stat, r.hour, r.subject, r.via): r for r in await stored(composed, tenant)}
    s, z, p = str(street.id), str(zone.id), str(shop.id)

    def cell(stat: Stat, subject: str = NONE, via: str = NONE, at: datetime = hour) -> Any:
        found = rows[(stat, at, subject, via)]
        return (found.count, found.identified, found.anonymous)

    assert cell(Stat.CONTACTS, s) == (3, 0, 3)
    assert cell(Stat.CONTACTS, p) == (1, 0, 1)
    assert cell(Stat.ZONE_CONTACTS, z) == (4, 0, 4)
    assert cell(Stat.SHOP_CONTACTS, str(tenant.shop_a.id)) == (1, 0, 1)
    assert cell(Stat.PAGE_VIEWS) == (2, 1, 1)
    assert cell(Stat.EXPOSED, "offer-1", p) == (1, 0, 1)
    assert cell(Stat.COUNTER, s) == (120, 0, 120)
    assert cell(Stat.COUNTER, s, at=hour + HOUR) == (80, 0, 80)
    assert done.filled >= 2
    async with composed.ctx.uow() as uow:
        assert await uow.rollups.marked(tenant.city.id, hour + 10 * HOUR) == []


async def test_a_second_run_and_a_backfill_change_nothing(composed: App) -> None:
    # given a city whose hours are rolled up
    tenant = await make_tenant(composed)
    _, street, _ = await zone_and_points(composed, tenant)
    hour = base_hour()
    await composed.writer.append(
        [
            event(tenant, EventKind.TOUCHPOINT_CONTACT, hour + k * HOUR, touchpoint_id=street.id)
            for k in range(5)
        ]
    )
    await run(composed, tenant)
    before = await stored(composed, tenant)
    # when the rollups run again, and a backfill recomputes the whole range
    again = await run(composed, tenant)
    redone = await rollups.backfill(composed.ctx, tenant.city.slug, hour, hour + 5 * HOUR)
    # then the rows are the same
    assert again.redone == 0
    assert redone.hours == 5
    assert await stored(composed, tenant) == before
    assert len([r for r in before if r.stat is Stat.CONTACTS]) == 5


async def test_a_late_event_marks_its_hour_and_the_next_run_redoes_it(composed: App) -> None:
    # given a rolled-up hour with one contact
    tenant = await make_tenant(composed)
    _, street, _ = await zone_and_points(composed, tenant)
    hour = base_hour()
    contact = EventKind.TOUCHPOINT_CONTACT
    await composed.writer.append([event(tenant, contact, hour, touchpoint_id=street.id)])
    await run(composed, tenant)
    # when a phone's offline queue delivers another contact of that hour
    await composed.writer.append([event(tenant, contact, hour, touchpoint_id=street.id)])
    async with composed.ctx.uow() as uow:
        marked = await uow.rollups.marked(tenant.city.id, hour + HOUR)
    done = await run(composed, tenant)
    # then the writer had marked the hour, and the run counted the contact and removed the mark
    assert [h for h, _ in marked] == [hour]
    assert done.redone == 1
    contacts = [r for r in await stored(composed, tenant) if r.stat is Stat.CONTACTS]
    assert [(r.hour, r.count) for r in contacts] == [(hour, 2)]
    async with composed.ctx.uow() as uow:
        assert await uow.rollups.marked(tenant.city.id, hour + HOUR) == []


async def test_a_mark_set_again_during_a_recompute_survives(composed: App) -> None:
    # given an hour marked twice: the run read the first mark, a writer then marked it again
    tenant = await make_tenant(composed)
    hour = base_hour()
    await composed.writer.append([event(tenant, EventKind.PAGE_VIEW, hour, path="/")])
    await run(composed, tenant)
    await composed.writer.append([event(tenant, EventKind.PAGE_VIEW, hour, path="/")])
    async with composed.ctx.uow() as uow:
        [(_, version)] = await uow.rollups.marked(tenant.city.id, hour + HOUR)
    await composed.writer.append([event(tenant, EventKind.PAGE_VIEW, hour, path="/")])
    # when the mark read first is removed
    async with composed.ctx.uow(write=True) as uow:
        await uow.rollups.unmark(tenant.city.id, hour, version)
        await uow.commit()
    # then the newer mark stays, so the hour is done again
    async with composed.ctx.uow() as uow:
        assert [h for h, _ in await uow.rollups.marked(tenant.city.id, hour + HOUR)] == [hour]


async def test_a_run_cut_short_goes_on_where_it_stopped(composed: App) -> None:
    # given six hours of events
    tenant = await make_tenant(composed)
    hour = base_hour()
    await composed.writer.append(
        [event(tenant, EventKind.PAGE_VIEW, hour + k * HOUR, path="/") for k in range(6)]
    )
    # when runs may fill only two hours each
    first = await run(composed, tenant, max_hours=2)
    async with composed.ctx.uow() as uow:
        after_first = await uow.rollups.filled_until(tenant.city.id)
    while (await run(composed, tenant, max_hours=2)).behind:
        pass
    # then the first run stopped two hours on, said so, and the others filled the rest
    assert after_first == hour + 2 * HOUR
    assert first.behind == [tenant.city.slug]
    views = [r for r in await stored(composed, tenant) if r.stat is Stat.PAGE_VIEWS]
    assert [(r.hour, r.count) for r in views] == [(hour + k * HOUR, 1) for k in range(6)]


async def test_the_fill_state_never_moves_back(composed: App) -> None:
    # given a city filled up to an hour
    tenant = await make_tenant(composed)
    now = datetime.now(UTC)
    later, earlier = base_hour(), base_hour() - 5 * HOUR
    async with composed.ctx.uow(write=True) as uow:
        await uow.rollups.set_filled_until(tenant.city.id, later, now)
        # when an overlapping run would set an earlier hour
        await uow.rollups.set_filled_until(tenant.city.id, earlier, now)
        await uow.commit()
    # then the later one stays
    async with composed.ctx.uow() as uow:
        assert await uow.rollups.filled_until(tenant.city.id) == later


async def test_a_backfill_refuses_hours_whose_raw_events_are_gone(composed: App) -> None:
    # given a city that keeps raw events for the default period
    tenant = await make_tenant(composed)
    long_ago = datetime.now(UTC) - timedelta(days=composed.ctx.retention_days + 2)
    # when an operator asks to redo a range before it
    # then the backfill refuses rather than replace the rollups with zeros
    with pytest.raises(InvalidInput) as refused:
        await rollups.backfill(composed.ctx, tenant.city.slug, long_ago, long_ago + HOUR)
    assert refused.value.field == "start"


async def test_a_day_counts_consented_and_cookieless_visitors_apart(composed: App) -> None:
    # given page views of one local day: two daily hashes (one twice) and no consent
    tenant = await make_tenant(composed)
    local_midnight = datetime.now(tenant.city.tz).replace(hour=0, minute=0, second=0, microsecond=0)
    start = (local_midnight - timedelta(days=2)).astimezone(UTC)
    start = datetime.combine(
        start.astimezone(tenant.city.tz).date(), datetime.min.time(), tenant.city.tz
    ).astimezone(UTC)
    await composed.writer.append(
        [
            event(tenant, EventKind.PAGE_VIEW, start + timedelta(hours=k), path="/", daily_hash=h)
            for k, h in ((1, "x" * 64), (5, "x" * 64), (20, "y" * 64))
        ]
    )
    # when the rollups run
    await run(composed, tenant)
    # then the day holds two cookieless visitors and no consented one
    days = [r for r in await stored(composed, tenant) if r.stat is Stat.VISITORS]
    assert [(r.hour, r.subject, r.count) for r in days] == [(start, "cookieless", 2)]


# --- property: incremental rollups equal a backfill -----------------------------------------

arrivals = st.lists(
    st.tuples(
        st.integers(0, 5),  # the hour it occurred in
        st.integers(0, 59),  # the minute
        st.sampled_from([None, P1, P2]),  # a daily hash standing in for a visitor, or none
        st.integers(0, 2),  # the run after which it arrives
    ),
    max_size=30,
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(arrivals=arrivals)
async def test_incremental_rollups_equal_a_backfill(composed: App, arrivals: list[Any]) -> None:
    # given a city whose events arrive in random order over three runs, some after their hour
    # was filled
    tenant = await make_tenant(composed)
    hour = base_hour()
    for batch in range(3):
        due = [a for a in arrivals if a[3] == batch]
        await composed.writer.append(
            [
                event(
                    tenant,
                    EventKind.PAGE_VIEW,
                    hour + h * HOUR + timedelta(minutes=m),
                    path="/",
                    daily_hash=(who * 2 if who else None),
                )
                for h, m, who, _ in due
            ]
        )
        await run(composed, tenant)
    incremental = await stored(composed, tenant)
    # when a backfill recomputes the whole range
    if incremental:
        await rollups.backfill(composed.ctx, tenant.city.slug, hour, hour + 6 * HOUR)
    # then nothing differs, and the rows count every event once
    assert await stored(composed, tenant) == incremental
    views = [r for r in incremental if r.stat is Stat.PAGE_VIEWS]
    assert sum(r.count for r in views) == len(arrivals)
    # and the totals the database adds up are the cells `combine` makes of the hourly rows
    async with composed.ctx.uow() as uow:
        totals = await uow.rollups.totals(tenant.city.id, [Stat.PAGE_VIEWS], hour, hour + 6 * HOUR)
    assert [Cell(r.count, r.identified + r.anonymous) for r in totals] == (
        [combine(views)] if views else []
    )


async def test_a_closed_day_rolls_up_its_paths_and_dwell(composed: App) -> None:
    # given two consented visitors walking from a west zone to an east one, two days ago
    tenant = await make_tenant(composed)
    admin = tenant.users[ADMIN]
    zones = []
    for west, east in ((8.74, 8.75), (8.75, 8.76)):
        ring = [[west, 52.10], [east, 52.10], [east, 52.11], [west, 52.11], [west, 52.10]]
        data = {
            "slug": unique("zone"),
            "name": "Z",
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }
        zones.append(await cities.create_zone(composed.ctx, admin, tenant.city.id, data))
    points = [
        await touchpoints.create_touchpoint(
            composed.ctx,
            admin,
            tenant.city.id,
            {"kind": "qr", "name": unique("qr"), "lat": 52.105, "lon": lon, "target": "/"},
        )
        for lon in (8.745, 8.755)
    ]
    day = (datetime.now(tenant.city.tz) - timedelta(days=2)).date()
    noon = datetime.combine(day, datetime.min.time(), tenant.city.tz).astimezone(UTC) + 12 * HOUR
    rows = [
        {
            **page_view_row(tenant.city.id, noon + timedelta(minutes=minute), who),
            "kind": "touchpoint.contact",
            "path": None,
            "touchpoint_id": point.id,
        }
        for who in (P1, P2)
        for minute, point in ((0, points[0]), (20, points[1]))
    ]
    async with composed.engine.begin() as conn:
        await conn.execute(t.events.insert(), rows)
    # when the rollups run
    await run(composed, tenant)
    # then the day holds the move west → east of two visitors and their short stays
    found = [r for r in await stored(composed, tenant) if r.stat in (Stat.PATHS, Stat.DWELL)]
    west, east = str(zones[0].id), str(zones[1].id)
    assert {(r.stat, r.subject, r.via, r.count, r.identified) for r in found} == {
        (Stat.PATHS, west, east, 2, 2),
        (Stat.DWELL, west, "<5", 2, 2),
        (Stat.DWELL, east, "<5", 2, 2),
    }


async def test_many_marked_hours_are_redone_over_several_runs(composed: App) -> None:
    # given a rolled-up city that then gets three late hours (an imported counter file)
    tenant = await make_tenant(composed)
    hour = base_hour()
    async with composed.ctx.uow(write=True) as uow:
        await uow.rollups.set_filled_until(tenant.city.id, hour_of(datetime.now(UTC)), hour)
        await uow.commit()
    await composed.writer.append(
        [event(tenant, EventKind.PAGE_VIEW, hour - k * HOUR, path="/") for k in range(3)]
    )
    # when runs may redo two hours each
    first = await run(composed, tenant, max_hours=2)
    second = await run(composed, tenant, max_hours=2)
    # then the first redoes two and says it is behind, the second the last one
    assert (first.redone, first.behind) == (2, [tenant.city.slug])
    assert (second.redone, second.behind) == (1, [])


# --- property: the database's local-time buckets equal the cells made in Python ------------

stored_rows = st.lists(
    st.tuples(
        st.integers(0, 8 * 24 - 1),  # the hour, from 21 October: summer time ends on the 25th
        st.sampled_from(["zone-a", "zone-b", NONE]),  # the subject
        st.sampled_from(["via-a", "via-b"]),
        st.integers(1, 40),  # count
        st.integers(0, 9),  # identified
        st.integers(0, 4),  # anonymous
    ),
    max_size=40,
    unique_by=lambda r: (r[0], r[1], r[2]),
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(found=stored_rows)
async def test_buckets_in_the_database_equal_the_cells_made_in_python(
    composed: App, found: list[Any]
) -> None:
    # given hourly rows over eight days that cross the end of summer time in Berlin
    tenant = await make_tenant(composed)
    tz = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 10, 21, tzinfo=UTC)
    end = start + timedelta(days=8)
    rows = [
        RollupRow(Stat.ZONE_CONTACTS, start + h * HOUR, subject, via, count, known, anonymous)
        for h, subject, via, count, known, anonymous in found
    ]
    async with composed.ctx.uow(write=True) as uow:
        for hour in {r.hour for r in rows}:
            here = [r for r in rows if r.hour == hour]
            await uow.rollups.replace(tenant.city.id, [Stat.ZONE_CONTACTS], hour, here)
        await uow.commit()

    def expected(key: Any) -> dict[tuple[Stat, str, Any], Cell]:
        groups: dict[tuple[Stat, str, Any], list[RollupRow]] = {}
        for r in rows:
            groups.setdefault(key(r), []).append(r)
        return {k: combine(rs) for k, rs in groups.items()}

    # when the database groups them by hour of the week and by local day
    async with composed.ctx.uow() as uow:
        week = await uow.rollups.buckets(
            tenant.city.id, [Stat.ZONE_CONTACTS], start, end, week_hours(tz, start, end)
        )
        days = await uow.rollups.buckets(
            tenant.city.id,
            [Stat.ZONE_CONTACTS],
            start,
            end,
            local_days(tz, start, end),
            by_subject=False,
        )
    # then each cell is the one `combine` makes of the rows with that local hour or day
    assert week == expected(lambda r: (r.stat, r.subject, hour_of_week(r.hour, tz)))
    assert {(s, who, bucket_day(b)): c for (s, who, b), c in days.items()} == expected(
        lambda r: (r.stat, NONE, r.hour.astimezone(tz).date())
    )
