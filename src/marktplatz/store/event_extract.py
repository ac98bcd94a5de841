"""A columnar copy of each city's consented events (Parquet), kept up to date incrementally.

Layout: `<dir>/<city hex>/b=<first hex digit of the pseudonym>/<mark µs>-<n>.parquet` and a file
`mark` holding the end (exclusive, as received_at) of what the files hold. Buckets by pseudonym
make an erasure rewrite a sixteenth of a city's events, not all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from marktplatz.store.event_reader import EventReader
from marktplatz.store.event_reader import stamp as _stamp

# Small files from frequent catch-ups are merged once a bucket holds this many.
MAX_FILES = 8
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_AHEAD = timedelta(minutes=1)
_ROWIDS = 50  # the newest reads' top rowids kept per city
_TYPED = (
    "SELECT pseudonym, kind, CAST(occurred_at AS TIMESTAMP) AS ts, touchpoint, content, "
    "substr(pseudonym, 1, 1) AS b FROM incoming"
)


_MICRO = _EPOCH.resolution


def micros(moment: datetime) -> int:
    """Microseconds since the epoch: how file names and the mark order catch-ups."""
    return (moment - _EPOCH) // _MICRO


class EventExtract:
    """Parquet files per city and pseudonym bucket; one process at a time changes them."""

    def __init__(self, directory: Path, reader: EventReader) -> None:
        self.directory = directory
        self.reader = reader
        self._lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def locked(self) -> AsyncIterator[None]:
        """Hold the extract against other tasks and (by flock) other worker processes."""
        async with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.directory / ".lock", os.O_CREAT | os.O_RDWR, 0o600)
            try:
                await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)

    def files(self, city_id: UUID) -> list[str]:
        """The Parquet files of the city (call while holding `locked`)."""
        return sorted(str(p) for p in (self.directory / city_id.hex).glob("b=*/*.parquet"))

    def mark(self, city_id: UUID) -> datetime | None:
        """Events received before this moment are in the files (None: nothing yet)."""
        path = self.directory / city_id.hex / "mark"
        if not path.exists():
            return None
        return _EPOCH + int(path.read_text()) * _MICRO

    async def catch_up(self, city_id: UUID, until: datetime, now: datetime) -> tuple[pa.Table, int]:
        """Add the events received from the mark up to `until` to the files, and return
        those received since then (the tail, which may still grow), and how many were added.
        Hold `locked`."""
        since = self.mark(city_id)
        table, top = await self.reader.read(city_id, since, now + _AHEAD, self._floor(city_id))
        late = pc.less(table["received_at"], _stamp(until))
        stored = table.filter(late)
        if since is None or since < until:
            await asyncio.to_thread(self._append, city_id, stored, until)
        if top is not None:
            # Any event stored after this read gets a larger rowid; the margin covers the
            # moments between `now` and the read.
            self._remember(city_id, now + _AHEAD, top)
        return table.filter(pc.invert(late)), stored.num_rows

    def _floor(self, city_id: UUID) -> int | None:
        """A rowid below every event received from the mark on: one read before the mark."""
        mark, path = self.mark(city_id), self.directory / city_id.hex / "rowids"
        if mark is None or not path.exists():
            return None
        seen = [line.split() for line in path.read_text().splitlines()]
        below = [int(top) for at, top in seen if int(at) <= micros(mark)]
        return max(below) if below else None

    def _remember(self, city_id: UUID, at: datetime, top: int) -> None:
        path = self.directory / city_id.hex / "rowids"
        lines = path.read_text().splitlines() if path.exists() else []
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(path, "\n".join([*lines[-_ROWIDS:], f"{micros(at)} {top}"]))

    def _forget_rowids(self) -> None:
        # A deletion at the top of the table lets SQLite hand out its rowids again: the
        # next catch-up takes the index instead of a floor.
        for path in self.directory.glob("*/rowids"):
            path.unlink()

    def _append(self, city_id: UUID, table: pa.Table, until: datetime) -> None:
        city = self.directory / city_id.hex
        city.mkdir(parents=True, exist_ok=True)
        self._drop_unmarked(city_id)
        stamp = micros(until)
        if table.num_rows:
            staging = city / f"staging-{uuid.uuid4().hex}"
            with duckdb.connect() as con:
                con.register("incoming", table)
                con.execute(f"COPY ({_TYPED}) TO '{staging}' (FORMAT parquet, PARTITION_BY (b))")
            for file in staging.glob("b=*/*.parquet"):
                bucket = city / file.parent.name
                bucket.mkdir(parents=True, exist_ok=True)
                os.replace(file, bucket / f"{stamp:020d}-{uuid.uuid4().hex[:8]}.parquet")
            shutil.rmtree(staging)
        _write_atomic(city / "mark", str(stamp))
        for bucket in city.glob("b=*"):
            if len(list(bucket.glob("*.parquet"))) > MAX_FILES:
                _merge(sorted(bucket.glob("*.parquet")), bucket, stamp)

    def _drop_unmarked(self, city_id: UUID) -> None:
        # Files of a catch-up that stopped before it moved the mark would be added twice.
        mark = self.mark(city_id)
        limit = micros(mark) if mark is not None else -1
        for file in (self.directory / city_id.hex).glob("b=*/*.parquet"):
            if int(file.name.split("-", 1)[0]) > limit:
                file.unlink()
        for staging in (self.directory / city_id.hex).glob("staging-*"):
            shutil.rmtree(staging)
        for bucket in (self.directory / city_id.hex).glob("b=*"):
            _finish_merge(bucket)

    def forget(self, pseudonym: str) -> int:
        """Rewrite every file holding the pseudonym's events without them (hold lock)."""
        self._forget_rowids()
        removed = 0
        for bucket in self.directory.glob(f"*/b={pseudonym[0]}"):
            for file in sorted(bucket.glob("*.parquet")):
                removed += _rewrite_without(file, "pseudonym = ?", [pseudonym])
        return removed

    def purge(self, city_id: UUID, before: datetime) -> int:
        """Drop the city's events that occurred before `before` (the retention purge)."""
        self._forget_rowids()
        removed = 0
        cutoff = before.astimezone(UTC).replace(tzinfo=None)
        for file in (self.directory / city_id.hex).glob("b=*/*.parquet"):
            removed += _rewrite_without(file, "ts < ?", [cutoff])
        return removed


def _rewrite_without(file: Path, condition: str, params: list[object]) -> int:
    """Rewrite one file without its rows that meet `condition`; how many went."""
    with duckdb.connect() as con:
        found = con.execute(
            f"SELECT count(*) FROM read_parquet(?) WHERE {condition}",  # noqa: S608
            [str(file), *params],
        ).fetchone()
        count = int(found[0]) if found else 0
        if not count:
            return 0
        temp = file.with_suffix(".tmp")
        con.execute(
            f"COPY (SELECT * FROM read_parquet(?) WHERE NOT ({condition})) "  # noqa: S608
            f"TO '{temp}' (FORMAT parquet)",
            [str(file), *params],
        )
    os.replace(temp, file)
    return count


def _merge(files: list[Path], bucket: Path, stamp: int) -> None:
    """Merge files into one, named by the mark so that a later catch-up keeps it.

    The list of merged files is written before the merged file appears: a merge that stops
    half-way is finished (or undone) by the next catch-up, so no event is lost or doubled.
    """
    target = bucket / f"{stamp:020d}-merged.parquet"
    temp = bucket / "merge.tmp"
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT * FROM read_parquet(?)) TO '{temp}' (FORMAT parquet)",  # noqa: S608
            [[str(f) for f in files]],
        )
    _write_atomic(bucket / "merging", "\n".join([target.name, *(f.name for f in files)]))
    os.replace(temp, target)
    _finish_merge(bucket)


def _finish_merge(bucket: Path) -> None:
    listing = bucket / "merging"
    if listing.exists():
        target, *sources = listing.read_text().split("\n")
        if (bucket / target).exists():
            for name in sources:
                (bucket / name).unlink(missing_ok=True)
        listing.unlink()
    (bucket / "merge.tmp").unlink(missing_ok=True)


def _write_atomic(path: Path, text: str) -> None:
    temp = path.with_suffix(".tmp")
    temp.write_text(text)
    os.replace(temp, path)
