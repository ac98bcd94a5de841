"""The event writer: stored once, answered only after COMMIT, and refusing what it cannot keep."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from marktplatz.bootstrap import App
from marktplatz.domain.errors import StoreUnavailable
from marktplatz.domain.journey import EventKind, JourneyEvent
from marktplatz.store import tables as t
from marktplatz.store.event_writer import GroupCommitWriter
from support import Tenant


def journey_event(tenant: Tenant, event_id: uuid.UUID | None = None) -> JourneyEvent:
    now = datetime.now(UTC)
    return JourneyEvent(
        event_id=event_id or uuid.uuid4(),
        kind=EventKind.PAGE_VIEW,
        city_id=tenant.city.id,
        occurred_at=now,
        received_at=now,
        touchpoint_id=None,
        content_id=None,
        channel=None,
        proximity=None,
        rssi=None,
        count=None,
        path="/",
        pseudonym=None,
        daily_hash=None,
    )


async def count(composed: App, ids: list[uuid.UUID]) -> int:
    async with composed.engine.connect() as conn:
        query = select(func.count()).select_from(t.events).where(t.events.c.event_id.in_(ids))
        return int(await conn.scalar(query) or 0)


async def test_the_same_id_twice_in_one_group_is_stored_once(tenant: Tenant, composed: App) -> None:
    # given two requests of one group commit carrying the same event, and a batch repeating one
    same = uuid.uuid4()
    other = uuid.uuid4()
    # when
    await asyncio.gather(
        composed.writer.append([journey_event(tenant, same)]),
        composed.writer.append([journey_event(tenant, same), journey_event(tenant, other)]),
        composed.writer.append([journey_event(tenant, other), journey_event(tenant, other)]),
    )
    # then
    assert await count(composed, [same, other]) == 2


async def test_a_cancelled_request_does_not_fail_the_rest_of_its_group(
    tenant: Tenant, composed: App
) -> None:
    # given three requests waiting for the same group commit
    events = [journey_event(tenant) for _ in range(3)]
    waiting = [asyncio.create_task(composed.writer.append([e])) for e in events]
    await asyncio.sleep(0)
    # when the first one goes away before the commit
    waiting[0].cancel()
    results = await asyncio.gather(*waiting, return_exceptions=True)
    # then the others are answered normally, and every event of the group is stored
    assert isinstance(results[0], asyncio.CancelledError)
    assert results[1:] == [None, None]
    assert await count(composed, [e.event_id for e in events]) == 3


async def test_an_unreachable_store_raises_store_unavailable(
    tenant: Tenant, composed: App, tmp_path: Path
) -> None:
    # given a writer whose database cannot be opened
    if composed.engine.dialect.name == "postgresql":
        url = "postgresql+asyncpg://postgres@127.0.0.1:9/nowhere"
    else:
        url = f"sqlite+aiosqlite:///{tmp_path}/missing/dir/events.sqlite3"
    writer = GroupCommitWriter(create_async_engine(url))
    # when / then
    try:
        with pytest.raises(StoreUnavailable):
            await writer.append([journey_event(tenant)])
    finally:
        await writer.close()


async def test_a_full_queue_answers_503_with_retry_after_and_stores_nothing(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given a writer that has no room left
    event_id = str(uuid.uuid4())
    sent = {
        "event_id": event_id,
        "kind": "page.view",
        "city": tenant.city.slug,
        "occurred_at": datetime.now(UTC).isoformat(),
        "path": "/",
    }
    limit = composed.writer.max_queued
    composed.writer.max_queued = 0
    try:
        # when
        response = await client.post("/e", json=sent)
    finally:
        composed.writer.max_queued = limit
    # then
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json() == {"detail": "Busy, please retry."}
    assert await count(composed, [uuid.UUID(event_id)]) == 0
