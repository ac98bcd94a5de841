"""Imported people counts reach the rollups: late hours are marked and the next run counts them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from marktplatz.bootstrap import App
from marktplatz.domain.rollups import Stat, hour_of
from marktplatz.services import footfall, rollups, touchpoints
from support import make_tenant


async def test_imported_hours_of_rolled_up_days_are_counted_by_the_next_run(
    composed: App,
) -> None:
    # given a people counter with an hour three days ago, and the rollups filled up to now
    tenant = await make_tenant(composed)
    admin = tenant.users["city-admin"]
    point = await touchpoints.create_touchpoint(
        composed.ctx,
        admin,
        tenant.city.id,
        {"kind": "people-counter", "name": "Markt Nord", "lat": 52.105, "lon": 8.75},
    )
    first = hour_of(datetime.now(UTC)) - timedelta(hours=48)
    header = "location;timestamp;pedestrians count"
    earlier = f"{header}\nMarkt Nord;{(first - timedelta(hours=24)).isoformat()};5\n".encode()
    await footfall.import_footfall(composed.ctx, admin, tenant.city.id, earlier, dry_run=False)
    await rollups.run_rollups(composed.ctx, only={tenant.city.id})
    rows = [f"Markt Nord;{(first + timedelta(hours=h)).isoformat()};{10 + h}" for h in range(3)]
    data = "\n".join([header, *rows]).encode()
    # when an export of three hours two days ago is imported, and the rollups run again
    await footfall.import_footfall(composed.ctx, admin, tenant.city.id, data, dry_run=False)
    done = await rollups.run_rollups(composed.ctx, only={tenant.city.id})
    # then the three hours were redone and hold the counts
    assert done.redone == 3
    async with composed.ctx.uow() as uow:
        counted = await uow.rollups.rows(
            tenant.city.id, [Stat.COUNTER], first, first + timedelta(days=1)
        )
    hourly = sorted((r.hour, r.subject, r.count) for r in counted if r.hour is not None)
    assert hourly == [(first + timedelta(hours=h), str(point.id), 10 + h) for h in range(3)]
