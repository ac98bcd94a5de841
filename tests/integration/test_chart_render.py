"""Charts rendered by the real vl-convert engine: well-formed SVG with a title and a description,
hostile labels escaped, nothing the page's CSP blocks, German formats, a cache, and PNGs."""

from __future__ import annotations

import io
from datetime import date
from xml.etree import ElementTree

import pytest
from markupsafe import Markup, escape
from PIL import Image

from marktplatz.adapters.charts import VlConvertCharts
from marktplatz.domain.charts import (
    Bar,
    ChartLocale,
    ChartSpec,
    Flow,
    HeatRow,
    Rate,
    Series,
    Week,
    bars,
    event_uplift,
    flow,
    funnel,
    heatmap,
    time_series,
    uplift,
)
from marktplatz.web.pages import env

SVG = "{http://www.w3.org/2000/svg}"
EN = ChartLocale("en")
DE = ChartLocale("de")
HOSTILE = "Zone \"A\" <script>alert('x')</script> & 'B'"


@pytest.fixture(scope="module")
def charts() -> VlConvertCharts:
    return VlConvertCharts()


def parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)  # noqa: S314 (our own renderer's output)


def every_kind(label: str) -> list[ChartSpec]:
    week: list[int | None] = [None if hour % 7 == 0 else hour for hour in range(168)]
    return [
        heatmap(label, [HeatRow(label, week)], row_title=label, value_title=label, locale=EN),
        time_series(
            label,
            [Series(label, [(date(2026, 3, d), d * 10 if d % 3 else None) for d in range(1, 15)])],
            x_title=label,
            y_title=label,
            locale=EN,
        ),
        bars(label, [Bar(label, 12), Bar("NFC", None)], value_title=label, locale=EN),
        funnel(
            label,
            [(label, 100), ("Shop", None), ("Counter", 20)],
            value_title=label,
            share_title=label,
            locale=EN,
        ),
        flow(
            label,
            [Flow(label, "Station", 30), Flow("Station", label, None)],
            source_title=label,
            target_title=label,
            value_title=label,
            locale=EN,
        ),
        uplift(label, Rate(label, 0.08), Rate("Control", 0.05), rate_title=label, locale=EN),
        event_uplift(
            label, [Week(label, 500, False), Week("W12", 900, True)], value_title=label, locale=EN
        ),
    ]


@pytest.mark.parametrize("index", range(7), ids=lambda i: every_kind("x")[i].kind)
def test_each_kind_is_well_formed_and_labelled(charts: VlConvertCharts, index: int) -> None:
    # given a chart whose labels try to break out of the SVG
    spec = every_kind(HOSTILE)[index]
    # when it is rendered
    svg = charts.svg(spec)
    root = parse(svg)
    # then it parses, is an image labelled by its title and described by its text alternative
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None
    assert desc is not None
    assert root.get("aria-labelledby") == title.get("id")
    assert root.get("aria-describedby") == desc.get("id")
    assert title.text == HOSTILE
    assert desc.text == spec.alt
    # and the hostile label is text, never markup: no script element, no event handler
    assert not [e for e in root.iter() if e.tag.endswith("script")]
    assert not [a for e in root.iter() for a in e.attrib if a.startswith("on")]
    assert HOSTILE in [e.text for e in root.iter(f"{SVG}text")] + [title.text]


@pytest.mark.parametrize("index", range(7), ids=lambda i: every_kind("x")[i].kind)
def test_nothing_in_the_svg_needs_inline_styles(charts: VlConvertCharts, index: int) -> None:
    # The page's CSP (style-src 'self') also blocks style attributes and <style> elements of an
    # SVG inlined into HTML; presentation attributes (fill, font-style …) are not styles.
    root = parse(charts.svg(every_kind("Zone")[index]))
    assert not [e.tag for e in root.iter() if e.tag == f"{SVG}style" or "style" in e.attrib]


def test_the_svg_scales_by_its_view_box(charts: VlConvertCharts) -> None:
    root = parse(charts.svg(every_kind("Zone")[2]))
    width, height = root.get("width"), root.get("height")
    assert root.get("viewBox") == f"0 0 {width} {height}"


def test_german_charts_have_german_axis_numbers(charts: VlConvertCharts) -> None:
    # given the same bars in German and in English
    items = [Bar("Tür", 1800), Bar("Fenster", 300)]
    german = bars("T", items, value_title="Kontakte", locale=DE)
    english = bars("T", items, value_title="Contacts", locale=EN)
    # when both are rendered
    german_labels = [e.text for e in parse(charts.svg(german)).iter(f"{SVG}text")]
    english_labels = [e.text for e in parse(charts.svg(english)).iter(f"{SVG}text")]
    # then thousands are grouped the German and the English way
    assert {"1.000", "1.800"} <= set(german_labels)
    assert {"1,000", "1,800"} <= set(english_labels)


def test_german_percent_axes_put_a_space_before_the_sign(charts: VlConvertCharts) -> None:
    spec = uplift(
        "K", Rate("Gesehen", 0.08), Rate("Kontrolle", 0.05), rate_title="Quote", locale=DE
    )
    labels = [e.text for e in parse(charts.svg(spec)).iter(f"{SVG}text")]
    assert {"0\u00a0%", "2\u00a0%", "8\u00a0%"} <= set(labels)


def test_a_cached_chart_is_not_rendered_again() -> None:
    # given a renderer with room for one chart
    charts = VlConvertCharts(max_cached=1)
    first = bars("A", [Bar("x", 10)], value_title="v", locale=EN)
    same = bars("A", [Bar("x", 10)], value_title="v", locale=EN)
    other = bars("B", [Bar("y", 20)], value_title="v", locale=EN)
    # when the same spec (built twice) is asked for twice
    svg = charts.svg(first)
    again = charts.svg(same)
    # then it was rendered once
    assert again == svg
    assert charts.renders == 1
    # and the one place in the cache goes to the latest chart
    charts.svg(other)
    charts.svg(first)
    assert charts.renders == 3


def test_two_charts_have_ids_of_their_own(charts: VlConvertCharts) -> None:
    a = parse(charts.svg(bars("A", [Bar("x", 10)], value_title="v", locale=EN)))
    b = parse(charts.svg(bars("B", [Bar("x", 10)], value_title="v", locale=EN)))
    assert a.get("aria-labelledby") != b.get("aria-labelledby")


def test_a_png_for_reports(charts: VlConvertCharts) -> None:
    # given
    spec = every_kind("Markt")[0]
    # when
    png = charts.png(spec, scale=2)
    # then it is a PNG twice the SVG's size, with dark pixels where the labels are drawn
    root = parse(charts.svg(spec))
    image = Image.open(io.BytesIO(png)).convert("L")
    assert image.size == (2 * int(root.get("width", "0")), 2 * int(root.get("height", "0")))
    left_margin = image.crop((0, 0, 80, image.height))
    assert left_margin.getextrema()[0] < 100  # the row label ("Markt") is drawn in the margin


def test_the_macro_shows_picture_caption_and_table(charts: VlConvertCharts) -> None:
    # given a chart with a hostile label and its SVG
    spec = bars(HOSTILE, [Bar(HOSTILE, 12), Bar("NFC", None)], value_title="Contacts", locale=EN)
    svg = Markup(charts.svg(spec))  # as web.charts.chart_svg hands it over  # noqa: S704
    template = env.from_string(
        '{% import "_chart.html" as c with context %}{{ c.chart(spec, svg, csv_url) }}'
    )
    # when the macro renders it with and without a CSV link
    html = template.render(spec=spec, svg=svg, csv_url="/x.csv?a=1&b=2", _=lambda s: s)
    without = template.render(spec=spec, svg=svg, csv_url=None, _=lambda s: s)
    # then the figure holds the SVG, the caption, the table and the link, labels escaped
    assert html.count("<svg") == 1
    assert "<figcaption>" in html
    assert f'<span class="chart-alt">{escape(spec.alt)}</span>' in html
    assert "<script" not in html
    assert '<th scope="row">Zone &#34;A&#34; &lt;script&gt;' in html
    assert "<td>fewer than 5 visitors</td>" in html
    assert '<a href="/x.csv?a=1&amp;b=2" download>Download the figures (CSV)</a>' in html
    assert "download>" not in without
