"""Zones: named polygons of a city centre, such as a segment of the beacon mile."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID


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
