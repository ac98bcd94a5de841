"""Chart builders: k-anonymised figures in, Vega-Lite specs with text alternatives out."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from babel.dates import get_day_names

from marktplatz.domain.chart_bars import Bar, Marker, Rate, Week, bars, event_uplift, funnel, uplift
from marktplatz.domain.chart_base import (
    PALETTE,
    SEQUENTIAL,
    SHOWN,
    SUPPRESSED,
    WIDTH,
    ChartLocale,
    ChartSpec,
    Table,
    hidden_layers,
    hidden_sentence,
    nothing_shown,
    shown,
    spec,
)
from marktplatz.domain.errors import N_

__all__ = [
    "Bar",
    "ChartLocale",
    "ChartSpec",
    "Flow",
    "HeatRow",
    "Marker",
    "Rate",
    "Series",
    "Table",
    "Week",
    "bars",
    "event_uplift",
    "flow",
    "funnel",
    "heatmap",
    "time_series",
    "uplift",
]

HOURS_OF_WEEK = 168
CELL = 4  # pixels per hour of the week: 672 px for a week, read at a glance


@dataclass(frozen=True, slots=True)
class HeatRow:
    """One row of a week heatmap: a label and 168 values, Monday 0 h first (None: hidden)."""

    label: str
    values: Sequence[int | None]


@dataclass(frozen=True, slots=True)
class Flow:
    """People who went from one zone to another (None: hidden)."""

    source: str
    target: str
    value: int | None


@dataclass(frozen=True, slots=True)
class Series:
    """A named line over days (dates) or hours (aware datetimes, in the city's time zone)."""

    name: str
    points: Sequence[tuple[date | datetime, int | None]]


def heatmap(
    title: str, rows: Sequence[HeatRow], *, row_title: str, value_title: str, locale: ChartLocale
) -> ChartSpec:
    """Rows (e.g. zones) × the 168 hours of the week, Monday 0 h to Sunday 23 h."""
    if any(len(row.values) != HOURS_OF_WEEK for row in rows):
        raise ValueError("every heatmap row needs 168 values, Monday 0 h first")
    days = _days("wide", locale)
    hidden = locale.text(SUPPRESSED)
    cells = [
        {"row": row.label, "slot": slot, "value": value, "status": hidden if value is None else ""}
        for row in rows
        for slot, value in enumerate(row.values)
    ]
    body = _grid(
        cells,
        _week_axis(locale),
        {"field": "row", "type": "nominal", "sort": None, "title": row_title},
        value_title,
        width=HOURS_OF_WEEK * CELL,
        numbers=False,
    )
    table = _week_table(rows, row_title, days, locale)
    alt = _heatmap_alt(rows, days, locale)
    return spec("heatmap", body, title=title, alt=alt, table=table, locale=locale)


def _week_axis(locale: ChartLocale) -> dict[str, Any]:
    """Day names at each day's first hour."""
    short = _days("abbreviated", locale)
    return {
        "field": "slot",
        "type": "ordinal",
        "title": None,
        "axis": {
            "values": list(range(0, HOURS_OF_WEEK, 24)),
            # The names come from Babel, never from users, and are quoted as JSON: a safe literal.
            "labelExpr": f"{json.dumps(short)}[floor(datum.value / 24)]",
            "labelAngle": 0,
            "labelAlign": "left",
        },
    }


def _week_table(
    rows: Sequence[HeatRow], row_title: str, days: Sequence[str], locale: ChartLocale
) -> Table:
    """One table row per row label and day, one column per hour: 24 columns, not 168."""
    return Table(
        (row_title, locale.text(N_("Day")), *(f"{hour:02d}" for hour in range(24))),
        tuple(
            (
                row.label,
                days[day],
                *(shown(v, locale) for v in row.values[day * 24 : day * 24 + 24]),
            )
            for row in rows
            for day in range(7)
        ),
    )


def _days(width: Literal["wide", "abbreviated"], locale: ChartLocale) -> list[str]:
    """Monday first (Babel keys the days 0 = Monday, but CLDR may list Sunday first)."""
    names = get_day_names(width, locale=locale.language)
    return [names[day] for day in range(7)]


def _heatmap_alt(rows: Sequence[HeatRow], days: Sequence[str], locale: ChartLocale) -> str:
    values = [v for row in rows for v in row.values]
    found = [
        (v, row.label, slot) for row in rows for slot, v in enumerate(row.values) if v is not None
    ]
    if not found:
        return nothing_shown(locale)
    value, label, slot = max(found, key=lambda item: item[0])
    return locale.text(
        N_("The highest value is %(value)s, in %(row)s on %(day)s at %(hour)s."),
        value=locale.number(value),
        row=label,
        day=days[slot // 24],
        hour=f"{slot % 24:02d}:00",
    ) + hidden_sentence(values, locale)


def flow(
    title: str,
    flows: Sequence[Flow],
    *,
    source_title: str,
    target_title: str,
    value_title: str,
    locale: ChartLocale,
) -> ChartSpec:
    """Paths between zones as a from × to matrix: each cell says how many went that way."""
    hidden = locale.text(SUPPRESSED)
    cells = [
        {
            "source": f.source,
            "target": f.target,
            "value": f.value,
            "status": hidden if f.value is None else "",
            "caption": shown(f.value, locale),
        }
        for f in flows
    ]
    x = {
        "field": "target",
        "type": "nominal",
        "sort": None,
        "title": target_title,
        "axis": {"orient": "top", "labelAngle": -40},
    }
    y = {"field": "source", "type": "nominal", "sort": None, "title": source_title}
    size = 36 * max(1, len({f.target for f in flows}))
    body = _grid(cells, x, y, value_title, width=size, numbers=True)
    table = Table(
        (source_title, target_title, value_title),
        tuple((f.source, f.target, shown(f.value, locale)) for f in flows),
    )
    return spec("flow", body, title=title, alt=_flow_alt(flows, locale), table=table, locale=locale)


def _flow_alt(flows: Sequence[Flow], locale: ChartLocale) -> str:
    found = [f for f in flows if f.value is not None]
    if not found:
        return nothing_shown(locale)
    top = max(found, key=lambda f: f.value or 0)
    return locale.text(
        N_("Most people went from %(source)s to %(target)s (%(value)s)."),
        source=top.source,
        target=top.target,
        value=locale.number(top.value or 0),
    ) + hidden_sentence([f.value for f in flows], locale)


def _grid(
    cells: list[dict[str, Any]],
    x: dict[str, Any],
    y: dict[str, Any],
    value_title: str,
    *,
    width: int,
    numbers: bool,
) -> dict[str, Any]:
    """Coloured cells for the values, grey cells for the hidden ones, numbers on request."""
    layers: list[dict[str, Any]] = [
        {
            "transform": [SHOWN],
            "mark": {"type": "rect", "stroke": "white", "strokeWidth": 0.5},
            "encoding": {
                "color": {
                    "field": "value",
                    "type": "quantitative",
                    "title": value_title,
                    "scale": SEQUENTIAL,
                    "legend": {"orient": "bottom"},
                }
            },
        },
        *hidden_layers(cells, {"type": "rect", "stroke": "white", "strokeWidth": 0.5}, {}),
    ]
    if numbers:
        layers.append(_numbers(cells))
    step = 36 if numbers else 18
    return {
        "data": {"values": cells},
        "width": width,
        "height": {"step": step},
        "encoding": {"x": x, "y": y},
        "layer": layers,
        "resolve": {"scale": {"color": "independent"}},
    }


def _numbers(cells: list[dict[str, Any]]) -> dict[str, Any]:
    largest = max((c["value"] for c in cells if c["value"] is not None), default=0)
    return {
        "transform": [SHOWN],
        "mark": {"type": "text", "fontSize": 11},
        "encoding": {
            "text": {"field": "caption"},
            # Dark cells (the upper half of the reversed viridis) carry white numbers.
            "color": {
                "condition": {"test": f"datum.value > {largest / 2}", "value": "white"},
                "value": "black",
            },
        },
    }


def time_series(
    title: str, series: Sequence[Series], *, x_title: str, y_title: str, locale: ChartLocale
) -> ChartSpec:
    """One line per series over days or hours; a hidden point breaks its line."""
    hidden = locale.text(SUPPRESSED)
    hourly = any(isinstance(when, datetime) for s in series for when, _ in s.points)
    points = [
        {
            "series": s.name,
            "when": _wall(when),
            "value": value,
            "status": hidden if value is None else "",
        }
        for s in series
        for when, value in s.points
    ]
    names = [s.name for s in series]
    x = _time_axis(x_title, hourly, locale)
    line = _lines(names, y_title)
    gaps = hidden_layers(
        points,
        {"type": "point", "shape": "triangle-up", "filled": True, "size": 40},
        {"y": {"datum": 0, "type": "quantitative"}},
    )
    body = {
        "data": {"values": points},
        "width": WIDTH,
        "height": 220,
        "encoding": {"x": x},
        "layer": [line, *gaps],
        "resolve": {"scale": {"color": "independent"}},
    }
    table = _series_table(series, x_title, locale)
    alt = " ".join(_series_alt(s, locale) for s in series[:3]) or nothing_shown(locale)
    return spec("time_series", body, title=title, alt=alt, table=table, locale=locale)


def _time_axis(x_title: str, hourly: bool, locale: ChartLocale) -> dict[str, Any]:
    if locale.language == "de":
        time_format = "%d.%m. %H:%M" if hourly else "%d.%m."
    else:
        time_format = "%b %d %H:%M" if hourly else "%b %d"
    return {
        "field": "when",
        "type": "temporal",
        "title": x_title,
        "axis": {"format": time_format, "labelAngle": 0, "labelOverlap": True},
    }


def _lines(names: list[str], y_title: str) -> dict[str, Any]:
    """The shown points as lines, one colour each; a hidden point breaks its line."""
    return {
        "transform": [SHOWN],
        "mark": {
            "type": "line",
            "point": True,
            "strokeWidth": 2,
            "invalid": "break-paths-show-domains",
        },
        "encoding": {
            "y": {"field": "value", "type": "quantitative", "title": y_title},
            "color": {
                "field": "series",
                "type": "nominal",
                "title": None,
                "sort": names,
                "scale": {"domain": names, "range": list(PALETTE[: len(names)])},
                "legend": {"orient": "bottom"},
            },
        },
    }


def _series_table(series: Sequence[Series], x_title: str, locale: ChartLocale) -> Table:
    moments = sorted({when for s in series for when, _ in s.points}, key=_wall)
    return Table(
        (x_title, *(s.name for s in series)),
        tuple((locale.day(when), *(_at(s, when, locale) for s in series)) for when in moments),
    )


def _wall(when: date | datetime) -> str:
    """Local wall-clock time without an offset: the renderer then shows it as it is, whatever its
    own time zone (with an offset it would convert to its zone; a bare date would be UTC)."""
    if isinstance(when, datetime):
        if when.tzinfo is None:
            raise ValueError("hourly points need aware datetimes in the city's time zone")
        return when.replace(tzinfo=None).isoformat(timespec="minutes")
    return f"{when.isoformat()}T00:00"


def _at(series: Series, when: date | datetime, locale: ChartLocale) -> str:
    """The table cell of a series at a moment: its value, the hidden words, or empty if absent."""
    values = [value for moment, value in series.points if moment == when]
    return shown(values[0], locale) if values else ""


def _series_alt(series: Series, locale: ChartLocale) -> str:
    found = [(when, value) for when, value in series.points if value is not None]
    if not found:
        return locale.text(N_("%(name)s: no value can be shown."), name=series.name)
    when, top = max(found, key=lambda item: item[1])
    third = max(1, len(found) // 3)
    first = sum(v for _, v in found[:third]) / third
    last = sum(v for _, v in found[-third:]) / third
    trend = (
        N_("rising")
        if last > first * 1.1
        else N_("falling")
        if last < first * 0.9
        else N_("about level")
    )
    return locale.text(
        N_(
            "%(name)s: %(total)s in the values shown, the most on %(when)s (%(value)s), "
            "trend %(trend)s."
        ),
        name=series.name,
        total=locale.number(sum(v for _, v in found)),
        when=locale.day(when),
        value=locale.number(top),
        trend=locale.text(trend),
    )
