"""The dashboards' tables as grids: one shape for the page, the CSV file and the PDF report."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from babel.dates import format_date, get_day_names

from marktplatz.domain.analytics import (
    STEPS,
    CampaignUplift,
    CityFootfall,
    Period,
    ShopResults,
    Table,
)
from marktplatz.domain.errors import N_
from marktplatz.domain.funnels import Step, StepKind
from marktplatz.domain.rollups import CONSENTED, COOKIELESS, Stat
from marktplatz.domain.sequences import BAND_LABELS, Band
from marktplatz.domain.text import spreadsheet_csv

Translate = Callable[[str], str]  # a msgid to the reader's language

PATHS_NOTE = N_("Moves between zones of visitors with consent; paths of fewer than 5 are left out.")
EVENTS_NOTE = N_(
    "Touchpoint contacts in the hours of each city event, against the same weekday and hours of "
    "the four weeks before."
)
FUNNEL_NOTE = N_(
    "Visitors with consent who did step 1 in the period and each later step after it, within "
    "the window. A step reached by fewer than 5 visitors is hidden, and every step after it."
)
CAMPAIGNS_NOTE = N_(
    "Visitors with consent shown the offer, and those of the control group who would have seen "
    "it; how many of each met a touchpoint of the shop within 7 days after."
)
HIDDEN = "<5"  # a suppressed cell in a CSV file: fewer than 5 visitors
STEP_LABELS = {
    Stat.EXPOSED: N_("Shown"),
    Stat.VIEWED: N_("Opened"),
    Stat.SAVED: N_("Saved"),
    Stat.REDEEMED: N_("Redeemed"),
}


@dataclass(frozen=True, slots=True)
class Grid:
    """One table of a dashboard: a row header and counts (None: fewer than 5 visitors)."""

    name: str  # the CSV file's name, and the table's anchor
    title: str
    columns: list[str]  # the row header's label first
    rows: list[tuple[str, list[int | None]]]
    totals: list[int | None] | None = None  # one per column of counts; None: no total row
    total_label: str = ""
    note: str = ""

    def csv(self) -> bytes:
        lines = [[label, *map(_csv_cell, cells)] for label, cells in self.rows]
        if self.totals is not None:
            lines.append([self.total_label, *map(_csv_cell, self.totals)])
        return spreadsheet_csv([self.columns, *lines])


def _csv_cell(value: int | None) -> str:
    return HIDDEN if value is None else str(value)


def _day(value: date, lang: str) -> str:
    return format_date(value, "EEE d.M.yyyy" if lang == "de" else "EEE d/M/yyyy", locale=lang)


def _days(period: Period, lang: str, *series: Table[date]) -> list[tuple[str, list[int | None]]]:
    return [(_day(d, lang), [s.values.get(d, 0) for s in series]) for d in period.days]


def city_grids(found: CityFootfall, lang: str, t: Translate) -> list[Grid]:
    """The city dashboard's tables: the week by zone and hour, and the days (`t` translates)."""
    weekdays = get_day_names("abbreviated", locale=lang)
    week_rows = []
    for zone, name in found.zones:
        if not any(k[0] == zone for k in found.heat.values):
            continue
        label = name or t(N_("Outside every zone"))
        for day in range(7):
            cells = [found.heat.values.get((zone, day * 24 + h), 0) for h in range(24)]
            week_rows.append((f"{label} · {weekdays[day]}", cells))
    days = _days(
        found.period,
        lang,
        found.contacts,
        found.people,
        found.page_views,
        found.visitors[CONSENTED],
        found.visitors[COOKIELESS],
    )
    return [
        Grid(
            "week",
            t(N_("Contacts by zone and hour of the week")),
            [t(N_("Zone and weekday")), *(f"{h}" for h in range(24))],
            week_rows,
            note=t(N_("Touchpoint contacts in each hour of the week, added up over the period.")),
        ),
        Grid(
            "days",
            t(N_("Footfall by day")),
            [
                t(N_("Day")),
                t(N_("Touchpoint contacts")),
                t(N_("People counted")),
                t(N_("Web app page views")),
                t(N_("Visitors with consent")),
                t(N_("Visitors without consent (daily count)")),
            ],
            days,
            [
                found.contacts.total,
                found.people.total,
                found.page_views.total,
                found.visitors[CONSENTED].total,
                found.visitors[COOKIELESS].total,
            ],
            t(N_("Period")),
            t(N_("Visitors are counted per day: the period's line adds up the days.")),
        ),
        *_zone_grids(found, t),
        _event_grid(found, lang, t),
    ]


def _event_grid(found: CityFootfall, lang: str, t: Translate) -> Grid:
    def change(value: float | None) -> int | None:
        return None if value is None else round(value * 100)

    def mean(value: float | None) -> int | None:
        return None if value is None else round(value)

    return Grid(
        "events",
        t(N_("City events and footfall")),
        [
            t(N_("Event")),
            t(N_("Contacts during the event")),
            t(N_("Same hours, weeks before (mean)")),
            t(N_("Change in %")),
        ],
        [
            (
                f"{e.title} · {_day(e.start.astimezone(found.period.tz).date(), lang)}",
                [e.during, mean(e.baseline), change(e.uplift)],
            )
            for e in found.events
        ],
        note=t(EVENTS_NOTE),
    )


def _zone_grids(found: CityFootfall, t: Translate) -> list[Grid]:
    """Paths and stays (visitors with consent only): moves from fewer than 5 are left out."""
    names = dict(found.zones)

    def zone(key: str) -> str:
        return names.get(key) or t(N_("Outside every zone"))

    return [
        Grid(
            "paths",
            t(N_("Paths between zones")),
            [t(N_("From zone → into zone")), t(N_("Moves"))],
            [(f"{zone(f.left)} → {zone(f.entered)}", [f.count]) for f in found.flows.shown],
            [found.flows.total],
            t(N_("All moves")),
            t(PATHS_NOTE),
        ),
        Grid(
            "dwell",
            t(N_("How long visitors stay in each zone")),
            [t(N_("Zone")), *(t(BAND_LABELS[b]) for b in Band), t(N_("All stays"))],
            [(zone(d.zone), [*(d.stays.get(b, 0) for b in Band), d.total]) for d in found.dwell],
            note=t(
                N_("Stays of visitors with consent, from the first to the last sighting in a zone.")
            ),
        ),
    ]


def shop_grids(found: ShopResults, lang: str, t: Translate) -> list[Grid]:
    """The shop dashboard's tables: per item, per touchpoint, per day (`t` translates)."""
    steps = [t(STEP_LABELS[s]) for s in STEPS]
    titles = {str(c.id): c.title for c in found.contents}
    items = sorted({k for s in STEPS for k in found.by_content[s].values} | set(titles))
    places = sorted({k for s in STEPS for k in found.by_touchpoint[s].values})
    return [
        Grid(
            "items",
            t(N_("Your offers and stories, step by step")),
            [t(N_("Item")), *steps],
            [
                (
                    titles.get(k, t(N_("(deleted item)"))),
                    [found.by_content[s].values.get(k, 0) for s in STEPS],
                )
                for k in sorted(items, key=lambda k: titles.get(k, "").casefold())
            ],
            [found.by_content[s].total for s in STEPS],
            t(N_("All items")),
        ),
        Grid(
            "touchpoints",
            t(N_("By touchpoint")),
            [t(N_("Touchpoint")), *steps],
            [
                (
                    found.touchpoints.get(k, t(N_("Web app and links")))
                    if k
                    else t(N_("Web app and links")),
                    [found.by_touchpoint[s].values.get(k, 0) for s in STEPS],
                )
                for k in places
            ],
            [found.by_touchpoint[s].total for s in STEPS],
            t(N_("All touchpoints")),
        ),
        Grid(
            "days",
            t(N_("Contacts at your touchpoints by day")),
            [t(N_("Day")), t(N_("Touchpoint contacts"))],
            _days(found.period, lang, found.contacts),
            [found.contacts.total],
            t(N_("Period")),
        ),
    ]


IN_A_ZONE = N_("in a zone")
AT_A_SHOP = N_("at a shop")
STEP_KIND_LABELS = {
    StepKind.WEB: N_("Visited the web app"),
    StepKind.CONTACT: N_("Met a touchpoint"),
    StepKind.EXPOSED: N_("Was shown an item"),
    StepKind.VIEWED: N_("Opened an item"),
    StepKind.SAVED: N_("Saved an item"),
    StepKind.REDEEMED: N_("Redeemed a coupon"),
}


def step_label(step: Step, t: Translate) -> str:
    """A funnel step in words: what was done, and where or what it was narrowed to."""
    label = t(STEP_KIND_LABELS[step.kind])
    if step.zone == "*":
        return f"{label} · {t(IN_A_ZONE)}"
    if step.shop == "*":
        return f"{label} · {t(AT_A_SHOP)}"
    for name, value in (
        (N_("zone"), step.zone),
        (N_("shop"), step.shop),
        (N_("item"), step.content),
    ):
        if value is not None:
            return f"{label} · {t(name)}: {value}"
    return label


def funnel_grid(steps: Sequence[tuple[Step, int | None]], t: Translate) -> Grid:
    """Visitors reaching each step (a step from fewer than 5 hides the later ones too)."""
    return Grid(
        "funnel",
        t(N_("Funnel")),
        [t(N_("Step")), t(N_("Visitors")), t(N_("Share of step 1 in %"))],
        [
            (f"{n}. {step_label(step, t)}", [count, _percent(count, steps[0][1])])
            for n, (step, count) in enumerate(steps, start=1)
        ],
        note=t(FUNNEL_NOTE),
    )


def campaign_grid(found: Sequence[CampaignUplift], t: Translate) -> Grid:
    """Per offer: visitors shown it and held back from it, and who of each came to the shop."""

    def points(value: float | None) -> int | None:
        return None if value is None else round(value * 100)

    return Grid(
        "campaigns",
        t(N_("Campaigns against the control group")),
        [
            t(N_("Offer")),
            t(N_("Shown to (visitors)")),
            t(N_("Came to the shop (%)")),
            t(N_("Held back from (visitors)")),
            t(N_("Came to the shop (%)")),
            t(N_("Uplift (percentage points)")),
        ],
        [
            (
                f"{c.title} · {c.shop}",
                [
                    c.exposed.visitors,
                    points(c.exposed.rate),
                    c.control.visitors,
                    points(c.control.rate),
                    points(c.uplift),
                ],
            )
            for c in found
        ],
        note=t(CAMPAIGNS_NOTE),
    )


def _percent(part: int | None, whole: int | None) -> int | None:
    if part is None or whole is None:
        return None
    return round(part * 100 / whole) if whole else 0
