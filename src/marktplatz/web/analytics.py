"""The dashboards' tables on the web: translated grids and their CSV downloads."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi.responses import Response
from starlette.requests import Request

from marktplatz.domain.analytics import CityFootfall, Period, ShopResults
from marktplatz.domain.analytics_charts import campaign_chart
from marktplatz.domain.analytics_tables import STEP_LABELS, Grid, campaign_grid
from marktplatz.domain.analytics_tables import city_grids as _city_grids
from marktplatz.domain.analytics_tables import shop_grids as _shop_grids
from marktplatz.domain.errors import InvalidInput
from marktplatz.services.campaigns import Campaigns
from marktplatz.web.charts import chart_locale, chart_svg
from marktplatz.web.i18n import pick_language, translations
from marktplatz.web.pages import field_errors

T = TypeVar("T")

__all__ = ["STEP_LABELS", "campaign_page", "city_grids", "csv_download", "in_period", "shop_grids"]


def city_grids(found: CityFootfall, lang: str) -> list[Grid]:
    return _city_grids(found, lang, translations(lang).gettext)


def shop_grids(found: ShopResults, lang: str) -> list[Grid]:
    return _shop_grids(found, lang, translations(lang).gettext)


def csv_download(grid: Grid, prefix: str, period: Period) -> Response:
    name = f"{prefix}-{grid.name}-{period.first.isoformat()}-{period.last.isoformat()}.csv"
    return Response(
        grid.csv(),
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "cache-control": "no-store",
        },
    )


async def campaign_page(request: Request, found: Campaigns) -> dict[str, Any]:
    """What the campaign pages of the console and the portal show: the period, the table and
    a chart of the largest campaign."""
    chart = campaign_chart(found.found[0], chart_locale(request)) if found.found else None
    return {
        "period": found.period,
        "grid": campaign_grid(found.found, translations(pick_language(request)).gettext),
        "chart": chart,
        "svg": await chart_svg(request, chart) if chart else None,
        "values": {},
    }


async def in_period(
    request: Request, load: Callable[[str | None, str | None], Awaitable[T]]
) -> tuple[T, dict[str, str]]:
    """The figures of the period the page asks for (?first=&last=); a bad period shows the
    default one, with the error next to the field that holds it."""
    first, last = request.query_params.get("first"), request.query_params.get("last")
    try:
        return await load(first, last), {}
    except InvalidInput as exc:
        return await load(None, None), field_errors(request, exc)
