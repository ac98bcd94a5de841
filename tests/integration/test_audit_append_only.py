"""The database itself refuses to change or delete audit lines (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from marktplatz.bootstrap import App
from marktplatz.domain.audit import AuditEntry
from marktplatz.store import migrate
from marktplatz.store import tables as t
from marktplatz.store.database import create_engine

log = t.audit_log.c
# The revision that hardens the guards and the one it follows (re-chained when branches merge).
AUDIT_GUARDS, AUDIT_BEFORE = "0015", "0014"


async def a_line(composed: App) -> int:
    """A fresh line, appended the way every use case appends; returns its id."""
    mark = uuid.uuid4().hex
    entry = AuditEntry(datetime.now(UTC), None, None, "test.written", "test", mark, "vorher")
    async with composed.ctx.uow(write=True) as uow:
        await uow.audit.append(entry)
        await uow.commit()
    async with composed.engine.connect() as conn:
        return int((await conn.execute(select(log.id).where(log.object_id == mark))).scalar_one())


async def stored(composed: App, line: int) -> tuple[Any, ...]:
    async with composed.engine.connect() as conn:
        row = (await conn.execute(select(t.audit_log).where(log.id == line))).one()
    return tuple(row)


async def refused(composed: App, statement: Any) -> str:
    """Run the statement in its own transaction; return the database's refusal."""
    with pytest.raises(DBAPIError) as caught:
        async with composed.engine.begin() as conn:
            await conn.execute(statement)
    return str(caught.value.orig)


def dialect(composed: App) -> str:
    return composed.engine.dialect.name


@pytest.mark.parametrize(
    "change",
    [
        lambda line: update(t.audit_log).where(log.id == line).values(detail="nachher"),
        lambda line: update(t.audit_log).values(actor_id=None, action="login.succeeded"),
        lambda line: delete(t.audit_log).where(log.id == line),
        lambda line: delete(t.audit_log),
        lambda line: text("UPDATE audit_log SET at = at WHERE id = :id").bindparams(id=line),
        lambda line: text("DELETE FROM audit_log WHERE id = :id").bindparams(id=line),
    ],
    ids=["update-one", "update-all", "delete-one", "delete-all", "raw-update", "raw-delete"],
)
async def test_update_and_delete_are_refused(composed: App, change: Any) -> None:
    # given
    line = await a_line(composed)
    before = await stored(composed, line)
    # when
    message = await refused(composed, change(line))
    # then
    assert "audit_log is append-only" in message
    assert await stored(composed, line) == before


async def test_overwriting_a_line_by_inserting_its_id_again_is_refused(composed: App) -> None:
    # given
    line = await a_line(composed)
    before = await stored(composed, line)
    values = {
        "id": line,
        "at": datetime.now(UTC),
        "action": "test.overwritten",
        "object_type": "test",
        "object_id": "x",
        "detail": "nachher",
    }
    # when SQLite replaces, PostgreSQL updates on conflict
    if dialect(composed) == "sqlite":
        statement: Any = insert(t.audit_log).prefix_with("OR REPLACE").values(values)
    else:
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        statement = (
            pg_insert(t.audit_log)
            .values(values)
            .on_conflict_do_update(index_elements=["id"], set_={"detail": "nachher"})
        )
    message = await refused(composed, statement)
    # then
    assert "audit_log is append-only" in message
    assert await stored(composed, line) == before


async def test_emptying_the_whole_table_is_refused(composed: App) -> None:
    # given
    line = await a_line(composed)
    # when: TRUNCATE on PostgreSQL; SQLite has none, its way is a DELETE without WHERE
    postgresql = dialect(composed) == "postgresql"
    message = await refused(
        composed, text("TRUNCATE audit_log" if postgresql else "DELETE FROM audit_log")
    )
    # then
    expected = (
        "audit_log is append-only (TRUNCATE refused)" if postgresql else "audit_log is append-only"
    )
    assert expected in message
    assert await stored(composed, line)


async def test_appending_still_works(composed: App) -> None:
    # given / when
    first, second = await a_line(composed), await a_line(composed)
    # then
    assert second > first


def _sqlite_triggers(url: str) -> list[str]:
    async def read() -> list[str]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                query = "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
                return [row[0] for row in await conn.execute(text(query))]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_the_guards_come_with_their_revision_and_the_old_ones_stay_without_it(
    tmp_path: Path,
) -> None:
    # given a database at the head
    url = f"sqlite+aiosqlite:///{tmp_path / 'audit.sqlite3'}"
    migrate.upgrade(url)
    at_head = _sqlite_triggers(url)
    # when
    command.downgrade(migrate.alembic_config(url), AUDIT_BEFORE)
    before = _sqlite_triggers(url)
    migrate.upgrade(url, AUDIT_GUARDS)
    # then
    assert at_head == ["audit_log_no_delete", "audit_log_no_replace", "audit_log_no_update"]
    assert before == ["audit_log_no_delete", "audit_log_no_update"]
    assert _sqlite_triggers(url) == at_head
