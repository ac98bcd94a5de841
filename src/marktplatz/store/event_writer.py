"""One writer with group commit: concurrent requests share a transaction; ack only after COMMIT."""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from marktplatz.domain.errors import StoreUnavailable, WriterBusy
from marktplatz.domain.journey import JourneyEvent
from marktplatz.store.event_rows import EVENT_COLUMNS, event_tuple, late_hours
from marktplatz.store.sqlite_events import SqliteEventFile

UNSAFE_ACK_WINDOW = 0.01  # seconds between the early ack and the commit in the control mode


class _Group:
    """The events of the requests that will share one transaction, and who waits for it."""

    __slots__ = ("events", "waiting")

    def __init__(self) -> None:
        self.events: list[JourneyEvent] = []
        # One future per request: a request that is cancelled cancels only its own.
        self.waiting: list[asyncio.Future[None]] = []


class GroupCommitWriter:
    """Collects the events of all waiting requests and writes them in one transaction."""

    def __init__(
        self, engine: AsyncEngine, *, max_queued: int = 50_000, max_batch: int = 5_000
    ) -> None:
        self.engine = engine
        self.max_queued = max_queued
        self.max_batch = max_batch
        self.ack_before_commit = False  # only for the crash test's control mode: unsafe
        self._groups: collections.deque[_Group] = collections.deque()
        self._queued = 0
        self._wake: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._sqlite: SqliteEventFile | None = None
        self._pg: PostgresEventConnection | None = None

    async def append(self, events: Sequence[JourneyEvent]) -> None:
        """Return once the events are committed; raise WriterBusy or StoreUnavailable."""
        if not events:
            return
        if self._queued + len(events) > self.max_queued:
            raise WriterBusy("queue full")
        groups = self._groups
        if not groups or len(groups[-1].events) >= self.max_batch:
            groups.append(_Group())
        group = groups[-1]
        group.events += events
        done = asyncio.get_running_loop().create_future()
        group.waiting.append(done)
        self._queued += len(events)
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="event-writer")
        await done

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._sqlite is not None:
            await self._sqlite.close()
            self._sqlite = None
        if self._pg is not None:
            await self._pg.close()
            self._pg = None

    async def _run(self) -> None:
        while True:
            if not self._groups:
                self._wake = asyncio.get_running_loop().create_future()
                await self._wake
                continue
            await self._flush(self._groups.popleft())

    async def _flush(self, group: _Group) -> None:
        try:
            if self.ack_before_commit:
                # The control mode of the crash test: acknowledged, then a window in which a
                # crash loses what was acknowledged. Never used outside that test.
                _finish(group, None)
                await asyncio.sleep(UNSAFE_ACK_WINDOW)
            await self._write(group.events)
        except Exception as exc:
            _finish(group, StoreUnavailable(type(exc).__name__))
        else:
            _finish(group, None)
        finally:
            self._queued -= len(group.events)

    async def _write(self, events: list[JourneyEvent]) -> None:
        if self.engine.dialect.name == "sqlite":
            sqlite = self._sqlite or await self._open_sqlite()
            await sqlite.write(events)
            return
        if self._pg is None:
            _, options = self.engine.dialect.create_connect_args(self.engine.url)
            self._pg = PostgresEventConnection(options)
        await self._pg.write(events)

    async def _open_sqlite(self) -> SqliteEventFile:
        # The engine's connect hook set the durability; the writer's own connection follows it.
        async with self.engine.connect() as conn:
            level = (await conn.exec_driver_sql("PRAGMA synchronous")).scalar()
        path = self.engine.url.database or ""
        self._sqlite = SqliteEventFile(
            path, "FULL" if level == 2 else "NORMAL", self.engine.dialect
        )
        return self._sqlite


def _finish(group: _Group, error: Exception | None) -> None:
    for done in group.waiting:
        if done.done():
            continue
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)


_NAMES = ", ".join(f'"{name}"' for name in EVENT_COLUMNS)
_PG_TYPES = (
    "uuid", "text", "uuid", "timestamptz", "timestamptz", "uuid", "text", "text", "text",
    "int", "int", "text", "text", "text", "int", "uuid", "text",
)  # fmt: skip
_PG_ARRAYS = ", ".join(f"${i}::{kind}[]" for i, kind in enumerate(_PG_TYPES, 1))
# Only a granted latest decision keeps the pseudonym (domain.journey.strip_unconsented).
_PG_VALUES = ", ".join(
    "CASE WHEN l.granted THEN i.pseudonym END" if name == "pseudonym" else f"i.{name}"
    for name in EVENT_COLUMNS
)
_PG_INSERT = f"""
WITH incoming AS (
    SELECT * FROM unnest({_PG_ARRAYS}) AS i({_NAMES})
), decisions AS (
    SELECT c.id, c.pseudonym, c.granted FROM consents c
    WHERE c.purpose = 'analytics'
      AND c.pseudonym IN (SELECT pseudonym FROM incoming WHERE pseudonym IS NOT NULL)
    -- Share locks: an erasure (which first rewrites these rows) waits for this insert to
    -- commit and then deletes its events too, or this insert waits and finds no consent.
    FOR SHARE OF c
), latest AS (
    SELECT DISTINCT ON (pseudonym) pseudonym, granted FROM decisions ORDER BY pseudonym, id DESC
)
INSERT INTO events ({_NAMES})
SELECT {_PG_VALUES}
FROM incoming i LEFT JOIN latest l ON l.pseudonym = i.pseudonym
-- A retried request carries the same event ids: acknowledged again, stored once.
ON CONFLICT (event_id) DO NOTHING
"""  # noqa: S608
# Late events mark their hour for the rollups, in the same transaction (domain/rollups.py).
_PG_MARK = """
INSERT INTO rollup_dirty (city_id, hour, version, marked_at) VALUES ($1, $2, 1, $3)
ON CONFLICT (city_id, hour) DO UPDATE SET version = rollup_dirty.version + 1,
    marked_at = excluded.marked_at
"""


class PostgresEventConnection:
    """The writer's own asyncpg connection: a group commit is one statement, one round trip.

    The rows travel as one array per column and are unnested on the server; the consent check
    and the insert are one statement, so they run in one transaction without BEGIN or COMMIT
    round trips. ON CONFLICT skips ids stored before, which COPY cannot do.
    """

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.options = options
        self._db: asyncpg.Connection | None = None

    async def write(self, events: Sequence[JourneyEvent]) -> None:
        """Return once the events are committed (or raise, with nothing of them stored)."""
        db = self._db
        if db is None or db.is_closed():
            db = self._db = await asyncpg.connect(**self.options)
        columns = list(zip(*(event_tuple(e) for e in events), strict=True))
        marks = late_hours(events)
        try:
            if not marks:
                await db.execute(_PG_INSERT, *columns)
            else:  # rare (late or imported events): worth the BEGIN and COMMIT round trips
                async with db.transaction():
                    await db.execute(_PG_INSERT, *columns)
                    await db.executemany(_PG_MARK, marks)
        except BaseException:
            # A connection in an unknown state is not reused: the next group opens a new one.
            self._db = None
            await _close_quietly(db)
            raise

    async def close(self) -> None:
        if self._db is not None:
            await _close_quietly(self._db)
            self._db = None


async def _close_quietly(db: asyncpg.Connection) -> None:
    with contextlib.suppress(Exception):
        await db.close(timeout=1)
