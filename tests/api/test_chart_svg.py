"""Pages get their charts from the composed app: in the request's language, rendered once."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

from markupsafe import Markup
from starlette.requests import Request

from marktplatz.adapters.charts import VlConvertCharts
from marktplatz.bootstrap import App
from marktplatz.domain.charts import Bar, bars
from marktplatz.web.charts import chart_locale, chart_svg


def request_in(web: Any, language: str) -> Request:
    headers = [(b"accept-language", language.encode())]
    return Request(
        {
            "type": "http",
            "app": web,
            "method": "GET",
            "path": "/",
            "headers": headers,
            "query_string": b"",
        }
    )


async def test_a_page_gets_its_chart_in_its_language_from_the_app(web: Any, composed: App) -> None:
    # given a German and an English request
    german, english = request_in(web, "de"), request_in(web, "en")
    # when each builds and renders the same figures
    locale = chart_locale(german)
    spec = bars("Kontakte", [Bar("Tür", 1500)], value_title="Kontakte", locale=locale)
    renderer = composed.ctx.charts
    assert isinstance(renderer, VlConvertCharts)
    before = renderer.renders
    svg = await chart_svg(german, spec)
    again = await chart_svg(german, spec)
    # then the German one speaks German (numbers and the catalogue) and comes from the app's
    # renderer, once; the English one speaks English
    assert locale.language == "de"
    assert locale.translate("Please check your input.") == "Bitte überprüfen Sie Ihre Eingaben."
    assert chart_locale(english).language == "en"
    assert spec.table.rows == (("Tür", "1.500"),)
    assert isinstance(svg, Markup)
    assert svg == again
    assert renderer.renders == before + 1
    root = ElementTree.fromstring(str(svg))  # noqa: S314 (our own renderer's output)
    assert root.get("role") == "img"
    assert composed.ctx.charts.svg(spec) == str(svg)
