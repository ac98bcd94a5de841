"""The visitor's shop filter (category, open now, name), shared by the start page and the map."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from marktplatz.domain.categories import ShopCategory
from marktplatz.domain.cities import City
from marktplatz.domain.hours import HoursStatus, OpenState
from marktplatz.domain.shops import Shop
from marktplatz.services import shops
from marktplatz.web import presenters as p
from marktplatz.web.i18n import pick_language
from marktplatz.web.state import app_of


@dataclass(frozen=True, slots=True)
class ShopFilter:
    """What the visitor asked for; an unknown category means all of them."""

    category: ShopCategory | None
    open_now: bool
    query: str

    @classmethod
    def of(cls, category: str, open_now: str, q: str = "") -> ShopFilter:
        chosen = ShopCategory(category) if category in ShopCategory._value2member_map_ else None
        return cls(chosen, bool(open_now), q.strip().lower()[:80])

    def admits(self, shop: Shop, status: HoursStatus) -> bool:
        return (
            (self.category is None or shop.category is self.category)
            and (not self.open_now or status.state is OpenState.OPEN)
            and (not self.query or self.query in shop.name.lower())
        )


@dataclass(frozen=True, slots=True)
class FoundShops:
    """The shops shown with their state now, and what the filter form offers."""

    shops: list[tuple[Shop, HoursStatus]]
    total: int
    categories: list[ShopCategory]  # the categories present in the city
    chosen: ShopCategory | None
    open_now: bool


async def find_shops(request: Request, city: City, wanted: ShopFilter) -> FoundShops:
    """The city's shops that pass the filter, by name, each with its opening state now."""
    ctx = app_of(request).ctx
    now = ctx.clock.now()
    lang = pick_language(request)
    all_shops = await shops.list_shops(ctx, city.id)
    shown = []
    for shop in all_shops:
        status = p.hours_status(shop, city, now, lang)
        if wanted.admits(shop, status):
            shown.append((shop, status))
    present = sorted({s.category for s in all_shops}, key=lambda c: c.value)
    return FoundShops(shown, len(all_shops), present, wanted.category, wanted.open_now)
