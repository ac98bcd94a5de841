"""The pictures of the dashboards: which chart shows which figures, with translated titles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta

from babel.dates import format_date
from babel.numbers import format_decimal

from marktplatz.domain.analytics import (
    STEPS,
    CampaignUplift,
    CityFootfall,
    EventUplift,
    ShopResults,
    Table,
)
from marktplatz.domain.analytics_tables import STEP_LABELS, step_label
from marktplatz.domain.chart_bars import Bar, Rate, Week, bars, event_uplift, funnel, uplift
from marktplatz.domain.chart_base import ChartLocale, ChartSpec
from marktplatz.domain.charts import Flow, HeatRow, Series, flow, heatmap, time_series
from marktplatz.domain.errors import N_
from marktplatz.domain.funnels import Step
from marktplatz.domain.rollups import CONSENTED
from marktplatz.domain.sequences import BAND_LABELS, Band


def city_charts(found: CityFootfall, locale: ChartLocale) -> dict[str, ChartSpec]:
    """By the name of the table each chart pictures (its CSV download)."""
    t = locale.translate
    charts = {
        "days": time_series(
            t(N_("Footfall by day")),
            [
                Series(t(N_("Touchpoint contacts")), _points(found, found.contacts)),
                Series(t(N_("People counted")), _points(found, found.people)),
                Series(t(N_("Visitors with consent")), _points(found, found.visitors[CONSENTED])),
            ],
            x_title=t(N_("Day")),
            y_title=t(N_("Count")),
            locale=locale,
        ),
    }
    rows = [
        HeatRow(
            name or t(N_("Outside every zone")),
            [found.heat.values.get((zone, hour), 0) for hour in range(7 * 24)],
        )
        for zone, name in found.zones
        if any(key[0] == zone for key in found.heat.values)
    ]
    if rows:
        charts["week"] = heatmap(
            t(N_("Contacts by zone and hour of the week")),
            rows,
            row_title=t(N_("Zone")),
            value_title=t(N_("Touchpoint contacts")),
            locale=locale,
        )
    names = dict(found.zones)
    if found.flows.shown:
        charts["paths"] = flow(
            t(N_("Paths between zones")),
            [
                Flow(names.get(f.left, f.left), names.get(f.entered, f.entered), f.count)
                for f in found.flows.shown
            ],
            source_title=t(N_("From zone")),
            target_title=t(N_("Into zone")),
            value_title=t(N_("Moves")),
            locale=locale,
        )
    if found.dwell:
        charts["dwell"] = _dwell_chart(found, names, locale)
    if found.events:
        charts["events"] = _event_chart(found.events[-1], found, locale)
    return charts


def _dwell_chart(found: CityFootfall, names: dict[str, str], locale: ChartLocale) -> ChartSpec:
    """Zones × dwell bands, with a text alternative of its own (a stay is not a move)."""
    t = locale.translate
    cells = [
        Flow(names.get(d.zone, d.zone), t(BAND_LABELS[band]), d.stays.get(band, 0))
        for d in found.dwell
        for band in Band
    ]
    chart = flow(
        t(N_("How long visitors stay in each zone")),
        cells,
        source_title=t(N_("Zone")),
        target_title=t(N_("Stay")),
        value_title=t(N_("Stays")),
        locale=locale,
    )
    top = max(cells, key=lambda c: c.value or 0)
    alt = t(N_("Most stays: %(zone)s, %(band)s (%(count)s).")) % {
        "zone": top.source,
        "band": top.target,
        "count": format_decimal(top.value or 0, locale=locale.language),
    }
    medians = [
        t(N_("%(zone)s: median stay %(band)s."))
        % {"zone": names.get(d.zone, d.zone), "band": t(BAND_LABELS[d.median])}
        for d in found.dwell
        if d.median is not None
    ]
    return replace(chart, alt=" ".join([alt, *medians]))


def _event_chart(event: EventUplift, found: CityFootfall, locale: ChartLocale) -> ChartSpec:
    """The latest event's hours beside the same hours of each week before."""
    t = locale.translate

    def label(weeks_back: int) -> str:
        day = (event.start - timedelta(weeks=weeks_back)).astimezone(found.period.tz).date()
        return format_date(
            day, "d.M." if locale.language == "de" else "d/M", locale=locale.language
        )

    weeks = [
        Week(label(len(event.weeks) - i), value, event=False) for i, value in enumerate(event.weeks)
    ]
    weeks.append(Week(label(0), event.during, event=True))
    return event_uplift(
        t(N_("Footfall during “%(event)s”")) % {"event": event.title},
        weeks,
        value_title=t(N_("Touchpoint contacts")),
        locale=locale,
    )


def _points(found: CityFootfall | ShopResults, table: Table[date]) -> list[tuple[date, int | None]]:
    return [(day, table.values.get(day, 0)) for day in found.period.days]


def shop_charts(found: ShopResults, locale: ChartLocale) -> dict[str, ChartSpec]:
    """By the name of the table each chart pictures (its CSV download); a funnel or bars with
    nothing shown yet are left out (an empty axis tells a reader nothing)."""
    t = locale.translate
    charts = {
        "days": time_series(
            t(N_("Contacts at your touchpoints by day")),
            [Series(t(N_("Touchpoint contacts")), _points(found, found.contacts))],
            x_title=t(N_("Day")),
            y_title=t(N_("Count")),
            locale=locale,
        ),
    }
    if found.by_content[STEPS[0]].total != 0:
        charts["funnel"] = funnel(
            t(N_("From shown to redeemed")),
            [(t(STEP_LABELS[s]), found.by_content[s].total) for s in STEPS],
            value_title=t(N_("Count")),
            share_title=t(N_("Share of shown")),
            locale=locale,
        )
    titles = {str(c.id): c.title for c in found.contents}
    shown = found.by_content[STEPS[0]].values
    if any(v != 0 for v in shown.values()):
        charts["items"] = bars(
            t(N_("How often each item was shown")),
            [
                Bar(titles.get(k, t(N_("(deleted item)"))), v)
                for k, v in sorted(shown.items(), key=lambda kv: -(kv[1] or 0))
            ],
            value_title=t(STEP_LABELS[STEPS[0]]),
            locale=locale,
        )
    return charts


def funnel_chart(steps: Sequence[tuple[Step, int | None]], locale: ChartLocale) -> ChartSpec:
    t = locale.translate
    return funnel(
        t(N_("Funnel")),
        [(f"{n}. {step_label(step, t)}", count) for n, (step, count) in enumerate(steps, 1)],
        value_title=t(N_("Visitors")),
        share_title=t(N_("Share of step 1")),
        locale=locale,
    )


def campaign_chart(found: CampaignUplift, locale: ChartLocale) -> ChartSpec:
    """The largest campaign: the exposed visitors' rate of coming beside the control group's."""
    t = locale.translate
    return uplift(
        t(N_("“%(offer)s”: shown against held back")) % {"offer": found.title},
        Rate(t(N_("Shown the offer")), found.exposed.rate),
        Rate(t(N_("Control group")), found.control.rate),
        rate_title=t(N_("Came to the shop")),
        locale=locale,
    )
