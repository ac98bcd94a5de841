"""The event writer's own SQLite connection: a whole group commit in one hop to one thread."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy.engine import Dialect

from marktplatz.domain.consent import Purpose
from marktplatz.domain.journey import JourneyEvent, strip_unconsented
from marktplatz.store import tables as t
from marktplatz.store.event_rows import EVENT_COLUMNS, event_tuple, late_hours

_NAMES = ", ".join(f'"{name}"' for name in EVENT_COLUMNS)
_INSERT = (
    f"INSERT INTO events ({_NAMES}) VALUES ({', '.join('?' * len(EVENT_COLUMNS))}) "  # noqa: S608
    # A retried request carries the same event ids: acknowledged again, stored once.
    "ON CONFLICT (event_id) DO NOTHING"
)
# Late events mark their hour for the rollups, in the same transaction (domain/rollups.py).
_MARK = (
    "INSERT INTO rollup_dirty (city_id, hour, version, marked_at) VALUES (?, ?, 1, ?) "
    "ON CONFLICT (city_id, hour) DO UPDATE SET version = rollup_dirty.version + 1, "
    "marked_at = excluded.marked_at"
)


class SqliteEventFile:
    """Writes events through the stdlib driver, on the event loop unless it has to wait.

    In WAL mode a group commit without fsync takes about 100 µs: less than the two hops to a
    driver thread and back, which under load wait for the GIL (aiosqlite needs five or more
    hops: checkout, BEGIN, consents, insert, COMMIT). So the writer first tries to take the
    write lock without waiting, right on the loop; only when another writer holds it does the
    group commit move to a thread of its own that may wait (busy_timeout), so the loop never
    blocks on a lock.
    """

    def __init__(self, path: str, synchronous: str, dialect: Dialect) -> None:
        self.path = path
        self.synchronous = synchronous
        # The dialect's own bind processors: rows are stored exactly as Core would store them.
        processors = [
            t.events.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in EVENT_COLUMNS
        ]
        self.processors: list[tuple[int, Callable[[Any], Any]]] = [
            (i, p) for i, p in enumerate(processors) if p is not None
        ]
        self.mark_processors = [
            t.rollup_dirty.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in ("city_id", "hour", "marked_at")
        ]
        if EVENT_COLUMNS[0] != "event_id":
            raise RuntimeError("_rows() expects the event id first")  # pragma: no cover
        self._db: sqlite3.Connection | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="event-writer")

    async def write(self, events: Sequence[JourneyEvent]) -> None:
        """Return once the events are committed (or raise, with nothing of them stored)."""
        loop = asyncio.get_running_loop()
        if self._db is None:
            await loop.run_in_executor(self._thread, self._connect)
        try:
            self._write(events, wait=False)
        except _Locked:
            await loop.run_in_executor(self._thread, self._write, events, True)

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._close)
        self._thread.shutdown(wait=False)

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA busy_timeout=30000")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={self.synchronous}")
            db.execute("PRAGMA busy_timeout=0")
            self._db = db
        return self._db

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _write(self, events: Sequence[JourneyEvent], wait: bool) -> None:
        db = self._connect()
        self._begin(db, wait)
        try:
            pseudonyms = {e.pseudonym for e in events if e.pseudonym}
            if pseudonyms:
                events = strip_unconsented(list(events), _consented(db, pseudonyms))
            db.executemany(_INSERT, self._rows(events))
            marks = late_hours(events)
            if marks:
                db.executemany(_MARK, [self._mark(values) for values in marks])
            db.execute("COMMIT")
        except BaseException:
            self._abandon(db)
            raise

    def _begin(self, db: sqlite3.Connection, wait: bool) -> None:
        if not wait:
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise _Locked from exc
            return
        db.execute("PRAGMA busy_timeout=30000")
        try:
            db.execute("BEGIN IMMEDIATE")
        finally:
            db.execute("PRAGMA busy_timeout=0")

    def _rows(self, events: Sequence[JourneyEvent]) -> list[list[Any]]:
        # The events of a group share most of their city, touchpoint and time values: each
        # distinct value is converted once (the event id, always new, is not remembered).
        done: dict[tuple[int, Any], Any] = {}
        rows = []
        for event in events:
            values = list(event_tuple(event))
            for i, process in self.processors:
                value = values[i]
                if value is None:
                    continue
                if i == 0:
                    values[0] = process(value)
                    continue
                key = (i, value)
                converted = done.get(key)
                if converted is None:
                    converted = done[key] = process(value)
                values[i] = converted
            rows.append(values)
        return rows

    def _mark(self, values: tuple[Any, ...]) -> list[Any]:
        return [p(v) if p else v for p, v in zip(self.mark_processors, values, strict=True)]

    def _abandon(self, db: sqlite3.Connection) -> None:
        # A connection in an unknown state is not reused: the next group commit opens a new one.
        try:
            if db.in_transaction:
                db.execute("ROLLBACK")
        except sqlite3.Error:
            self._close()


class _Locked(Exception):
    """Another connection holds the write lock; the group commit has to wait for it."""


def _consented(db: sqlite3.Connection, pseudonyms: set[str]) -> set[str]:
    """Pseudonyms whose latest analytics decision is a grant, read in the same transaction."""
    if not pseudonyms:
        return set()
    marks = ", ".join("?" * len(pseudonyms))
    query = (
        f"SELECT pseudonym, granted FROM consents WHERE pseudonym IN ({marks}) "  # noqa: S608
        "AND purpose = ? ORDER BY id"
    )
    latest: dict[str, bool] = {}
    for pseudonym, granted in db.execute(query, [*pseudonyms, Purpose.ANALYTICS.value]):
        latest[pseudonym] = bool(granted)
    return {p for p, granted in latest.items() if granted}
