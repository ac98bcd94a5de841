"""The till in the portal and the visitor's coupon pages: forms, CSRF, messages in German."""

from __future__ import annotations

import hashlib
import html
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from marktplatz.bootstrap import App
from marktplatz.domain.content import Content
from marktplatz.domain.coupons import grouped, new_code
from marktplatz.services import coupons, touchpoints
from marktplatz.services.content import CouponInput
from marktplatz.services.decisions import INDEXES
from marktplatz.store import tables as t
from support import Tenant, login, new_client, open_all_day, published_offer, saved_coupon

DE = {"accept-language": "de"}
EN = {"accept-language": "en"}


@pytest.fixture
async def client(web: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A browser with an address of its own (saving coupons is limited per client)."""
    async with new_client(web) as c:
        yield c


async def offer(composed: App, tenant: Tenant, **changes: Any) -> Content:
    return await published_offer(composed, tenant, tenant.shop_a, "Brillenputztuch", **changes)


def till_url(tenant: Tenant, action: str = "") -> str:
    return f"/portal/shops/{tenant.shop_a.id}/till{action}"


async def status_of(composed: App, coupon_id: Any) -> str:
    async with composed.ctx.uow() as uow:
        found = await uow.coupons.get(coupon_id)
    assert found is not None
    return found.status.value


def hidden(page: str, form_action: str) -> dict[str, str]:
    """The hidden fields of the first form posting to form_action."""
    match = re.search(
        rf'<form method="post" action="{re.escape(form_action)}"[^>]*>(.*?)</form>', page, re.S
    )
    assert match, page
    return {
        name: html.unescape(value)
        for name, value in re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', match[1])
    }


# --- the till ---------------------------------------------------------------------------------


async def test_checking_a_code_offers_to_redeem_it(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given a saved coupon and the shop's cashier at the till
    item = await offer(composed, tenant, coupon=CouponInput(stock=20))
    saved = await saved_coupon(composed, item)
    token = await login(client, tenant.users["retailer-staff"])
    # when the cashier types the code
    response = await client.post(
        till_url(tenant, "/check"),
        data={"code": grouped(saved.code).lower(), "csrf_token": token},
        headers=DE,
    )
    # then the page shows the offer with a button that redeems exactly this code
    assert response.status_code == 200, response.text
    assert "Brillenputztuch" in response.text
    assert ">Jetzt einlösen</button>" in response.text
    assert "<dd>0 von 20 eingelöst</dd>" in response.text
    form = hidden(response.text, till_url(tenant, "/redeem"))
    assert form == {"csrf_token": token, "code": grouped(saved.code).lower()}
    assert response.headers["cache-control"] == "no-store"
    assert await status_of(composed, saved.coupon.id) == "saved"


async def test_the_till_shows_when_the_coupon_is_valid_in_the_citys_time(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given a saved coupon of an offer from 2 January 2026, 10:00 until Christmas Eve 2099, 14:30
    start, end = datetime(2026, 1, 2, 9, 0, tzinfo=UTC), datetime(2099, 12, 24, 13, 30, tzinfo=UTC)
    item = await offer(composed, tenant, starts_at=start, ends_at=end)
    saved = await saved_coupon(composed, item)
    token = await login(client, tenant.users["retailer-staff"])
    # when the cashier checks its code on a German page
    response = await client.post(
        till_url(tenant, "/check"), data={"code": saved.code, "csrf_token": token}, headers=DE
    )
    # then both ends are written the one shared way, in Berlin time, each a <time>
    assert response.status_code == 200, response.text
    assert (
        '<dt>Gültig</dt><dd><span class="window">'
        'ab <time datetime="2026-01-02T09:00:00+00:00">Freitag, 2. Januar, 10:00</time> '
        'bis <time datetime="2099-12-24T13:30:00+00:00">Donnerstag, 24. Dezember, 14:30</time>'
        "</span></dd>"
    ) in response.text


async def test_redeeming_shows_redeemed_and_lists_it(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given a saved coupon
    item = await offer(composed, tenant)
    saved = await saved_coupon(composed, item)
    token = await login(client, tenant.users["retailer-owner"])
    # when the owner taps "Redeem now"
    posted = await client.post(
        till_url(tenant, "/redeem"),
        data={"code": saved.code, "csrf_token": token},
        headers=DE,
        follow_redirects=False,
    )
    # then the answer is a redirect to the result, so a reload redeems nothing again
    assert posted.status_code == 303, posted.text
    assert posted.headers["location"] == f"{till_url(tenant)}?redeemed={saved.coupon.id}"
    response = await client.get(posted.headers["location"], headers=DE)
    again = await client.get(posted.headers["location"], headers=DE)
    for page in (response, again):
        assert page.status_code == 200, page.text
        assert "✓ Eingelöst</h2>" in page.text
        assert 'role="alert"' not in page.text
    assert f"… {saved.code[-4:]}" in response.text
    assert f'action="/portal/coupons/{saved.coupon.id}/undo"' in response.text
    assert await status_of(composed, saved.coupon.id) == "redeemed"


async def test_a_redeemed_coupon_is_refused_in_german(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given a coupon redeemed before
    item = await offer(composed, tenant)
    saved = await saved_coupon(composed, item)
    first = await coupons.redeem_coupon(composed.ctx, tenant.users["retailer-staff"], saved.code)
    assert first.coupon.redeemed_at is not None
    when = first.coupon.redeemed_at.astimezone(ZoneInfo("Europe/Berlin"))
    token = await login(client, tenant.users["retailer-staff"])
    # when it is shown again
    response = await client.post(
        till_url(tenant, "/redeem"), data={"code": saved.code, "csrf_token": token}, headers=DE
    )
    # then
    assert response.status_code == 409
    expected = f"Dieser Gutschein wurde bereits am {when:%d.%m.%Y, %H:%M} eingelöst."
    assert expected in response.text
    async with composed.ctx.uow() as uow:
        assert await uow.coupons.tally(item.id) == (1, 1)


async def test_another_shops_coupon_is_refused_naming_that_shop(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given a coupon of shop B
    item = await published_offer(composed, tenant, tenant.shop_b, "Schal gratis")
    saved = await saved_coupon(composed, item)
    token = await login(client, tenant.users["retailer-staff"])
    # when shop A's cashier redeems it
    response = await client.post(
        till_url(tenant, "/redeem"), data={"code": saved.code, "csrf_token": token}, headers=DE
    )
    # then
    assert response.status_code == 409
    assert "Dieser Gutschein gehört zu Mode B und kann nur dort eingelöst werden." in response.text
    assert "Schal gratis" not in response.text
    assert await status_of(composed, saved.coupon.id) == "saved"


async def test_malformed_and_unknown_codes_get_their_own_messages(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # given
    token = await login(client, tenant.users["retailer-staff"])
    # when
    malformed = await client.post(
        till_url(tenant, "/check"), data={"code": "K7QF", "csrf_token": token}, headers=EN
    )
    unknown = await client.post(
        till_url(tenant, "/check"), data={"code": new_code(), "csrf_token": token}, headers=EN
    )
    # then the malformed code is marked at the field; the unknown one is refused
    assert malformed.status_code == 422
    assert 'aria-invalid="true"' in malformed.text
    assert (
        "This is not a coupon code: a code has 12 letters and digits, like K7QF-9M2X-PA3T."
        in malformed.text
    )
    assert unknown.status_code == 409
    assert (
        "No coupon has this code. Check the code with the customer and type it again."
        in unknown.text
    )


async def test_a_till_form_without_the_csrf_token_redeems_nothing(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given a logged-in cashier
    item = await offer(composed, tenant)
    saved = await saved_coupon(composed, item)
    await login(client, tenant.users["retailer-staff"])
    # when a form without the token is posted
    response = await client.post(till_url(tenant, "/redeem"), data={"code": saved.code})
    # then
    assert response.status_code == 403
    assert await status_of(composed, saved.coupon.id) == "saved"


async def test_the_owner_undoes_a_redemption_from_the_till(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given a coupon just redeemed, and the owner at the till
    item = await offer(composed, tenant)
    saved = await saved_coupon(composed, item)
    await coupons.redeem_coupon(composed.ctx, tenant.users["retailer-staff"], saved.code)
    token = await login(client, tenant.users["retailer-owner"])
    url = f"/portal/coupons/{saved.coupon.id}/undo"
    form = {"shop_id": str(tenant.shop_a.id), "csrf_token": token}
    # when the owner first gives no real reason, then one
    short = await client.post(url, data={**form, "reason": "x"}, headers=EN)
    kept = await status_of(composed, saved.coupon.id)
    done = await client.post(url, data={**form, "reason": "Doppelt gescannt"}, headers=EN)
    # then the first is refused at the reason's field, the second undoes the redemption
    assert short.status_code == 422
    assert "Say in 3 to 300 characters why the redemption is undone." in short.text
    assert f'id="e-reason-{saved.coupon.id}"' in short.text
    assert kept == "redeemed"
    assert done.status_code == 303
    assert done.headers["location"] == f"{till_url(tenant)}?undone=1"
    page = await client.get(done.headers["location"], headers=EN)
    assert "The redemption was undone." in page.text
    assert await status_of(composed, saved.coupon.id) == "saved"
    # and a second tap on Undo is no error: what the owner wanted has happened
    twice = await client.post(url, data={**form, "reason": "Doppelt gescannt"}, headers=EN)
    assert (twice.status_code, twice.headers["location"]) == (303, done.headers["location"])
    assert await status_of(composed, saved.coupon.id) == "saved"


# --- the visitor's pages ------------------------------------------------------------------------


async def test_the_save_form_shows_the_coupon_once(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given a published coupon offer
    item = await offer(composed, tenant)
    # when a visitor saves it from the city page
    response = await client.post(
        f"/{tenant.city.slug}/coupons",
        data={"content_id": str(item.id), "back": f"/{tenant.city.slug}"},
        headers=DE,
    )
    # then the page shows its code and QR; the database knows only the code's hash
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert "Ihr Gutschein" in response.text
    match = re.search(r'<strong class="coupon-code">([0-9A-Z-]{14})</strong>', response.text)
    assert match, response.text
    code = match[1].replace("-", "")
    async with composed.engine.connect() as conn:
        found = (
            await conn.execute(
                select(t.coupons.c.code_hash, t.coupons.c.pseudonym).where(
                    t.coupons.c.content_id == item.id
                )
            )
        ).all()
    assert [tuple(r) for r in found] == [(hashlib.sha256(code.encode()).hexdigest(), None)]


async def test_a_sold_out_offer_shows_why_nothing_was_saved(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given an offer with a stock of one, used up
    item = await offer(composed, tenant, coupon=CouponInput(stock=1))
    saved = await saved_coupon(composed, item)
    await coupons.redeem_coupon(composed.ctx, tenant.users["retailer-staff"], saved.code)
    # when another visitor saves it
    response = await client.post(
        f"/{tenant.city.slug}/coupons", data={"content_id": str(item.id)}, headers=DE
    )
    # then
    assert response.status_code == 409
    assert "Gutschein nicht gespeichert" in response.text
    assert "Leider sind alle Gutscheine dieses Angebots schon eingelöst." in response.text
    async with composed.ctx.uow() as uow:
        assert await uow.coupons.tally(item.id) == (1, 1)


async def test_a_scanned_qr_shows_the_offer_right_there_with_a_save_button(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given an always-open shop with a coupon offer and a QR code on its window
    admin = tenant.users["city-admin"]
    await open_all_day(composed, tenant)
    item = await offer(composed, tenant, radius_m=200)
    shop_page = f"/{tenant.city.slug}/shops/{tenant.shop_a.slug}"
    tp = await touchpoints.create_touchpoint(
        composed.ctx,
        admin,
        tenant.city.id,
        {
            "kind": "qr",
            "name": "Schaufenster",
            "lat": 52.105,
            "lon": 8.75,
            "target": shop_page,
            "shop_id": str(tenant.shop_a.id),
        },
    )
    INDEXES.forget()
    # when a visitor scans it and follows the redirect
    scanned = await client.get(f"/q/{tp.code}")
    page = await client.get(scanned.headers["location"], headers=DE)
    # then the shop page shows what is offered right here, with a save button for it
    assert scanned.status_code == 307
    assert scanned.headers["location"] == f"{shop_page}?via={tp.code}"
    assert page.status_code == 200, page.text
    assert "Genau hier für Sie" in page.text
    assert "Brillenputztuch" in page.text
    form = hidden(page.text, f"/{tenant.city.slug}/coupons")
    assert form["content_id"] == str(item.id)
    assert form["touchpoint_id"] == str(tp.id)
    decision = uuid.UUID(form["decision_id"])
    # and saving from there records where the coupon was saved
    saved = await client.post(f"/{tenant.city.slug}/coupons", data=form)
    assert saved.status_code == 200, saved.text
    async with composed.engine.connect() as conn:
        found = (
            await conn.execute(
                select(t.coupons.c.touchpoint_id, t.coupons.c.decision_id).where(
                    t.coupons.c.content_id == item.id
                )
            )
        ).all()
    assert [tuple(r) for r in found] == [(tp.id, decision)]


async def test_a_shop_page_without_via_shows_no_right_here_box(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given a published coupon offer
    await offer(composed, tenant)
    # when the shop page is opened directly, or with a code that is no touchpoint's
    plain = await client.get(f"/{tenant.city.slug}/shops/{tenant.shop_a.slug}", headers=EN)
    bogus = await client.get(
        f"/{tenant.city.slug}/shops/{tenant.shop_a.slug}?via=zzzzzzzz", headers=EN
    )
    # then
    assert plain.status_code == bogus.status_code == 200
    assert "Right here for you" not in plain.text
    assert "Right here for you" not in bogus.text
