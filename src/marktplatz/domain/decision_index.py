"""The compiled per-city index the decision engine reads: what may show where."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import IntEnum
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from shapely import prepared
from shapely.geometry import Point, shape

from marktplatz.domain.categories import ShopCategory
from marktplatz.domain.content import SPECIAL_INTERESTS, Content, ContentStatus
from marktplatz.domain.geo import Location
from marktplatz.domain.hours import open_intervals
from marktplatz.domain.rules import CityRules

EARTH_RADIUS_M = 6_371_000.0


class Placement(IntEnum):
    """How content reached a contact, from the most to the least specific."""

    TOUCHPOINT = 0  # the retailer or the city placed it at this very touchpoint
    ZONE = 1
    NEARBY = 2  # within the radius around its shop
    CITY = 3  # no place given: anywhere in the city


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


@dataclass(frozen=True, slots=True)
class Match:
    content: Content
    placement: Placement
    distance_m: float | None  # from the contact to the shop, where both are known
    zone_id: UUID | None = None  # the zone that brought it, for a contact by position


@dataclass(frozen=True, slots=True)
class CityIndex:
    """Published content of one city, arranged so that a contact finds its candidates at once."""

    city_id: UUID
    tz: ZoneInfo
    rules: CityRules
    shops: dict[UUID, ShopPlace]
    touchpoints: dict[UUID, TouchpointPlace]
    zones: dict[UUID, ZonePlace]
    at_touchpoint: dict[UUID, tuple[Match, ...]]  # placed there, zone, or nearby
    everywhere: tuple[Content, ...]
    by_zone: dict[UUID, tuple[Content, ...]]
    nearby: tuple[Content, ...]  # content with a radius, for contacts by location
    built_at: datetime
    valid_until: datetime  # opening spans are known up to here: rebuild before
    _zone_shapes: dict[UUID, Any]

    def candidates_at(self, touchpoint_id: UUID) -> tuple[Match, ...]:
        return self.at_touchpoint.get(touchpoint_id, ())

    def candidates_near(self, location: Location) -> list[Match]:
        """Candidates for a contact that knows only its position (Geolocation, WiFi portal)."""
        point = Point(location.lon, location.lat)
        zones = [
            z for z, prepared_shape in self._zone_shapes.items() if prepared_shape.covers(point)
        ]
        matches = [
            Match(c, Placement.ZONE, self._distance(c, location), z)
            for z in zones
            for c in self.by_zone.get(z, ())
        ]
        for content in self.nearby:
            distance = self._distance(content, location)
            if distance is not None and distance <= (content.targeting.radius_m or 0):
                matches.append(Match(content, Placement.NEARBY, distance))
        matches += [Match(c, Placement.CITY, self._distance(c, location)) for c in self.everywhere]
        return matches

    def _distance(self, content: Content, location: Location) -> float | None:
        shop = self.shops.get(content.shop_id) if content.shop_id else None
        if shop is None or shop.location is None:
            return None
        return distance_m(shop.location, location)


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
        and (c.window.ends_at is None or c.window.ends_at > now)
        and (c.shop_id is None or c.shop_id in shop_map)
        # Defence in depth: the rules refuse such targeting, and the engine never acts on it.
        and not c.targeting.interests & SPECIAL_INTERESTS
    ]
    placed: dict[UUID, list[Match]] = defaultdict(list)
    by_zone: dict[UUID, list[Content]] = defaultdict(list)
    everywhere: list[Content] = []
    nearby: list[Content] = []
    for content in live:
        target = content.targeting
        if target.everywhere:
            everywhere.append(content)
        for tp in target.touchpoint_ids & tp_map.keys():
            placed[tp].append(Match(content, Placement.TOUCHPOINT, None))
        for zone in target.zone_ids & zone_map.keys():
            by_zone[zone].append(content)
        if target.radius_m:
            nearby.append(content)
    at_touchpoint = _at_touchpoints(tp_map, shop_map, placed, by_zone, nearby)
    return CityIndex(
        city_id=city_id,
        tz=tz,
        rules=rules,
        shops=shop_map,
        touchpoints=tp_map,
        zones=zone_map,
        at_touchpoint=at_touchpoint,
        everywhere=tuple(everywhere),
        by_zone={z: tuple(cs) for z, cs in by_zone.items()},
        nearby=tuple(nearby),
        built_at=now,
        valid_until=valid_until,
        _zone_shapes={z.id: prepared.prep(shape(z.geometry)) for z in zone_map.values()},
    )


def _at_touchpoints(
    tps: dict[UUID, TouchpointPlace],
    shops: dict[UUID, ShopPlace],
    placed: dict[UUID, list[Match]],
    by_zone: dict[UUID, list[Content]],
    nearby: list[Content],
) -> dict[UUID, tuple[Match, ...]]:
    # Radius content is grouped by shop, so each shop-touchpoint distance is computed once.
    radius_by_shop: dict[UUID, list[Content]] = defaultdict(list)
    for content in nearby:
        if content.shop_id is not None and shops[content.shop_id].location is not None:
            radius_by_shop[content.shop_id].append(content)
    result: dict[UUID, tuple[Match, ...]] = {}
    for tp in tps.values():
        matches: dict[UUID, Match] = {}
        for match in placed.get(tp.id, ()):
            matches[match.content.id] = match
        for content in by_zone.get(tp.zone_id, ()) if tp.zone_id else ():
            matches.setdefault(content.id, Match(content, Placement.ZONE, None))
        for shop_id, contents in radius_by_shop.items():
            location = shops[shop_id].location
            assert location is not None
            distance = distance_m(location, tp.location)
            for content in contents:
                if distance <= (content.targeting.radius_m or 0):
                    matches.setdefault(content.id, Match(content, Placement.NEARBY, distance))
        result[tp.id] = tuple(matches.values())
    return result
