"""Benchmark journey analytics: rollup catch-up, dashboard queries, an ad-hoc funnel vs DuckDB.

Run: .venv/bin/python benchmarks/analytics.py [--events 1000000] [--postgres] [--runs 5]
     [--dashboards 30]
With --postgres a throw-away database at 127.0.0.1:5432 (user postgres, trust) is created and
dropped; else a SQLite file in a temporary directory.

Loads the demo city, generates N events of visitor journeys over four weeks on its real
touchpoints and offers (analytics_funnel.Generated: web visits, contacts in the street and at
shops, exposures, redemptions; 60 % of visitors consented) and writes them by the writer's bulk
paths. Then it prints:
- the rollup catch-up: every hour of the four weeks filled from the raw events, in events/s;
- the dashboards, read from the rollups: p50 and p95 of the city dashboard and of a shop's
  results (28 days), each beside the baseline measured in the same run — one plain count of the
  period's raw events, the least any answer from raw events costs (target: p95 ≤ 200 ms);
- the default 4-step funnel on raw events by our engine beside DuckDB on the same events in
  memory (target ≤ 3× DuckDB), from analytics_funnel.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import tempfile
import time
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from analytics_funnel import DAYS, Generated, write_postgres, write_sqlite
from analytics_funnel import run as run_funnel
from ingest import admin
from sqlalchemy import func, select

from marktplatz.bootstrap import App, build, migrate_database
from marktplatz.domain.content import ContentKind
from marktplatz.services import analytics, demo, rollups
from marktplatz.settings import Settings
from marktplatz.store import tables as t


async def load_city(app: App) -> tuple[Any, Any, list[Any]]:
    """The demo city, its admin, and its shops (with their touchpoints and offers)."""
    data = json.loads(resources.files("marktplatz").joinpath("data/musterstadt.json").read_text())
    await demo.load_demo(app.ctx, data, data["shops"][0]["slug"])
    async with app.ctx.uow() as uow:
        city = await uow.cities.by_slug(data["city"]["slug"])
        assert city is not None
        admin_user = next(u for u in await uow.users.list_for_city(city.id) if u.city_role(city.id))
        shops = await uow.shops.list_for_city(city.id)
    return city, admin_user, shops


async def place(app: App, city: Any, data: Generated) -> None:
    """Put the generated events on the city's real touchpoints and offers."""
    async with app.ctx.uow() as uow:
        points = await uow.touchpoints.list_for_city(city.id)
        offers = [
            c for c in await uow.contents.list_for_city(city.id) if c.kind is ContentKind.OFFER
        ]
    at_shops = [p.id.hex for p in points if p.shop_id] or [p.id.hex for p in points]
    in_street = [p.id.hex for p in points if not p.shop_id] or at_shops
    mapping = {fake: at_shops[i % len(at_shops)] for i, fake in enumerate(data.shops)}
    mapping |= {fake: in_street[i % len(in_street)] for i, fake in enumerate(data.street)}
    data.touchpoint = np.array([mapping.get(v) if v else None for v in data.touchpoint], object)
    data.shops = np.array(sorted(set(at_shops)))
    names = [str(o.id) for o in offers] or ["none"]
    data.content = np.array(
        [names[hash(v) % len(names)] if v else None for v in data.content], object
    )
    data.city = city.id


def timed(runs: int, work: Any) -> tuple[float, float]:
    """p50 and p95 of `runs` runs of an awaitable factory, in ms."""
    times = []
    loop = asyncio.get_event_loop()
    for _ in range(runs):
        start = time.perf_counter()
        loop.run_until_complete(work())
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


def bench(settings: Settings, events: int, runs: int, dashboards: int, url: str | None) -> None:
    migrate_database(settings)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    app = build(settings)
    city, admin_user, shops = loop.run_until_complete(load_city(app))
    data = Generated(events)
    loop.run_until_complete(place(app, city, data))
    started = time.perf_counter()
    if url:
        loop.run_until_complete(write_postgres(url, data))
    else:
        write_sqlite(str(Path(settings.var_dir) / "marktplatz.sqlite3"), data)
    print(f"  store: {events:,} events written in {time.perf_counter() - started:.1f} s")

    async def catch_up() -> int:
        hours = 0
        while True:
            run = await rollups.run_rollups(app.ctx, only={city.id}, max_hours=24 * 7)
            hours += run.filled
            if not run.behind:
                return hours

    started = time.perf_counter()
    hours = loop.run_until_complete(catch_up())
    took = time.perf_counter() - started
    print(
        f"  rollup catch-up: {hours} hours, {events:,} events in {took:.1f} s "
        f"= {events / took:,.0f} events/s"
    )

    async def baseline() -> None:
        e = t.events.c
        since = data.now - timedelta(days=DAYS)
        query = select(func.count()).where(e.city_id == city.id, e.occurred_at >= since)
        async with app.engine.connect() as conn:
            await conn.scalar(query)

    base = timed(dashboards, baseline)
    city_ms = timed(
        dashboards, lambda: analytics.city_footfall(app.ctx, admin_user, city.id, None, None)
    )
    shop_ids = [s.id for s in shops]
    rotation = iter(shop_ids * dashboards)
    shop_ms = timed(
        dashboards, lambda: analytics.shop_results(app.ctx, admin_user, next(rotation), None, None)
    )
    print(
        f"  baseline, a count of 28 days of raw events: p50 {base[0]:.0f} ms, p95 {base[1]:.0f} ms"
    )
    for name, (p50, p95) in (("city dashboard", city_ms), ("shop results", shop_ms)):
        print(
            f"  {name} from rollups: p50 {p50:.0f} ms, p95 {p95:.0f} ms "
            f"({p95 / base[1]:.2f}× the baseline's p95; target p95 ≤ 200 ms)"
        )
    loop.run_until_complete(app.close())
    loop.close()
    asyncio.set_event_loop(asyncio.new_event_loop())
    run_funnel(settings, data, runs, url, written=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5, help="funnel runs (medians)")
    parser.add_argument("--dashboards", type=int, default=30, help="dashboard loads (p50, p95)")
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="marktplatz-analytics-") as tmp:
        if not args.postgres:
            print(f"SQLite, {args.events:,} events")
            bench(Settings(var_dir=Path(tmp)), args.events, args.runs, args.dashboards, None)
            return
        name = f"marktplatz_bench_{secrets.token_hex(4)}"
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
        url = f"postgresql://postgres@127.0.0.1:5432/{name}"
        try:
            print(f"PostgreSQL, {args.events:,} events")
            settings = Settings(
                var_dir=Path(tmp), database_url=url.replace("postgresql", "postgresql+asyncpg", 1)
            )
            bench(settings, args.events, args.runs, args.dashboards, url)
        finally:
            asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
