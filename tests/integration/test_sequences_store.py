"""The sightings query on a real database: consented contacts of a city and period, with zones."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import event

from marktplatz.bootstrap import App
from marktplatz.domain.rollups import RollupRow, Stat
from marktplatz.domain.sequences import day_rows
from marktplatz.domain.touchpoints import Touchpoint
from marktplatz.services import cities, touchpoints
from marktplatz.store import tables as t
from marktplatz.store.sequences import SqlSightings
from support import Tenant, make_tenant, page_view_row, unique

START = datetime(2026, 6, 12, tzinfo=ZoneInfo("Europe/Berlin")).astimezone(UTC)
END = START + timedelta(days=1)


def square(west: float, east: float) -> dict[str, Any]:
    ring = [[west, 52.10], [east, 52.10], [east, 52.11], [west, 52.11], [west, 52.10]]
    return {"type": "Polygon", "coordinates": [ring]}


async def zone_id(composed: App, tenant: Tenant, west: float, east: float) -> str:
    data = {"slug": unique("zone"), "name": "Zone", "geometry": square(west, east)}
    zone = await cities.create_zone(composed.ctx, tenant.users["city-admin"], tenant.city.id, data)
    return str(zone.id)


async def point(composed: App, tenant: Tenant, lon: float) -> Touchpoint:
    data = {"kind": "qr", "name": unique("qr"), "lat": 52.105, "lon": lon, "target": "/"}
    admin = tenant.users["city-admin"]
    return await touchpoints.create_touchpoint(composed.ctx, admin, tenant.city.id, data)


def contact(
    city_id: UUID, at: datetime, pseudonym: str | None, touchpoint_id: UUID | None
) -> dict[str, Any]:
    return {
        **page_view_row(city_id, at, pseudonym),
        "kind": "touchpoint.contact",
        "path": None,
        "touchpoint_id": touchpoint_id,
        "channel": "qr",
        "daily_hash": None if pseudonym else "d" * 64,
    }


async def sightings(composed: App, city_id: UUID) -> dict[str, list[tuple[datetime, str]]]:
    async with composed.engine.connect() as conn:
        return await SqlSightings(conn).by_pseudonym(city_id, START, END)


async def test_a_day_of_sightings_per_pseudonym_in_order_with_zones(
    composed: App, tenant: Tenant
) -> None:
    # given: zones west and east, a touchpoint in each, one outside both, one of another city
    west, east = (
        await zone_id(composed, tenant, 8.74, 8.75),
        await zone_id(composed, tenant, 8.75, 8.76),
    )
    in_west, in_east = await point(composed, tenant, 8.745), await point(composed, tenant, 8.755)
    outside = await point(composed, tenant, 8.77)
    other = await make_tenant(composed)
    foreign = await point(composed, other, 8.745)
    p, q = uuid.uuid4().hex, uuid.uuid4().hex
    ten = START + timedelta(hours=10)
    city = tenant.city.id
    rows = [
        contact(city, ten + timedelta(minutes=10), p, in_east.id),  # stored out of order
        contact(city, ten, p, in_west.id),
        contact(city, ten + timedelta(minutes=5), p, outside.id),
        contact(city, START, q, in_east.id),  # the first instant of the day counts
        contact(city, START + timedelta(minutes=3), q, None),
        contact(city, START + timedelta(minutes=4), q, foreign.id),
        contact(city, START - timedelta(microseconds=1), p, in_west.id),  # the day before
        contact(city, END, p, in_west.id),  # the next day
        contact(city, ten, None, in_west.id),  # no pseudonym: never in a sequence
        {**contact(city, ten, p, in_west.id), "kind": "page.view"},  # not a contact
        contact(other.city.id, ten, p, foreign.id),  # another city
    ]
    async with composed.engine.begin() as conn:
        await conn.execute(t.events.insert(), rows)
    # when
    found = await sightings(composed, city)
    # then
    assert found == {
        p: [(ten, west), (ten + timedelta(minutes=5), ""), (ten + timedelta(minutes=10), east)],
        q: [(START, east), (START + timedelta(minutes=3), ""), (START + timedelta(minutes=4), "")],
    }
    dwell = [
        RollupRow(Stat.DWELL, START, east, "<5", 2, 2, 0),
        RollupRow(Stat.DWELL, START, west, "<5", 1, 1, 0),
    ]
    assert day_rows(found, START) == [
        RollupRow(Stat.PATHS, START, west, east, 1, 1, 0),
        *sorted(dwell, key=lambda row: row.subject),
    ]


async def test_a_city_without_contacts_has_no_sightings(composed: App, tenant: Tenant) -> None:
    # given
    async with composed.engine.begin() as conn:
        await conn.execute(
            t.events.insert(), [page_view_row(tenant.city.id, START, uuid.uuid4().hex)]
        )
    # when / then
    assert await sightings(composed, tenant.city.id) == {}


async def test_the_query_reads_the_day_through_the_city_and_time_index(
    composed: App, tenant: Tenant
) -> None:
    # given: the statement as the driver gets it
    sent: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        sent.append((statement, parameters))

    event.listen(composed.engine.sync_engine, "before_cursor_execute", keep)
    try:
        await sightings(composed, tenant.city.id)
    finally:
        event.remove(composed.engine.sync_engine, "before_cursor_execute", keep)
    (statement, parameters) = sent[-1]
    if composed.engine.dialect.name != "sqlite":
        # PostgreSQL picks its plan by table statistics, and a test database is tiny: with
        # sequential scans ruled out, the day must still be reachable through an index of events
        async with composed.engine.begin() as conn:
            await conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = await conn.exec_driver_sql(f"EXPLAIN {statement}", parameters)
            text = "\n".join(row[0] for row in plan)
        assert "Index" in text
        assert "on events" in text
        assert "Seq Scan on events" not in text
        return
    # when
    async with composed.engine.connect() as conn:
        plan = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        steps = [row[-1] for row in plan]
    # then: a range of the index for events, a primary-key look-up per touchpoint, no sort
    assert steps[0].startswith("SEARCH events USING INDEX ix_events_city_occurred (city_id=? AND")
    assert all("TEMP B-TREE" not in step and not step.startswith("SCAN") for step in steps)
