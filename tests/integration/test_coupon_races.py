"""Single use, stock and the limit per person hold when many tills and phones act at once."""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from marktplatz.bootstrap import App
from marktplatz.domain.content import Action, Content, ContentKind, ContentStatus
from marktplatz.domain.coupons import Refusal
from marktplatz.domain.errors import Conflict
from marktplatz.services import content as content_service
from marktplatz.services import coupons, visitors
from marktplatz.services.content import ContentInput, CouponInput
from marktplatz.services.coupons import RedeemRefused, SaveInput
from marktplatz.store import tables as t
from support import Tenant


async def coupon_offer(composed: App, tenant: Tenant, **terms: Any) -> Content:
    owner = tenant.users["retailer-owner"]
    data = ContentInput(
        kind=ContentKind.OFFER, title="Brillenputztuch gratis", coupon=CouponInput(**terms)
    )
    item = await content_service.create_content(
        composed.ctx, owner, tenant.city.id, tenant.shop_a.id, data
    )
    done = await content_service.act_on_content(composed.ctx, owner, item.id, Action.SUBMIT)
    assert done.status is ContentStatus.PUBLISHED
    return done


async def save_many(composed: App, offer: Content, n: int) -> list[str]:
    codes = []
    for i in range(n):
        saved = await coupons.save_coupon(composed.ctx, SaveInput(offer.id), f"phone-{i}")
        codes.append(saved.code)
    return codes


async def redeemed_rows(composed: App, offer: Content) -> int:
    query = select(func.count()).where(
        t.coupons.c.content_id == offer.id, t.coupons.c.status == "redeemed"
    )
    async with composed.engine.connect() as conn:
        return int((await conn.execute(query)).scalar() or 0)


async def test_a_thousand_tills_redeeming_one_coupon_give_exactly_one_success(
    tenant: Tenant, composed: App
) -> None:
    # given one saved single-use coupon
    offer = await coupon_offer(composed, tenant)
    [code] = await save_many(composed, offer, 1)
    cashier = tenant.users["retailer-staff"]
    # when a thousand redemptions race
    results = await asyncio.gather(
        *(coupons.redeem_coupon(composed.ctx, cashier, code) for _ in range(1000)),
        return_exceptions=True,
    )
    # then exactly one wins; every other attempt is told it was already redeemed
    wins = [r for r in results if not isinstance(r, BaseException)]
    refusals = Counter(r.refusal for r in results if isinstance(r, RedeemRefused))
    assert len(wins) == 1
    assert refusals == {Refusal.ALREADY_REDEEMED: 999}
    assert await redeemed_rows(composed, offer) == 1
    async with composed.ctx.uow() as uow:
        assert await uow.coupons.tally(offer.id) == (1, 1)


async def test_a_stock_of_seven_gives_exactly_seven_of_a_thousand_redemptions(
    tenant: Tenant, composed: App
) -> None:
    # given an offer with 7 coupons in stock and 1,000 visitors who saved one each
    offer = await coupon_offer(composed, tenant, stock=7)
    codes = await save_many(composed, offer, 1000)
    cashier = tenant.users["retailer-staff"]
    # when all of them come to the till at once
    results = await asyncio.gather(
        *(coupons.redeem_coupon(composed.ctx, cashier, code) for code in codes),
        return_exceptions=True,
    )
    # then seven are redeemed and the rest hear that the offer is sold out
    wins = [r for r in results if not isinstance(r, BaseException)]
    refusals = Counter(r.refusal for r in results if isinstance(r, RedeemRefused))
    assert len(wins) == 7
    assert refusals == {Refusal.SOLD_OUT: 993}
    assert await redeemed_rows(composed, offer) == 7
    async with composed.ctx.uow() as uow:
        assert await uow.coupons.tally(offer.id) == (1000, 7)


async def test_a_sold_out_offer_saves_no_more_coupons(tenant: Tenant, composed: App) -> None:
    # given an offer with a stock of one that was redeemed
    offer = await coupon_offer(composed, tenant, stock=1)
    [code] = await save_many(composed, offer, 1)
    await coupons.redeem_coupon(composed.ctx, tenant.users["retailer-staff"], code)
    # when someone else wants to save it
    with pytest.raises(Conflict) as refused:
        await coupons.save_coupon(composed.ctx, SaveInput(offer.id), "late-phone")
    # then
    assert refused.value.message == "Sorry, all coupons of this offer have been redeemed."
    async with composed.ctx.uow() as uow:
        assert await uow.coupons.tally(offer.id) == (1, 1)


async def consenting_visitor(composed: App) -> str:
    pseudonym = secrets.token_hex(16)
    await visitors.record_consent(
        composed.ctx,
        visitor=pseudonym,
        secret=secrets.token_urlsafe(32),
        purposes={"analytics": True, "personalisation": False},
        text_version="2026-11",
    )
    return pseudonym


async def test_one_visitor_saving_fifty_times_at_once_holds_one_coupon(
    tenant: Tenant, composed: App
) -> None:
    # given a consenting visitor and an offer limited to one use per person and day
    offer = await coupon_offer(composed, tenant, per_person=1, period="day")
    pseudonym = await consenting_visitor(composed)
    # when the app sends fifty saves at once
    results = await asyncio.gather(
        *(
            coupons.save_coupon(composed.ctx, SaveInput(offer.id, visitor=pseudonym), f"k{i}")
            for i in range(50)
        ),
        return_exceptions=True,
    )
    # then one coupon exists; the others say it is already in the wallet
    saved = [r for r in results if not isinstance(r, BaseException)]
    assert len(saved) == 1
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, BaseException))
    async with composed.ctx.uow() as uow:
        assert await uow.coupons.tally(offer.id) == (1, 0)
    # and once it is used, the limit per day refuses another save
    await coupons.redeem_coupon(composed.ctx, tenant.users["retailer-staff"], saved[0].code)
    with pytest.raises(Conflict) as refused:
        await coupons.save_coupon(composed.ctx, SaveInput(offer.id, visitor=pseudonym), "k")
    assert refused.value.message == "You have already used this offer as often as allowed."


async def test_a_late_retry_of_an_undo_does_not_take_back_the_next_redemption(
    tenant: Tenant, composed: App
) -> None:
    # given a coupon redeemed, undone, and redeemed again
    offer = await coupon_offer(composed, tenant)
    [code] = await save_many(composed, offer, 1)
    owner = tenant.users["retailer-owner"]
    first = await coupons.redeem_coupon(composed.ctx, owner, code)
    await coupons.undo_redemption(composed.ctx, owner, first.coupon.id, "Doppelt gescannt")
    await coupons.redeem_coupon(composed.ctx, owner, code)
    # when an undo that read the first redemption arrives late
    async with composed.ctx.uow(write=True) as uow:
        undone = await uow.coupons.undo(first.coupon, first.coupon.saved_at)
        await uow.commit()
    # then it finds nothing to undo: the second redemption stands
    assert undone is False
    assert await redeemed_rows(composed, offer) == 1
    async with composed.ctx.uow() as uow:
        assert await uow.coupons.tally(offer.id) == (1, 1)
