"""Chart specs: hidden cells carry no value, text alternatives say what the picture shows,
German charts use German formats, and every colour stands out on white."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marktplatz.domain.chart_base import HIDDEN_GREY, PALETTE, SUPPRESSED
from marktplatz.domain.charts import (
    Bar,
    ChartLocale,
    ChartSpec,
    Flow,
    HeatRow,
    Marker,
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

EN = ChartLocale("en")
GERMAN = ChartLocale("de", lambda msgid: {SUPPRESSED: "weniger als 5 Besucher"}.get(msgid, msgid))
BERLIN = ZoneInfo("Europe/Berlin")


def rows_of(spec: ChartSpec) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = spec.vega["data"]["values"]
    return rows


def week(value: int | None = 10, **at: int | None) -> list[int | None]:
    values: list[int | None] = [value] * 168
    for slot, found in at.items():
        values[int(slot[1:])] = found
    return values


def all_specs(locale: ChartLocale) -> list[ChartSpec]:
    return [
        heatmap(
            "Visitors",
            [HeatRow("Market", week(10, h5=None))],
            row_title="Zone",
            value_title="Visitors",
            locale=locale,
        ),
        time_series(
            "Contacts",
            [Series("Beacons", [(date(2026, 3, 2), 40), (date(2026, 3, 3), None)])],
            x_title="Day",
            y_title="Contacts",
            locale=locale,
        ),
        bars(
            "Per touchpoint",
            [Bar("QR door", 12), Bar("NFC", None)],
            value_title="Contacts",
            locale=locale,
        ),
        funnel(
            "Funnel",
            [("Web", 100), ("Street", None), ("Counter", 20)],
            value_title="People",
            share_title="Share",
            locale=locale,
        ),
        flow(
            "Paths",
            [Flow("Market", "Station", 30), Flow("Station", "Market", None)],
            source_title="From",
            target_title="To",
            value_title="People",
            locale=locale,
        ),
        uplift(
            "Campaign",
            Rate("Exposed", 0.08),
            Rate("Control", None),
            rate_title="Rate",
            locale=locale,
        ),
        event_uplift(
            "Festival",
            [Week("W10", 500, False), Week("W11", None, False), Week("W12", 900, True)],
            value_title="Passers-by",
            locale=locale,
        ),
    ]


@pytest.mark.parametrize("spec", all_specs(EN), ids=lambda spec: spec.kind)
def test_hidden_rows_carry_no_value_and_say_why(spec: ChartSpec) -> None:
    # given a chart with one hidden value
    # when its data rows are read
    hidden = [row for row in rows_of(spec) if row["value"] is None]
    shown = [row for row in rows_of(spec) if row["value"] is not None]
    # then exactly that row is hidden, it says "fewer than 5 visitors", and no shown row does
    assert len(hidden) == 1
    assert hidden[0]["status"] == "fewer than 5 visitors"
    assert all(row["status"] == "" for row in shown)
    assert "fewer than 5 visitors" in [cell for row in spec.table.rows for cell in row]


@settings(max_examples=40)  # a week is 168 draws: the examples are big already
@given(st.lists(st.one_of(st.none(), st.integers(5, 10_000)), min_size=168, max_size=168))
def test_a_heatmap_shows_no_number_for_any_hidden_hour(values: list[int | None]) -> None:
    # given a week with random hidden hours
    spec = heatmap("V", [HeatRow("Zone", values)], row_title="Zone", value_title="V", locale=EN)
    # when its cells and table are read
    cells = rows_of(spec)
    table = [cell for row in spec.table.rows for cell in row[2:]]
    # then each hidden hour has neither a value nor a number in the table
    assert [c["value"] for c in cells] == values
    assert [c["status"] != "" for c in cells] == [v is None for v in values]
    assert [t == "fewer than 5 visitors" for t in table] == [v is None for v in values]


def test_a_heatmap_needs_the_168_hours_of_a_week() -> None:
    with pytest.raises(ValueError, match="168 values"):
        heatmap("V", [HeatRow("Zone", [1] * 24)], row_title="Zone", value_title="V", locale=EN)


def test_the_heatmap_text_names_the_highest_hour_and_the_hidden_ones() -> None:
    # given the most visitors on Saturday at 14:00 (hour 5 × 24 + 14) and two hidden hours
    values = week(10, h134=420, h0=None, h1=None)
    # when the heatmap is built
    spec = heatmap(
        "V", [HeatRow("Market square", values)], row_title="Zone", value_title="Visitors", locale=EN
    )
    # then
    assert spec.alt == (
        "The highest value is 420, in Market square on Saturday at 14:00. "
        "Hidden (fewer than 5 visitors): 2 of 168 values."
    )
    assert spec.table.rows[5][:2] == ("Market square", "Saturday")
    assert spec.table.rows[5][2 + 14] == "420"


def test_german_charts_use_german_formats_and_day_names() -> None:
    # given a German locale
    # when a heatmap, a bar chart and an uplift are built
    values = week(1234, h0=None)
    heat = heatmap(
        "V", [HeatRow("Markt", values)], row_title="Zone", value_title="Besucher", locale=GERMAN
    )
    counts = bars("T", [Bar("Tür", 1234567)], value_title="K", locale=GERMAN)
    rates = uplift(
        "K", Rate("Gesehen", 0.0823), Rate("Kontrolle", 0.051), rate_title="Quote", locale=GERMAN
    )
    # then numbers, percentages, day names and the format locale are German
    assert heat.locale == "de-DE"
    assert heat.table.rows[0][:3] == ("Markt", "Montag", "weniger als 5 Besucher")
    assert heat.table.rows[0][3] == "1.234"
    assert (
        '["Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So."]'
        in (heat.vega["encoding"]["x"]["axis"]["labelExpr"])
    )
    assert counts.table.rows == (("Tür", "1.234.567"),)
    assert rates.table.rows == (("Gesehen", "8,2\u00a0%"), ("Kontrolle", "5,1\u00a0%"))
    assert (
        rates.alt
        == "Gesehen: 8,2\u00a0%, Kontrolle: 5,1\u00a0%, a difference of +3,1 percentage points."
    )


def test_english_charts_use_english_formats() -> None:
    spec = uplift("C", Rate("Seen", 0.0823), Rate("Control", 0.1), rate_title="Rate", locale=EN)
    assert spec.locale == "en-US"
    assert spec.table.rows == (("Seen", "8.2%"), ("Control", "10%"))
    assert spec.alt == "Seen: 8.2%, Control: 10%, a difference of −1.8 percentage points."


def test_the_text_alternative_is_built_from_translated_templates() -> None:
    # given a catalogue that translates the bar chart's sentence
    template = "The largest value is %(value)s, for %(label)s."
    german = ChartLocale(
        "de", lambda m: "Am größten: %(label)s mit %(value)s." if m == template else m
    )
    # when
    spec = bars("T", [Bar("Tür", 1500), Bar("Fenster", 20)], value_title="K", locale=german)
    # then
    assert spec.alt == "Am größten: Tür mit 1.500. The values shown add up to 1.520."


def test_bars_with_a_category_median() -> None:
    spec = bars(
        "Offers",
        [Bar("Coffee", 40), Bar("Cake", None), Bar("Tea", 70)],
        value_title="Views",
        locale=EN,
        marker=Marker("Median of the category", 55),
    )
    assert spec.alt == (
        "The largest value is 70, for Tea. The values shown add up to 110. "
        "Median of the category: 55. "
        "Hidden (fewer than 5 visitors): 1 of 3 values."
    )
    marks = [layer["mark"]["type"] for layer in spec.vega["layer"]]
    assert marks == ["bar", "text", "text", "rule", "text"]
    assert spec.vega["layer"][4]["data"]["values"][0]["caption"] == "Median of the category: 55"


def test_a_funnel_gives_each_step_its_share_of_the_first() -> None:
    spec = funnel(
        "F",
        [("Web", 2000), ("Street", 500), ("Shop", None), ("Counter", 50)],
        value_title="People",
        share_title="Share",
        locale=EN,
    )
    assert spec.table.rows == (
        ("Web", "2,000", "100%"),
        ("Street", "500", "25%"),
        ("Shop", "fewer than 5 visitors", "fewer than 5 visitors"),
        ("Counter", "50", "2.5%"),
    )
    assert [row["caption"] for row in rows_of(spec)] == [
        "2,000 (100%)",
        "500 (25%)",
        "fewer than 5 visitors",
        "50 (2.5%)",
    ]
    assert spec.alt == (
        "Of 2,000 at the first step, 50 reached Counter (2.5%). "
        "Hidden (fewer than 5 visitors): 1 of 4 values."
    )


def test_a_funnel_with_a_hidden_first_step_shows_no_shares() -> None:
    spec = funnel("F", [("Web", None), ("Street", 9)], value_title="P", share_title="S", locale=EN)
    assert spec.table.rows[1] == ("Street", "9", "fewer than 5 visitors")
    assert spec.alt == "No value can be shown: each comes from fewer than 5 visitors."


def test_the_flow_text_names_the_busiest_path() -> None:
    spec = flow(
        "P",
        [
            Flow("Market", "Station", 30),
            Flow("Station", "Old town", 75),
            Flow("Old town", "Market", None),
        ],
        source_title="From",
        target_title="To",
        value_title="People",
        locale=EN,
    )
    assert spec.alt == (
        "Most people went from Station to Old town (75). "
        "Hidden (fewer than 5 visitors): 1 of 3 values."
    )
    assert spec.table.rows[2] == ("Old town", "Market", "fewer than 5 visitors")


def test_the_event_uplift_compares_with_the_average_of_the_other_weeks() -> None:
    spec = event_uplift(
        "E",
        [Week("W10", 400, False), Week("W11", 600, False), Week("W12", 750, True)],
        value_title="People",
        locale=EN,
    )
    assert spec.alt == "During the event: 750; the comparison weeks averaged 500 (+50%)."
    groups = [row["group"] for row in rows_of(spec)]
    assert groups == ["Comparison weeks", "Comparison weeks", "Event week"]


def test_a_time_series_keeps_the_wall_clock_time_of_the_city() -> None:
    # given hourly points in Berlin summer time
    points = [(datetime(2026, 7, 4, hour, tzinfo=BERLIN), hour * 10) for hour in (9, 10, 11)]
    # when
    spec = time_series(
        "C", [Series("Contacts", points)], x_title="Hour", y_title="Contacts", locale=EN
    )
    # then the renderer gets 09:00 as 09:00, whatever its own time zone
    assert [row["when"] for row in rows_of(spec)] == [
        "2026-07-04T09:00",
        "2026-07-04T10:00",
        "2026-07-04T11:00",
    ]
    assert spec.alt == (
        "Contacts: 300 in the values shown, the most on Jul 4, 2026 11:00 (110), trend rising."
    )


def test_a_time_series_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="aware"):
        time_series(
            "C",
            [Series("S", [(datetime(2026, 7, 4, 9), 1)])],  # noqa: DTZ001
            x_title="H",
            y_title="C",
            locale=EN,
        )


def test_series_table_marks_hidden_and_missing_days_apart() -> None:
    spec = time_series(
        "C",
        [
            Series("Beacons", [(date(2026, 3, 2), 40), (date(2026, 3, 3), None)]),
            Series("Counter", [(date(2026, 3, 2), 900)]),
        ],
        x_title="Day",
        y_title="Count",
        locale=EN,
    )
    assert spec.table.columns == ("Day", "Beacons", "Counter")
    assert spec.table.rows == (
        ("Mar 2, 2026", "40", "900"),
        ("Mar 3, 2026", "fewer than 5 visitors", ""),
    )


def _luminance(colour: str) -> float:
    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.mark.parametrize("colour", [*PALETTE, HIDDEN_GREY])
def test_every_colour_has_three_to_one_contrast_on_white(colour: str) -> None:
    # WCAG 1.4.11: graphical objects need 3:1 against what is next to them (the white ground)
    assert 1.05 / (_luminance(colour) + 0.05) >= 3.0


def test_hidden_grey_is_not_one_of_the_series_colours() -> None:
    assert HIDDEN_GREY not in PALETTE
