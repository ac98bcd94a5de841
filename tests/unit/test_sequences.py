"""Visits, zone stays, moves and dwell bands from sightings, and the daily PATHS and DWELL rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marktplatz.domain.rollups import RollupRow, Stat
from marktplatz.domain.sequences import (
    BAND_LABELS,
    VISIT_GAP,
    Band,
    Sighting,
    Stay,
    band,
    day_rows,
    stays,
    transitions,
    visits,
)

BERLIN = ZoneInfo("Europe/Berlin")
DAY = datetime(2026, 6, 12, tzinfo=BERLIN).astimezone(UTC)  # 2026-06-11T22:00Z


def at(minute: float) -> datetime:
    return DAY + timedelta(hours=10, minutes=minute)


def seen(*pairs: tuple[float, str]) -> list[Sighting]:
    return [(at(minute), zone) for minute, zone in pairs]


def paths(rows: list[RollupRow]) -> dict[tuple[str, str], tuple[int, int]]:
    return {(r.subject, r.via): (r.count, r.identified) for r in rows if r.stat is Stat.PATHS}


def dwells(rows: list[RollupRow]) -> dict[tuple[str, str], tuple[int, int]]:
    return {(r.subject, r.via): (r.count, r.identified) for r in rows if r.stat is Stat.DWELL}


def test_bands_have_closed_lower_and_open_upper_limits() -> None:
    # given / when / then
    minutes = [0, 4.99, 5, 14.99, 15, 29.99, 30, 59.99, 60, 600]
    assert [band(timedelta(minutes=m)) for m in minutes] == [
        Band.UNDER_5,
        Band.UNDER_5,
        Band.FROM_5,
        Band.FROM_5,
        Band.FROM_15,
        Band.FROM_15,
        Band.FROM_30,
        Band.FROM_30,
        Band.FROM_60,
        Band.FROM_60,
    ]
    assert set(BAND_LABELS) == set(Band)


def test_one_sighting_is_one_stay_of_no_time_and_no_move() -> None:
    # given
    sightings = seen((0, "a"))
    # when
    (visit,) = visits(sightings)
    # then
    assert stays(visit) == [Stay("a", at(0), at(0))]
    assert transitions(stays(visit)) == []
    assert dwells(day_rows({"p": sightings}, DAY)) == {("a", "<5"): (1, 1)}
    assert paths(day_rows({"p": sightings}, DAY)) == {}


def test_a_gap_longer_than_the_visit_gap_starts_a_new_visit_and_breaks_the_stay() -> None:
    # given: exactly the gap keeps the visit, a second more ends it
    gap = VISIT_GAP.total_seconds() / 60
    sightings = seen((0, "a"), (gap, "a"), (2 * gap + 1 / 60, "a"), (2 * gap + 2, "b"))
    # when
    split = visits(sightings)
    # then
    assert [len(v) for v in split] == [2, 2]
    assert [stays(v) for v in split] == [
        [Stay("a", at(0), at(gap))],
        [
            Stay("a", at(2 * gap + 1 / 60), at(2 * gap + 1 / 60)),
            Stay("b", at(2 * gap + 2), at(2 * gap + 2)),
        ],
    ]
    rows = day_rows({"p": sightings}, DAY)
    assert paths(rows) == {("a", "b"): (1, 1)}
    assert dwells(rows) == {("a", "30-60"): (1, 1), ("a", "<5"): (1, 1), ("b", "<5"): (1, 1)}


def test_no_move_crosses_from_one_visit_into_the_next() -> None:
    # given
    sightings = seen((0, "a"), (45, "b"))
    # when
    rows = day_rows({"p": sightings}, DAY)
    # then
    assert paths(rows) == {}
    assert dwells(rows) == {("a", "<5"): (1, 1), ("b", "<5"): (1, 1)}


def test_stepping_out_of_every_zone_and_back_neither_ends_the_stay_nor_is_a_move() -> None:
    # given: a -> outside -> a, then outside -> b
    sightings = seen((0, "a"), (10, ""), (20, "a"), (25, ""), (28, "b"))
    # when
    (visit,) = visits(sightings)
    # then
    assert stays(visit) == [Stay("a", at(0), at(20)), Stay("b", at(28), at(28))]
    assert paths(day_rows({"p": sightings}, DAY)) == {("a", "b"): (1, 1)}
    assert dwells(day_rows({"p": sightings}, DAY)) == {("a", "15-30"): (1, 1), ("b", "<5"): (1, 1)}


def test_sightings_outside_every_zone_keep_the_visit_alive() -> None:
    # given: 25 minutes apart each, 50 minutes from a to b
    sightings = seen((0, "a"), (25, ""), (50, "b"))
    # when / then
    assert len(visits(sightings)) == 1
    assert paths(day_rows({"p": sightings}, DAY)) == {("a", "b"): (1, 1)}


def test_only_sightings_outside_every_zone_give_no_row() -> None:
    # given / when / then
    assert day_rows({"p": seen((0, ""), (5, ""))}, DAY) == []


def test_the_same_instant_twice_is_ordered_by_zone_whatever_the_input_order() -> None:
    # given: a and b heard at the same instant, in both orders, and a duplicate
    one = seen((0, "a"), (3, "b"), (3, "a"), (3, "a"), (6, "c"))
    other = seen((0, "a"), (3, "a"), (3, "b"), (3, "a"), (6, "c"))
    # when
    rows = day_rows({"p": one}, DAY)
    # then
    assert rows == day_rows({"p": other}, DAY)
    assert paths(rows) == {("a", "b"): (1, 1), ("b", "c"): (1, 1)}
    assert dwells(rows) == {("a", "<5"): (1, 1), ("b", "<5"): (1, 1), ("c", "<5"): (1, 1)}


def test_a_visit_over_midnight_is_cut_there_and_each_half_counted_on_its_day() -> None:
    # given: Berlin's midnight between two days; the caller passes each day's sightings
    late, early = DAY - timedelta(minutes=10), DAY + timedelta(minutes=10)
    before = [(late, "a")]
    after = [(DAY, "a"), (early, "b")]
    # when
    yesterday = day_rows({"p": before}, DAY - timedelta(days=1))
    today = day_rows({"p": after}, DAY)
    # then
    assert yesterday == [RollupRow(Stat.DWELL, DAY - timedelta(days=1), "a", "<5", 1, 1, 0)]
    assert today == [
        RollupRow(Stat.PATHS, DAY, "a", "b", 1, 1, 0),
        RollupRow(Stat.DWELL, DAY, "a", "<5", 1, 1, 0),
        RollupRow(Stat.DWELL, DAY, "b", "<5", 1, 1, 0),
    ]


def test_rows_count_moves_and_stays_and_the_distinct_visitors_behind_them() -> None:
    # given: p goes a -> b -> a -> b; q goes a -> b; r stays long in a
    sequences = {
        "p": seen((0, "a"), (2, "b"), (4, "a"), (6, "b")),
        "q": seen((0, "a"), (7, "a"), (9, "b")),
        "r": seen((0, "a"), (25, "a"), (50, "a"), (61, "a")),
    }
    # when
    rows = day_rows(sequences, DAY)
    # then
    assert paths(rows) == {("a", "b"): (3, 2), ("b", "a"): (1, 1)}
    assert dwells(rows) == {
        ("a", "<5"): (2, 1),
        ("a", "5-15"): (1, 1),
        ("a", "60+"): (1, 1),
        ("b", "<5"): (3, 2),
    }
    assert {r.hour for r in rows} == {DAY}
    assert {r.anonymous for r in rows} == {0}


def test_a_naive_day_start_is_refused() -> None:
    # given / when / then
    with pytest.raises(ValueError, match="timezone-aware"):
        day_rows({}, datetime(2026, 6, 12))  # noqa: DTZ001


zones = st.sampled_from(["", "a", "b", "c"])
moments = st.integers(min_value=0, max_value=24 * 60 - 1).map(lambda m: DAY + timedelta(minutes=m))
sightings_lists = st.lists(st.tuples(moments, zones), max_size=40)


@given(sightings_lists)
def test_moves_are_fewer_than_sightings_and_never_stay_in_one_zone(
    sightings: list[Sighting],
) -> None:
    # when
    moves = [m for v in visits(sightings) for m in transitions(stays(v))]
    # then
    assert len(moves) <= max(len(sightings) - 1, 0)
    assert all(left != entered and "" not in (left, entered) for left, entered in moves)


@given(st.dictionaries(st.text(min_size=1, max_size=4), sightings_lists, max_size=8))
def test_rows_add_up_to_the_stays_and_moves_of_every_visitor(
    sequences: dict[str, list[Sighting]],
) -> None:
    # given
    all_stays = [s for seq in sequences.values() for v in visits(seq) for s in stays(v)]
    all_moves = [
        m for seq in sequences.values() for v in visits(seq) for m in transitions(stays(v))
    ]
    # when
    rows = day_rows(sequences, DAY)
    # then
    assert sum(r.count for r in rows if r.stat is Stat.DWELL) == len(all_stays)
    assert sum(r.count for r in rows if r.stat is Stat.PATHS) == len(all_moves)
    assert all(0 < r.identified <= min(r.count, len(sequences)) for r in rows)
    assert all(r.via in set(Band) for r in rows if r.stat is Stat.DWELL)
    assert all(s.start <= s.end and s.dwell <= timedelta(days=1) for s in all_stays)


@given(st.data(), st.dictionaries(st.sampled_from("pqr"), sightings_lists, max_size=3))
def test_rows_do_not_depend_on_the_order_the_sightings_come_in(
    data: st.DataObject, sequences: dict[str, list[Sighting]]
) -> None:
    # given
    shuffled = {who: data.draw(st.permutations(seq)) for who, seq in sequences.items()}
    # when / then
    assert day_rows(shuffled, DAY) == day_rows(sequences, DAY)
