"""City console: the journey analytics of the city, by zone, hour and day."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from marktplatz.domain.analytics import CityFootfall
from marktplatz.domain.analytics_charts import city_charts
from marktplatz.domain.errors import InvalidInput, NotFound
from marktplatz.services import analytics
from marktplatz.web.analytics import city_grids, csv_download
from marktplatz.web.charts import chart_locale, chart_svg
from marktplatz.web.console.routes import Staff, StaffOf, console_page
from marktplatz.web.i18n import pick_language
from marktplatz.web.pages import field_errors
from marktplatz.web.security import csrf_guard
from marktplatz.web.state import app_of

router = APIRouter(prefix="/console", include_in_schema=False, dependencies=[Depends(csrf_guard)])


async def _footfall(
    request: Request, staff: Staff, first: str | None, last: str | None
) -> tuple[CityFootfall, dict[str, str]]:
    """The figures of the period asked for; a bad period shows the default one with its error."""
    ctx = app_of(request).ctx
    try:
        return await analytics.city_footfall(ctx, staff.user, staff.city.id, first, last), {}
    except InvalidInput as exc:
        errors = field_errors(request, exc)
        return await analytics.city_footfall(ctx, staff.user, staff.city.id, None, None), errors


@router.get("/{city}/analytics", response_class=HTMLResponse)
async def city_analytics(
    request: Request, staff: StaffOf, first: str | None = None, last: str | None = None
) -> Response:
    """Footfall by zone and hour of the week, and by day against the people counters."""
    found, errors = await _footfall(request, staff, first, last)
    values = {k: v for k, v in (("first", first), ("last", last)) if v is not None}
    charts = city_charts(found, chart_locale(request))
    return console_page(
        request,
        "console/analytics.html",
        staff,
        "analytics",
        status=422 if errors else 200,
        found=found,
        grids=city_grids(found, pick_language(request)),
        charts=charts,
        svgs={name: await chart_svg(request, spec) for name, spec in charts.items()},
        values=values if errors else {},
        errors=errors,
        query=request.url.query,
    )


@router.get("/{city}/analytics/{table}.csv")
async def city_analytics_csv(
    request: Request, table: str, staff: StaffOf, first: str | None = None, last: str | None = None
) -> Response:
    """One table of the dashboard as CSV, for the same period."""
    ctx = app_of(request).ctx
    found = await analytics.city_footfall(ctx, staff.user, staff.city.id, first, last)
    grid = next((g for g in city_grids(found, pick_language(request)) if g.name == table), None)
    if grid is None:
        raise NotFound("table")
    return csv_download(grid, staff.city.slug, found.period)
