"""A shop's day at a glance: what is published, what waits for the city, what was redeemed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from marktplatz.domain.accounts import User
from marktplatz.domain.cities import City
from marktplatz.domain.content import Content, ContentStatus
from marktplatz.domain.coupons import Coupon
from marktplatz.domain.errors import NotFound
from marktplatz.domain.shops import Shop
from marktplatz.services.access import access_shop
from marktplatz.services.content import shown_now
from marktplatz.services.context import Context

RECENT_REDEMPTIONS = 8
ENDING_SOON = timedelta(days=3)


@dataclass(frozen=True, slots=True)
class Redemption:
    coupon: Coupon
    title: str


@dataclass(frozen=True, slots=True)
class ShopOverview:
    """What the overview page shows; lists newest first."""

    shop: Shop
    city: City
    published: list[Content]  # visible to visitors now
    ending_soon: list[Content]  # of those, the ones whose window ends within ENDING_SOON
    waiting: list[Content]  # submitted, waiting for the city's approval
    rejected: list[Content]  # the city said no: the retailer has to act
    drafts: list[Content]
    redeemed_today: int  # since midnight in the city
    redeemed_week: int  # the last seven days
    redemptions: list[Redemption]


async def shop_overview(ctx: Context, actor: User | None, shop_id: UUID) -> ShopOverview:
    """The overview of a shop for its retailers (owner and staff) and the city's staff."""
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        shop = await access_shop(uow, actor, shop_id)
        city = await uow.cities.get(shop.city_id)
        if city is None:
            raise NotFound("city")
        items = await uow.contents.list_for_shop(shop.id)
        midnight = now.astimezone(city.tz).replace(hour=0, minute=0, second=0, microsecond=0)
        today = await uow.coupons.count_redeemed_at_shop(shop.id, midnight)
        week = await uow.coupons.count_redeemed_at_shop(shop.id, now - timedelta(days=7))
        recent = await uow.coupons.recent_at_shop(
            shop.id, now - timedelta(days=7), RECENT_REDEMPTIONS
        )
    published = [c for c in items if shown_now(c, now)]
    soon = [c for c in published if c.shown.ends_at and c.shown.ends_at - now < ENDING_SOON]

    def having(status: ContentStatus) -> list[Content]:
        return [c for c in items if c.status is status]

    return ShopOverview(
        shop=shop,
        city=city,
        published=published,
        ending_soon=soon,
        waiting=having(ContentStatus.SUBMITTED),
        rejected=having(ContentStatus.REJECTED),
        drafts=having(ContentStatus.DRAFT),
        redeemed_today=today,
        redeemed_week=week,
        redemptions=[Redemption(coupon, title) for coupon, title in recent],
    )
