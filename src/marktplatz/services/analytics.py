"""Dashboards: the city's footfall and a shop's results, read from the rollups, k-anonymous."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from marktplatz.domain.accounts import User
from marktplatz.domain.analytics import (
    Comparison,
    Period,
    Table,
    compare,
    counts,
    daily,
    heatmap,
    period,
    table,
)
from marktplatz.domain.content import Content
from marktplatz.domain.kanon import K
from marktplatz.domain.rollups import CONSENTED, COOKIELESS, RollupRow, Stat, combine
from marktplatz.domain.shops import Shop
from marktplatz.services.access import access_city, access_shop
from marktplatz.services.context import Context

STEPS = (Stat.EXPOSED, Stat.VIEWED, Stat.SAVED, Stat.REDEEMED)


@dataclass(frozen=True, slots=True)
class CityFootfall:
    period: Period
    zones: list[tuple[str, str]]  # (subject, name); "" is "outside every zone"
    heat: Table[tuple[str, int]]  # (zone, hour of the week)
    contacts: Table[date]  # touchpoint contacts per day
    people: Table[date]  # people counted by the counters per day
    page_views: Table[date]
    visitors: dict[str, Table[date]]  # consented / cookieless distinct visitors per day
    counters: int  # how many people counters the city has


async def city_footfall(
    ctx: Context, actor: User | None, city_id: UUID, first: str | None, last: str | None
) -> CityFootfall:
    """Footfall of the city's zones by hour of the week and by day, against its counters."""
    async with ctx.uow() as uow:
        city = await access_city(uow, actor, city_id)
        asked = period(first, last, ctx.clock.now().astimezone(city.tz).date(), city.tz)
        stats = [Stat.ZONE_CONTACTS, Stat.COUNTER, Stat.PAGE_VIEWS, Stat.VISITORS]
        rows = await uow.rollups.rows(city.id, stats, asked.start, asked.end)
        zones = await uow.zones.list_for_city(city.id)
        points = await uow.touchpoints.list_for_city(city.id)
    by_stat: dict[Stat, list[RollupRow]] = defaultdict(list)
    for row in rows:
        by_stat[row.stat].append(row)
    people: dict[date, int] = defaultdict(int)
    for row in by_stat[Stat.COUNTER]:
        people[row.hour.astimezone(city.tz).date()] += row.count
    return CityFootfall(
        period=asked,
        zones=[(str(z.id), z.name) for z in zones] + [("", "")],
        heat=heatmap(by_stat[Stat.ZONE_CONTACTS], city.tz),
        contacts=daily(by_stat[Stat.ZONE_CONTACTS], city.tz),
        people=counts(people),
        page_views=daily(by_stat[Stat.PAGE_VIEWS], city.tz),
        visitors={
            kind: counts(
                {
                    r.hour.astimezone(city.tz).date(): r.count
                    for r in by_stat[Stat.VISITORS]
                    if r.subject == kind
                }
            )
            for kind in (CONSENTED, COOKIELESS)
        },
        counters=sum(1 for p in points if p.kind.value == "people-counter"),
    )


@dataclass(frozen=True, slots=True)
class ShopResults:
    shop: Shop
    period: Period
    contents: list[Content]
    by_content: dict[Stat, Table[str]]  # per step: content id → count
    by_touchpoint: dict[Stat, Table[str]]  # per step: touchpoint id ("" none) → count
    touchpoints: dict[str, str]  # id → name
    contacts: Table[date]  # contacts at the shop's own touchpoints per day
    category: dict[Stat, Comparison]


async def shop_results(
    ctx: Context, actor: User | None, shop_id: UUID, first: str | None, last: str | None
) -> ShopResults:
    """What the shop's presence brought: each step per item and per touchpoint, and the
    shop beside the median of its category (only from MIN_SHOPS shops with safe figures)."""
    async with ctx.uow() as uow:
        shop = await access_shop(uow, actor, shop_id)
        city = await uow.cities.get(shop.city_id)
        assert city is not None  # a shop's city is never missing (foreign key)
        asked = period(first, last, ctx.clock.now().astimezone(city.tz).date(), city.tz)
        peers = [s for s in await uow.shops.list_for_city(city.id) if s.category == shop.category]
        items = await uow.contents.list_for_city(city.id)
        owner = {
            str(c.id): c.shop_id for c in items if c.shop_id and c.shop_id in {p.id for p in peers}
        }
        rows = await uow.rollups.rows(city.id, STEPS, asked.start, asked.end, subjects=owner)
        contacts = await uow.rollups.rows(
            city.id, [Stat.SHOP_CONTACTS], asked.start, asked.end, subjects=[str(shop.id)]
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
        contacts=daily(contacts, city.tz),
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
