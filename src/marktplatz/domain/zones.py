"""Zones: named polygons of a city centre, such as a segment of the beacon mile."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from shapely.geometry import Polygon

from marktplatz.domain.decision_index import EARTH_RADIUS_M
from marktplatz.domain.errors import N_, InvalidInput
from marktplatz.domain.geo import Location, parse_polygon

# A zone is part of one city centre: every corner near the centre, and an area between a shop
# front and a whole town. Far-away corners are nearly always latitude and longitude swapped.
MAX_DISTANCE_KM = 25
MAX_AREA_KM2 = 50
MIN_AREA_M2 = 25
MAX_UPLOAD_BYTES = 200_000


@dataclass(frozen=True, slots=True)
class Zone:
    """A named area of one city, stored as a GeoJSON Polygon."""

    id: UUID
    city_id: UUID
    slug: str
    name: str
    description: str
    geometry: dict[str, Any]
    created_at: datetime


def clean_zone_shape(geometry: object, center: Location, field: str = "geometry") -> dict[str, Any]:
    """A checked GeoJSON Polygon that lies near the city centre and has a sensible size."""
    polygon = parse_polygon(geometry, field)
    shell, *holes = (
        [_metres(lon, lat, center) for lon, lat, *_ in ring] for ring in polygon["coordinates"]
    )
    if max(math.hypot(x, y) for x, y in shell) > MAX_DISTANCE_KM * 1000:
        raise InvalidInput(
            field,
            N_(
                "A point of the zone is more than %(km)s km from the city centre. "
                "Check that every position is [longitude, latitude]."
            ),
            km=MAX_DISTANCE_KM,
        )
    area = Polygon(shell, holes).area
    if area < MIN_AREA_M2:
        raise InvalidInput(
            field, N_("The zone is smaller than %(m2)s square metres."), m2=MIN_AREA_M2
        )
    if area > MAX_AREA_KM2 * 1_000_000:
        raise InvalidInput(
            field, N_("The zone is larger than %(km2)s square kilometres."), km2=MAX_AREA_KM2
        )
    return polygon


def _metres(lon: float, lat: float, center: Location) -> tuple[float, float]:
    """East and north of the centre in metres; a flat map is exact enough across a town."""
    x = math.radians(lon - center.lon) * math.cos(math.radians(center.lat))
    return x * EARTH_RADIUS_M, math.radians(lat - center.lat) * EARTH_RADIUS_M


def polygon_of_upload(data: bytes, field: str = "geometry_file") -> dict[str, Any]:
    """The one polygon in an uploaded GeoJSON file: a Polygon, a MultiPolygon of one polygon,
    a Feature of either, or a FeatureCollection of one such Feature."""
    if not data:
        raise InvalidInput(field, N_("The file is empty."))
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(
            field, N_("The file is larger than %(kb)s kB."), kb=MAX_UPLOAD_BYTES // 1000
        )
    try:
        found = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(field, N_("The file is not a GeoJSON file.")) from exc
    return _single_polygon(found, field)


def _single_polygon(found: object, field: str) -> dict[str, Any]:
    kind = found.get("type") if isinstance(found, dict) else None
    if not isinstance(found, dict) or kind not in _UNWRAP:
        raise InvalidInput(
            field, N_("The file holds no polygon. A zone needs a Polygon, as a Feature or alone.")
        )
    return _UNWRAP[kind](found, field)


def _collection(found: dict[str, Any], field: str) -> dict[str, Any]:
    features = found.get("features")
    count = len(features) if isinstance(features, list) else 0
    if not isinstance(features, list) or count != 1:
        raise InvalidInput(
            field, N_("The file must hold exactly one area; it holds %(num)s."), num=count
        )
    return _single_polygon(features[0], field)


def _multi(found: dict[str, Any], field: str) -> dict[str, Any]:
    parts = found.get("coordinates")
    if not isinstance(parts, list) or len(parts) != 1:
        raise InvalidInput(field, N_("A zone is one connected area: the file holds several."))
    return {"type": "Polygon", "coordinates": parts[0]}


_UNWRAP: dict[object, Callable[[dict[str, Any], str], dict[str, Any]]] = {
    "FeatureCollection": _collection,
    "Feature": lambda found, field: _single_polygon(found.get("geometry"), field),
    "MultiPolygon": _multi,
    "Polygon": lambda found, _field: found,
}
