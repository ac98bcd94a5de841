"""k-anonymity end to end: random events → writer → rollups → the city dashboard's figures."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from marktplatz.bootstrap import App
from marktplatz.domain.analytics import hour_of_week
from marktplatz.domain.journey import EventKind, JourneyEvent
from marktplatz.domain.kanon import K
from marktplatz.domain.rollups import hour_of
from marktplatz.services import analytics, cities, rollups, touchpoints
from support import Tenant, make_tenant, unique

WESTS = (8.740, 8.745, 8.750)

events = st.lists(
    st.tuples(
        st.integers(0, 71),  # the hour, within three days
        st.integers(0, 2),  # the zone
        # a visitor told apart (a daily hash), or none; few visitors in many hours: the hard case
        st.sampled_from([None, 0, 1, 2, 3, 0, 1, 2, 3]),
    ),
    min_size=1,
    max_size=40,
)


async def three_zones(composed: App, tenant: Tenant) -> list[tuple[str, uuid.UUID]]:
    """(zone id, its touchpoint) for three zones side by side."""
    admin = tenant.users["city-admin"]
    found = []
    for west in WESTS:
        east = west + 0.005
        ring = [[west, 52.10], [east, 52.10], [east, 52.11], [west, 52.11], [west, 52.10]]
        data = {
            "slug": unique("zone"),
            "name": unique("Zone"),
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }
        zone = await cities.create_zone(composed.ctx, admin, tenant.city.id, data)
        point = await touchpoints.create_touchpoint(
            composed.ctx,
            admin,
            tenant.city.id,
            {
                "kind": "qr",
                "name": unique("qr"),
                "lat": 52.105,
                "lon": west + 0.0025,
                "target": "/",
            },
        )
        found.append((str(zone.id), point.id))
    return found


def visitors(happened: Iterable[tuple[datetime, str, int | None]]) -> int:
    """Distinct visitors as they really were: each told-apart one once, each other event one."""
    mine = list(happened)
    return len({who for _, _, who in mine if who is not None}) + sum(
        1 for _, _, who in mine if who is None
    )


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(found=events)
# one visitor seen in five hours of a day: five hourly rows, one person
@example(found=[(hour, 0, 0) for hour in range(5)])
async def test_no_shown_cell_or_total_rests_on_fewer_than_five_visitors(
    composed: App, found: list[Any]
) -> None:
    # given random contacts in three zones over three days, stored and rolled up
    tenant = await make_tenant(composed)
    zones = await three_zones(composed, tenant)
    tz = tenant.city.tz
    first = (datetime.now(tz) - timedelta(days=4)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    start = first.astimezone(UTC)
    happened = [(start + timedelta(hours=h, minutes=7), zones[z][0], who) for h, z, who in found]
    async with composed.ctx.uow(write=True) as uow:
        await uow.rollups.set_filled_until(tenant.city.id, hour_of(datetime.now(UTC)), start)
        await uow.commit()
    await composed.writer.append(
        [
            JourneyEvent(
                event_id=uuid.uuid4(),
                kind=EventKind.TOUCHPOINT_CONTACT,
                city_id=tenant.city.id,
                occurred_at=at,
                received_at=datetime.now(UTC),
                touchpoint_id=next(p for z, p in zones if z == zone),
                content_id=None,
                daily_hash=None if who is None else f"{who:064x}",
            )
            for at, zone, who in happened
        ]
    )
    await rollups.run_rollups(composed.ctx, only={tenant.city.id})
    # when the city's staff look at those days
    day = first.date()
    shown = await analytics.city_footfall(
        composed.ctx,
        tenant.users["city-editor"],
        tenant.city.id,
        day.isoformat(),
        (day + timedelta(days=3)).isoformat(),
    )
    # then every cell shown rests on K visitors, and so does what the total would give away
    heat = shown.heat

    def cell(key: tuple[str, int]) -> list[tuple[datetime, str, int | None]]:
        return [e for e in happened if (e[1], hour_of_week(e[0], tz)) == key]

    for key, value in heat.values.items():
        if value:
            assert visitors(cell(key)) >= K, (key, value)
    hidden = [key for key, value in heat.values.items() if value is None]
    if heat.total is not None and hidden:
        assert len(hidden) >= 2
        assert visitors(e for key in hidden for e in cell(key)) >= K
    assert sum(v for v in heat.values.values() if v) <= len(happened)
    for day_shown, value in shown.contacts.values.items():
        if value:
            assert visitors(e for e in happened if e[0].astimezone(tz).date() == day_shown) >= K
