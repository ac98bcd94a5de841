"""What every chart shares: its spec and table, the locale it speaks, colours and suppression."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from babel.dates import format_date
from babel.numbers import format_percent, get_decimal_symbol, get_group_symbol

from marktplatz.domain.errors import N_

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
SUPPRESSED = N_("fewer than 5 visitors")
# Okabe–Ito colours, which stay apart under the common colour-vision deficiencies, limited to
# those with at least 3:1 contrast on white (WCAG 1.4.11); orange, sky blue and yellow fall short.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#000000")
# Suppressed cells: a neutral grey that no sequential or categorical colour here comes close to,
# still 3:1 on white so that a hidden cell is seen as hidden rather than as empty.
HIDDEN_GREY = "#8A8A8A"
TEXT = "#1A1A1A"
LINES = "#595959"  # axes and ticks: 7:1 on white
# Viridis is perceptually even and readable in greyscale and with colour-vision deficiencies;
# reversed so that more is darker.
SEQUENTIAL = {"scheme": "viridis", "reverse": True}
# DejaVu Sans (Debian: fonts-dejavu-core) draws the labels; Bitstream Vera, which ships with
# reportlab (see adapters/pdf.py) and has the same metrics, stands in where DejaVu is missing
# (it draws the no-break space of "8,2 %" too wide). Browsers fall back to Verdana or sans-serif.
FONT = "DejaVu Sans, Bitstream Vera Sans, Verdana, sans-serif"
WIDTH = 480


@lru_cache(maxsize=8)
def _separators(language: str) -> dict[int, str]:
    return str.maketrans(
        {",": get_group_symbol(locale=language), ".": get_decimal_symbol(locale=language)}
    )


def _same(message: str) -> str:
    return message


@dataclass(frozen=True, slots=True)
class ChartLocale:
    """The language a chart speaks: its number and date formats and its translated templates."""

    language: str  # "de" or "en"
    translate: Callable[[str], str] = _same

    @property
    def vega(self) -> str:
        """The format locale name Vega's number and time formats take."""
        return "de-DE" if self.language == "de" else "en-US"

    def text(self, msgid: str, **params: object) -> str:
        translated = self.translate(msgid)
        return translated % params if params else translated

    def number(self, value: float) -> str:
        """At most one decimal, grouped in thousands ("1.234,5"). Babel's own formatter takes
        ≈ 0.2 ms a call, too slow for heatmaps of many thousand cells: its symbols are used."""
        text = f"{round(float(value), 1):,.1f}".removesuffix(".0")
        return text.translate(_separators(self.language))

    def percent(self, share: float) -> str:
        # Rounded to tenths of a percent, in the locale's own pattern ("8,2 %", "8.2%").
        return format_percent(round(share, 3), locale=self.language, decimal_quantization=False)

    def day(self, when: date | datetime) -> str:
        if isinstance(when, datetime):
            # The city's wall-clock time as given, on the 24-hour clock in both languages.
            return f"{format_date(when, format='medium', locale=self.language)} {when:%H:%M}"
        return format_date(when, format="medium", locale=self.language)


@dataclass(frozen=True, slots=True)
class Table:
    """The chart's data as text, for the accessible table beside the picture."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True, eq=False)
class ChartSpec:
    """A Vega-Lite spec with its title, text alternative, data table and format locale."""

    title: str
    alt: str
    vega: Mapping[str, Any]
    table: Table
    locale: str = "de-DE"
    kind: str = "chart"


def shown(value: float | None, locale: ChartLocale, *, percent: bool = False) -> str:
    """A value as the table and labels show it; a suppressed one as the words that say so."""
    if value is None:
        return locale.text(SUPPRESSED)
    return locale.percent(value) if percent else locale.number(value)


def hidden_sentence(values: Sequence[float | None], locale: ChartLocale) -> str:
    """The sentence on hidden cells, or nothing when none is hidden."""
    hidden = sum(1 for value in values if value is None)
    if not hidden:
        return ""
    return " " + locale.text(
        N_("Hidden (fewer than 5 visitors): %(hidden)s of %(cells)s values."),
        hidden=locale.number(hidden),
        cells=locale.number(len(values)),
    )


def nothing_shown(locale: ChartLocale) -> str:
    return locale.text(N_("No value can be shown: each comes from fewer than 5 visitors."))


def spec(
    kind: str, body: Mapping[str, Any], *, title: str, alt: str, table: Table, locale: ChartLocale
) -> ChartSpec:
    """The finished spec: schema, shared look, and a description for Vega's own ARIA."""
    vega = {
        "$schema": SCHEMA,
        "description": alt,
        "background": "white",
        "padding": 8,
        "config": config(),
        **body,
    }
    return ChartSpec(title=title, alt=alt, vega=vega, table=table, locale=locale.vega, kind=kind)


def config() -> dict[str, Any]:
    axis = {
        "labelColor": TEXT,
        "titleColor": TEXT,
        "domainColor": LINES,
        "tickColor": LINES,
        "gridColor": "#E0E0E0",
        "labelFontSize": 11,
        "titleFontSize": 12,
        "labelLimit": 180,
    }
    legend = {"labelColor": TEXT, "titleColor": TEXT, "labelFontSize": 11, "titleFontSize": 12}
    # No ARIA roles inside the picture: marks would each be an image without a name to a
    # screen reader (axe: svg-img-alt). The <svg> itself is one image, named by its title and
    # text alternative, and the figures are in the table beside it.
    return {
        "font": FONT,
        "view": {"stroke": None},
        "axis": axis,
        "legend": legend,
        "aria": False,
        "mark": {"aria": False},
    }


def hidden_layers(
    rows: Sequence[Mapping[str, Any]], mark: Mapping[str, Any], encoding: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Suppressed rows drawn grey, with the legend entry that says why (no value, no size).

    None when nothing is hidden: a legend over no data would also break Vega's layout.
    """
    if all(row["value"] is not None for row in rows):
        return []
    layer = {
        "transform": [{"filter": "datum.value === null"}],
        "mark": dict(mark),
        "encoding": {
            **encoding,
            "color": {
                "field": "status",
                "type": "nominal",
                "title": None,
                "scale": {"range": [HIDDEN_GREY]},
                "legend": {"orient": "bottom"},
            },
        },
    }
    return [layer]


SHOWN = {"filter": "datum.value !== null"}
