"""Dashboards: the city's footfall and a shop's results, read from the rollups, k-anonymous."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from uuid import UUID

from marktplatz.domain.accounts import User
from marktplatz.domain.analytics import (
    BASELINE_WEEKS,
    STEPS,
    CityFootfall,
    Comparison,
    EventUplift,
    Period,
    ShopResults,
    bucket_day,
    compare,
    counts,
    event_hours,
    local_days,
    month_period,
    period,
    table,
    tabled,
    uplift_of,
    week_hours,
)
from marktplatz.domain.cities import City
from marktplatz.domain.content import ContentKind, ContentStatus
from marktplatz.domain.errors import N_, InvalidInput
from marktplatz.domain.flows import dwell, flows
from marktplatz.domain.kanon import Cell, K
from marktplatz.domain.rollups import CONSENTED, COOKIELESS, NONE, RollupRow, Stat, combine
from marktplatz.domain.shops import Shop
from marktplatz.services.access import access_city, access_shop
from marktplatz.services.context import Context
from marktplatz.services.ports import UnitOfWork

SHOWN = frozenset({ContentStatus.PUBLISHED, ContentStatus.EXPIRED})


async def city_footfall(
    ctx: Context, actor: User | None, city_id: UUID, first: str | None, last: str | None
) -> CityFootfall:
    """Footfall of the city's zones by hour of the week and by day, against its counters."""
    async with ctx.uow() as uow:
        city = await access_city(uow, actor, city_id)
        asked = period(first, last, ctx.clock.now().astimezone(city.tz).date(), city.tz)
        start, end = asked.start, asked.end
        week = week_hours(city.tz, start, end)
        heat = await uow.rollups.buckets(city.id, [Stat.ZONE_CONTACTS], start, end, week)
        days = local_days(city.tz, start, end)
        totals = [Stat.ZONE_CONTACTS, Stat.COUNTER, Stat.PAGE_VIEWS]
        per_day = await uow.rollups.buckets(city.id, totals, start, end, days, by_subject=False)
        per_day |= await uow.rollups.buckets(city.id, [Stat.VISITORS], start, end, days)
        moves = await uow.rollups.rows(city.id, [Stat.PATHS, Stat.DWELL], start, end)
        zones = await uow.zones.list_for_city(city.id)
        points = await uow.touchpoints.list_for_city(city.id)
        events = await _event_uplifts(uow, city.id, asked)

    def of_day(stat: Stat, subject: str = NONE) -> dict[date, Cell]:
        return {
            bucket_day(bucket): cell
            for (kind, who, bucket), cell in per_day.items()
            if kind is stat and who == subject
        }

    return CityFootfall(
        period=asked,
        zones=[(str(z.id), z.name) for z in zones] + [("", "")],
        heat=tabled({(subject, how): cell for (_, subject, how), cell in heat.items()}),
        contacts=tabled(of_day(Stat.ZONE_CONTACTS)),
        # counters count people, so their sum per day is its own number of people
        people=counts({day: cell.count for day, cell in of_day(Stat.COUNTER).items()}),
        page_views=tabled(of_day(Stat.PAGE_VIEWS)),
        visitors={
            kind: counts({day: cell.count for day, cell in of_day(Stat.VISITORS, kind).items()})
            for kind in (CONSENTED, COOKIELESS)
        },
        counters=sum(1 for p in points if p.kind.value == "people-counter"),
        flows=flows([r for r in moves if r.stat is Stat.PATHS]),
        dwell=dwell([r for r in moves if r.stat is Stat.DWELL]),
        events=events,
    )


async def _event_uplifts(uow: UnitOfWork, city_id: UUID, asked: Period) -> list[EventUplift]:
    """The city's own events that began in the period, each against the weeks before."""
    found = []
    for item in await uow.contents.list_for_city(city_id, SHOWN):
        starts = item.window.starts_at
        if item.kind is not ContentKind.EVENT or item.shop_id or starts is None:
            continue
        if not asked.start <= starts < asked.end:
            continue
        start, end = event_hours(starts, item.window.ends_at)
        rows = [  # each week's hours added up in the database (dated at their start)
            row
            for weeks in range(BASELINE_WEEKS + 1)
            for row in await uow.rollups.totals(
                city_id, [Stat.ZONE_CONTACTS], start - timedelta(weeks=weeks),
                end - timedelta(weeks=weeks),
            )
        ]  # fmt: skip
        found.append(uplift_of(item.title, start, end, rows))
    return sorted(found, key=lambda e: e.start)


async def shop_results(
    ctx: Context, actor: User | None, shop_id: UUID, first: str | None, last: str | None
) -> ShopResults:
    """What the shop's presence brought: each step per item and per touchpoint, and the
    shop beside the median of its category (only from MIN_SHOPS shops with safe figures)."""
    async with ctx.uow() as uow:
        shop = await access_shop(uow, actor, shop_id)
        city = await _city(uow, shop)
        asked = period(first, last, _today(ctx, city), city.tz)
        return await _figures(uow, shop, city, asked)


async def shop_month(
    ctx: Context, actor: User | None, shop_id: UUID, month: str | None
) -> tuple[ShopResults, ShopResults]:
    """A month's results of the shop and those of the month before (for the monthly report)."""
    async with ctx.uow() as uow:
        shop = await access_shop(uow, actor, shop_id)
        city = await _city(uow, shop)
        asked = month_period(month, _today(ctx, city), city.tz)
        return await _figures(uow, shop, city, asked), await _figures(
            uow, shop, city, asked.previous_month()
        )


async def city_months(
    ctx: Context, city_slug: str, month: str | None, shop_slug: str | None = None
) -> list[tuple[ShopResults, ShopResults]]:
    """Every shop's month (or one shop's) for the operator's `marktplatz report`."""
    async with ctx.uow() as uow:
        city = await uow.cities.by_slug(city_slug)
        if city is None:
            raise InvalidInput("city", N_("Unknown city: %(value)s"), value=city_slug[:60])
        asked = month_period(month, _today(ctx, city), city.tz)
        shops = await uow.shops.list_for_city(city.id)
        if shop_slug is not None:
            shops = [s for s in shops if s.slug == shop_slug]
            if not shops:
                raise InvalidInput("shop", N_("Unknown shop: %(value)s"), value=shop_slug[:60])
        return [
            (
                await _figures(uow, shop, city, asked),
                await _figures(uow, shop, city, asked.previous_month()),
            )
            for shop in shops
        ]


async def _city(uow: UnitOfWork, shop: Shop) -> City:
    city = await uow.cities.get(shop.city_id)
    assert city is not None  # a shop's city is never missing (foreign key)
    return city


def _today(ctx: Context, city: City) -> date:
    return ctx.clock.now().astimezone(city.tz).date()


async def _figures(uow: UnitOfWork, shop: Shop, city: City, asked: Period) -> ShopResults:
    peers = [s for s in await uow.shops.list_for_city(city.id) if s.category == shop.category]
    items = await uow.contents.list_for_city(city.id)
    peer_ids = {p.id for p in peers}
    owner = {str(c.id): c.shop_id for c in items if c.shop_id and c.shop_id in peer_ids}
    # Added up in the database: a category's items over a year are many hourly rows.
    rows = await uow.rollups.totals(city.id, STEPS, asked.start, asked.end, subjects=owner)
    days = local_days(city.tz, asked.start, asked.end)
    contacts = await uow.rollups.buckets(
        city.id, [Stat.SHOP_CONTACTS], asked.start, asked.end, days, [str(shop.id)]
    )
    points = await uow.touchpoints.list_for_city(city.id)
    own = [r for r in rows if owner.get(r.subject) == shop.id]
    return ShopResults(
        shop=shop,
        period=asked,
        contents=[c for c in items if c.shop_id == shop.id],
        by_content={s: table(own, _of(s, "subject")) for s in STEPS},
        by_touchpoint={s: table(own, _of(s, "via")) for s in STEPS},
        touchpoints={str(p.id): p.name for p in points},
        contacts=tabled({bucket_day(day): cell for (_, _, day), cell in contacts.items()}),
        category={s: _compare(s, rows, owner, [p.id for p in peers], shop.id) for s in STEPS},
    )


def _of(stat: Stat, field: str) -> Callable[[RollupRow], str | None]:
    """The key of a row of `stat` (its subject or via); rows of other stats are left out."""

    def key(row: RollupRow) -> str | None:
        return str(getattr(row, field)) if row.stat is stat else None

    return key


def _compare(
    stat: Stat,
    rows: list[RollupRow],
    owner: dict[str, UUID],
    peers: list[UUID],
    shop_id: UUID,
) -> Comparison:
    per_shop: dict[UUID, list[RollupRow]] = {p: [] for p in peers}
    for row in rows:
        if row.stat is stat and row.subject in owner:
            per_shop.setdefault(owner[row.subject], []).append(row)
    cells = {s: combine(rs) for s, rs in per_shop.items()}
    # A shop's figure counts when it rests on K visitors or on none (nothing to hide in a zero):
    # the median never shows a figure that a few visitors made.
    safe = {s: c.count for s, c in cells.items() if c.visitors >= K or c.visitors == 0}
    return compare(safe.get(shop_id), list(safe.values()))
