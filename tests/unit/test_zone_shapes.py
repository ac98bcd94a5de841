"""Zone shapes: the one polygon of an uploaded GeoJSON file, and the checks against the centre."""

from __future__ import annotations

import json
from typing import Any

import pytest

from marktplatz.domain.errors import InvalidInput
from marktplatz.domain.geo import Location
from marktplatz.domain.zones import clean_zone_shape, polygon_of_upload

CENTRE = Location(52.105, 8.75)
RING = [[8.74, 52.10], [8.76, 52.10], [8.76, 52.11], [8.74, 52.11], [8.74, 52.10]]
POLYGON = {"type": "Polygon", "coordinates": [RING]}


@pytest.mark.parametrize(
    "found",
    [
        POLYGON,
        {"type": "MultiPolygon", "coordinates": [[RING]]},
        {"type": "Feature", "properties": None, "geometry": POLYGON},
        {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": POLYGON}]},
    ],
)
def test_every_supported_wrapping_gives_the_one_polygon(found: dict[str, Any]) -> None:
    # given a file of one of the accepted forms
    data = json.dumps(found).encode()
    # when
    polygon = polygon_of_upload(data)
    # then
    assert clean_zone_shape(polygon, CENTRE) == POLYGON


def test_a_feature_without_geometry_holds_no_polygon() -> None:
    # given
    data = json.dumps({"type": "Feature", "geometry": None}).encode()
    # when
    with pytest.raises(InvalidInput) as caught:
        polygon_of_upload(data)
    # then
    assert caught.value.field == "geometry_file"
    assert caught.value.message.startswith("The file holds no polygon.")


def test_a_hole_is_kept_and_leaves_the_area_above_the_minimum() -> None:
    # given a square of about 1.5 km² with a hole of a quarter of it
    hole = [
        [8.745, 52.1025],
        [8.745, 52.1075],
        [8.755, 52.1075],
        [8.755, 52.1025],
        [8.745, 52.1025],
    ]
    # when
    shape = clean_zone_shape({"type": "Polygon", "coordinates": [RING, hole]}, CENTRE)
    # then
    assert shape["coordinates"] == [RING, hole]
