"""The shop overview: today's opening state, what visitors see, what waits, recent redemptions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from marktplatz.bootstrap import App
from marktplatz.domain.content import Action, ContentKind
from marktplatz.services import content, coupons, shops
from marktplatz.services.content import ContentInput
from support import Tenant, login, new_client, published, published_offer, saved_coupon

EN = {"accept-language": "en"}


def overview_url(tenant: Tenant) -> str:
    return f"/portal/shops/{tenant.shop_a.id}/overview"


async def owner_writes(composed: App, tenant: Tenant, title: str, submit: bool) -> None:
    owner = tenant.users["retailer-owner"]
    data = ContentInput(kind=ContentKind.STORY, title=title)
    item = await content.create_content(composed.ctx, owner, tenant.city.id, tenant.shop_a.id, data)
    if submit:
        await content.act_on_content(composed.ctx, owner, item.id, Action.SUBMIT)


async def test_the_owner_sees_today_published_waiting_returned_and_redeemed(
    composed: App, tenant: Tenant, web: Any
) -> None:
    # given: lunch-break hours, an offer redeemed twice, one ending soon, one waiting, one returned
    ctx, admin = composed.ctx, tenant.users["city-admin"]
    await shops.update_shop(
        ctx, admin, tenant.shop_a.id, {"opening_hours": "Mo-Su 09:00-13:00,14:30-18:30"}
    )
    offer = await published_offer(composed, tenant, tenant.shop_a, "Brillenputztuch gratis")
    soon = datetime.now(UTC) + timedelta(days=1)
    await published(
        composed, tenant, tenant.shop_a, ContentInput(ContentKind.STORY, "Kurz da", ends_at=soon)
    )
    for _ in range(2):
        code = (await saved_coupon(composed, offer)).code
        await coupons.redeem_coupon(ctx, tenant.users["retailer-staff"], code, tenant.shop_a.id)
    await content.set_rules(ctx, admin, tenant.city.id, {"approve_everything": True})
    await owner_writes(composed, tenant, "Neue Gleitsichtgläser", submit=True)
    await owner_writes(composed, tenant, "Halb fertig", submit=False)
    await owner_writes(composed, tenant, "Zu laut", submit=True)
    (loud,) = [
        c for c in await content.shop_contents(ctx, admin, tenant.shop_a.id) if c.title == "Zu laut"
    ]
    await content.act_on_content(ctx, admin, loud.id, Action.REJECT, "Bitte ohne Großbuchstaben.")
    async with new_client(web) as client:
        await login(client, tenant.users["retailer-owner"])
        # when
        page = await client.get(overview_url(tenant), headers=EN)
    # then
    text = page.text
    assert page.status_code == 200
    assert "09:00–13:00, 14:30–18:30" in text
    assert "<dd data-redeemed-today>2</dd>" in text
    assert "<dd data-redeemed-week>2</dd>" in text
    assert text.count("Brillenputztuch gratis") == 3  # published, and two redemptions
    published_part = text.split('id="published-h"')[1].split('id="waiting-h"')[0]
    assert "Kurz da" in published_part
    assert "ends " in published_part
    waiting_part = text.split('id="waiting-h"')[1]
    assert "Neue Gleitsichtgläser" in waiting_part
    assert "1 draft not yet submitted" in waiting_part
    returned_part = text.split('id="rejected-h"')[1].split('id="published-h"')[0]
    assert "Zu laut" in returned_part
    assert "Bitte ohne Großbuchstaben." in returned_part
    assert f'href="/portal/shops/{tenant.shop_a.id}/content/new?kind=offer"' in text


async def test_a_cashier_sees_the_day_but_no_writing_buttons(
    composed: App, tenant: Tenant, web: Any
) -> None:
    # given
    async with new_client(web) as client:
        await login(client, tenant.users["retailer-staff"])
        # when
        page = await client.get(overview_url(tenant), headers=EN)
    # then
    assert page.status_code == 200
    assert "Nothing is published right now" in page.text
    assert "/content/new" not in page.text
    assert f'href="/portal/shops/{tenant.shop_a.id}/till"' in page.text


async def test_the_overview_is_first_in_the_shop_navigation(tenant: Tenant, web: Any) -> None:
    # given
    async with new_client(web) as client:
        await login(client, tenant.users["retailer-owner"])
        # when
        page = await client.get(f"/portal/shops/{tenant.shop_a.id}/staff", headers=EN)
    # then
    nav = page.text.split('class="subnav"')[1].split("</nav>")[0]
    assert nav.index("/overview") < nav.index("/staff")
