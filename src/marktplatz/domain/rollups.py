"""Hourly and daily rollups of journey events: what is counted, and how cells combine safely."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from marktplatz.domain.kanon import Cell

HOUR = timedelta(hours=1)
# An hour is filled this long after it ends: an event received in its last moments may still be
# in the writer's group commit. Later arrivals mark their hour for a recompute (see `is_late`).
SETTLE = timedelta(minutes=2)
NONE = ""  # the subject or via of a row that has none


class Stat(StrEnum):
    """What a rollup row counts. The subject and via of its rows are named per stat."""

    CONTACTS = "contacts"  # subject: touchpoint id
    ZONE_CONTACTS = "zone_contacts"  # subject: zone id ("" outside every zone)
    SHOP_CONTACTS = "shop_contacts"  # subject: shop id (touchpoints that belong to a shop)
    PAGE_VIEWS = "page_views"  # the web app, from home or on the way
    EXPOSED = "exposed"  # subject: content id; via: touchpoint id ("" without one)
    VIEWED = "viewed"
    SAVED = "saved"
    REDEEMED = "redeemed"
    WITHHELD = "withheld"  # offers held back from the control group
    COUNTER = "counter"  # people counters; subject: touchpoint id; count: people counted
    # Daily rows (hour = the city's local midnight): distinct visitors of the day, with
    # subject "consented" (pseudonyms) or "cookieless" (salted daily hashes); never joined.
    VISITORS = "visitors"
    PATHS = "paths"  # daily: subject: zone left; via: zone entered
    DWELL = "dwell"  # daily: subject: zone; via: dwell band (see domain/sequences)


DAILY = frozenset({Stat.VISITORS, Stat.PATHS, Stat.DWELL})
CONSENTED = "consented"
COOKIELESS = "cookieless"


@dataclass(frozen=True, slots=True)
class RollupRow:
    """One cell of one hour (or day): a count and who it comes from.

    `identified` is the number of distinct visitors that can be told apart within the row
    (consented pseudonyms and cookieless daily hashes, each its own kind); `anonymous` counts
    events that carry neither, each taken as its own visitor. People counters count people, not
    visitors: their rows keep the count in `anonymous` too.
    """

    stat: Stat
    hour: datetime
    subject: str
    via: str
    count: int
    identified: int
    anonymous: int


def combine(rows: Iterable[RollupRow]) -> Cell:
    """The cell of several rows (hours, subjects) with a safe lower bound of its visitors.

    A visitor can be counted in every hour they were seen, so distinct visitors do not add up
    across rows: the largest row's number is the only sure lower bound. Anonymous events do
    add up (each is taken as one visitor), which is what the caller has to assume anyway.
    """
    count = identified = anonymous = 0
    for row in rows:
        count += row.count
        identified = max(identified, row.identified)
        anonymous += row.anonymous
    return Cell(count, identified + anonymous)


def hour_of(moment: datetime) -> datetime:
    """The start of the UTC hour a moment falls in."""
    utc = moment.astimezone(UTC)
    return utc.replace(minute=0, second=0, microsecond=0)


def is_late(occurred_at: datetime, received_at: datetime) -> bool:
    """Whether an event may arrive after its hour was filled, so its hour must be redone.

    Events of the current hour are counted when the hour is filled; one received within SETTLE
    of the next hour, or later, may come after that and marks its hour instead.
    """
    return hour_of(occurred_at) < hour_of(received_at + SETTLE)


def closed_until(now: datetime) -> datetime:
    """The end of the last hour that may be filled now (exclusive)."""
    return hour_of(now - SETTLE)
