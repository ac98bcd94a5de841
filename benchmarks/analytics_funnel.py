"""Benchmark an ad-hoc 4-step funnel on raw events against DuckDB on the same data in memory.

Run: .venv/bin/python benchmarks/analytics_funnel.py [--events 1000000] [--postgres] [--runs 5]
With --postgres a throw-away database at 127.0.0.1:5432 (user postgres, trust) is created and
dropped; else a SQLite file in a temporary directory.

Generates N events of visitor journeys over four weeks (web visits at home, contacts in the
centre and at shops, exposures, redemptions; 60 % of visitors consented), writes them into the
real store by the writer's bulk paths (executemany on SQLite, COPY on PostgreSQL), then:
- our engine (`run_funnel`'s engine: the extract caught up, then DuckDB over it and the tail);
- baseline: DuckDB running the same funnel query on the same consented events as an Arrow
  table in memory.
Prints the medians of --runs runs, the ratio (target ≤ 3×) and whether the counts agree;
the extract's one-time catch-up rate is printed on its own.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import secrets
import sqlite3
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from ingest import admin  # the throw-away PostgreSQL database, as the ingest benchmark makes it

from marktplatz.bootstrap import App, build, migrate_database
from marktplatz.domain.funnels import Matcher
from marktplatz.domain.journey import EventKind
from marktplatz.settings import Settings
from marktplatz.store.funnel_sql import count_funnel

DAYS = 28
TOUCHPOINTS, SHOP_SHARE, OFFERS = 400, 0.4, 200
# A journey's stages, how often each kind of event is, and how many hours after the visitor's
# first web visit it tends to come: home → street → shop → exposure → counter.
STAGES = [
    (EventKind.PAGE_VIEW, 0.30, 0),
    (EventKind.TOUCHPOINT_CONTACT, 0.35, 20),  # a touchpoint in the street
    (EventKind.TOUCHPOINT_CONTACT, 0.20, 22),  # a shop's touchpoint
    (EventKind.CONTENT_EXPOSED, 0.10, 22),
    (EventKind.COUPON_REDEEMED, 0.05, 23),
]
CHUNK = 50_000


class Generated:
    """N events as columns, in the form the store keeps them."""

    def __init__(self, n: int, seed: int = 7) -> None:
        rng = np.random.default_rng(seed)
        self.now = datetime.now(UTC).replace(microsecond=0)
        visitors = max(n // 25, 10)
        self.city = uuid.uuid4()
        who = rng.integers(0, visitors, n)
        stage = rng.choice(len(STAGES), n, p=[s[1] for s in STAGES])
        start = rng.integers(0, (DAYS - 1) * 86_400, visitors)[who]
        lag = np.array([s[2] for s in STAGES])[stage] * 3600 + rng.integers(-7200, 86_400, n)
        # Stored as they arrive: in the order they happened.
        order = np.argsort(np.clip(start + lag, 0, DAYS * 86_400 - 1), kind="stable")
        who, stage, start, lag = who[order], stage[order], start[order], lag[order]
        seconds = np.clip(start + lag, 0, DAYS * 86_400 - 1)
        first = np.datetime64((self.now - timedelta(days=DAYS)).replace(tzinfo=None), "us")
        self.ts = first + (seconds * 1_000_000).astype("timedelta64[us]")
        consented = rng.random(visitors) < 0.6
        names = np.char.mod("%032x", np.arange(visitors))
        self.pseudonym = np.where(consented[who], names[who], None)
        self.kind = np.array([s[0].value for s in STAGES])[stage]
        tps = np.char.mod("%032x", np.arange(TOUCHPOINTS) + 10**12)
        shop_tps = int(TOUCHPOINTS * SHOP_SHARE)
        self.street, self.shops = tps[shop_tps:], tps[:shop_tps]
        pick = rng.integers(0, TOUCHPOINTS, n)
        at_shop = stage >= 2
        tp = np.where(at_shop, self.shops[pick % shop_tps], self.street[pick % len(self.street)])
        self.touchpoint = np.where(stage == 0, None, tp)
        offers = np.array([str(uuid.UUID(int=i + 1)) for i in range(OFFERS)])
        self.content = np.where(stage >= 3, offers[pick % OFFERS], None)
        self.n = n

    def matchers(self) -> list[Matcher]:
        """The default funnel web → contact → contact at a shop → redemption, resolved."""
        return [
            Matcher(EventKind.PAGE_VIEW),
            Matcher(EventKind.TOUCHPOINT_CONTACT),
            Matcher(EventKind.TOUCHPOINT_CONTACT, touchpoints=frozenset(self.shops.tolist())),
            Matcher(EventKind.COUPON_REDEEMED),
        ]

    def arrow(self) -> pa.Table:
        """The consented events as the baseline gets them: in memory, typed."""
        keep = self.pseudonym != None  # noqa: E711 (numpy compares element-wise)
        return pa.table(
            {
                "pseudonym": pa.array(self.pseudonym[keep], pa.string()),
                "kind": pa.array(self.kind[keep], pa.string()),
                "ts": pa.array(self.ts[keep]),
                "touchpoint": pa.array(self.touchpoint[keep], pa.string()),
                "content": pa.array(self.content[keep], pa.string()),
            }
        )

    def text_columns(self, lo: int, hi: int) -> list[list[object]]:
        stamps = np.char.replace(np.datetime_as_string(self.ts[lo:hi], unit="us"), "T", " ")
        ids = [uuid.uuid4().hex for _ in range(hi - lo)]
        return [
            ids,
            self.kind[lo:hi].tolist(),
            [self.city.hex] * (hi - lo),
            stamps.tolist(),
            stamps.tolist(),
            self.touchpoint[lo:hi].tolist(),
            self.content[lo:hi].tolist(),
            self.pseudonym[lo:hi].tolist(),
        ]


COLUMNS = "event_id, kind, city_id, occurred_at, received_at, touchpoint_id, content_id, pseudonym"


def write_sqlite(path: str, data: Generated) -> None:
    insert = (
        f"INSERT INTO events ({COLUMNS}, schema_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1) "  # noqa: S608
        "ON CONFLICT (event_id) DO NOTHING"
    )
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        # Random event ids: the primary key's index must stay in the cache, as in a server.
        db.execute("PRAGMA cache_size=-262144")
        for lo in range(0, data.n, CHUNK):
            columns = data.text_columns(lo, min(lo + CHUNK, data.n))
            db.execute("BEGIN IMMEDIATE")
            db.executemany(insert, zip(*columns, strict=True))
            db.execute("COMMIT")


async def write_postgres(url: str, data: Generated) -> None:
    names = [*COLUMNS.split(", "), "schema_version"]
    db = await asyncpg.connect(url)
    try:
        for lo in range(0, data.n, CHUNK * 4):
            columns = data.text_columns(lo, min(lo + CHUNK * 4, data.n))
            for i in (3, 4):  # the stamps are UTC
                columns[i] = [f"{stamp}+00" for stamp in columns[i]]
            table = pa.table(dict(zip(names, [*columns, [1] * len(columns[0])], strict=True)))
            out = io.BytesIO()
            pacsv.write_csv(table, out, pacsv.WriteOptions(include_header=False))
            out.seek(0)
            await db.copy_to_table("events", source=out, columns=names, format="csv")
        # As autovacuum would after a load this size: without statistics the planner guesses.
        await db.execute("ANALYZE events")
    finally:
        await db.close()


def median_time(runs: int, work: object) -> tuple[float, list[int]]:
    times, result = [], []
    for _ in range(runs):
        start = time.perf_counter()
        result = work()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def run(
    settings: Settings, data: Generated, runs: int, postgres_url: str | None, written: bool = False
) -> None:
    """Write the events (unless `written`: benchmarks/analytics.py did), then time the funnel."""
    if not written:
        migrate_database(settings)
        started = time.perf_counter()
        if postgres_url:
            asyncio.run(write_postgres(postgres_url, data))
        else:
            write_sqlite(str(Path(settings.var_dir) / "marktplatz.sqlite3"), data)
        print(f"  store: {data.n:,} events written in {time.perf_counter() - started:.1f} s")
    matchers, window = data.matchers(), timedelta(days=7)
    period = (data.now - timedelta(days=DAYS), data.now)
    app: App = build(settings)
    engine = app.ctx.funnels

    async def ours() -> list[int]:
        return await engine.count(data.city, matchers, window, period, data.now)

    loop = asyncio.new_event_loop()
    try:
        started = time.perf_counter()
        added = loop.run_until_complete(engine.catch_up(data.city, data.now))  # type: ignore[attr-defined]
        took = time.perf_counter() - started
        print(
            f"  extract catch-up (once): {added:,} consented events in {took:.1f} s "
            f"({added / took:,.0f} events/s)"
        )
        mine, got = median_time(runs, lambda: loop.run_until_complete(ours()))
        loop.run_until_complete(app.close())
    finally:
        loop.close()
    table = data.arrow()
    with duckdb.connect() as con:
        con.register("src", table)
        base, expected = median_time(
            runs, lambda: count_funnel(con, "src", matchers, window, *period)
        )
    print(f"  funnel, ours:   {mine * 1000:8.0f} ms  steps {got}")
    print(f"  funnel, DuckDB: {base * 1000:8.0f} ms  steps {expected} (Arrow in memory)")
    print(f"  ratio {mine / base:.2f}× (target ≤ 3×); results equal: {got == expected}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    data = Generated(args.events)
    with tempfile.TemporaryDirectory(prefix="marktplatz-funnel-") as tmp:
        if not args.postgres:
            print(f"SQLite, {args.events:,} events, median of {args.runs} runs")
            run(Settings(var_dir=Path(tmp)), data, args.runs, None)
            return
        name = f"marktplatz_bench_{secrets.token_hex(4)}"
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
        url = f"postgresql://postgres@127.0.0.1:5432/{name}"
        try:
            print(f"PostgreSQL, {args.events:,} events, median of {args.runs} runs")
            settings = Settings(
                var_dir=Path(tmp), database_url=url.replace("postgresql", "postgresql+asyncpg", 1)
            )
            run(settings, data, args.runs, url)
        finally:
            asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
