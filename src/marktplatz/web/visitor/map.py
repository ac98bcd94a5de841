"""The visitor map of the centre: zones, shops with their open state and current offers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from marktplatz.domain.cities import City
from marktplatz.domain.content import Content
from marktplatz.domain.hours import HoursStatus, OpenState
from marktplatz.domain.shops import Shop
from marktplatz.domain.zones import Zone
from marktplatz.services import cities
from marktplatz.services import content as content_service
from marktplatz.web.pages import category_icon_url, render
from marktplatz.web.state import app_of
from marktplatz.web.static import has_asset
from marktplatz.web.visitor.shop_filter import ShopFilter, find_shops

router = APIRouter(include_in_schema=False)


def _shop_point(city: City, shop: Shop, status: HoursStatus, offers: int) -> dict[str, Any]:
    """A marker's data; its texts (name, state, offers) come from the list entry it points to."""
    return {
        "id": f"shop-{shop.slug}",
        "url": f"/{city.slug}/shops/{shop.slug}",
        "category": shop.category.value,
        "icon": category_icon_url(shop.category),
        "lat": shop.location.lat,
        "lon": shop.location.lon,
        "open": status.state is OpenState.OPEN,
        "offers": offers,
    }


def _zone_area(zone: Zone) -> dict[str, Any]:
    return {"id": f"zone-{zone.slug}", "name": zone.name, "geometry": zone.geometry}


@router.get("/{city}/map", response_class=HTMLResponse)
async def city_map(request: Request, city: str, category: str = "", open_now: str = "") -> Response:
    """The centre on a map, with the same shops as a list below it (works without scripts)."""
    composed = app_of(request)
    found = await cities.city_by_slug(composed.ctx, city)
    shown = await find_shops(request, found, ShopFilter.of(category, open_now))
    offers = await content_service.published_offers_by_shop(composed.ctx, found.id)
    zones = await cities.list_zones(composed.ctx, found.id)
    entries: list[tuple[Shop, HoursStatus, list[Content]]] = [
        (shop, status, offers.get(shop.id, [])) for shop, status in shown.shops
    ]
    tiles = composed.settings.map_tile_url
    data = {
        "center": {"lat": found.center.lat, "lon": found.center.lon},
        "tiles": tiles or None,
        "zones": [_zone_area(zone) for zone in zones],
        "shops": [_shop_point(found, s, status, len(items)) for s, status, items in entries],
    }
    return render(
        request,
        "visitor/map.html",
        city=found,
        entries=entries,
        zones=zones,
        map_data=data,
        has_leaflet=has_asset("vendor/leaflet/leaflet.js"),
        tile_attribution=composed.settings.map_tile_attribution if tiles else "",
        categories=shown.categories,
        chosen=shown.chosen,
        open_now=shown.open_now,
        total=shown.total,
    )
