""" "Near me": what the decision engine picks for the visitor's position, and the nearest shops.

The browser asks for the position only when the visitor presses the button (static/js/nearby.js)
and posts it, rounded to about 10 m, in a form body (never in a URL that logs would keep). The
position is used for this one answer and not stored: the exposures recorded for the picks keep
their reasons (e.g. "120 m away"), not the coordinates.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from marktplatz.domain.decision import Mode
from marktplatz.domain.decision_index import distance_m
from marktplatz.domain.errors import N_, InvalidInput
from marktplatz.domain.geo import Location, make_location
from marktplatz.services import cities, decisions, shops
from marktplatz.services.decisions import ContactInput
from marktplatz.web import presenters as p
from marktplatz.web.i18n import pick_language
from marktplatz.web.pages import render
from marktplatz.web.security import csrf_guard
from marktplatz.web.state import app_of
from marktplatz.web.visitor.coupons import NO_STORE, shown_picks

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_guard)])

NEAREST_SHOPS = 8
# Farther than this from every shop, the visitor is not in the centre: no picks, a hint instead.
IN_TOWN_M = 3000.0


def _coordinate(value: str, field: str) -> float:
    try:
        number = float(value.strip().replace(",", "."))
    except ValueError:
        raise InvalidInput(field, N_("Latitude and longitude must be numbers.")) from None
    if not math.isfinite(number):
        raise InvalidInput(field, N_("Latitude and longitude must be numbers."))
    return number


def nearest(all_shops: list[Any], here: Location) -> list[tuple[Any, float]]:
    """Shops with a position, nearest first, with their distance in metres."""
    placed = [(s, distance_m(here, s.location)) for s in all_shops if s.location is not None]
    return sorted(placed, key=lambda pair: (pair[1], pair[0].name))


@router.post("/{city}/nearby", response_class=HTMLResponse)
async def nearby(
    request: Request,
    city: str,
    lat: Annotated[str, Form(max_length=32)],
    lon: Annotated[str, Form(max_length=32)],
    visitor: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Offers picked for this position (personalised only with consent) and the nearest shops."""
    ctx = app_of(request).ctx
    found = await cities.city_by_slug(ctx, city)
    here = make_location(_coordinate(lat, "lat"), _coordinate(lon, "lon"))
    lang = pick_language(request)
    now = ctx.clock.now()
    listed = await shops.list_shops(ctx, found.id)
    ranked = nearest(listed, here)
    in_town = bool(ranked) and ranked[0][1] <= IN_TOWN_M
    shown = None
    if in_town:
        given = ContactInput(
            city=found.slug,
            language=lang,
            mode=Mode.PULL,
            location=here,
            visitor=visitor or None,  # checked by the service; used only with consent
        )
        outcome = await decisions.decide_for_contact(ctx, given)
        shown = await shown_picks(request, found, outcome, listed)
    cards = [
        {
            "shop": shop,
            "distance": p.distance_text(metres, lang),
            "status": p.hours_status(shop, found, now, lang),
        }
        for shop, metres in ranked[:NEAREST_SHOPS]
    ]
    response = render(
        request,
        "visitor/nearby.html",
        city=found,
        shown=shown,
        in_town=in_town,
        cards=cards,
    )
    response.headers.update(NO_STORE)
    return response
