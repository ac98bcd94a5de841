"""The compiled per-city index the decision engine reads: what may show where."""

from __future__ import annotations

import math
import operator
from array import array
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from shapely import prepared
from shapely.geometry import Point, shape

from marktplatz.domain.categories import ShopCategory
from marktplatz.domain.content import (
    SPECIAL_INTERESTS,
    Content,
    ContentStatus,
    Interest,
    Window,
)
from marktplatz.domain.decision_times import (
    ALWAYS,
    Coverage,
    Spans,
    coverage,
    open_spans,
    overlap,
    window_spans,
)
from marktplatz.domain.geo import Location
from marktplatz.domain.hours import open_intervals
from marktplatz.domain.rules import CityRules
from marktplatz.domain.scoring import Placement, distance_factor, upper_bound

EARTH_RADIUS_M = 6_371_000.0
METRES_PER_DEGREE = 111_195.0  # of latitude, anywhere on the earth
COVERED_BEFORE = timedelta(days=1)  # before the build, still exactly covered by Match.times


@dataclass(frozen=True, slots=True)
class ShopPlace:
    """What the engine needs of a shop: where it is and when it is open."""

    id: UUID
    name: str
    category: ShopCategory
    location: Location | None
    # Open spans as (start, end) POSIX seconds; None when the hours are missing or unknown.
    open_spans: tuple[tuple[float, float], ...] | None

    def open_state(self, now: float, soon_seconds: float) -> str | None:
        """ "open", "soon" (opens within `soon_seconds`) or None (closed or unknown)."""
        for start, end in self.open_spans or ():
            if start <= now < end:
                return "open"
            if now < start:
                return "soon" if start - now <= soon_seconds else None
        return None


@dataclass(frozen=True, slots=True)
class TouchpointPlace:
    id: UUID
    zone_id: UUID | None
    location: Location


@dataclass(frozen=True, slots=True)
class ZonePlace:
    id: UUID
    name: str
    geometry: dict[str, Any]


# Per item: its key, its owner's key and when it may be shown (see Match).
Key = tuple[int, int, "Spans | None"]


@dataclass(frozen=True, slots=True)
class Match:
    content: Content
    placement: Placement
    distance_m: float | None  # from the contact to the shop, where both are known
    zone_id: UUID | None = None  # the zone that brought it, for a contact by position
    bound: float = 1.0  # the highest score it can reach (see scoring.upper_bound)
    # Small integers standing for the content and its owner (the shop, or the item itself for
    # the city's own): the engine's hot loop keys sets and dicts by them, not by UUIDs.
    key: int = 0
    owner: int = 0
    # When it may be shown (window and, where needed, the shop's hours; exact within the
    # index's coverage); None: at any time.
    times: Spans | None = None


# A part of a touchpoint's candidates: their bounds at this touchpoint, and the matches in that
# order (highest first).
Part = tuple["array[float]", tuple[Match, ...]]


@dataclass(frozen=True, slots=True)
class Runs:
    """One touchpoint's candidates split by audience, each part highest bound first: those for
    everybody, and per interest those targeted by it. A visitor without that interest could
    never be shown the latter, so their decisions do not even look at them."""

    plain: Part
    by_interest: dict[Interest, Part]

    def some(self, interests: frozenset[Interest]) -> list[Part]:
        """The parts that can reach a visitor with these interests (an item targeted by two of
        them comes in both)."""
        return [self.plain, *(self.by_interest[i] for i in interests if i in self.by_interest)]


def arrange(matches: Iterable[Match], factors: tuple[float, ...]) -> tuple[tuple[Match, ...], Runs]:
    """A touchpoint's candidates sorted by their bound there, whole and split by audience.

    A zone or city match is shared by every touchpoint, so its own bound leaves out the distance;
    here it is multiplied by the distance factor of its shop from this touchpoint.
    """
    shops = len(factors)
    ranked = sorted(
        [
            (
                m.bound * factors[m.owner]
                if m.distance_m is None and 0 <= m.owner < shops
                else m.bound,
                m,
            )
            for m in matches
        ],
        key=_FIRST,
        reverse=True,
    )
    plain: list[tuple[float, Match]] = []
    by_interest: dict[Interest, list[tuple[float, Match]]] = defaultdict(list)
    for entry in ranked:
        interests = entry[1].content.targeting.interests
        if not interests:
            plain.append(entry)
        for interest in interests:
            by_interest[interest].append(entry)
    runs = Runs(_part(plain), {i: _part(entries) for i, entries in by_interest.items()})
    return tuple([m for _, m in ranked]), runs


def _part(entries: list[tuple[float, Match]]) -> Part:
    return array("d", [bound for bound, _ in entries]), tuple([m for _, m in entries])


_FIRST = operator.itemgetter(0)


@dataclass(frozen=True, slots=True)
class CityIndex:
    """Published content of one city, arranged so that a contact finds its candidates at once."""

    city_id: UUID
    tz: ZoneInfo
    rules: CityRules
    shops: dict[UUID, ShopPlace]
    touchpoints: dict[UUID, TouchpointPlace]
    zones: dict[UUID, ZonePlace]
    # Each sequence is sorted by bound, highest first, so the engine can stop early.
    # Per touchpoint: what is placed at it or near it (with distance), its zone's and the
    # city-wide matches in one run sorted by their bound there (`arrange`; zone and city
    # Match objects are shared).
    merged: dict[UUID, tuple[Match, ...]]
    runs: dict[UUID, Runs]  # the same split by audience
    # Per touchpoint: the distance factor (scoring.distance_factor) to each shop, by shop key.
    shop_factors: dict[UUID, tuple[float, ...]]
    everywhere: tuple[Match, ...]
    by_zone: dict[UUID, tuple[Match, ...]]
    nearby: tuple[Content, ...]  # content with a radius, for contacts by location
    built_at: datetime
    valid_until: datetime  # opening spans are known up to here: rebuild before
    keys: dict[UUID, Key]
    coverage: Coverage  # the instants for which every Match.times is exact
    _zone_shapes: dict[UUID, Any]

    def candidates_at(self, touchpoint_id: UUID) -> tuple[Match, ...]:
        """Placed at the touchpoint, near it, in its zone or city-wide; highest bound first.

        An item may come more than once (e.g. placed here and city-wide): its best way first.
        """
        return self.merged.get(touchpoint_id, ())

    def runs_at(self, touchpoint_id: UUID, interests: frozenset[Interest]) -> list[Part]:
        """The candidates at a touchpoint that can reach a visitor with `interests`, in parts
        each sorted by their bound there."""
        runs = self.runs.get(touchpoint_id)
        return [] if runs is None else runs.some(interests)

    def candidates_near(self, location: Location) -> list[Match]:
        """Candidates for a contact that knows only its position (Geolocation, WiFi portal)."""
        point = Point(location.lon, location.lat)
        zones = [z for z, shape_ in self._zone_shapes.items() if shape_.covers(point)]
        matches = [
            self._at(m.content, Placement.ZONE, location, z)
            for z in zones
            for m in self.by_zone.get(z, ())
        ]
        for content in self.nearby:
            distance = self._distance(content, location)
            if distance is not None and distance <= (content.targeting.radius_m or 0):
                matches.append(self._at(content, Placement.NEARBY, location, None))
        matches += [self._at(m.content, Placement.CITY, location, None) for m in self.everywhere]
        matches.sort(key=_by_bound)
        return matches

    def _at(
        self, content: Content, placement: Placement, location: Location, zone: UUID | None
    ) -> Match:
        distance = self._distance(content, location)
        bound = upper_bound(
            placement,
            distance,
            len(content.targeting.interests),
            content.published_at,
            self.built_at,
        )
        return Match(content, placement, distance, zone, bound, *self.keys[content.id])

    def _distance(self, content: Content, location: Location) -> float | None:
        shop = self.shops.get(content.shop_id) if content.shop_id else None
        if shop is None or shop.location is None:
            return None
        return distance_m(shop.location, location)


def _forbidden(
    rules: CityRules, shops: dict[UUID, ShopPlace], content: Content
) -> frozenset[Interest]:
    shop = shops.get(content.shop_id) if content.shop_id else None
    rule = rules.rule_for(shop.category) if shop else None
    return SPECIAL_INTERESTS | (rule.forbidden_interests if rule else frozenset())


def _by_bound(match: Match) -> float:
    return -match.bound


def distance_m(a: Location, b: Location) -> float:
    """Metres between two points; the equirectangular approximation is exact enough in a town."""
    lat = math.radians((a.lat + b.lat) / 2)
    dx = math.radians(b.lon - a.lon) * math.cos(lat)
    dy = math.radians(b.lat - a.lat)
    return EARTH_RADIUS_M * math.hypot(dx, dy)


def shop_place(
    shop_id: UUID,
    name: str,
    category: ShopCategory,
    location: Location | None,
    hours: str,
    *,
    today: date,
    tz: ZoneInfo,
    federal_state: str,
) -> ShopPlace:
    """A shop with its opening spans from yesterday on (a span may reach past midnight)."""
    spans = open_intervals(
        hours, today.fromordinal(today.toordinal() - 1), tz, federal_state, days=9
    )
    return ShopPlace(
        shop_id,
        name,
        category,
        location,
        None if spans is None else tuple((s.timestamp(), e.timestamp()) for s, e in spans),
    )


def build_index(
    *,
    city_id: UUID,
    tz: ZoneInfo,
    rules: CityRules,
    contents: Iterable[Content],
    shops: Iterable[ShopPlace],
    touchpoints: Iterable[TouchpointPlace],
    zones: Iterable[ZonePlace],
    now: datetime,
    valid_until: datetime,
) -> CityIndex:
    """Arrange the published content; anything else (drafts, ended windows) is left out."""
    shop_map = {s.id: s for s in shops}
    tp_map = {t.id: t for t in touchpoints}
    zone_map = {z.id: z for z in zones}
    live = [
        c
        for c in contents
        if c.status is ContentStatus.PUBLISHED
        and (c.shown.ends_at is None or c.shown.ends_at > now)
        and (c.shop_id is None or c.shop_id in shop_map)
        # Defence in depth: the rules refuse such targeting, and the engine never acts on it
        # (also for items stored before the city forbade an interest for their category).
        and not c.targeting.interests & _forbidden(rules, shop_map, c)
    ]
    cover = coverage(tz, now - COVERED_BEFORE, valid_until)
    keys = _keys(live, shop_map, rules, cover)
    placed: dict[UUID, list[Content]] = defaultdict(list)
    by_zone: dict[UUID, list[Match]] = defaultdict(list)
    everywhere: list[Match] = []
    nearby: list[Content] = []
    for content in live:
        target = content.targeting
        interests, published = len(target.interests), content.published_at
        if target.everywhere:
            bound = upper_bound(Placement.CITY, None, interests, published, now)
            everywhere.append(Match(content, Placement.CITY, None, None, bound, *keys[content.id]))
        for tp in target.touchpoint_ids & tp_map.keys():
            placed[tp].append(content)
        for zone in target.zone_ids & zone_map.keys():
            bound = upper_bound(Placement.ZONE, None, interests, published, now)
            by_zone[zone].append(
                Match(content, Placement.ZONE, None, zone, bound, *keys[content.id])
            )
        if target.radius_m:
            nearby.append(content)
    at_touchpoint = _at_touchpoints(tp_map, shop_map, placed, nearby, now, keys)
    zones_sorted = {z: tuple(sorted(ms, key=_by_bound)) for z, ms in by_zone.items()}
    city_sorted = tuple(sorted(everywhere, key=_by_bound))
    factors = {tp.id: _shop_factors(tp, shop_map) for tp in tp_map.values()}
    arranged = {
        tp.id: arrange(
            (
                *at_touchpoint[tp.id],
                *(zones_sorted.get(tp.zone_id, ()) if tp.zone_id else ()),
                *city_sorted,
            ),
            factors[tp.id],
        )
        for tp in tp_map.values()
    }
    return CityIndex(
        city_id=city_id,
        tz=tz,
        rules=rules,
        shops=shop_map,
        touchpoints=tp_map,
        zones=zone_map,
        merged={tp_id: whole for tp_id, (whole, _) in arranged.items()},
        runs={tp_id: runs for tp_id, (_, runs) in arranged.items()},
        shop_factors=factors,
        everywhere=city_sorted,
        by_zone=zones_sorted,
        nearby=tuple(nearby),
        built_at=now,
        valid_until=valid_until,
        keys=keys,
        coverage=cover,
        _zone_shapes={z.id: prepared.prep(shape(z.geometry)) for z in zone_map.values()},
    )


def _at_touchpoints(
    tps: dict[UUID, TouchpointPlace],
    shops: dict[UUID, ShopPlace],
    placed: dict[UUID, list[Content]],
    nearby: list[Content],
    now: datetime,
    keys: dict[UUID, Key],
) -> dict[UUID, tuple[Match, ...]]:
    # Radius content is grouped by shop, and a shop is looked at only for touchpoints within
    # its largest radius (a cheap check on latitude first), so a big city builds in time.
    radius_by_shop: dict[UUID, list[Content]] = defaultdict(list)
    for content in nearby:
        if content.shop_id is not None and shops[content.shop_id].location is not None:
            radius_by_shop[content.shop_id].append(content)
    reach = {
        shop_id: max(c.targeting.radius_m or 0 for c in contents)
        for shop_id, contents in radius_by_shop.items()
    }
    result: dict[UUID, tuple[Match, ...]] = {}
    for tp in tps.values():
        matches: dict[UUID, Match] = {}
        for content in placed.get(tp.id, ()):
            distance = _shop_distance(shops, content, tp.location)
            matches[content.id] = _match(content, Placement.TOUCHPOINT, distance, now, keys)
        for shop_id, contents in radius_by_shop.items():
            location = shops[shop_id].location
            assert location is not None
            if abs(location.lat - tp.location.lat) * METRES_PER_DEGREE > reach[shop_id]:
                continue
            distance = distance_m(location, tp.location)
            for content in contents:
                if distance <= (content.targeting.radius_m or 0) and content.id not in matches:
                    matches[content.id] = _match(content, Placement.NEARBY, distance, now, keys)
        result[tp.id] = tuple(sorted(matches.values(), key=_by_bound))
    return result


def _match(
    content: Content,
    placement: Placement,
    distance: float | None,
    now: datetime,
    keys: dict[UUID, Key],
) -> Match:
    interests = len(content.targeting.interests)
    bound = upper_bound(placement, distance, interests, content.published_at, now)
    return Match(content, placement, distance, None, bound, *keys[content.id])


def _keys(
    live: list[Content], shops: dict[UUID, ShopPlace], rules: CityRules, cover: Coverage
) -> dict[UUID, Key]:
    """(content key, owner key, times) per item: shops count from 0, the city's items below 0."""
    shop_keys = {shop_id: n for n, shop_id in enumerate(shops)}
    soon = rules.opening_soon_minutes * 60.0
    opened = {s.id: open_spans(s.open_spans, s.open_state, soon) for s in shops.values()}
    windows: dict[Window, Spans] = {}
    keys: dict[UUID, Key] = {}
    for n, c in enumerate(live):
        shown = c.shown
        times = windows.get(shown)
        if times is None:
            times = windows[shown] = window_spans(shown, cover)
        if c.shop_id is not None and c.kind in rules.open_required:
            times = overlap(times, opened[c.shop_id])
        owner = shop_keys[c.shop_id] if c.shop_id is not None else -1 - n
        keys[c.id] = (n, owner, None if times == ALWAYS else times)
    return keys


def _shop_factors(tp: TouchpointPlace, shops: dict[UUID, ShopPlace]) -> tuple[float, ...]:
    return tuple(
        1.0 if s.location is None else distance_factor(distance_m(s.location, tp.location))
        for s in shops.values()
    )


def _shop_distance(shops: dict[UUID, ShopPlace], content: Content, here: Location) -> float | None:
    shop = shops.get(content.shop_id) if content.shop_id else None
    if shop is None or shop.location is None:
        return None
    return distance_m(shop.location, here)
