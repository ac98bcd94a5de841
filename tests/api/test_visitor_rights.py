"""A visitor's consent, export and erasure through the API, proven by the device's secret."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import func, select

from marktplatz.bootstrap import App
from marktplatz.store import tables as t
from support import Tenant

A = "/api/v1/visitor"


def device() -> tuple[str, str]:
    """What the app makes at the first consent: a random id and a separate secret."""
    return uuid.uuid4().hex, secrets.token_hex(32)


def consent_body(visitor: str, secret: str, **purposes: bool) -> dict[str, Any]:
    return {"visitor": visitor, "secret": secret, "purposes": purposes, "text_version": "2026-11"}


def page_view(tenant: Tenant, visitor: str) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "kind": "page.view",
        "city": tenant.city.slug,
        "occurred_at": datetime.now(UTC).isoformat(),
        "path": "/",
        "visitor": visitor,
    }


async def register(client: httpx.AsyncClient, visitor: str, secret: str) -> None:
    body = consent_body(visitor, secret, analytics=True, personalisation=False)
    response = await client.post(f"{A}/consent", json=body)
    assert response.status_code == 200, response.text


async def rows(composed: App, table: Any, **where: Any) -> list[dict[str, Any]]:
    query = select(table).where(*(table.c[k] == v for k, v in where.items()))
    async with composed.engine.connect() as conn:
        return [dict(r._mapping) for r in await conn.execute(query)]


async def count(composed: App, table: Any) -> int:
    async with composed.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def audit_text(composed: App) -> str:
    return repr(await rows(composed, t.audit_log))


async def test_the_first_grant_registers_the_visitor_with_only_a_hash_of_the_secret(
    client: httpx.AsyncClient, composed: App
) -> None:
    # given
    visitor, secret = device()
    # when
    response = await client.post(
        f"{A}/consent", json=consent_body(visitor, secret, analytics=True, personalisation=False)
    )
    # then
    assert response.status_code == 200
    assert response.json() == {"purposes": {"analytics": True, "personalisation": False}}
    [stored] = await rows(composed, t.visitors, pseudonym=visitor)
    assert stored["secret_hash"] != secret
    assert secret not in repr(stored)
    consents = await rows(composed, t.consents, pseudonym=visitor)
    assert sorted((c["purpose"], c["granted"], c["text_version"]) for c in consents) == [
        ("analytics", True, "2026-11"),
        ("personalisation", False, "2026-11"),
    ]


async def test_a_refusal_without_any_earlier_grant_stores_nothing(
    client: httpx.AsyncClient, composed: App
) -> None:
    # given
    visitor, secret = device()
    # when
    response = await client.post(
        f"{A}/consent", json=consent_body(visitor, secret, analytics=False)
    )
    # then
    assert response.json() == {"purposes": {"analytics": False, "personalisation": False}}
    assert await rows(composed, t.visitors, pseudonym=visitor) == []
    assert await rows(composed, t.consents, pseudonym=visitor) == []


async def test_a_wrong_secret_is_refused_and_records_nothing(
    client: httpx.AsyncClient, composed: App
) -> None:
    # given
    visitor, secret = device()
    await register(client, visitor, secret)
    consents, audit = await count(composed, t.consents), await count(composed, t.audit_log)
    wrong = secrets.token_hex(32)
    # when
    answers = [
        await client.post(
            f"{A}/consent",
            json=consent_body(visitor, wrong, analytics=False),
            headers={"accept-language": "de"},
        ),
        await client.post(f"{A}/export", json={"visitor": visitor, "secret": wrong}),
        await client.post(f"{A}/erase", json={"visitor": visitor, "secret": wrong}),
    ]
    # then
    assert [a.status_code for a in answers] == [403, 403, 403]
    assert answers[0].json() == {"detail": "Das Geheimnis gehört nicht zu dieser Besucher-ID."}
    assert await count(composed, t.consents) == consents
    assert await count(composed, t.audit_log) == audit
    assert len(await rows(composed, t.visitors, pseudonym=visitor)) == 1


async def test_withdrawing_consent_stops_storing_the_pseudonym_at_once(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given a consenting visitor whose first event carries the pseudonym
    visitor, secret = device()
    await register(client, visitor, secret)
    before = page_view(tenant, visitor)
    await client.post("/e", json=before)
    # when
    withdrawn = await client.post(
        f"{A}/consent", json=consent_body(visitor, secret, analytics=False)
    )
    after = page_view(tenant, visitor)
    await client.post("/e", json=after)
    # then
    assert withdrawn.json() == {"purposes": {"analytics": False, "personalisation": False}}
    [first] = await rows(composed, t.events, event_id=uuid.UUID(before["event_id"]))
    [second] = await rows(composed, t.events, event_id=uuid.UUID(after["event_id"]))
    assert first["pseudonym"] == visitor
    assert second["pseudonym"] is None


async def test_export_hands_out_everything_stored_for_the_pseudonym(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given
    visitor, secret = device()
    await register(client, visitor, secret)
    sent = [page_view(tenant, visitor), page_view(tenant, visitor)]
    await client.post("/e", json=sent)
    await client.post("/e", json=page_view(tenant, uuid.uuid4().hex))  # someone else
    # when
    response = await client.post(f"{A}/export", json={"visitor": visitor, "secret": secret})
    # then
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    data = response.json()
    assert data["visitor"]["pseudonym"] == visitor
    assert set(data["visitor"]) == {"pseudonym", "created_at"}
    assert [(c["purpose"], c["granted"]) for c in data["consents"]] == [
        ("analytics", True),
        ("personalisation", False),
    ]
    assert sorted(e["event_id"] for e in data["events"]) == sorted(e["event_id"] for e in sent)
    assert set(data["events"][0]) == {c.name for c in t.events.columns}
    assert secret not in response.text


async def test_erasure_removes_the_visitor_and_keeps_unlinked_proof_of_consent(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given two consenting visitors with events
    visitor, secret = device()
    other, other_secret = device()
    for who, key in ((visitor, secret), (other, other_secret)):
        await register(client, who, key)
        await client.post("/e", json=[page_view(tenant, who), page_view(tenant, who)])
    others_before = await rows(composed, t.events, pseudonym=other)
    # when
    response = await client.post(f"{A}/erase", json={"visitor": visitor, "secret": secret})
    # then
    assert response.status_code == 200
    assert response.json() == {
        "erased": {"events": 2, "visitors": 1, "consents": 2, "coupons": 0, "coupon_touches": 0}
    }
    assert await rows(composed, t.events, pseudonym=visitor) == []
    assert await rows(composed, t.visitors, pseudonym=visitor) == []
    assert await rows(composed, t.consents, pseudonym=visitor) == []
    assert await rows(composed, t.events, pseudonym=other) == others_before
    assert len(await rows(composed, t.visitors, pseudonym=other)) == 1
    async with composed.engine.connect() as conn:
        proof = (
            await conn.execute(
                select(t.consents.c.pseudonym).where(t.consents.c.pseudonym.like("erased:%"))
            )
        ).scalars()
        assert all(len(p) == 32 and visitor not in p for p in proof)
    again = await client.post(f"{A}/export", json={"visitor": visitor, "secret": secret})
    assert again.status_code == 404


async def test_erasure_ends_the_consent_so_later_events_stay_anonymous(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given an erased visitor whose app still sends its id
    visitor, secret = device()
    await register(client, visitor, secret)
    await client.post(f"{A}/erase", json={"visitor": visitor, "secret": secret})
    later = page_view(tenant, visitor)
    # when
    await client.post("/e", json=later)
    # then
    [stored] = await rows(composed, t.events, event_id=uuid.UUID(later["event_id"]))
    assert stored["pseudonym"] is None


async def test_every_request_is_audited_by_a_hash_never_by_pseudonym_or_secret(
    client: httpx.AsyncClient, composed: App
) -> None:
    # given
    visitor, secret = device()
    async with composed.engine.connect() as conn:
        # the newest line so far (ids have gaps on PostgreSQL: a rolled-back insert uses one up)
        start = await conn.scalar(select(func.coalesce(func.max(t.audit_log.c.id), 0)))
    # when
    await register(client, visitor, secret)
    await client.post(f"{A}/export", json={"visitor": visitor, "secret": secret})
    await client.post(f"{A}/erase", json={"visitor": visitor, "secret": secret})
    # then
    async with composed.engine.connect() as conn:
        entries = (
            await conn.execute(
                select(t.audit_log).where(t.audit_log.c.id > start).order_by(t.audit_log.c.id)
            )
        ).all()
    mine = [e for e in entries if e.object_type == "visitor"]
    assert [e.action for e in mine] == ["consent.changed", "visitor.exported", "visitor.erased"]
    assert len({e.object_id for e in mine}) == 1
    assert mine[0].detail == "analytics=yes, personalisation=no"
    text = repr(entries)
    assert visitor not in text
    assert secret not in text


async def test_bad_input_gets_a_specific_translated_answer(
    client: httpx.AsyncClient, composed: App
) -> None:
    # given
    visitor, secret = device()
    cases = [
        (consent_body("not-hex", secret, analytics=True), "visitor"),
        (consent_body(visitor, "kurz", analytics=True), "secret"),
        (consent_body(visitor, secret, tracking=True), "purpose"),
        (consent_body(visitor, secret), "purposes"),
        ({**consent_body(visitor, secret, analytics=True), "text_version": ""}, "text_version"),
    ]
    for body, field in cases:
        # when
        response = await client.post(f"{A}/consent", json=body, headers={"accept-language": "de"})
        # then
        assert response.status_code == 422, body
        [error] = response.json()["errors"]
        assert error["field"] == field
        assert error["message"]
        assert not error["message"].startswith(("A ", "The ", "Name "))
    assert await rows(composed, t.visitors, pseudonym=visitor) == []
