"""No state-changing route changes or deletes an audit line: proven route by route, as every role.

The database refuses such changes itself (tests/integration/test_audit_append_only.py). This
module runs on a database of its own whose guards are removed, so what it proves is that the
application never tries: it sends every state-changing request of the authorization matrix, for
every role and target the matrix uses, checks after each one that no earlier line is gone, and
after each route's requests that every earlier line is still there, unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import test_authz_matrix
from sqlalchemy import func, select, text
from test_authz_matrix import (
    MATRIX,
    ROLES,
    SAFE_METHODS,
    Cell,
    World,
    drop_extra_images,
    expected,
    prepare,
    registered,
)

from marktplatz.settings import Settings
from marktplatz.store import tables as t
from marktplatz.store.database import create_engine
from suite_db import backend, composition, fresh_database, serving

# The matrix's tenants, sessions and objects, made anew on this module's database.
world = test_authz_matrix.world
CHANGING = [key for key in MATRIX if key[0] not in SAFE_METHODS]
_SQLITE_TRIGGERS = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :table"
_POSTGRES_TRIGGERS = (
    "SELECT tgname FROM pg_trigger WHERE tgrelid = CAST(:table AS regclass) AND NOT tgisinternal"
)


async def _drop_guards(url: str) -> list[str]:
    """Drop every trigger on the audit log; the ones left afterwards are returned (none)."""
    engine = create_engine(url)
    query = text(_POSTGRES_TRIGGERS if backend() == "postgresql" else _SQLITE_TRIGGERS)
    try:
        async with engine.begin() as conn:
            for (name,) in (await conn.execute(query, {"table": "audit_log"})).all():
                on_table = " ON audit_log" if backend() == "postgresql" else ""
                await conn.execute(text(f'DROP TRIGGER "{name}"{on_table}'))
        async with engine.connect() as conn:
            return [row[0] for row in await conn.execute(query, {"table": "audit_log"})]
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The suite's settings on a database of this module's own, without the audit log's guards."""
    folder = tmp_path_factory.mktemp("unguarded")
    with fresh_database(folder) as url:
        assert asyncio.run(_drop_guards(url)) == []
        yield settings.model_copy(update={"database_url": url, "var_dir": folder})


# The app on that database, for this module only.
web = pytest.fixture(scope="module")(serving)
composed = pytest.fixture(scope="module")(composition)


async def audit_lines(w: World) -> dict[int, tuple[Any, ...]]:
    """Every line of the log, by id."""
    async with w.app.engine.connect() as conn:
        rows = await conn.execute(select(t.audit_log).order_by(t.audit_log.c.id))
        return {row.id: tuple(row) for row in rows}


async def lines_up_to(w: World, last: int) -> int:
    """How many lines up to this id are still there (a cheap look after each request)."""
    query = select(func.count()).where(t.audit_log.c.id <= last)
    async with w.app.engine.connect() as conn:
        return int((await conn.execute(query)).scalar_one())


async def send(w: World, key: tuple[str, str], role: str, target: str) -> str:
    """One cell of the matrix: its request as that role; what was sent, for messages."""
    method, _ = key
    spec = MATRIX[key]
    client, csrf, own_client = await prepare(w, role, spec.fresh)
    try:
        req = await spec.build(Cell(w, role, target, client))
        headers = {"x-csrf-token": csrf} if csrf else {}
        response = await client.request(
            method, req.url, json=req.json, data=req.data, files=req.files, headers=headers
        )
        where = f"{method} {req.url} as {role} ({target})"
        want = expected(spec, role, target)
        assert response.status_code == want, f"{where}: {response.status_code}, not {want}"
        return where
    finally:
        if own_client:
            await client.aclose()
        if spec.writes:
            await drop_extra_images(w)


def test_every_state_changing_route_is_driven(web: Any) -> None:
    routes = {key for key in registered(web) if key[0] not in SAFE_METHODS}
    assert routes == set(CHANGING)


async def test_no_route_changes_or_deletes_an_earlier_audit_line(world: World) -> None:
    # given the log as the matrix's world left it
    lines = await audit_lines(world)
    assert lines, "the world's setup logged nothing to compare"
    for method, path in CHANGING:
        last = max(lines)
        for role in ROLES:
            for target in MATRIX[method, path].targets:
                # when one of the route's requests is sent
                where = await send(world, (method, path), role, target)
                # then no line logged before the route's turn is gone
                assert await lines_up_to(world, last) == len(lines), f"{where} deleted lines"
        # and after all of the route's requests every earlier line is still there, unchanged
        after = await audit_lines(world)
        changed = {i: (line, after.get(i)) for i, line in lines.items() if after.get(i) != line}
        assert not changed, f"{method} {path} changed or deleted audit lines: {changed}"
        lines = after
