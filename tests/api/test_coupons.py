"""Coupons over HTTP: saving, the wallet, the till's verdicts, undo, results and attribution."""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from marktplatz.adapters.clock import FixedClock
from marktplatz.bootstrap import App
from marktplatz.domain.content import Action, Content
from marktplatz.domain.coupons import new_code
from marktplatz.domain.touchpoints import Touchpoint
from marktplatz.services import content as content_service
from marktplatz.services import coupons, visitors
from marktplatz.services.content import CouponInput
from marktplatz.services.coupons import GuessingThrottled, RedeemRefused
from marktplatz.settings import Settings
from marktplatz.store import tables as t
from marktplatz.web.app import create_app
from support import Tenant, login, make_tenant, make_user, new_client, published_offer
from support import qr_point as point

EN = {"accept-language": "en"}
BERLIN = ZoneInfo("Europe/Berlin")
GROUPED = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")
DEFAULT_ATTRIBUTION_DAYS = Settings.model_fields["attribution_days"].default
UNKNOWN = "No coupon has this code. Check the code with the customer and type it again."


# --- fixtures and helpers ------------------------------------------------------------------


@pytest.fixture
async def client(web: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A visitor's phone, with an address of its own (saving is limited per client)."""
    async with new_client(web) as c:
        yield c


@pytest.fixture
async def till(web: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The shop's till: another browser, where a cashier logs in."""
    async with new_client(web) as c:
        yield c


@pytest.fixture
async def timed(settings: Settings) -> AsyncIterator[tuple[Any, FixedClock]]:
    """An app on the same database whose clock stands still until a test moves it."""
    clock = FixedClock(datetime.now(UTC))
    app: Any = create_app(settings, clock=clock)
    try:
        yield app, clock
    finally:
        await app.state.marktplatz.close()


async def offer(composed: App, tenant: Tenant, **changes: Any) -> Content:
    return await published_offer(composed, tenant, tenant.shop_a, "Brillenputztuch", **changes)


async def consenting(composed: App, analytics: bool = True) -> tuple[str, str]:
    """A registered visitor (pseudonym, secret) who did or did not allow analytics."""
    pseudonym, secret = secrets.token_hex(16), secrets.token_urlsafe(32)
    await visitors.record_consent(
        composed.ctx,
        visitor=pseudonym,
        secret=secret,
        purposes={"analytics": analytics, "personalisation": not analytics},
        text_version="2026-11",
    )
    return pseudonym, secret


async def save(client: httpx.AsyncClient, item: Content, **extra: Any) -> httpx.Response:
    body = {"content_id": str(item.id), **{k: str(v) for k, v in extra.items()}}
    return await client.post("/api/v1/coupons", json=body, headers=EN)


async def saved_code(client: httpx.AsyncClient, item: Content, **extra: Any) -> str:
    response = await save(client, item, **extra)
    assert response.status_code == 201, response.text
    code: str = response.json()["code"]
    return code


async def cashier(till: httpx.AsyncClient, tenant: Tenant, role: str = "retailer-staff") -> Any:
    """Log a cashier in at the till; the headers its state changes need."""
    return {"x-csrf-token": await login(till, tenant.users[role]), **EN}


async def at_till(till: httpx.AsyncClient, action: str, code: str, headers: Any) -> httpx.Response:
    return await till.post(f"/api/v1/coupons/{action}", json={"code": code}, headers=headers)


async def rows(composed: App, query: Any) -> list[dict[str, Any]]:
    async with composed.engine.connect() as conn:
        return [dict(r._mapping) for r in await conn.execute(query)]


async def coupon_row(composed: App, coupon_id: str) -> dict[str, Any]:
    [row] = await rows(composed, select(t.coupons).where(t.coupons.c.id == uuid.UUID(coupon_id)))
    return row


async def tally(composed: App, item: Content) -> tuple[int, int]:
    async with composed.ctx.uow() as uow:
        return await uow.coupons.tally(item.id)


def local(at: datetime) -> str:
    """A time as an English message writes it, in the city's zone."""
    t = at.astimezone(BERLIN)
    return f"{t:%b} {t.day}, {t.year}, {t.hour % 12 or 12}:{t:%M} {t:%p}"


# --- saving ----------------------------------------------------------------------------------


async def test_an_anonymous_save_stores_only_the_codes_hash_and_tail(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given a published coupon offer shown at a touchpoint
    item = await offer(composed, tenant)
    tp = await point(composed, tenant)
    decision = uuid.uuid4()
    # when a visitor without consent saves it
    response = await save(client, item, touchpoint_id=tp.id, decision_id=decision)
    # then the code is handed out once, grouped, with its QR code
    assert response.status_code == 201, response.text
    body = response.json()
    assert GROUPED.fullmatch(body["code"])
    assert body["qr_svg"].lstrip().startswith(("<svg", "<?xml"))
    assert (body["content_id"], body["title"], body["shop"]) == (
        str(item.id),
        "Brillenputztuch",
        "Optik A",
    )
    assert response.headers["cache-control"] == "no-store"
    # and the database keeps the hash and the last four signs, but neither code nor visitor
    code = body["code"].replace("-", "")
    row = await coupon_row(composed, body["coupon_id"])
    assert row["code_hash"] == hashlib.sha256(code.encode()).hexdigest()
    assert row["code_tail"] == code[-4:]
    assert (row["status"], row["pseudonym"]) == ("saved", None)
    assert (row["touchpoint_id"], row["decision_id"]) == (tp.id, decision)
    assert not [v for v in row.values() if code in str(v) or body["code"] in str(v)]
    assert await tally(composed, item) == (1, 0)
    # and a content.saved event names the touchpoint, not the visitor
    events = await rows(
        composed,
        select(t.events.c.kind, t.events.c.touchpoint_id, t.events.c.pseudonym).where(
            t.events.c.content_id == str(item.id)
        ),
    )
    assert events == [{"kind": "content.saved", "touchpoint_id": tp.id, "pseudonym": None}]


async def test_a_pseudonym_is_kept_only_with_consent_to_analytics(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given one visitor who allowed analytics and one who did not
    item = await offer(composed, tenant)
    yes, _ = await consenting(composed)
    no, _ = await consenting(composed, analytics=False)
    # when both save the offer
    kept = await save(client, item, visitor=yes)
    dropped = await save(client, item, visitor=no)
    # then only the consenting visitor's coupon names them
    assert (kept.status_code, dropped.status_code) == (201, 201)
    assert (await coupon_row(composed, kept.json()["coupon_id"]))["pseudonym"] == yes
    assert (await coupon_row(composed, dropped.json()["coupon_id"]))["pseudonym"] is None


async def test_a_consenting_visitor_cannot_save_the_same_coupon_twice(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given a consenting visitor who saved the offer
    item = await offer(composed, tenant)
    visitor, _ = await consenting(composed)
    await saved_code(client, item, visitor=visitor)
    # when they save it again
    again = await save(client, item, visitor=visitor)
    # then they are told it is in their wallet, and nothing more is saved
    assert again.status_code == 422, again.text
    assert again.json() == {
        "detail": "invalid input",
        "errors": [{"field": "content_id", "message": "This coupon is already in your wallet."}],
    }
    assert await tally(composed, item) == (1, 0)
    found = await rows(composed, select(t.coupons.c.id).where(t.coupons.c.content_id == item.id))
    assert len(found) == 1


async def test_the_limit_per_person_refuses_a_save_once_it_is_used(
    client: httpx.AsyncClient, till: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given an offer once per person whose coupon a consenting visitor has redeemed
    item = await offer(composed, tenant, coupon=CouponInput(per_person=1))
    visitor, _ = await consenting(composed)
    code = await saved_code(client, item, visitor=visitor)
    redeemed = await at_till(till, "redeem", code, await cashier(till, tenant))
    assert redeemed.status_code == 200, redeemed.text
    # when the visitor saves it again
    again = await save(client, item, visitor=visitor)
    # then
    assert again.status_code == 422, again.text
    assert again.json()["errors"] == [
        {"field": "content_id", "message": "You have already used this offer as often as allowed."}
    ]
    assert await tally(composed, item) == (1, 1)


# --- the wallet --------------------------------------------------------------------------------


async def test_the_wallet_follows_a_coupon_from_saved_to_redeemed(
    client: httpx.AsyncClient, till: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given a saved coupon and a code nobody has
    item = await offer(composed, tenant)
    code = await saved_code(client, item)
    nobody = new_code()
    ask = {"codes": [code, nobody]}
    # when the wallet asks before and after the redemption
    before = await client.post("/api/v1/coupons/wallet", json=ask)
    assert (await at_till(till, "redeem", code, await cashier(till, tenant))).status_code == 200
    after = await client.post("/api/v1/coupons/wallet", json=ask)
    # then each code is answered as the device sent it
    assert before.json() == {"states": {code: "saved", nobody: "unknown"}}
    assert after.json() == {"states": {code: "redeemed", nobody: "unknown"}}


async def test_the_wallet_answers_at_most_a_hundred_codes(client: httpx.AsyncClient) -> None:
    # when
    response = await client.post(
        "/api/v1/coupons/wallet", json={"codes": [new_code() for _ in range(101)]}
    )
    # then
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["codes"]


# --- the till ---------------------------------------------------------------------------------


async def test_the_till_shows_the_offer_and_its_limits_then_redeems(
    client: httpx.AsyncClient, till: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given a coupon of an offer with a stock and a limit per person
    item = await offer(composed, tenant, coupon=CouponInput(stock=20, per_person=2, period="day"))
    code = await saved_code(client, item)
    headers = await cashier(till, tenant)
    # when the cashier checks the code, typed in lower case, then redeems it
    checked = await at_till(till, "check", code.lower(), headers)
    redeemed = await at_till(till, "redeem", code, headers)
    # then the check shows the offer and changes nothing; the redemption is counted
    assert checked.status_code == 200, checked.text
    view = checked.json()
    assert (view["title"], view["status"], view["refusal"]) == ("Brillenputztuch", "saved", None)
    assert (view["stock"], view["per_person"], view["period"]) == (20, 2, "day")
    assert (view["saved"], view["redeemed"], view["code_tail"]) == (1, 0, code[-4:])
    assert redeemed.status_code == 200, redeemed.text
    done = redeemed.json()
    assert (done["status"], done["redeemed"], done["can_undo"]) == ("redeemed", 1, False)
    row = await coupon_row(composed, done["coupon_id"])
    assert (row["status"], row["redeemed_by"]) == ("redeemed", tenant.users["retailer-staff"].id)
    assert await tally(composed, item) == (1, 1)


async def test_an_expired_coupon_is_refused_with_its_end(
    timed: tuple[Any, FixedClock], composed: App, tenant: Tenant
) -> None:
    # given a coupon of an offer that ends in an hour
    app, clock = timed
    ends = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    item = await offer(composed, tenant, ends_at=ends)
    async with new_client(app) as phone, new_client(app) as desk:
        code = await saved_code(phone, item)
        headers = await cashier(desk, tenant)
        # when the customer comes two hours later
        clock.advance(timedelta(hours=2))
        checked = await at_till(desk, "check", code, headers)
        redeemed = await at_till(desk, "redeem", code, headers)
    # then the till says when it expired, and nothing is redeemed
    message = f"This coupon expired on {local(ends)}."
    assert checked.status_code == 200, checked.text
    assert checked.json()["refusal"] == {"code": "expired", "message": message}
    assert redeemed.status_code == 409
    assert redeemed.json() == {"detail": message, "refusal": "expired"}
    assert await tally(composed, item) == (1, 0)


async def test_a_coupon_is_redeemed_once_and_then_refused_with_the_time(
    client: httpx.AsyncClient, till: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given a redeemed coupon
    item = await offer(composed, tenant)
    code = await saved_code(client, item)
    headers = await cashier(till, tenant)
    first = await at_till(till, "redeem", code, headers)
    # when it is shown at the till again
    again = await at_till(till, "redeem", code, headers)
    # then
    when = local(datetime.fromisoformat(first.json()["redeemed_at"]))
    assert again.status_code == 409
    assert again.json() == {
        "detail": f"This coupon was already redeemed on {when}.",
        "refusal": "already-redeemed",
    }
    assert await tally(composed, item) == (1, 1)


async def test_another_shops_coupon_is_refused_with_that_shops_name(
    client: httpx.AsyncClient, till: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given a coupon of shop B
    item = await published_offer(composed, tenant, tenant.shop_b, "Schal gratis")
    code = await saved_code(client, item)
    # when shop A's owner tries to redeem it
    response = await at_till(till, "redeem", code, await cashier(till, tenant, "retailer-owner"))
    # then the message names shop B, and the coupon is untouched
    assert response.status_code == 409
    assert response.json() == {
        "detail": "This coupon belongs to Mode B and can only be redeemed there.",
        "refusal": "foreign-shop",
    }
    assert await tally(composed, item) == (1, 0)


async def test_a_malformed_code_is_named_as_such(
    till: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # when
    response = await at_till(till, "check", "K7QF-9M2X", await cashier(till, tenant))
    # then
    assert response.status_code == 422
    assert response.json() == {
        "detail": "invalid input",
        "errors": [
            {
                "field": "code",
                "message": "This is not a coupon code: a code has 12 letters and digits, like "
                "K7QF-9M2X-PA3T.",
            }
        ],
    }


async def test_an_unknown_code_is_named_as_such(
    till: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # when
    response = await at_till(till, "redeem", new_code(), await cashier(till, tenant))
    # then
    assert response.status_code == 409
    assert response.json() == {"detail": UNKNOWN, "refusal": "unknown"}


async def test_another_citys_coupon_looks_unknown(
    client: httpx.AsyncClient, till: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given a coupon of a second city's shop
    other = await make_tenant(composed)
    item = await published_offer(composed, other, other.shop_a, "Fremdes Angebot")
    code = await saved_code(client, item)
    # when our city's admin checks it
    admin = await at_till(till, "check", code, await cashier(till, tenant, "city-admin"))
    # then it looks like a code nobody has
    assert admin.status_code == 409
    assert admin.json() == {"detail": UNKNOWN, "refusal": "unknown"}
    assert "Fremdes Angebot" not in admin.text
    assert await tally(composed, item) == (1, 0)


async def test_a_redemption_without_the_csrf_token_is_refused(
    client: httpx.AsyncClient, till: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given a logged-in cashier and a saved coupon
    item = await offer(composed, tenant)
    code = await saved_code(client, item)
    await cashier(till, tenant)
    # when a request with the session cookie but without the token redeems it
    response = await till.post("/api/v1/coupons/redeem", json={"code": code})
    # then
    assert response.status_code == 403
    assert await tally(composed, item) == (1, 0)
    wallet = await client.post("/api/v1/coupons/wallet", json={"codes": [code]})
    assert wallet.json() == {"states": {code: "saved"}}


async def test_guessing_codes_pauses_the_till_and_leaves_an_audit_trail(
    client: httpx.AsyncClient, till: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given a valid coupon, and a cashier who types ten codes nobody has
    item = await offer(composed, tenant)
    code = await saved_code(client, item)
    headers = await cashier(till, tenant)
    guesses = [new_code() for _ in range(10)]
    answers = [(await at_till(till, "check", g, headers)).status_code for g in guesses]
    # when the cashier then tries the valid code
    response = await at_till(till, "redeem", code, headers)
    # then the till is paused, even for a valid code
    assert answers == [409] * 10
    assert response.status_code == 429
    assert response.headers["retry-after"] == "600"
    assert response.json() == {
        "detail": "Too many unknown codes. The till is paused for a few minutes."
    }
    assert await tally(composed, item) == (1, 0)
    # and every unknown code is in the audit log by its last four signs only
    audit = await rows(
        composed,
        select(t.audit_log.c.action, t.audit_log.c.object_id, t.audit_log.c.detail)
        .where(
            t.audit_log.c.actor_id == tenant.users["retailer-staff"].id,
            t.audit_log.c.action.like("coupon.%"),
        )
        .order_by(t.audit_log.c.id),
    )
    assert [(a["action"], a["object_id"]) for a in audit] == [
        ("coupon.unknown_code", f"…{g[-4:]}") for g in guesses
    ]
    assert not [a for a in audit if any(g in str(a) for g in guesses)]


# --- undo --------------------------------------------------------------------------------------


async def redeemed_coupon(
    client: httpx.AsyncClient, till: httpx.AsyncClient, composed: App, tenant: Tenant
) -> tuple[Content, str]:
    """An offer and a coupon of it just redeemed by the shop's staff (the cashier logs out)."""
    item = await offer(composed, tenant)
    code = await saved_code(client, item)
    headers = await cashier(till, tenant)
    response = await at_till(till, "redeem", code, headers)
    assert response.status_code == 200, response.text
    await till.delete("/api/v1/session", headers=headers)
    coupon_id: str = response.json()["coupon_id"]
    return item, coupon_id


async def redemption_events(composed: App, item: Content) -> list[dict[str, Any]]:
    query = select(t.events.c.kind).where(
        t.events.c.content_id == str(item.id), t.events.c.kind == "coupon.redeemed"
    )
    return await rows(composed, query)


async def undo_audit(composed: App, coupon_id: str) -> list[dict[str, Any]]:
    query = select(t.audit_log.c.actor_id, t.audit_log.c.detail).where(
        t.audit_log.c.action == "coupon.redemption_undone", t.audit_log.c.object_id == coupon_id
    )
    return await rows(composed, query)


async def test_the_owner_undoes_a_redemption_with_a_reason(
    client: httpx.AsyncClient, till: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given a coupon redeemed a moment ago
    item, coupon_id = await redeemed_coupon(client, till, composed, tenant)
    assert await redemption_events(composed, item) == [{"kind": "coupon.redeemed"}]
    headers = await cashier(till, tenant, "retailer-owner")
    # when the owner undoes it
    response = await till.post(
        f"/api/v1/coupons/{coupon_id}/undo",
        json={"reason": "Falscher Gutschein gescannt"},
        headers=headers,
    )
    # then the coupon is open again, the tally and the journey forget the redemption
    assert response.status_code == 200, response.text
    assert response.json() == {"coupon_id": coupon_id, "status": "saved"}
    row = await coupon_row(composed, coupon_id)
    assert (row["status"], row["redeemed_at"], row["redeemed_by"]) == ("saved", None, None)
    assert await tally(composed, item) == (1, 0)
    assert await redemption_events(composed, item) == []
    assert await undo_audit(composed, coupon_id) == [
        {"actor_id": tenant.users["retailer-owner"].id, "detail": "Falscher Gutschein gescannt"}
    ]


async def test_the_shops_staff_may_not_undo(
    client: httpx.AsyncClient, till: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given a coupon redeemed a moment ago
    item, coupon_id = await redeemed_coupon(client, till, composed, tenant)
    before = await coupon_row(composed, coupon_id)
    headers = await cashier(till, tenant, "retailer-staff")
    # when the cashier tries to undo it
    response = await till.post(
        f"/api/v1/coupons/{coupon_id}/undo", json={"reason": "Vertippt"}, headers=headers
    )
    # then nothing changed
    assert response.status_code == 403
    assert await coupon_row(composed, coupon_id) == before
    assert await tally(composed, item) == (1, 1)
    assert await redemption_events(composed, item) == [{"kind": "coupon.redeemed"}]
    assert await undo_audit(composed, coupon_id) == []


async def test_an_undo_needs_a_reason(
    client: httpx.AsyncClient, till: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given
    item, coupon_id = await redeemed_coupon(client, till, composed, tenant)
    headers = await cashier(till, tenant, "retailer-owner")
    # when
    response = await till.post(
        f"/api/v1/coupons/{coupon_id}/undo", json={"reason": " x "}, headers=headers
    )
    # then
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "reason",
            "message": "Say in 3 to 300 characters why the redemption is undone.",
        }
    ]
    assert (await coupon_row(composed, coupon_id))["status"] == "redeemed"
    assert await tally(composed, item) == (1, 1)


async def test_a_redemption_cannot_be_undone_after_the_window(
    timed: tuple[Any, FixedClock], composed: App, tenant: Tenant
) -> None:
    # given a coupon redeemed at the timed app's till
    app, clock = timed
    item = await offer(composed, tenant)
    async with new_client(app) as phone, new_client(app) as desk:
        code = await saved_code(phone, item)
        staff = await cashier(desk, tenant)
        coupon_id = (await at_till(desk, "redeem", code, staff)).json()["coupon_id"]
        await desk.delete("/api/v1/session", headers=staff)
        headers = await cashier(desk, tenant, "retailer-owner")
        # when the owner wants to undo it 31 minutes later
        clock.advance(timedelta(minutes=31))
        response = await desk.post(
            f"/api/v1/coupons/{coupon_id}/undo", json={"reason": "Zu spät bemerkt"}, headers=headers
        )
    # then
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        {"field": "coupon", "message": "A redemption can only be undone within 30 minutes."}
    ]
    assert (await coupon_row(composed, coupon_id))["status"] == "redeemed"
    assert await tally(composed, item) == (1, 1)
    assert await undo_audit(composed, coupon_id) == []


# --- results ---------------------------------------------------------------------------------


async def redeem_at(
    n: int,
    tp: Touchpoint,
    item: Content,
    client: httpx.AsyncClient,
    till: httpx.AsyncClient,
    headers: Any,
) -> None:
    for _ in range(n):
        code = await saved_code(client, item, touchpoint_id=tp.id)
        assert (await at_till(till, "redeem", code, headers)).status_code == 200


async def results(till: httpx.AsyncClient, item: Content) -> dict[str, Any]:
    response = await till.get(f"/api/v1/contents/{item.id}/results")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


@pytest.mark.parametrize(("redemptions", "shown"), [(4, None), (5, 5)])
async def test_a_touchpoints_redemptions_are_shown_from_five_on(
    redemptions: int,
    shown: int | None,
    client: httpx.AsyncClient,
    till: httpx.AsyncClient,
    composed: App,
    tenant: Tenant,
) -> None:
    # given an offer whose coupons were all saved at one touchpoint and redeemed
    item = await offer(composed, tenant)
    tp = await point(composed, tenant, "Rathaus")
    headers = await cashier(till, tenant, "retailer-owner")
    await redeem_at(redemptions, tp, item, client, till, headers)
    # when the owner looks at the offer's results
    found = await results(till, item)
    # then the touchpoint's cells and the totals show the count only from five visitors on
    assert found["touchpoints"] == [
        {
            "touchpoint_id": str(tp.id),
            "name": "Rathaus",
            "exposed": 0,
            "viewed": 0,
            "saved": shown,
            "redeemed": shown,
            "led": 0,
        }
    ]
    assert (found["totals"]["saved"], found["totals"]["redeemed"]) == (shown, shown)
    # and the shop's tallies, which equal those totals, do not give the hidden cells away
    assert (found["saved"], found["redeemed"]) == (shown, shown)


async def test_another_shops_retailer_gets_no_results(
    till: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given an offer of shop B
    item = await published_offer(composed, tenant, tenant.shop_b, "Schal gratis")
    await cashier(till, tenant, "retailer-owner")
    # when shop A's owner asks for its results
    response = await till.get(f"/api/v1/contents/{item.id}/results")
    # then it looks nonexistent
    assert response.status_code == 404
    assert response.json() == {"detail": "not found"}


# --- attribution ---------------------------------------------------------------------------------


async def contact(
    client: httpx.AsyncClient,
    tenant: Tenant,
    tp: Touchpoint,
    visitor: str,
    at: datetime | None = None,
) -> None:
    """The visitor meets the touchpoint `at` that time (five minutes ago)."""
    event = {
        "event_id": str(uuid.uuid4()),
        "kind": "touchpoint.contact",
        "city": tenant.city.slug,
        "occurred_at": (at or datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
        "touchpoint_id": str(tp.id),
        "channel": "qr",
        "visitor": visitor,
    }
    response = await client.post("/e", json=event)
    assert response.json() == {"accepted": 1, "rejected": []}, response.text


async def touches(composed: App, coupon_id: str) -> list[tuple[Any, str, str]]:
    c = t.coupon_touches.c
    query = (
        select(c.touchpoint_id, c.kind, c.pseudonym)
        .where(c.coupon_id == uuid.UUID(coupon_id))
        .order_by(c.occurred_at, c.id)
    )
    return [(r["touchpoint_id"], r["kind"], r["pseudonym"]) for r in await rows(composed, query)]


async def journey_to_the_till(
    client: httpx.AsyncClient,
    till: httpx.AsyncClient,
    composed: App,
    tenant: Tenant,
    visitor: str,
) -> tuple[list[Touchpoint], str]:
    """The visitor meets two touchpoints, saves the offer and has it redeemed."""
    item = await offer(composed, tenant)
    met = [await point(composed, tenant, "Bahnhof"), await point(composed, tenant, "Markt")]
    for tp in met:
        await contact(client, tenant, tp, visitor)
    response = await save(client, item, visitor=visitor)
    assert response.status_code == 201, response.text
    redeemed = await at_till(till, "redeem", response.json()["code"], await cashier(till, tenant))
    assert redeemed.status_code == 200, redeemed.text
    return met, response.json()["coupon_id"]


async def test_a_consenting_visitors_contacts_are_linked_to_the_redemption(
    client: httpx.AsyncClient, till: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given a visitor who allowed analytics
    visitor, _ = await consenting(composed)
    # when they meet two touchpoints, save the offer and redeem it
    met, coupon_id = await journey_to_the_till(client, till, composed, tenant, visitor)
    # then both contacts are recorded as having led to the redemption
    assert await touches(composed, coupon_id) == [
        (tp.id, "touchpoint.contact", visitor) for tp in met
    ]


async def test_without_consent_nothing_is_linked(
    client: httpx.AsyncClient, till: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given a visitor who did not allow analytics
    visitor, _ = await consenting(composed, analytics=False)
    # when they take the same journey
    _, coupon_id = await journey_to_the_till(client, till, composed, tenant, visitor)
    # then
    assert await touches(composed, coupon_id) == []
    assert (await coupon_row(composed, coupon_id))["pseudonym"] is None


async def test_erasure_drops_the_path_to_a_redemption_and_unlinks_the_coupon(
    client: httpx.AsyncClient, till: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given a consenting visitor whose redemption was linked to two contacts
    visitor, secret = await consenting(composed)
    _, coupon_id = await journey_to_the_till(client, till, composed, tenant, visitor)
    assert len(await touches(composed, coupon_id)) == 2
    # when the visitor erases their data
    response = await client.post(
        "/api/v1/visitor/erase", json={"visitor": visitor, "secret": secret}
    )
    # then the path is gone; the coupon stays as the shop's record, without the visitor
    assert response.status_code == 200, response.text
    erased = response.json()["erased"]
    assert (erased["coupons"], erased["coupon_touches"]) == (1, 2)
    assert await touches(composed, coupon_id) == []
    row = await coupon_row(composed, coupon_id)
    assert row["status"] == "redeemed"
    assert row["pseudonym"] is None
    still = await rows(composed, select(t.coupons.c.id).where(t.coupons.c.pseudonym == visitor))
    assert still == []


@pytest.mark.parametrize("days", [DEFAULT_ATTRIBUTION_DAYS, 3])
async def test_only_contacts_within_the_attribution_window_are_linked(
    settings: Settings, composed: App, tenant: Tenant, days: int
) -> None:
    # given an app whose clock stands still and whose redemptions look `days` back
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    app: Any = create_app(settings.model_copy(update={"attribution_days": days}), clock=clock)
    visitor, _ = await consenting(composed)
    item = await offer(composed, tenant)
    early, late = await point(composed, tenant, "Bahnhof"), await point(composed, tenant, "Markt")
    first = clock.now()
    try:
        async with new_client(app) as phone, new_client(app) as desk:
            # and a visitor who meets one touchpoint, another two minutes later, and saves the offer
            clock.advance(timedelta(minutes=2))
            await contact(phone, tenant, early, visitor, at=first)
            await contact(phone, tenant, late, visitor, at=clock.now())
            code = await saved_code(phone, item, visitor=visitor)
            # when the coupon is redeemed a minute more than the window after the first contact
            clock.advance(timedelta(days=days, minutes=-1))
            redeemed = await at_till(desk, "redeem", code, await cashier(desk, tenant))
    finally:
        await app.state.marktplatz.close()
    # then only the contact inside the window (by a minute) is linked to the redemption
    assert redeemed.status_code == 200, redeemed.text
    assert await touches(composed, redeemed.json()["coupon_id"]) == [
        (late.id, "touchpoint.contact", visitor)
    ]


# --- what review found ---------------------------------------------------------------------------


async def test_an_offer_ended_by_hand_is_refused_without_a_date(
    client: httpx.AsyncClient, till: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given a saved coupon of an offer without an end date that the owner then ended early
    item = await offer(composed, tenant)
    code = await saved_code(client, item)
    owner = tenant.users["retailer-owner"]
    await content_service.act_on_content(composed.ctx, owner, item.id, Action.EXPIRE)
    headers = await cashier(till, tenant)
    # when the cashier checks it
    response = await at_till(till, "check", code, headers)
    # then the till says the shop ended the offer, and names no date that has not come
    assert response.status_code == 200, response.text
    assert response.json()["refusal"] == {
        "code": "ended",
        "message": "The shop has ended this offer; its coupons can no longer be redeemed.",
    }


async def test_withdrawing_analytics_unlinks_the_visitors_coupons(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given a consenting visitor's coupon
    item = await offer(composed, tenant)
    visitor, secret = await consenting(composed)
    response = await save(client, item, visitor=visitor)
    coupon_id = response.json()["coupon_id"]
    assert (await coupon_row(composed, coupon_id))["pseudonym"] == visitor
    # when they withdraw their consent to analytics
    await visitors.record_consent(
        composed.ctx,
        visitor=visitor,
        secret=secret,
        purposes={"analytics": False},
        text_version="2026-11",
    )
    # then the coupon stays but is linked to no one
    row = await coupon_row(composed, coupon_id)
    assert (row["status"], row["pseudonym"]) == ("saved", None)


async def test_concurrent_guesses_of_one_cashier_are_counted_each(
    composed: App, tenant: Tenant
) -> None:
    # given a cashier (a fresh account: the limit counts per account)
    guesser = await make_user(composed, "retailer-staff", tenant.city, tenant.shop_a)
    # when sixty unknown codes arrive at once
    outcomes = await asyncio.gather(
        *(coupons.check_coupon(composed.ctx, guesser, new_code()) for _ in range(60)),
        return_exceptions=True,
    )
    # then ten are looked up and refused as unknown, the rest is throttled
    unknown = [o for o in outcomes if isinstance(o, RedeemRefused)]
    throttled = [o for o in outcomes if isinstance(o, GuessingThrottled)]
    assert (len(unknown), len(throttled)) == (10, 50)
    audited = await rows(
        composed,
        select(t.audit_log.c.id).where(
            t.audit_log.c.actor_id == guesser.id, t.audit_log.c.action == "coupon.unknown_code"
        ),
    )
    assert len(audited) == 10


async def test_the_wallet_may_be_asked_sixty_times_a_minute(web: Any) -> None:
    # given one client
    async with new_client(web) as phone:
        # when it asks for its coupons' state again and again
        answers = [
            (await phone.post("/api/v1/coupons/wallet", json={"codes": [new_code()]})).status_code
            for _ in range(61)
        ]
    # then the 61st answer within the minute is refused
    assert answers == [200] * 60 + [429]


async def test_the_export_holds_the_path_that_led_to_a_redemption(
    client: httpx.AsyncClient, till: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given a consenting visitor who met a touchpoint and then redeemed a coupon
    item = await offer(composed, tenant)
    tp = await point(composed, tenant, "Brunnen")
    visitor, secret = await consenting(composed)
    await contact(client, tenant, tp, visitor)
    code = await saved_code(client, item, visitor=visitor)
    assert (await at_till(till, "redeem", code, await cashier(till, tenant))).status_code == 200
    # when they export their data
    response = await client.post(
        "/api/v1/visitor/export", json={"visitor": visitor, "secret": secret}
    )
    # then their coupon and the contact linked to it are in it
    data = response.json()
    assert [c["status"] for c in data["coupons"]] == ["redeemed"]
    assert [(x["kind"], x["touchpoint_id"]) for x in data["coupon_touches"]] == [
        ("touchpoint.contact", str(tp.id))
    ]
