"""One writer with group commit: concurrent requests share a transaction; ack only after COMMIT."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from marktplatz.domain.consent import Purpose
from marktplatz.domain.errors import StoreUnavailable, WriterBusy
from marktplatz.domain.journey import JourneyEvent, strip_unconsented
from marktplatz.store import tables as t
from marktplatz.store.event_rows import EVENT_COLUMNS, event_tuple
from marktplatz.store.sqlite_events import SqliteEventFile

UNSAFE_ACK_WINDOW = 0.01  # seconds between the early ack and the commit in the control mode


@dataclass
class _Job:
    events: Sequence[JourneyEvent]
    done: asyncio.Future[None] = field(repr=False)


class GroupCommitWriter:
    """Collects the events of all waiting requests and writes them in one transaction."""

    def __init__(
        self, engine: AsyncEngine, *, max_queued: int = 50_000, max_batch: int = 5_000
    ) -> None:
        self.engine = engine
        self.max_queued = max_queued
        self.max_batch = max_batch
        self.ack_before_commit = False  # only for the crash test's control mode: unsafe
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._queued = 0
        self._task: asyncio.Task[None] | None = None
        self._sqlite: SqliteEventFile | None = None

    async def append(self, events: Sequence[JourneyEvent]) -> None:
        """Return once the events are committed; raise WriterBusy or StoreUnavailable."""
        if not events:
            return
        if self._queued + len(events) > self.max_queued:
            raise WriterBusy("queue full")
        job = _Job(events, asyncio.get_running_loop().create_future())
        self._queued += len(events)
        self._queue.put_nowait(job)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="event-writer")
        await job.done

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._sqlite is not None:
            await self._sqlite.close()
            self._sqlite = None

    async def _run(self) -> None:
        while True:
            jobs = [await self._queue.get()]
            count = len(jobs[0].events)
            while count < self.max_batch and not self._queue.empty():
                jobs.append(self._queue.get_nowait())
                count += len(jobs[-1].events)
            await self._flush(jobs, count)

    async def _flush(self, jobs: list[_Job], count: int) -> None:
        events = [e for job in jobs for e in job.events]
        try:
            if self.ack_before_commit:
                # The control mode of the crash test: acknowledged, then a window in which a
                # crash loses what was acknowledged. Never used outside that test.
                _finish(jobs, None)
                await asyncio.sleep(UNSAFE_ACK_WINDOW)
            await self._write(events)
        except Exception as exc:
            _finish(jobs, StoreUnavailable(type(exc).__name__))
        else:
            _finish(jobs, None)
        finally:
            self._queued -= count

    async def _write(self, events: list[JourneyEvent]) -> None:
        if self.engine.dialect.name == "sqlite":
            sqlite = self._sqlite or await self._open_sqlite()
            await sqlite.write(events)
            return
        async with self.engine.connect() as conn, conn.begin():
            consented = await _consented(conn, {e.pseudonym for e in events if e.pseudonym})
            rows = [event_tuple(e) for e in strip_unconsented(events, consented)]
            await _copy_postgresql(conn, rows)

    async def _open_sqlite(self) -> SqliteEventFile:
        # The engine's connect hook set the durability; the writer's own connection follows it.
        async with self.engine.connect() as conn:
            level = (await conn.exec_driver_sql("PRAGMA synchronous")).scalar()
        path = self.engine.url.database or ""
        self._sqlite = SqliteEventFile(
            path, "FULL" if level == 2 else "NORMAL", self.engine.dialect
        )
        return self._sqlite


def _finish(jobs: list[_Job], error: Exception | None) -> None:
    for job in jobs:
        if job.done.done():
            continue
        if error is None:
            job.done.set_result(None)
        else:
            job.done.set_exception(error)


_NAMES = ", ".join(f'"{name}"' for name in EVENT_COLUMNS)
_PG_STAGE = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS events_incoming "
    "(LIKE events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
)
_PG_MOVE = (
    f"INSERT INTO events ({_NAMES}) SELECT {_NAMES} FROM events_incoming "  # noqa: S608
    # A retried request carries the same event ids: acknowledged again, stored once.
    "ON CONFLICT (event_id) DO NOTHING"
)


async def _copy_postgresql(conn: AsyncConnection, rows: list[tuple[object, ...]]) -> None:
    # COPY cannot skip duplicates, so it fills a per-session staging table inside the same
    # transaction (the first statement opens it); one INSERT … ON CONFLICT moves the rows over.
    await conn.exec_driver_sql(_PG_STAGE)
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await driver.copy_records_to_table("events_incoming", records=rows, columns=EVENT_COLUMNS)
    await conn.exec_driver_sql(_PG_MOVE)


async def _consented(conn: AsyncConnection, pseudonyms: set[str | None]) -> set[str]:
    """Pseudonyms whose latest analytics decision is a grant, read in the same transaction."""
    if not pseudonyms:
        return set()
    query = (
        select(t.consents.c.pseudonym, t.consents.c.granted)
        .where(t.consents.c.pseudonym.in_(pseudonyms), t.consents.c.purpose == Purpose.ANALYTICS)
        .order_by(t.consents.c.id)
        # Share locks: an erasure (which first rewrites these rows) waits for this batch to
        # commit and then deletes its events too, or this read waits and finds no consent.
        .with_for_update(read=True)
    )
    latest: dict[str, bool] = {}
    for pseudonym, granted in await conn.execute(query):
        latest[pseudonym] = granted
    return {p for p, granted in latest.items() if granted}
