"""Campaign uplift: did showing an offer bring visitors to the shop, against the control group?"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from marktplatz.domain.accounts import User
from marktplatz.domain.analytics import CampaignUplift, Period, group, period
from marktplatz.domain.content import Content
from marktplatz.domain.funnels import Matcher
from marktplatz.domain.journey import EventKind
from marktplatz.domain.rollups import Stat, combine
from marktplatz.domain.shops import Shop
from marktplatz.services.access import access_city, access_shop
from marktplatz.services.context import Context
from marktplatz.services.ports import UnitOfWork

WINDOW = timedelta(days=7)  # how long after being shown (or held back) a visit to the shop counts
MAX_CAMPAIGNS = 10  # the offers with the largest control groups; each costs two funnel queries


@dataclass(frozen=True, slots=True)
class Campaigns:
    period: Period
    shop: Shop | None  # None: the whole city's
    found: list[CampaignUplift]


async def city_campaigns(
    ctx: Context, actor: User | None, city_id: UUID, first: str | None, last: str | None
) -> Campaigns:
    """The city's offers that had a control group in the period, each with its uplift."""
    async with ctx.uow() as uow:
        city = await access_city(uow, actor, city_id)
        asked = period(first, last, ctx.clock.now().astimezone(city.tz).date(), city.tz)
        plans = await _plans(uow, city_id, asked, None)
    return Campaigns(asked, None, [await _uplift(ctx, city_id, asked, *plan) for plan in plans])


async def shop_campaigns(
    ctx: Context, actor: User | None, shop_id: UUID, first: str | None, last: str | None
) -> Campaigns:
    """The same for one shop's offers (its people and the city's staff)."""
    async with ctx.uow() as uow:
        shop = await access_shop(uow, actor, shop_id)
        city = await uow.cities.get(shop.city_id)
        assert city is not None  # a shop's city is never missing (foreign key)
        asked = period(first, last, ctx.clock.now().astimezone(city.tz).date(), city.tz)
        plans = await _plans(uow, city.id, asked, shop.id)
    return Campaigns(asked, shop, [await _uplift(ctx, city.id, asked, *plan) for plan in plans])


async def _plans(
    uow: UnitOfWork, city_id: UUID, asked: Period, only: UUID | None
) -> list[tuple[Content, Shop, frozenset[str]]]:
    """The offers with the largest control groups, their shops and the shops' touchpoints."""
    held = await uow.rollups.totals(city_id, [Stat.WITHHELD], asked.start, asked.end)
    items = {str(c.id): c for c in await uow.contents.list_for_city(city_id)}
    shops = {s.id: s for s in await uow.shops.list_for_city(city_id)}
    points = await uow.touchpoints.list_for_city(city_id)
    sizes: dict[str, int] = {}
    for subject in {r.subject for r in held}:
        sizes[subject] = combine(r for r in held if r.subject == subject).visitors
    plans = []
    for subject in sorted(sizes, key=lambda s: -sizes[s]):
        item = items.get(subject)
        # A city offer has no shop to come to: its uplift is not a shop visit.
        if item is None or item.shop_id is None or (only and item.shop_id != only):
            continue
        mine = frozenset(p.id.hex for p in points if p.shop_id == item.shop_id)
        plans.append((item, shops[item.shop_id], mine))
    return plans[:MAX_CAMPAIGNS]


async def _uplift(
    ctx: Context, city_id: UUID, asked: Period, item: Content, shop: Shop, points: frozenset[str]
) -> CampaignUplift:
    """Visitors shown the offer (or held back from it) who then came to the shop's touchpoints."""
    came = Matcher(EventKind.TOUCHPOINT_CONTACT, touchpoints=points)
    found = {}
    for kind in (EventKind.CONTENT_EXPOSED, EventKind.CONTENT_WITHHELD):
        first = Matcher(kind, contents=frozenset({str(item.id)}))
        found[kind] = await ctx.funnels.count(
            city_id, [first, came], WINDOW, (asked.start, asked.end), ctx.clock.now()
        )
    return CampaignUplift(
        str(item.id),
        item.title,
        shop.name,
        group(*found[EventKind.CONTENT_EXPOSED]),
        group(*found[EventKind.CONTENT_WITHHELD]),
    )
