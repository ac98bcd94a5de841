"""The dashboards' tables on the web: translated grids and their CSV downloads."""

from __future__ import annotations

from fastapi.responses import Response

from marktplatz.domain.analytics import CityFootfall, Period, ShopResults
from marktplatz.domain.analytics_tables import STEP_LABELS, Grid
from marktplatz.domain.analytics_tables import city_grids as _city_grids
from marktplatz.domain.analytics_tables import shop_grids as _shop_grids
from marktplatz.web.i18n import translations

__all__ = ["STEP_LABELS", "city_grids", "csv_download", "shop_grids"]


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
