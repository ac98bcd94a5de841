"""Campaign uplift on the real store: shown against held back, who came to the shop after."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from marktplatz.bootstrap import App
from marktplatz.domain.analytics import Group
from marktplatz.domain.errors import NotFound
from marktplatz.domain.journey import EventKind
from marktplatz.services import campaigns, rollups, touchpoints
from marktplatz.store import tables as t
from support import Tenant, make_tenant, published_offer, unique


def stored(
    tenant: Tenant, kind: EventKind, at: datetime, who: str, **fields: Any
) -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4(),
        "kind": kind.value,
        "city_id": tenant.city.id,
        "occurred_at": at,
        "received_at": at,
        "pseudonym": who,
        "schema_version": 1,
        "content_id": None,
        "touchpoint_id": None,
        **fields,
    }


async def test_an_offer_is_compared_with_its_control_group(composed: App) -> None:
    # given shop A's offer shown to 12 consented visitors, 7 of whom came to the shop's window
    # within a day, and held back from 10 of the control group, 5 of whom came anyway
    tenant = await make_tenant(composed)
    offer = await published_offer(composed, tenant, tenant.shop_a, "Gleitsichtbrillen")
    window = await touchpoints.create_touchpoint(
        composed.ctx,
        tenant.users["city-admin"],
        tenant.city.id,
        {
            "kind": "nfc",
            "name": unique("Schaufenster"),
            "lat": 52.105,
            "lon": 8.75,
            "target": "/",
            "shop_id": str(tenant.shop_a.id),
        },
    )
    shown_at = (datetime.now(UTC) - timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    rows = []
    for n, kind, came in ((12, EventKind.CONTENT_EXPOSED, 7), (10, EventKind.CONTENT_WITHHELD, 5)):
        people = [uuid.uuid4().hex for _ in range(n)]
        rows += [stored(tenant, kind, shown_at, p, content_id=str(offer.id)) for p in people]
        rows += [
            stored(
                tenant,
                EventKind.TOUCHPOINT_CONTACT,
                shown_at + timedelta(hours=5),
                p,
                touchpoint_id=window.id,
            )
            for p in people[:came]
        ]
    async with composed.engine.begin() as conn:
        await conn.execute(t.events.insert(), rows)
    await rollups.run_rollups(composed.ctx, only={tenant.city.id})
    # when the city, and the shop's owner, look at the week
    found = await campaigns.city_campaigns(
        composed.ctx, tenant.users["city-editor"], tenant.city.id, None, None
    )
    own = await campaigns.shop_campaigns(
        composed.ctx, tenant.users["retailer-owner"], tenant.shop_a.id, None, None
    )
    # then 7 of 12 shown came, against 5 of 10 held back: 8 points more
    assert [(c.title, c.exposed, c.control) for c in found.found] == [
        ("Gleitsichtbrillen", Group(12, 7), Group(10, 5))
    ]
    assert found.found[0].uplift == pytest.approx(7 / 12 - 0.5)
    assert own.found == found.found
    # and another shop's owner finds nothing of it
    with pytest.raises(NotFound):
        await campaigns.shop_campaigns(
            composed.ctx, tenant.users["retailer-owner"], tenant.shop_b.id, None, None
        )
