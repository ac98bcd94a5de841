"""Consented journey events of a city as Arrow tables, read in bulk from SQLite or PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy.ext.asyncio import AsyncEngine

from marktplatz.domain.journey import MAX_AGE, MAX_FUTURE

# Every column travels as text; DuckDB types them when it writes the extract.
SCHEMA = pa.schema(
    [
        ("pseudonym", pa.string()),
        ("kind", pa.string()),
        ("occurred_at", pa.string()),  # UTC, "YYYY-MM-DD HH:MM:SS.ffffff"
        ("touchpoint", pa.string()),  # 32 hex digits
        ("content", pa.string()),
        ("received_at", pa.string()),  # as occurred_at
    ]
)
_BATCH = 250_000
# Ingestion keeps occurred_at within a week before (and minutes after) received_at, so a
# range of received_at is found through the (city_id, occurred_at) index; a day of margin.
_LOOKBACK = MAX_AGE + timedelta(days=1)
_SQLITE_COLUMNS = "pseudonym, kind, occurred_at, touchpoint_id, content_id, received_at"
_SQLITE = (
    f"SELECT {_SQLITE_COLUMNS} FROM events "  # noqa: S608
    "WHERE city_id = ? AND occurred_at >= ? AND occurred_at < ? "
    "AND received_at >= ? AND received_at < ? AND pseudonym IS NOT NULL"
)
# Rows are appended with growing rowids: past a known floor the new ones are a short range.
_SQLITE_AFTER = (
    f"SELECT {_SQLITE_COLUMNS} FROM events WHERE rowid > ? AND city_id = ? "  # noqa: S608
    "AND received_at >= ? AND received_at < ? AND pseudonym IS NOT NULL"
)
_PG = (
    "SELECT pseudonym, kind, to_char(occurred_at AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD HH24:MI:SS.US'), replace(touchpoint_id::text, '-', ''), content_id, "
    "to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') "
    "FROM events WHERE city_id = $1 AND occurred_at >= $2 AND occurred_at < $3 "
    "AND received_at >= $4 AND received_at < $5 AND pseudonym IS NOT NULL"
)


def stamp(moment: datetime) -> str:
    """A moment as the store keeps it in SQLite (and the reader hands out): UTC text."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


class EventReader:
    """Reads the consented events received in [since, until) of one city.

    SQLite goes through the stdlib driver in a thread (fetchmany into Arrow arrays); PostgreSQL
    through COPY ... TO STDOUT as CSV, which Arrow parses in C: both avoid building a Python
    object per row and column where the driver allows it.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def read(
        self, city_id: UUID, since: datetime | None, until: datetime, floor: int | None = None
    ) -> tuple[pa.Table, int | None]:
        """The events and, on SQLite, the largest rowid before the read (a later floor).

        `floor`: a rowid that every event received at or after `since` lies above (SQLite):
        the read then skips the index and the week of events before `since` it would pass.
        """
        oldest = datetime(1970, 1, 1, tzinfo=UTC) if since is None else since - _LOOKBACK
        start = oldest if since is None else since
        bounds = (oldest, until + MAX_FUTURE, start, until)
        if self.engine.dialect.name == "sqlite":
            path = self.engine.url.database or ""
            return await asyncio.to_thread(_read_sqlite, path, city_id, bounds, floor)
        return await self._read_pg(city_id, bounds), None

    async def _read_pg(
        self, city_id: UUID, bounds: tuple[datetime, datetime, datetime, datetime]
    ) -> pa.Table:
        _, options = self.engine.dialect.create_connect_args(self.engine.url)
        db = await asyncpg.connect(**options)
        try:
            out = io.BytesIO()
            await db.copy_from_query(_PG, city_id, *bounds, output=out, format="csv")
        finally:
            await db.close()
        return _parse_csv(out.getvalue())


def _parse_csv(data: bytes) -> pa.Table:
    if not data:
        return SCHEMA.empty_table()
    return pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=SCHEMA.names),
        convert_options=pacsv.ConvertOptions(
            column_types=SCHEMA, strings_can_be_null=True, null_values=[""]
        ),
    )


def _read_sqlite(
    path: str,
    city_id: UUID,
    bounds: tuple[datetime, datetime, datetime, datetime],
    floor: int | None,
) -> tuple[pa.Table, int | None]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        # A catch-up reads many pages once: mapped, they cost no copy into SQLite's cache.
        db.execute("PRAGMA mmap_size=1073741824")
        db.execute("BEGIN")  # one snapshot for the top rowid and the rows
        top = db.execute("SELECT max(rowid) FROM events").fetchone()[0]
        if floor is None:
            cursor = db.execute(_SQLITE, (city_id.hex, *(stamp(b) for b in bounds)))
        else:
            stamps = [stamp(b) for b in bounds[2:]]
            cursor = db.execute(_SQLITE_AFTER, (floor, city_id.hex, *stamps))
        batches = []
        while rows := cursor.fetchmany(_BATCH):
            batches.append(_batch(rows))
    finally:
        db.close()
    return pa.Table.from_batches(batches, schema=SCHEMA), top


def _batch(rows: list[Any]) -> pa.RecordBatch:
    columns = zip(*rows, strict=True)
    return pa.RecordBatch.from_arrays(
        [pa.array(column, type=pa.string()) for column in columns], schema=SCHEMA
    )
