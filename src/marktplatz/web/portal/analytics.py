"""Retailer portal: what the shop's presence on the platform brought, step by step."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from marktplatz.domain.accounts import User
from marktplatz.domain.analytics import ShopResults
from marktplatz.domain.errors import InvalidInput, NotFound
from marktplatz.services import analytics
from marktplatz.web.analytics import STEP_LABELS, csv_download, shop_grids
from marktplatz.web.i18n import pick_language
from marktplatz.web.pages import field_errors, render
from marktplatz.web.portal.routes import LoggedIn
from marktplatz.web.security import csrf_guard
from marktplatz.web.state import app_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_guard)])


async def _results(
    request: Request, user: User, shop_id: UUID, first: str | None, last: str | None
) -> tuple[ShopResults, dict[str, str]]:
    """The figures of the period asked for; a bad period shows the default one with its error."""
    ctx = app_of(request).ctx
    try:
        return await analytics.shop_results(ctx, user, shop_id, first, last), {}
    except InvalidInput as exc:
        errors = field_errors(request, exc)
        return await analytics.shop_results(ctx, user, shop_id, None, None), errors


@router.get("/portal/shops/{shop_id}/analytics", response_class=HTMLResponse)
async def shop_analytics(
    request: Request,
    shop_id: UUID,
    user: LoggedIn,
    first: str | None = None,
    last: str | None = None,
) -> Response:
    """Shown, opened, saved and redeemed per item and touchpoint, and against the category."""
    found, errors = await _results(request, user, shop_id, first, last)
    values = {k: v for k, v in (("first", first), ("last", last)) if v is not None}
    return render(
        request,
        "portal/analytics.html",
        status_code=422 if errors else 200,
        shop=found.shop,
        found=found,
        grids=shop_grids(found, pick_language(request)),
        step_labels=STEP_LABELS,
        values=values if errors else {},
        errors=errors,
    )


@router.get("/portal/shops/{shop_id}/analytics/{table}.csv")
async def shop_analytics_csv(
    request: Request,
    shop_id: UUID,
    table: str,
    user: LoggedIn,
    first: str | None = None,
    last: str | None = None,
) -> Response:
    """One table of the shop's dashboard as CSV, for the same period."""
    found = await analytics.shop_results(app_of(request).ctx, user, shop_id, first, last)
    grid = next((g for g in shop_grids(found, pick_language(request)) if g.name == table), None)
    if grid is None:
        raise NotFound("table")
    return csv_download(grid, found.shop.slug, found.period)
