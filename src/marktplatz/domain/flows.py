"""Paths and dwell of a period as the dashboard shows them: flows and dwell bands, k-anonymous."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from marktplatz.domain.kanon import Cell, K, suppressed
from marktplatz.domain.rollups import RollupRow, Stat, combine
from marktplatz.domain.sequences import Band

_BANDS = frozenset(name.value for name in Band)
Key = TypeVar("Key", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Flow:
    """Moves from one zone into another over the period."""

    left: str
    entered: str
    count: int


@dataclass(frozen=True, slots=True)
class Flows:
    """The flows to draw, largest first, and all moves of the period.

    Flows from fewer than K visitors are left out, not named: that someone moved between two
    quiet zones is itself a fact about few people. `total` is None when it would give away
    what was left out.
    """

    shown: list[Flow]
    total: int | None


@dataclass(frozen=True, slots=True)
class Dwell:
    """Stays in one zone over the period per band (None: suppressed) and the median band."""

    zone: str
    stays: dict[Band, int | None]
    total: int | None
    median: Band | None


def _cells(rows: Iterable[RollupRow], stat: Stat) -> dict[tuple[str, str], Cell]:
    """One cell per (subject, via) over the days of the period (see rollups.combine)."""
    days: dict[tuple[str, str], list[RollupRow]] = defaultdict(list)
    for row in rows:
        if row.stat is stat:
            days[(row.subject, row.via)].append(row)
    return {key: combine(group) for key, group in days.items()}


def _shown(cells: dict[Key, Cell]) -> tuple[dict[Key, int | None], int | None]:
    """Counts per key (None: from fewer than K visitors) and the total, when it is safe.

    kanon.suppressed would hide a further cell to keep the total; here every cell from K
    visitors or more stays shown (they are what the chart is for) and the total goes instead.
    """
    safe, total = suppressed(cells)
    counts = {key: None if 0 < cell.visitors < K else cell.count for key, cell in cells.items()}
    return counts, total if safe == counts else None


def flows(rows: Iterable[RollupRow]) -> Flows:
    """The flows of a period from its daily PATHS rows (rows of other stats are skipped)."""
    counts, total = _shown(_cells(rows, Stat.PATHS))
    shown = [
        Flow(left, entered, count)
        for (left, entered), count in counts.items()
        if count is not None and count > 0
    ]
    shown.sort(key=lambda flow: (-flow.count, flow.left, flow.entered))
    return Flows(shown, total)


def median_band(stays: dict[Band, int]) -> Band | None:
    """The band holding the middle stay (the lower middle one of an even number)."""
    total, seen = sum(stays.values()), 0
    for name in Band:
        seen += stays.get(name, 0)
        if total and 2 * seen >= total:
            return name
    return None


def _dwell(zone: str, cells: dict[Band, Cell]) -> Dwell | None:
    counts, total = _shown(cells)
    if total is None and all(count is None for count in counts.values()):
        return None  # nothing to show: even naming the zone would tell someone stayed there
    stays = {name: counts.get(name, 0) for name in Band}
    # The median only when no band is hidden: where it falls would tell how the hidden stays
    # split between the bands below and above it.
    exact = {name: count for name, count in stays.items() if count is not None}
    median = median_band(exact) if len(exact) == len(Band) else None
    return Dwell(zone, stays, total, median)


def dwell(rows: Iterable[RollupRow]) -> list[Dwell]:
    """Per zone (by id) the stays per band of a period from its daily DWELL rows.

    Rows of other stats are skipped; so are bands this version does not know.
    """
    zones: dict[str, dict[Band, Cell]] = defaultdict(dict)
    for (zone, via), cell in _cells(rows, Stat.DWELL).items():
        if via in _BANDS:
            zones[zone][Band(via)] = cell
    found = (_dwell(zone, cells) for zone, cells in sorted(zones.items()))
    return [item for item in found if item is not None]
