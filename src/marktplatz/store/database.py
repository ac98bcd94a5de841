"""Engine creation: SQLite in WAL mode with one writer at a time, or PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(url: str, *, durability: str = "normal") -> AsyncEngine:
    """An async engine; on SQLite, writes start with BEGIN IMMEDIATE to avoid lock upgrades.

    durability "normal": SQLite's WAL with synchronous=NORMAL survives a crash of the process
    (a commit is in the WAL file); "strict": synchronous=FULL also survives a power cut.
    """
    if not is_sqlite(url):
        return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    _ensure_parent(url)
    engine = create_async_engine(url, connect_args={"timeout": 30})
    synchronous = "FULL" if durability == "strict" else "NORMAL"

    def _connect(dbapi_connection: Any, record: Any) -> None:
        _sqlite_connect(dbapi_connection, record, synchronous)

    event.listen(engine.sync_engine, "connect", _connect)
    event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


def _ensure_parent(url: str) -> None:
    path = url.split(":///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_connect(dbapi_connection: Any, _record: Any, synchronous: str) -> None:
    # Take transaction control away from the driver so that "begin" below decides.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA synchronous={synchronous}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    write = connection.get_execution_options().get("marktplatz_write", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
