"""Charts on pages: the chart locale of a request, and a chart's SVG made off the event loop."""

from __future__ import annotations

from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from marktplatz.domain.chart_base import ChartLocale, ChartSpec
from marktplatz.web.i18n import pick_language, translations
from marktplatz.web.state import app_of


def chart_locale(request: Request) -> ChartLocale:
    """The request's language, with its catalogue for the charts' text alternatives."""
    language = pick_language(request)
    return ChartLocale(language, translations(language).gettext)


async def chart_svg(request: Request, spec: ChartSpec) -> Markup:
    """The chart as SVG for `_chart.html`, rendered in a worker thread (≈ 60 ms on a miss)."""
    svg = await run_in_threadpool(app_of(request).ctx.charts.svg, spec)
    # Safe to mark: the renderer escapes every label, the title and the text alternative
    # (tests/unit/test_chart_render.py feeds it hostile labels).
    return Markup(svg)  # noqa: S704
