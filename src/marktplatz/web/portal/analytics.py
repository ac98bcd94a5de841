"""Retailer portal: what the shop's presence on the platform brought, step by step."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from marktplatz.domain.analytics_charts import shop_charts
from marktplatz.domain.analytics_tables import campaign_grid
from marktplatz.domain.errors import NotFound
from marktplatz.services import analytics, campaigns, reports
from marktplatz.web.analytics import (
    STEP_LABELS,
    campaign_page,
    csv_download,
    in_period,
    shop_grids,
)
from marktplatz.web.charts import chart_locale, chart_svg
from marktplatz.web.i18n import pick_language, translations
from marktplatz.web.pages import render
from marktplatz.web.portal.routes import LoggedIn
from marktplatz.web.security import csrf_guard
from marktplatz.web.state import app_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_guard)])


@router.get("/portal/shops/{shop_id}/analytics", response_class=HTMLResponse)
async def shop_analytics(
    request: Request,
    shop_id: UUID,
    user: LoggedIn,
    first: str | None = None,
    last: str | None = None,
) -> Response:
    """Shown, opened, saved and redeemed per item and touchpoint, and against the category."""
    ctx = app_of(request).ctx
    found, errors = await in_period(
        request, lambda since, until: analytics.shop_results(ctx, user, shop_id, since, until)
    )
    values = {k: v for k, v in (("first", first), ("last", last)) if v is not None}
    charts = shop_charts(found, chart_locale(request))
    return render(
        request,
        "portal/analytics.html",
        status_code=422 if errors else 200,
        shop=found.shop,
        found=found,
        grids=shop_grids(found, pick_language(request)),
        charts=charts,
        svgs={name: await chart_svg(request, spec) for name, spec in charts.items()},
        step_labels=STEP_LABELS,
        report_month=(found.period.last.replace(day=1) - timedelta(days=1)).strftime("%Y-%m"),
        values=values if errors else {},
        errors=errors,
    )


@router.get("/portal/shops/{shop_id}/analytics/campaigns", response_class=HTMLResponse)
async def shop_campaigns(
    request: Request,
    shop_id: UUID,
    user: LoggedIn,
    first: str | None = None,
    last: str | None = None,
) -> Response:
    """The shop's offers against their control groups: what showing each one brought."""
    ctx = app_of(request).ctx
    found, errors = await in_period(
        request, lambda since, until: campaigns.shop_campaigns(ctx, user, shop_id, since, until)
    )
    return render(
        request,
        "portal/analytics_campaigns.html",
        status_code=422 if errors else 200,
        shop=found.shop,
        errors=errors,
        **await campaign_page(request, found),
    )


@router.get("/portal/shops/{shop_id}/analytics/campaigns.csv")
async def shop_campaigns_csv(
    request: Request,
    shop_id: UUID,
    user: LoggedIn,
    first: str | None = None,
    last: str | None = None,
) -> Response:
    found = await campaigns.shop_campaigns(app_of(request).ctx, user, shop_id, first, last)
    assert found.shop is not None
    grid = campaign_grid(found.found, translations(pick_language(request)).gettext)
    return csv_download(grid, found.shop.slug, found.period)


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


@router.get("/portal/shops/{shop_id}/analytics/report.pdf")
async def shop_report_pdf(
    request: Request, shop_id: UUID, user: LoggedIn, month: str | None = None
) -> Response:
    """The shop's monthly report as a PDF, in the reader's language."""
    lang = pick_language(request)
    name, pdf = await reports.shop_report(
        app_of(request).ctx, user, shop_id, month, lang, translations(lang).gettext
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "cache-control": "no-store",
        },
    )
