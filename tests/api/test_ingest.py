"""POST /e: events are validated, stored once, pseudonymous only with consent."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from marktplatz.bootstrap import App
from marktplatz.store import tables as t
from support import Tenant


def event(tenant: Tenant, **fields: Any) -> dict[str, Any]:
    base = {
        "event_id": str(uuid.uuid4()),
        "kind": "page.view",
        "city": tenant.city.slug,
        "occurred_at": datetime.now(UTC).isoformat(),
        "path": "/",
    }
    return {**base, **fields}


async def stored(composed: App, event_ids: list[str]) -> list[dict[str, Any]]:
    async with composed.engine.connect() as conn:
        rows = await conn.execute(
            select(t.events).where(t.events.c.event_id.in_([uuid.UUID(e) for e in event_ids]))
        )
        return [dict(r._mapping) for r in rows]


async def test_a_single_event_is_stored_once_even_when_sent_twice(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    one = event(tenant)
    # when
    first = await client.post("/e", json=one)
    again = await client.post("/e", json=one)
    # then
    assert first.status_code == 200
    assert first.json() == {"accepted": 1, "rejected": []}
    assert again.status_code == 200
    assert len(await stored(composed, [one["event_id"]])) == 1


async def test_a_batch_stores_the_good_events_and_names_the_bad_ones_by_index(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    now = datetime.now(UTC)
    batch = [
        event(tenant),
        event(tenant, kind="shop.burned"),
        event(tenant, occurred_at=(now + timedelta(hours=2)).isoformat()),
        event(tenant, occurred_at=(now - timedelta(days=30)).isoformat()),
        event(tenant, kind="touchpoint.contact"),
        event(tenant, rssi="loud"),
        event(tenant, city="atlantis"),
        event(tenant, occurred_at="2026-11-23T10:00:00"),
        event(tenant),
    ]
    # when
    response = await client.post("/e", json=batch, headers={"accept-language": "en"})
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 2
    assert [(e["index"], e["field"]) for e in body["rejected"]] == [
        (1, "kind"),
        (2, "occurred_at"),
        (3, "occurred_at"),
        (4, "touchpoint_id"),
        (5, "rssi"),
        (6, "city"),
        (7, "occurred_at"),
    ]
    assert body["rejected"][1]["message"] == "The time lies in the future."
    assert len(await stored(composed, [batch[0]["event_id"], batch[8]["event_id"]])) == 2


async def test_bad_requests_are_refused_whole(client: httpx.AsyncClient, tenant: Tenant) -> None:
    broken = await client.post(
        "/e", content=b"{not json", headers={"content-type": "application/json"}
    )
    too_many = await client.post("/e", json=[event(tenant) for _ in range(101)])
    too_big = await client.post("/e", content=b"[" + b" " * 300_000 + b"]")
    assert broken.status_code == 400
    assert too_many.status_code == 413
    assert too_big.status_code == 413


async def test_a_pseudonym_without_consent_is_not_stored(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given one visitor who consented to analytics and one who did not
    yes, no = uuid.uuid4().hex, uuid.uuid4().hex
    async with composed.engine.begin() as conn:
        await conn.execute(
            t.consents.insert().values(
                pseudonym=yes,
                purpose="analytics",
                granted=True,
                text_version="t",
                at=datetime.now(UTC),
            )
        )
    sent = [event(tenant, visitor=yes), event(tenant, visitor=no)]
    # when
    response = await client.post("/e", json=sent, headers={"user-agent": "Canary-UA/1.0"})
    # then
    assert response.json()["accepted"] == 2
    rows = {str(r["event_id"]): r for r in await stored(composed, [e["event_id"] for e in sent])}
    assert rows[sent[0]["event_id"]]["pseudonym"] == yes
    assert rows[sent[1]["event_id"]]["pseudonym"] is None


async def test_without_consent_a_daily_hash_counts_visitors_and_no_address_is_stored(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given two page views of one anonymous browser
    sent = [event(tenant), event(tenant)]
    # when
    await client.post("/e", json=sent, headers={"user-agent": "Canary-UA/1.0"})
    # then both carry the same salted hash, and nothing of the address or browser
    rows = await stored(composed, [e["event_id"] for e in sent])
    hashes = {r["daily_hash"] for r in rows}
    assert len(hashes) == 1
    assert None not in hashes
    text = repr(rows)
    assert "Canary-UA" not in text
    assert "127.0.0.1" not in text


async def test_an_app_cannot_claim_a_redemption(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given a batch with a forged redemption beside a good event
    batch = [event(tenant, kind="coupon.redeemed", content_id=str(uuid.uuid4())), event(tenant)]
    # when
    response = await client.post("/e", json=batch, headers={"accept-language": "de"})
    # then only the page view is stored; the redemption is refused by index, in German
    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 1
    assert [(e["index"], e["field"]) for e in body["rejected"]] == [(0, "kind")]
    assert body["rejected"][0]["message"] == (
        "Einlösungen erfasst die Kasse; eine App kann sie nicht senden."
    )
    assert await stored(composed, [batch[0]["event_id"]]) == []


async def test_an_app_cannot_claim_a_held_back_offer(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given a forged control-group record (it would skew every campaign's uplift)
    batch = [event(tenant, kind="content.withheld", content_id=str(uuid.uuid4()))]
    # when
    response = await client.post("/e", json=batch, headers={"accept-language": "de"})
    # then it is refused by index, in German, and nothing is stored
    body = response.json()
    assert (body["accepted"], [(e["index"], e["field"]) for e in body["rejected"]]) == (
        0,
        [(0, "kind")],
    )
    assert body["rejected"][0]["message"] == "Diese Art von Ereignis zeichnet nur der Server auf."
    assert await stored(composed, [batch[0]["event_id"]]) == []
