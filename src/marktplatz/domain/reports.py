"""The monthly report of a shop: its content, ready to be set as a PDF in any language."""

from __future__ import annotations

from dataclasses import dataclass, field

from babel.dates import format_date
from babel.numbers import format_decimal

from marktplatz.domain.analytics import STEPS, ShopResults
from marktplatz.domain.analytics_tables import STEP_LABELS, Grid, Translate, shop_grids
from marktplatz.domain.errors import N_


@dataclass(frozen=True, slots=True)
class Figure:
    """A key figure of the month: this month, the month before, the category's median."""

    label: str
    value: str
    before: str
    median: str


@dataclass(frozen=True, slots=True)
class Report:
    title: str
    subtitle: str
    heading_figures: str
    figure_columns: tuple[str, str, str, str]
    figures: list[Figure]
    grids: list[Grid]
    notes: list[str]
    language: str
    pictures: list[tuple[str, bytes]] = field(default_factory=list)  # (text alternative, PNG)


def monthly_report(current: ShopResults, before: ShopResults, lang: str, t: Translate) -> Report:
    """The month of a shop beside the month before and its category, and the month's tables."""
    month = format_date(current.period.first, "MMMM yyyy", locale=lang)
    hidden = t(N_("fewer than 5"))

    def shown(value: int | float | None, median: bool = False) -> str:
        if value is None:
            return t(N_("from 5 shops")) if median else hidden
        return format_decimal(value, locale=lang)

    figures = [
        Figure(
            t(STEP_LABELS[step]),
            shown(current.category[step].own),
            shown(before.category[step].own),
            shown(current.category[step].median, median=True),
        )
        for step in STEPS
    ]
    return Report(
        title=t(N_("Monthly report %(month)s")) % {"month": month},
        subtitle=f"{current.shop.name} · {format_date(current.period.first, 'd.M.', locale=lang)}–"
        f"{format_date(current.period.last, 'd.M.yyyy', locale=lang)}",
        heading_figures=t(N_("Your month at a glance")),
        figure_columns=(
            t(N_("Step")),
            t(N_("This month")),
            t(N_("Month before")),
            t(N_("Median of your category")),
        ),
        figures=figures,
        grids=shop_grids(current, lang, t),
        notes=[
            t(N_("Every number rests on at least 5 visitors; smaller ones are shown as “<5”.")),
            t(N_("The category median is shown from 5 contributing shops of your category.")),
            t(N_("Made by Marktplatz from aggregated journey events; it names no visitor.")),
        ],
        language=lang,
    )
