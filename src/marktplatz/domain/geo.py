"""Coordinates and polygons in WGS 84."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from shapely.geometry import Point, Polygon, shape
from shapely.validation import explain_validity

from marktplatz.domain.errors import N_, InvalidInput

MAX_ZONE_VERTICES = 2000


@dataclass(frozen=True, slots=True)
class Location:
    """A point on the earth: latitude and longitude in degrees."""

    lat: float
    lon: float


def make_location(lat: object, lon: object, field: str = "location") -> Location:
    """A checked Location; rejects non-numbers, NaN and values out of range."""
    if isinstance(lat, bool) or isinstance(lon, bool):
        raise InvalidInput(field, N_("Latitude and longitude must be numbers."))
    if not isinstance(lat, int | float) or not isinstance(lon, int | float):
        raise InvalidInput(field, N_("Latitude and longitude must be numbers."))
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise InvalidInput(f"{field}.lat", N_("Latitude must be between -90 and 90."))
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        raise InvalidInput(f"{field}.lon", N_("Longitude must be between -180 and 180."))
    return Location(round(float(lat), 7), round(float(lon), 7))


def parse_polygon(geometry: object, field: str = "geometry") -> dict[str, Any]:
    """A checked GeoJSON Polygon (dict); rejects other types, open or self-crossing rings."""
    if isinstance(geometry, str):
        try:
            geometry = json.loads(geometry)
        except ValueError as exc:
            raise InvalidInput(field, N_("The shape is not valid GeoJSON.")) from exc
    if not isinstance(geometry, dict) or geometry.get("type") != "Polygon":
        raise InvalidInput(field, N_("The shape must be a GeoJSON Polygon."))
    rings = geometry.get("coordinates")
    if not isinstance(rings, list) or not rings:
        raise InvalidInput(field, N_("The polygon has no coordinates."))
    _check_rings(rings, field)
    try:
        polygon = shape(geometry)
    except (ValueError, TypeError, AttributeError) as exc:
        raise InvalidInput(field, N_("The shape is not valid GeoJSON.")) from exc
    if not polygon.is_valid:
        raise _invalid_shape(field, explain_validity(polygon))
    return {"type": "Polygon", "coordinates": rings}


# GEOS names the first crossing as "Self-intersection[x y]" (also "Ring Self-intersection").
_CROSSING = re.compile(r"Self-intersection\[(?P<lon>\S+) (?P<lat>\S+)\]")


def _invalid_shape(field: str, reason: str) -> InvalidInput:
    """A plain message for a shape GEOS calls invalid; a crossing is named by its position."""
    crossing = _CROSSING.search(reason)
    if crossing is None:
        return InvalidInput(field, N_("The polygon is not valid: %(reason)s"), reason=reason)
    return InvalidInput(
        field,
        N_(
            "The outline crosses itself near latitude %(lat)s, longitude %(lon)s. "
            "Move the points so that no two edges cross."
        ),
        lat=round(float(crossing["lat"]), 6),
        lon=round(float(crossing["lon"]), 6),
    )


def _check_rings(rings: list[Any], field: str) -> None:
    count = 0
    for ring in rings:
        if not isinstance(ring, list) or len(ring) < 4:
            raise InvalidInput(field, N_("Every ring needs at least four positions."))
        if ring[0] != ring[-1]:
            raise InvalidInput(field, N_("Every ring must end where it starts."))
        for position in ring:
            if not isinstance(position, list) or len(position) < 2:
                raise InvalidInput(field, N_("Every position must be [longitude, latitude]."))
            make_location(position[1], position[0], field)
        if len({(p[0], p[1]) for p in ring}) < 3:
            raise InvalidInput(field, N_("A zone needs at least three different points."))
        count += len(ring)
    if count > MAX_ZONE_VERTICES:
        raise InvalidInput(
            field, N_("The polygon has more than %(max)s points."), max=MAX_ZONE_VERTICES
        )


def polygon_contains(geometry: dict[str, Any], location: Location) -> bool:
    """Whether a point lies inside (or on the edge of) a GeoJSON polygon."""
    polygon: Polygon = shape(geometry)
    return bool(polygon.covers(Point(location.lon, location.lat)))
