"""An erasure racing with events of the same visitor leaves none of them behind."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select

from marktplatz.bootstrap import App
from marktplatz.domain.journey import EventKind
from marktplatz.services import visitors
from marktplatz.services.journey import EventInput, record_events
from marktplatz.store import tables as t
from support import Tenant


def views(tenant: Tenant, visitor: str, n: int) -> list[tuple[int, EventInput]]:
    now = datetime.now(UTC)
    return [
        (
            i,
            EventInput(
                event_id=uuid.uuid4(),
                kind=EventKind.PAGE_VIEW,
                city=tenant.city.slug,
                occurred_at=now,
                path="/",
                visitor=visitor,
            ),
        )
        for i in range(n)
    ]


async def test_no_event_of_an_erased_visitor_survives_a_concurrent_batch(
    tenant: Tenant, composed: App
) -> None:
    for _ in range(8):
        # given a consenting visitor
        visitor, secret = uuid.uuid4().hex, secrets.token_hex(32)
        await visitors.record_consent(
            composed.ctx,
            visitor=visitor,
            secret=secret,
            purposes={"analytics": True, "personalisation": False},
            text_version="2026-11",
        )
        # when batches of their events race with the erasure
        await asyncio.gather(
            *(record_events(composed.ctx, views(tenant, visitor, 50), None) for _ in range(4)),
            visitors.erase_data(composed.ctx, visitor=visitor, secret=secret),
        )
        # then nothing stored names them any more
        async with composed.engine.connect() as conn:
            left = await conn.scalar(
                select(func.count()).select_from(t.events).where(t.events.c.pseudonym == visitor)
            )
        assert left == 0
