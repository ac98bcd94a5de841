"""Erasing one visitor from a store of 1,000,000 events takes under a second, and only them."""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import func, select

from marktplatz.bootstrap import App
from marktplatz.store import tables as t
from support import Tenant, page_view_row

pytestmark = pytest.mark.slow

TOTAL = 1_000_000
PER_VISITOR = 100
CHUNK = 20_000
A = "/api/v1/visitor"


def events_of(city_id: UUID, pseudonyms: list[str], start: datetime) -> Iterator[dict[str, Any]]:
    for n in range(PER_VISITOR):
        at = start + timedelta(seconds=n)
        for pseudonym in pseudonyms:
            yield page_view_row(city_id, at, pseudonym)


async def fill(composed: App, city_id: UUID, pseudonyms: list[str]) -> None:
    start = datetime.now(UTC) - timedelta(days=1)
    chunk: list[dict[str, Any]] = []
    async with composed.engine.begin() as conn:
        for row in events_of(city_id, pseudonyms, start):
            chunk.append(row)
            if len(chunk) == CHUNK:
                await conn.execute(t.events.insert(), chunk)
                chunk = []
        if chunk:
            await conn.execute(t.events.insert(), chunk)


async def others_fingerprint(composed: App, pseudonym: str) -> tuple[int, int]:
    """How many events the other visitors have, and how many distinct visitors."""
    e = t.events.c
    query = select(func.count(), func.count(e.pseudonym.distinct())).where(e.pseudonym != pseudonym)
    async with composed.engine.connect() as conn:
        row = (await conn.execute(query)).one()
    return int(row[0]), int(row[1])


async def test_erasing_one_visitor_among_a_million_events_takes_under_a_second(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given 10,000 consenting visitors with 100 events each, one of them asking for erasure
    visitor, secret = uuid.uuid4().hex, secrets.token_hex(32)
    body = {"visitor": visitor, "secret": secret}
    consent = {**body, "purposes": {"analytics": True}, "text_version": "2026-11"}
    assert (await client.post(f"{A}/consent", json=consent)).status_code == 200
    crowd = [uuid.uuid4().hex for _ in range(TOTAL // PER_VISITOR - 1)]
    await fill(composed, tenant.city.id, [visitor, *crowd])
    before = await others_fingerprint(composed, visitor)
    neighbour = crowd[len(crowd) // 2]
    async with composed.engine.connect() as conn:
        query = select(t.events).where(t.events.c.pseudonym == neighbour)
        neighbours_rows = sorted(map(tuple, (await conn.execute(query)).all()))
    # when
    started = time.perf_counter()
    exported = await client.post(f"{A}/export", json=body)
    export_seconds = time.perf_counter() - started
    started = time.perf_counter()
    erased = await client.post(f"{A}/erase", json=body)
    erase_seconds = time.perf_counter() - started
    # then
    print(f"\nexport {export_seconds * 1000:.0f} ms, erase {erase_seconds * 1000:.0f} ms")
    assert exported.status_code == 200
    assert len(exported.json()["events"]) == PER_VISITOR
    assert erased.status_code == 200
    assert erased.json()["erased"]["events"] == PER_VISITOR
    assert export_seconds < 1.0
    assert erase_seconds < 1.0
    assert await others_fingerprint(composed, visitor) == before
    async with composed.engine.connect() as conn:
        query = select(t.events).where(t.events.c.pseudonym == neighbour)
        assert sorted(map(tuple, (await conn.execute(query)).all())) == neighbours_rows
        gone = select(func.count()).where(t.events.c.pseudonym == visitor)
        assert (await conn.execute(gone)).scalar_one() == 0
