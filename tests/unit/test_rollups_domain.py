"""Rollup rows: when an hour must be redone, and why cells of many hours stay k-anonymous."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from marktplatz.domain.kanon import Cell, K, suppressed
from marktplatz.domain.rollups import (
    HOUR,
    NONE,
    RollupRow,
    Stat,
    closed_until,
    combine,
    hour_of,
    is_late,
)

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def row(hour: int, count: int, identified: int, anonymous: int = 0) -> RollupRow:
    return RollupRow(Stat.CONTACTS, T0 + hour * HOUR, "tp", NONE, count, identified, anonymous)


def test_an_event_of_the_current_hour_is_not_late() -> None:
    assert not is_late(T0 + timedelta(minutes=5), T0 + timedelta(minutes=6))
    assert not is_late(T0 + timedelta(minutes=57), T0 + timedelta(minutes=57, seconds=59))


def test_an_event_near_or_after_the_end_of_its_hour_is_late() -> None:
    # received within the settle time before the next hour: the fill may already have run
    assert is_late(T0 + timedelta(minutes=59), T0 + timedelta(minutes=58, seconds=30))
    assert is_late(T0 + timedelta(minutes=10), T0 + HOUR + timedelta(minutes=1))
    assert is_late(T0 - timedelta(days=3), T0)


def test_an_hour_is_filled_only_after_it_settled() -> None:
    assert closed_until(T0 + timedelta(minutes=1)) == T0 - HOUR
    assert closed_until(T0 + timedelta(minutes=2)) == T0
    assert hour_of(datetime(2026, 11, 23, 11, 59, tzinfo=UTC)) == datetime(
        2026, 11, 23, 11, tzinfo=UTC
    )


def test_visitors_of_several_hours_are_the_largest_hour_plus_the_anonymous_events() -> None:
    # given the same 4 visitors seen in three hours, and 2 events without any id
    cell = combine([row(0, 4, 4), row(1, 5, 4), row(2, 6, 3, anonymous=2)])
    # then 15 events; sure are 4 told-apart visitors and the 2 anonymous ones
    assert cell == Cell(15, 6)


# --- property: over random events, what is shown rests on K visitors -------------------------

events = st.lists(
    st.tuples(
        st.integers(0, 23),  # hour
        st.sampled_from(["a", "b", "c"]),  # the cell (e.g. zone)
        # a visitor told apart, or none; few of them, seen in many hours: the hard case
        st.sampled_from([None, 0, 1, 2, 3, 4, 5]),
    ),
    max_size=120,
)


def rolled_up(found: list[tuple[int, str, int | None]]) -> dict[str, list[RollupRow]]:
    """What the store computes per hour and cell, as the SQL does."""
    groups: dict[tuple[str, int], list[int | None]] = defaultdict(list)
    for hour, key, who in found:
        groups[(key, hour)].append(who)
    rows: dict[str, list[RollupRow]] = defaultdict(list)
    for (key, hour), whos in groups.items():
        known = {w for w in whos if w is not None}
        rows[key].append(row(hour, len(whos), len(known), whos.count(None)))
    return rows


def true_visitors(found: list[tuple[int, str, int | None]], keys: set[str]) -> int:
    """Distinct visitors of some cells: every told-apart one once, each anonymous event one."""
    mine = [who for _, key, who in found if key in keys]
    return len({w for w in mine if w is not None}) + mine.count(None)


@given(events)
def test_every_shown_cell_and_total_rests_on_k_visitors(found: list[Any]) -> None:
    cells = {key: combine(rows) for key, rows in rolled_up(found).items()}
    shown, total = suppressed(cells)
    for key, count in shown.items():
        if count is not None and count > 0:
            assert true_visitors(found, {key}) >= K
    if total is not None and total > 0:
        assert true_visitors(found, set(cells)) >= K


@given(events)
def test_the_total_never_tells_what_the_hidden_cells_hold(found: list[Any]) -> None:
    cells = {key: combine(rows) for key, rows in rolled_up(found).items()}
    shown, total = suppressed(cells)
    hidden = {key for key, count in shown.items() if count is None}
    if total is None or not hidden:
        return
    # total - shown = the hidden cells' sum: it must rest on K visitors, and cover two cells
    assert len(hidden) >= 2
    assert true_visitors(found, hidden) >= K
