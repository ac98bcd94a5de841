"""The funnel engine: DuckDB over the city's Parquet extract plus the events not yet in it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

import duckdb
import pyarrow as pa
from sqlalchemy.ext.asyncio import AsyncEngine

from marktplatz.domain.funnels import Matcher
from marktplatz.domain.rollups import SETTLE
from marktplatz.store.event_extract import EventExtract
from marktplatz.store.event_reader import EventReader
from marktplatz.store.funnel_sql import count_funnel

COLUMNS = "pseudonym, kind, ts, touchpoint, content"
_TAIL = (
    "SELECT pseudonym, kind, CAST(occurred_at AS TIMESTAMP) AS ts, touchpoint, content FROM tail"
)
# DuckDB's own threads: the machine's cores are shared with the web workers.
THREADS = 2


class DuckFunnels:
    """Counts funnels on raw consented events (see docs/decisions/funnel-engine.md).

    Events received up to SETTLE ago are copied once into the city's extract (Parquet, kept by
    EventExtract); the few received since are read from the store on each run. DuckDB then
    runs store.funnel_sql over both. `forget` and `purge` keep the extract in step with a
    visitor's erasure and the retention purge: both must be called after their deletion in
    the store is committed, so a catch-up running meanwhile cannot bring the events back.
    """

    def __init__(self, engine: AsyncEngine, directory: Path) -> None:
        self.reader = EventReader(engine)
        self.extract = EventExtract(directory, self.reader)

    async def count(
        self,
        city_id: UUID,
        matchers: Sequence[Matcher],
        window: timedelta,
        period: tuple[datetime, datetime],
        now: datetime,
    ) -> list[int]:
        """Distinct visitors reaching each step (not suppressed): step 1 in the period, the
        rest within `window` of it (domain.funnels.reference_counts is the definition)."""
        async with self.extract.locked():
            tail, _ = await self.extract.catch_up(city_id, now - SETTLE, now)
            files = self.extract.files(city_id)
            return await asyncio.to_thread(_run, files, tail, matchers, window, period)

    async def catch_up(self, city_id: UUID, now: datetime) -> int:
        """Bring the city's extract up to SETTLE ago; how many events were added."""
        async with self.extract.locked():
            _, added = await self.extract.catch_up(city_id, now - SETTLE, now)
            return added

    async def forget(self, pseudonym: str) -> int:
        """Remove a visitor's events from every extract (their erasure)."""
        async with self.extract.locked():
            return await asyncio.to_thread(self.extract.forget, pseudonym)

    async def purge(self, city_id: UUID, before: datetime) -> int:
        """Remove the city's events that occurred before `before` (retention)."""
        async with self.extract.locked():
            return await asyncio.to_thread(self.extract.purge, city_id, before)


def _run(
    files: list[str],
    tail: pa.Table,
    matchers: Sequence[Matcher],
    window: timedelta,
    period: tuple[datetime, datetime],
) -> list[int]:
    with duckdb.connect(config={"threads": THREADS}) as con:
        con.register("tail", tail)
        parts = [_TAIL]
        if files:
            con.read_parquet(files).create_view("stored")
            parts.append(f"SELECT {COLUMNS} FROM stored")  # noqa: S608
        con.execute(f"CREATE VIEW visits AS {' UNION ALL '.join(parts)}")
        return count_funnel(con, "visits", matchers, window, *period)
