"""Bar charts: per touchpoint or offer, funnels, and uplift against a control or baseline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from marktplatz.domain.chart_base import (
    LINES,
    PALETTE,
    SHOWN,
    SUPPRESSED,
    TEXT,
    WIDTH,
    ChartLocale,
    ChartSpec,
    Table,
    hidden_sentence,
    nothing_shown,
    shown,
    spec,
)
from marktplatz.domain.errors import N_

HIDDEN_ROW = {"filter": "datum.value === null"}


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float | None  # None: hidden


@dataclass(frozen=True, slots=True)
class Marker:
    """A reference line across the bars, e.g. the median of the shop's category."""

    label: str
    value: float


@dataclass(frozen=True, slots=True)
class Rate:
    """A group's rate as a share (0.042 = 4.2 %); None: hidden."""

    label: str
    rate: float | None


@dataclass(frozen=True, slots=True)
class Week:
    label: str
    value: int | None
    event: bool  # the week of the event (else a comparison week)


def _row(label: str, value: float | None, caption: str, locale: ChartLocale) -> dict[str, Any]:
    hidden = value is None
    return {
        "label": label,
        "value": value,
        "status": locale.text(SUPPRESSED) if hidden else "",
        "caption": locale.text(SUPPRESSED) if hidden else caption,
    }


def bars(
    title: str,
    items: Sequence[Bar],
    *,
    value_title: str,
    locale: ChartLocale,
    percent: bool = False,
    marker: Marker | None = None,
) -> ChartSpec:
    """Horizontal bars in the given order, with an optional marker line (e.g. a median)."""
    rows = [_row(b.label, b.value, shown(b.value, locale, percent=percent), locale) for b in items]
    body = _horizontal(rows, value_title, percent=percent)
    if marker is not None:
        caption = f"{marker.label}: {shown(marker.value, locale, percent=percent)}"
        body["layer"] += _marker(marker.value, caption)
    table = Table(("", value_title), tuple((r["label"], r["caption"]) for r in rows))
    alt = _bars_alt(items, locale, percent, marker)
    return spec("bars", body, title=title, alt=alt, table=table, locale=locale)


def _bars_alt(
    items: Sequence[Bar], locale: ChartLocale, percent: bool, marker: Marker | None
) -> str:
    found = [b.value for b in items if b.value is not None]
    if not found:
        return nothing_shown(locale)
    top = max((b for b in items if b.value is not None), key=lambda b: b.value or 0)
    sentences = [
        locale.text(
            N_("The largest value is %(value)s, for %(label)s."),
            value=shown(top.value, locale, percent=percent),
            label=top.label,
        )
    ]
    if not percent and len(found) > 1:
        # Only what is shown is added up: a total that took in the hidden rows would give
        # them away (total − shown).
        total = locale.number(sum(found))
        sentences.append(locale.text(N_("The values shown add up to %(total)s."), total=total))
    if marker is not None:
        value = shown(marker.value, locale, percent=percent)
        sentences.append(
            locale.text(N_("%(marker)s: %(value)s."), marker=marker.label, value=value)
        )
    return " ".join(sentences) + hidden_sentence([b.value for b in items], locale)


def funnel(
    title: str,
    steps: Sequence[tuple[str, int | None]],
    *,
    value_title: str,
    share_title: str,
    locale: ChartLocale,
) -> ChartSpec:
    """Ordered steps with their counts and each step's share of the first."""
    first = steps[0][1] if steps else None

    def share(value: int | None) -> float | None:
        return value / first if value is not None and first else None

    rows = [
        _row(label, value, _with_share(value, share(value), locale), locale)
        for label, value in steps
    ]
    table = Table(
        ("", value_title, share_title),
        tuple(
            (label, shown(value, locale), shown(share(value), locale, percent=True))
            for label, value in steps
        ),
    )
    later = [(label, value) for label, value in steps[1:] if value is not None]
    if first is None or not later:
        alt = nothing_shown(locale)
    else:
        step, last = later[-1]
        alt = locale.text(
            N_("Of %(first)s at the first step, %(last)s reached %(step)s (%(share)s)."),
            first=locale.number(first),
            last=locale.number(last),
            step=step,
            share=shown(share(last), locale, percent=True),
        ) + hidden_sentence([value for _, value in steps], locale)
    body = _horizontal(rows, value_title, percent=False)
    return spec("funnel", body, title=title, alt=alt, table=table, locale=locale)


def _with_share(value: int | None, share: float | None, locale: ChartLocale) -> str:
    if value is None:
        return ""
    if share is None:
        return locale.number(value)
    return f"{locale.number(value)} ({locale.percent(share)})"


def _horizontal(rows: list[dict[str, Any]], value_title: str, *, percent: bool) -> dict[str, Any]:
    y = {"field": "label", "type": "nominal", "sort": None, "title": None}
    x = {
        "field": "value",
        "type": "quantitative",
        "title": value_title,
        "axis": {"format": ".0%" if percent else ",d", "tickMinStep": 0.01 if percent else 1},
    }
    beside = {"type": "text", "align": "left", "dx": 4}
    return {
        "data": {"values": rows},
        "width": WIDTH,
        "height": {"step": 26},
        "layer": [
            {
                "transform": [SHOWN],
                "mark": {"type": "bar", "color": PALETTE[0]},
                "encoding": {"x": x, "y": y},
            },
            *_words(beside, x, y, {"datum": 0, "type": "quantitative"}, y),
        ],
    }


def _words(
    mark: dict[str, Any],
    x: dict[str, Any],
    y: dict[str, Any],
    hidden_x: dict[str, Any],
    hidden_y: dict[str, Any],
) -> list[dict[str, Any]]:
    """Each shown bar's caption at its end; a hidden row's words at zero, where its bar would
    start. A hidden row gets words, never a bar: even its length would tell its size."""
    return [
        {
            "transform": [SHOWN],
            "mark": {**mark, "color": TEXT},
            "encoding": {"x": x, "y": y, "text": {"field": "caption"}},
        },
        {
            "transform": [HIDDEN_ROW],
            "mark": {**mark, "fontStyle": "italic", "color": LINES},
            "encoding": {"x": hidden_x, "y": hidden_y, "text": {"field": "status"}},
        },
    ]


def _marker(value: float, caption: str) -> list[dict[str, Any]]:
    data = {"values": [{"value": value, "caption": caption}]}
    x = {"field": "value", "type": "quantitative"}
    return [
        {
            "data": data,
            "mark": {"type": "rule", "color": "#000000", "strokeWidth": 2, "strokeDash": [5, 3]},
            "encoding": {"x": x},
        },
        {
            "data": data,
            "mark": {
                "type": "text",
                "align": "left",
                "dx": 4,
                "dy": -6,
                "baseline": "bottom",
                "color": TEXT,
                "fontWeight": "bold",
            },
            "encoding": {"x": x, "y": {"value": 0}, "text": {"field": "caption"}},
        },
    ]


def uplift(
    title: str, exposed: Rate, control: Rate, *, rate_title: str, locale: ChartLocale
) -> ChartSpec:
    """The exposed group's rate beside the control group's, and the difference in points."""
    groups = [exposed, control]
    rows = [_row(g.label, g.rate, shown(g.rate, locale, percent=True), locale) for g in groups]
    for row in rows:
        row["group"] = row["label"]
    body = _vertical(rows, rate_title, percent=True, groups=[g.label for g in groups], legend=False)
    table = Table(("", rate_title), tuple((r["label"], r["caption"]) for r in rows))
    if exposed.rate is None or control.rate is None:
        alt = hidden_sentence([exposed.rate, control.rate], locale).strip()
    else:
        alt = locale.text(
            N_(
                "%(exposed)s: %(a)s, %(control)s: %(b)s, "
                "a difference of %(diff)s percentage points."
            ),
            exposed=exposed.label,
            a=locale.percent(exposed.rate),
            control=control.label,
            b=locale.percent(control.rate),
            diff=f"{'+' if exposed.rate >= control.rate else '−'}"
            f"{locale.number(round(abs(exposed.rate - control.rate) * 100, 1))}",
        )
    return spec("uplift", body, title=title, alt=alt, table=table, locale=locale)


def event_uplift(
    title: str, weeks: Sequence[Week], *, value_title: str, locale: ChartLocale
) -> ChartSpec:
    """The event week beside the comparison weeks, with the comparison weeks' average as a line."""
    rows = [_row(w.label, w.value, shown(w.value, locale), locale) for w in weeks]
    groups = [locale.text(N_("Comparison weeks")), locale.text(N_("Event week"))]
    for row, week in zip(rows, weeks, strict=True):
        row["group"] = groups[week.event]
    body = _vertical(rows, value_title, percent=False, groups=groups, legend=True)
    baseline = [w.value for w in weeks if not w.event and w.value is not None]
    event = next((w.value for w in weeks if w.event), None)
    table = Table(("", value_title), tuple((r["label"], r["caption"]) for r in rows))
    if not baseline or event is None:
        return spec(
            "event_uplift", body, title=title, alt=nothing_shown(locale), table=table, locale=locale
        )
    mean = sum(baseline) / len(baseline)
    caption = locale.text(
        N_("Average of the comparison weeks: %(value)s"), value=locale.number(round(mean))
    )
    body["layer"] += _level(mean, caption)
    change = event / mean - 1 if mean else 0.0
    alt = locale.text(
        N_("During the event: %(event)s; the comparison weeks averaged %(mean)s (%(change)s)."),
        event=locale.number(event),
        mean=locale.number(round(mean)),
        change=("+" if change >= 0 else "−") + locale.percent(abs(change)),
    ) + hidden_sentence([w.value for w in weeks], locale)
    return spec("event_uplift", body, title=title, alt=alt, table=table, locale=locale)


def _vertical(
    rows: list[dict[str, Any]], value_title: str, *, percent: bool, groups: list[str], legend: bool
) -> dict[str, Any]:
    x = {
        "field": "label",
        "type": "nominal",
        "sort": None,
        "title": None,
        "axis": {"labelAngle": 0},
    }
    y = {
        "field": "value",
        "type": "quantitative",
        "title": value_title,
        "axis": {"format": ".0%" if percent else ",d"},
    }
    colour = {
        "field": "group",
        "type": "nominal",
        "title": None,
        "scale": {"domain": groups, "range": list(PALETTE[: len(groups)])},
        "legend": {"orient": "bottom"} if legend else None,
    }
    above = {"type": "text", "baseline": "bottom", "dy": -3}
    return {
        "data": {"values": rows},
        "width": {"step": 72},
        "height": 220,
        "layer": [
            {
                "transform": [SHOWN],
                "mark": {"type": "bar", "width": {"band": 0.7}},
                "encoding": {"x": x, "y": y, "color": colour},
            },
            *_words(above, x, y, x, {"datum": 0, "type": "quantitative"}),
        ],
    }


def _level(value: float, caption: str) -> list[dict[str, Any]]:
    data = {"values": [{"value": value, "caption": caption}]}
    y = {"field": "value", "type": "quantitative"}
    return [
        {
            "data": data,
            "mark": {"type": "rule", "color": "#000000", "strokeWidth": 2, "strokeDash": [5, 3]},
            "encoding": {"y": y},
        },
        {
            "data": data,
            "mark": {
                "type": "text",
                # Right of the bars, where no bar caption can cover it.
                "align": "left",
                "baseline": "middle",
                "dx": 6,
                "color": TEXT,
            },
            "encoding": {"y": y, "x": {"value": "width"}, "text": {"field": "caption"}},
        },
    ]
