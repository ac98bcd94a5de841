"""Visits, zone stays, moves between zones and dwell bands from visitors' sightings of a day."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import pairwise

from marktplatz.domain.errors import N_
from marktplatz.domain.rollups import NONE, RollupRow, Stat

# One sighting: when a consented visitor met a touchpoint, and the zone of that touchpoint
# (NONE when it stands outside every zone).
Sighting = tuple[datetime, str]

# A visitor unseen for longer than this has left the centre and a later sighting starts a new
# visit. Beacons along the mile are met every few minutes by a phone in a pocket, but a meal in
# a café or a cinema seat sees none: 30 minutes bridges a quick coffee, not an afternoon away.
VISIT_GAP = timedelta(minutes=30)


class Band(StrEnum):
    """How long a stay in one zone lasted, in minutes: [lower, upper)."""

    # A single sighting is a stay of 0 minutes: the passer-by lands here, so it is kept apart
    # from the browsing stays; the upper bands follow how long a shopping stop usually runs.
    UNDER_5 = "<5"
    FROM_5 = "5-15"
    FROM_15 = "15-30"
    FROM_30 = "30-60"
    FROM_60 = "60+"


# The exclusive upper limit of every band but the last, in band order.
_LIMITS = (
    (timedelta(minutes=5), Band.UNDER_5),
    (timedelta(minutes=15), Band.FROM_5),
    (timedelta(minutes=30), Band.FROM_15),
    (timedelta(minutes=60), Band.FROM_30),
)

BAND_LABELS: dict[Band, str] = {
    Band.UNDER_5: N_("under 5 minutes"),
    Band.FROM_5: N_("5 to 15 minutes"),
    Band.FROM_15: N_("15 to 30 minutes"),
    Band.FROM_30: N_("30 to 60 minutes"),
    Band.FROM_60: N_("an hour or more"),
}


@dataclass(frozen=True, slots=True)
class Stay:
    """Consecutive sightings of one visit in one zone: from the first to the last of them."""

    zone: str
    start: datetime
    end: datetime

    @property
    def dwell(self) -> timedelta:
        return self.end - self.start


def band(dwell: timedelta) -> Band:
    """The band a stay of this length falls in."""
    for limit, name in _LIMITS:
        if dwell < limit:
            return name
    return Band.FROM_60


def ordered(sightings: Iterable[Sighting]) -> list[Sighting]:
    """The sightings by time; two at the same instant by zone.

    Sightings at one instant have no true order (two beacons heard at once): ordering them by
    zone makes the result independent of the order the store returned them in, so a backfill
    gives what the incremental run gave.
    """
    return sorted(sightings)


def visits(sightings: Iterable[Sighting]) -> list[list[Sighting]]:
    """The sightings split where the visitor was unseen for longer than VISIT_GAP.

    Sightings outside every zone count here: they show the visitor still in the centre.
    """
    split: list[list[Sighting]] = []
    last: datetime | None = None
    for sighting in ordered(sightings):
        if last is None or sighting[0] - last > VISIT_GAP:
            split.append([])
        split[-1].append(sighting)
        last = sighting[0]
    return split


def stays(visit: Iterable[Sighting]) -> list[Stay]:
    """The zone stays of one visit, in order.

    A sighting outside every zone neither is a stay nor ends one: a visitor who steps out of
    zone A past a lone beacon and back into A has stayed in A all along.
    """
    found: list[Stay] = []
    for at, zone in visit:
        if zone == NONE:
            continue
        if found and found[-1].zone == zone:
            found[-1] = Stay(zone, found[-1].start, at)
        else:
            found.append(Stay(zone, at, at))
    return found


def transitions(visit_stays: Sequence[Stay]) -> list[tuple[str, str]]:
    """The moves (zone left, zone entered) between the consecutive stays of one visit."""
    return [(a.zone, b.zone) for a, b in pairwise(visit_stays)]


def _rows(
    stat: Stat, day_start: datetime, seen: Mapping[tuple[str, str], Sequence[str]]
) -> list[RollupRow]:
    return [
        RollupRow(stat, day_start, subject, via, len(who), len(set(who)), 0)
        for (subject, via), who in sorted(seen.items())
    ]


def day_rows(sequences: Mapping[str, Sequence[Sighting]], day_start: datetime) -> list[RollupRow]:
    """The PATHS and DWELL rows of one local day from each pseudonym's sightings of that day.

    `day_start` is the UTC instant of the city's local midnight; the caller passes only that
    day's sightings, so a visit running past midnight is cut there and counted on both days.
    PATHS: subject the zone left, via the zone entered, count the moves, identified the
    distinct visitors who made them. DWELL: subject the zone, via the band, count the stays,
    identified the distinct visitors who had one.
    """
    if day_start.tzinfo is None:
        raise ValueError("day_start must be timezone-aware")
    moves: dict[tuple[str, str], list[str]] = defaultdict(list)
    dwells: dict[tuple[str, str], list[str]] = defaultdict(list)
    for pseudonym, sightings in sequences.items():
        for visit in visits(sightings):
            visit_stays = stays(visit)
            for move in transitions(visit_stays):
                moves[move].append(pseudonym)
            for stay in visit_stays:
                dwells[(stay.zone, band(stay.dwell).value)].append(pseudonym)
    return _rows(Stat.PATHS, day_start, moves) + _rows(Stat.DWELL, day_start, dwells)
