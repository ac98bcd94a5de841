"""The shop's overview: open or closed today, what visitors see, what waits, what was redeemed."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from marktplatz.domain.shops import ShopArea
from marktplatz.services import overview
from marktplatz.web import presenters as p
from marktplatz.web.i18n import pick_language
from marktplatz.web.pages import render
from marktplatz.web.portal.routes import LoggedIn, can_edit_shop
from marktplatz.web.security import csrf_guard
from marktplatz.web.state import app_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_guard)])


@router.get("/portal/shops/{shop_id}/overview", response_class=HTMLResponse)
async def overview_page(request: Request, shop_id: UUID, user: LoggedIn) -> Response:
    """Today at a glance, for the shop's owner and staff and for the city's staff."""
    ctx = app_of(request).ctx
    found = await overview.shop_overview(ctx, user, shop_id)
    now = ctx.clock.now()
    lang = pick_language(request)
    return render(
        request,
        "portal/overview.html",
        view=found,
        shop=found.shop,
        city=found.city,
        status=p.hours_status(found.shop, found.city, now, lang),
        today=(p.week_hours(found.shop, found.city, now, lang) or (None,))[0],
        can_edit=can_edit_shop(user, found.shop),
        can_edit_hours=can_edit_shop(user, found.shop, ShopArea.HOURS),
        is_staff=user.shop_role(found.shop.id) is not None,
    )
