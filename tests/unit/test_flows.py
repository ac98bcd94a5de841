"""Flows and dwell bands of a period for the dashboard: days combined, none under K visitors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from marktplatz.domain.flows import Dwell, Flow, Flows, dwell, flows, median_band
from marktplatz.domain.kanon import K
from marktplatz.domain.rollups import RollupRow, Stat
from marktplatz.domain.sequences import Band, day_rows, stays, transitions, visits

DAY = datetime(2026, 6, 11, 22, tzinfo=UTC)


def row(stat: Stat, day: int, subject: str, via: str, count: int, visitors: int) -> RollupRow:
    return RollupRow(stat, DAY + timedelta(days=day), subject, via, count, visitors, 0)


def test_days_combine_counts_by_sum_and_visitors_by_the_largest_day() -> None:
    # given: a -> b from 3 visitors on each of two days: 6 moves, but only 3 sure visitors
    rows = [
        row(Stat.PATHS, 0, "a", "b", 3, 3),
        row(Stat.PATHS, 1, "a", "b", 3, 3),
        row(Stat.PATHS, 0, "b", "c", 7, 5),
        row(Stat.PATHS, 1, "b", "c", 4, 4),
        row(Stat.PATHS, 0, "c", "a", 9, 6),
        row(Stat.DWELL, 0, "a", "<5", 50, 50),  # another stat: skipped
    ]
    # when
    shown = flows(rows)
    # then: a -> b is hidden, and so the total, which would give it away as total - shown
    assert shown == Flows([Flow("b", "c", 11), Flow("c", "a", 9)], None)


def test_the_total_stays_hidden_while_hidden_flows_may_share_their_visitors() -> None:
    # given two hidden flows of 3 and 2 visitors: they may be the same 3 people going there and
    # back, so together they are not surely 5 (domain/kanon.py)
    rows = [
        row(Stat.PATHS, 0, "a", "b", 4, 3),
        row(Stat.PATHS, 0, "b", "a", 2, 2),
        row(Stat.PATHS, 0, "b", "c", 8, 6),
    ]
    # when / then the total, which would give away their 6 moves as 14 - 8, is not shown
    assert flows(rows) == Flows([Flow("b", "c", 8)], None)


def test_no_rows_no_flows() -> None:
    # given / when / then
    assert flows([]) == Flows([], 0)
    assert dwell([]) == []


def test_dwell_per_zone_and_band_over_days_with_the_median_when_nothing_is_hidden() -> None:
    # given: 21 stays in a, the 11th in 5-15; in b one visitor stayed an hour
    rows = [
        row(Stat.DWELL, 0, "a", "<5", 6, 5),
        row(Stat.DWELL, 1, "a", "<5", 3, 3),
        row(Stat.DWELL, 0, "a", "5-15", 5, 5),
        row(Stat.DWELL, 0, "a", "15-30", 2, 1),
        row(Stat.DWELL, 1, "a", "15-30", 5, 5),
        row(Stat.DWELL, 0, "b", "<5", 5, 5),
        row(Stat.DWELL, 0, "b", "60+", 1, 1),
        row(Stat.PATHS, 0, "a", "b", 50, 50),  # another stat: skipped
    ]
    # when
    shown = dwell(rows)
    # then: b's hour is hidden, and so b's total and median, which would give it away
    assert shown == [
        Dwell(
            "a",
            {Band.UNDER_5: 9, Band.FROM_5: 5, Band.FROM_15: 7, Band.FROM_30: 0, Band.FROM_60: 0},
            21,
            Band.FROM_5,
        ),
        Dwell(
            "b",
            {Band.UNDER_5: 5, Band.FROM_5: 0, Band.FROM_15: 0, Band.FROM_30: 0, Band.FROM_60: None},
            None,
            None,
        ),
    ]


def test_the_total_of_a_zone_stays_hidden_while_its_hidden_bands_may_share_visitors() -> None:
    # given
    rows = [
        row(Stat.DWELL, 0, "a", "<5", 8, 6),
        row(Stat.DWELL, 0, "a", "15-30", 3, 3),
        row(Stat.DWELL, 0, "a", "60+", 2, 2),
    ]
    # when
    (shown,) = dwell(rows)
    # then
    assert (shown.stays[Band.UNDER_5], shown.stays[Band.FROM_15], shown.stays[Band.FROM_60]) == (
        8,
        None,
        None,
    )
    # the hidden bands' 3 and 2 visitors may be the same 3 people: 13 - 8 would tell their stays
    assert (shown.total, shown.median) == (None, None)


def test_median_band_is_the_band_of_the_lower_middle_stay() -> None:
    # given / when / then
    assert median_band({Band.UNDER_5: 2, Band.FROM_5: 2}) == Band.UNDER_5
    assert median_band({Band.UNDER_5: 2, Band.FROM_5: 3}) == Band.FROM_5
    assert median_band({Band.FROM_15: 1, Band.FROM_60: 9}) == Band.FROM_60
    assert median_band({}) is None


def test_a_zone_with_nothing_to_show_is_not_named() -> None:
    # given
    rows = [row(Stat.DWELL, 0, "quiet", "<5", 3, 3), row(Stat.DWELL, 0, "quiet", "60+", 1, 1)]
    # when / then
    assert dwell(rows) == []


def test_bands_this_version_does_not_know_are_skipped() -> None:
    # given
    rows = [row(Stat.DWELL, 0, "a", "<5", 5, 5), row(Stat.DWELL, 0, "a", "2-3", 9, 9)]
    # when
    (shown,) = dwell(rows)
    # then
    assert shown.stays[Band.UNDER_5] == 5
    assert shown.total == 5


zones = st.sampled_from(["a", "b", "c", "d"])
days = st.integers(min_value=0, max_value=6)


@st.composite
def daily_rows(draw: st.DrawFn, stat: Stat, vias: st.SearchStrategy[str]) -> RollupRow:
    visitors = draw(st.integers(min_value=1, max_value=12))
    count = draw(st.integers(min_value=visitors, max_value=3 * visitors))
    return row(stat, draw(days), draw(zones), draw(vias), count, visitors)


def largest_day(rows: list[RollupRow], subject: str, via: str) -> int:
    return max(r.identified for r in rows if (r.subject, r.via) == (subject, via))


@given(st.lists(daily_rows(Stat.PATHS, zones), max_size=30))
def test_every_shown_flow_comes_from_at_least_k_visitors(rows: list[RollupRow]) -> None:
    # when
    shown = flows(rows)
    # then
    for flow in shown.shown:
        assert largest_day(rows, flow.left, flow.entered) >= K
        assert flow.count == sum(
            r.count for r in rows if (r.subject, r.via) == (flow.left, flow.entered)
        )
    keys = {(r.subject, r.via) for r in rows}
    hidden = keys - {(f.left, f.entered) for f in shown.shown}
    assert all(largest_day(rows, *key) < K for key in hidden)
    if shown.total is not None:
        # the gap total - shown is the hidden flows' sum: they come from K visitors together
        assert shown.total == sum(r.count for r in rows)
        together = sum(largest_day(rows, *key) for key in hidden)
        assert together == 0 or together >= K
    counts = [f.count for f in shown.shown]
    assert counts == sorted(counts, reverse=True)


@given(st.lists(daily_rows(Stat.DWELL, st.sampled_from([b.value for b in Band])), max_size=30))
def test_every_shown_dwell_band_comes_from_at_least_k_visitors(rows: list[RollupRow]) -> None:
    # when
    shown = dwell(rows)
    # then
    for zone in shown:
        stays = {
            b: sum(r.count for r in rows if (r.subject, r.via) == (zone.zone, b.value))
            for b in Band
        }
        for name, count in zone.stays.items():
            if count:
                assert largest_day(rows, zone.zone, name.value) >= K
                assert count == stays[name]
        if zone.total is not None:
            assert zone.total == sum(stays.values())
        if zone.median is not None:
            assert None not in zone.stays.values()
            assert zone.median == median_band(stays)


visitor_days = st.dictionaries(
    st.tuples(st.integers(min_value=0, max_value=2), st.sampled_from("pqrstuvwxyz")),
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=180), st.sampled_from(["", "a", "b", "c"])),
        max_size=12,
    ),
    max_size=25,
)


@given(visitor_days)
def test_every_flow_shown_from_sightings_was_made_by_at_least_k_visitors(
    seen: dict[tuple[int, str], list[tuple[int, str]]],
) -> None:
    # given: each visitor's sightings on up to three days, rolled up day by day
    rows: list[RollupRow] = []
    movers: dict[tuple[str, str], set[str]] = {}
    for day in range(3):
        start = DAY + timedelta(days=day)
        sequences = {
            who: [(start + timedelta(minutes=m), zone) for m, zone in sightings]
            for (on, who), sightings in seen.items()
            if on == day
        }
        rows += day_rows(sequences, start)
        for who, sightings in sequences.items():
            for visit in visits(sightings):
                for move in transitions(stays(visit)):
                    movers.setdefault(move, set()).add(who)
    # when
    shown = flows(rows)
    # then
    assert all(len(movers[(f.left, f.entered)]) >= K for f in shown.shown)
