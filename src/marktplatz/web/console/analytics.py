"""City console: the journey analytics of the city, by zone, hour and day."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from marktplatz.domain.analytics import Period, period
from marktplatz.domain.analytics_charts import city_charts, funnel_chart
from marktplatz.domain.analytics_tables import STEP_KIND_LABELS, campaign_grid, funnel_grid
from marktplatz.domain.errors import InvalidInput, NotFound
from marktplatz.domain.funnels import DEFAULT_SPEC, Step, check_period, parse_funnel
from marktplatz.services import analytics, campaigns, funnels
from marktplatz.web.analytics import campaign_page, city_grids, csv_download, in_period
from marktplatz.web.charts import chart_locale, chart_svg
from marktplatz.web.console.routes import Staff, StaffOf, console_page
from marktplatz.web.i18n import pick_language, translations
from marktplatz.web.pages import field_errors
from marktplatz.web.security import csrf_guard
from marktplatz.web.state import app_of

router = APIRouter(prefix="/console", include_in_schema=False, dependencies=[Depends(csrf_guard)])


@router.get("/{city}/analytics", response_class=HTMLResponse)
async def city_analytics(
    request: Request, staff: StaffOf, first: str | None = None, last: str | None = None
) -> Response:
    """Footfall by zone and hour of the week, and by day against the people counters."""
    ctx = app_of(request).ctx
    found, errors = await in_period(
        request,
        lambda since, until: analytics.city_footfall(ctx, staff.user, staff.city.id, since, until),
    )
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


@router.get("/{city}/analytics/funnel", response_class=HTMLResponse)
async def city_funnel(request: Request, staff: StaffOf) -> Response:
    """An ad-hoc funnel of the city's consented journeys, with steps the team chooses."""
    query = dict(request.query_params)
    ctx = app_of(request).ctx
    try:
        asked, steps = await _funnel(request, staff, query)
        errors: dict[str, str] = {}
    except InvalidInput as exc:
        # The form keeps what was typed (values) and says what is wrong; no result is shown.
        today = ctx.clock.now().astimezone(staff.city.tz).date()
        asked, steps, errors = (
            period(None, None, today, staff.city.tz),
            None,
            field_errors(request, exc),
        )
    chart = funnel_chart(steps, chart_locale(request)) if steps is not None else None
    return console_page(
        request,
        "console/analytics_funnel.html",
        staff,
        "analytics",
        status=422 if errors else 200,
        period=asked,
        grid=None
        if steps is None
        else funnel_grid(steps, translations(pick_language(request)).gettext),
        chart=chart,
        svg=await chart_svg(request, chart) if chart else None,
        values={"steps": DEFAULT_SPEC, "window": "7", **query},
        errors=errors,
        kinds=STEP_KIND_LABELS,
    )


@router.get("/{city}/analytics/funnel.csv")
async def city_funnel_csv(request: Request, staff: StaffOf) -> Response:
    asked, steps = await _funnel(request, staff, dict(request.query_params))
    grid = funnel_grid(steps, translations(pick_language(request)).gettext)
    return csv_download(grid, staff.city.slug, asked)


async def _funnel(
    request: Request, staff: Staff, query: dict[str, str]
) -> tuple[Period, list[tuple[Step, int | None]]]:
    """The period and each step with its visitors; InvalidInput for a bad period or step."""
    ctx = app_of(request).ctx
    today = ctx.clock.now().astimezone(staff.city.tz).date()
    asked = period(query.get("first"), query.get("last"), today, staff.city.tz)
    spec = parse_funnel(query.get("steps", DEFAULT_SPEC), query.get("window", "7"))
    found = await funnels.run_funnel(
        ctx, staff.user, staff.city.id, spec, check_period(asked.start, asked.end)
    )
    return asked, list(zip(spec.steps, [s.visitors for s in found.steps], strict=True))


@router.get("/{city}/analytics/campaigns", response_class=HTMLResponse)
async def city_campaigns(
    request: Request, staff: StaffOf, first: str | None = None, last: str | None = None
) -> Response:
    """Each offer with a control group: visitors shown it against those held back from it."""
    ctx = app_of(request).ctx
    found, errors = await in_period(
        request,
        lambda since, until: campaigns.city_campaigns(ctx, staff.user, staff.city.id, since, until),
    )
    return console_page(
        request,
        "console/analytics_campaigns.html",
        staff,
        "analytics",
        status=422 if errors else 200,
        errors=errors,
        **await campaign_page(request, found),
    )


@router.get("/{city}/analytics/campaigns.csv")
async def city_campaigns_csv(
    request: Request, staff: StaffOf, first: str | None = None, last: str | None = None
) -> Response:
    ctx = app_of(request).ctx
    found = await campaigns.city_campaigns(ctx, staff.user, staff.city.id, first, last)
    grid = campaign_grid(found.found, translations(pick_language(request)).gettext)
    return csv_download(grid, staff.city.slug, found.period)


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
