"""How well a piece of content fits a contact: the factors of the decision engine's score."""

from __future__ import annotations

import functools
from datetime import datetime
from enum import IntEnum

FRESH_HALF_LIFE_DAYS = 7.0
DISTANCE_SCALE_M = 500.0
FAIRNESS_POWER = 3
FAIRNESS_CAP = 2.0  # a shop shown less than the average gets at most this boost
INTEREST_BOOST = 0.5
JITTER = 1e-6  # breaks ties between equal scores without favouring anyone
_MASK64 = 2**64 - 1


class Placement(IntEnum):
    """How content reached a contact, from the most to the least specific."""

    TOUCHPOINT = 0  # the retailer or the city placed it at this very touchpoint
    ZONE = 1
    NEARBY = 2  # within the radius around its shop
    CITY = 3  # no place given: anywhere in the city


PLACEMENT_WEIGHT = {
    Placement.TOUCHPOINT: 1.0,
    Placement.ZONE: 0.8,
    Placement.NEARBY: 0.7,
    Placement.CITY: 0.5,
}


def distance_factor(distance_m: float | None) -> float:
    """1 at the shop's door, ½ at 500 m; 1 when the distance is unknown."""
    return 1.0 if distance_m is None else 1.0 / (1.0 + distance_m / DISTANCE_SCALE_M)


def age_days(published_at: datetime | None, at: datetime) -> float | None:
    if published_at is None:
        return None
    return max(0.0, (at - published_at).total_seconds() / 86_400)


def freshness(age: float | None) -> float:
    """1 for new content, falling towards ½ with a half-life of a week."""
    return 1.0 if age is None else 0.5 + 0.5 * 2.0 ** (-age / FRESH_HALF_LIFE_DAYS)


def interest_factor(shared: int) -> float:
    return 1.0 + INTEREST_BOOST * shared


def fairness(own_today: int, average_today: float) -> float:
    """A shop shown more often than the city's average today gives way steeply (cubed), one
    shown less comes forward (up to FAIRNESS_CAP): over a day relevance and distance only tilt
    the shares, never decide them."""
    return min(FAIRNESS_CAP, ((average_today + 1.0) / (own_today + 1.0)) ** FAIRNESS_POWER)


def upper_bound(
    placement: Placement,
    distance_m: float | None,
    interests: int,
    published_at: datetime | None,
    built_at: datetime,
) -> float:
    """A score no decision after `built_at` can exceed: lets the engine stop early."""
    return (
        PLACEMENT_WEIGHT[placement]
        * distance_factor(distance_m)
        * _item_bound(interests, published_at, built_at)
    )


@functools.lru_cache(maxsize=65_536)
def _item_bound(interests: int, published_at: datetime | None, built_at: datetime) -> float:
    """The part of `upper_bound` that depends on the item alone (an index asks once per item
    and place; many share it)."""
    return (
        interest_factor(interests)
        * freshness(age_days(published_at, built_at))
        * FAIRNESS_CAP
        * (1.0 + JITTER)
    )


def draw(seed: int, key: int) -> float:
    """A number in [0, 1) fixed by `seed` and `key` (a splitmix64 step): a decision's tie
    breaks and draws depend on its seed alone, not on the order in which candidates are looked
    at, and cost no seeded generator."""
    z = (seed * 0x9E3779B97F4A7C15 + key * 0xD1B54A32D192ED03 + 0x632BE59BD9B4E019) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return (z ^ (z >> 31)) / 2**64
