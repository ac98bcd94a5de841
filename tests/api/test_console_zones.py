"""Zones in the console through the ASGI app: GeoJSON upload, shape checks, and the touchpoints
and shops that lie in a zone after it is drawn, redrawn or deleted."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from starlette.datastructures import UploadFile

from marktplatz.bootstrap import App
from marktplatz.domain.touchpoints import Touchpoint
from marktplatz.domain.zones import MAX_UPLOAD_BYTES, Zone
from marktplatz.services import cities, touchpoints
from support import SQUARE, Tenant, login

# Both shops of the test tenant stand at the centre (52.105, 8.75), inside SQUARE.
WEST = {
    "type": "Polygon",
    "coordinates": [[[8.74, 52.10], [8.748, 52.10], [8.748, 52.11], [8.74, 52.11], [8.74, 52.10]]],
}


@pytest.fixture
async def en(client: httpx.AsyncClient) -> httpx.AsyncClient:
    client.headers["accept-language"] = "en"
    return client


async def _point(composed: App, tenant: Tenant, name: str, lat: float, lon: float) -> Touchpoint:
    return await touchpoints.create_touchpoint(
        composed.ctx,
        tenant.users["city-admin"],
        tenant.city.id,
        {"kind": "qr", "name": name, "lat": lat, "lon": lon, "target": "/"},
    )


async def _zone(composed: App, tenant: Tenant, slug: str, geometry: dict[str, Any]) -> Zone:
    data = {"slug": slug, "name": slug.title(), "geometry": geometry}
    return await cities.create_zone(composed.ctx, tenant.users["city-admin"], tenant.city.id, data)


async def _zone_of(composed: App, tenant: Tenant, point: Touchpoint) -> Any:
    found = await touchpoints.get_touchpoint(composed.ctx, tenant.users["city-admin"], point.id)
    return found.zone_id


def _form(token: str, **changes: str) -> dict[str, str]:
    return {
        "slug": "altstadt",
        "name": "Altstadt",
        "description": "",
        "geometry": "",
        "csrf_token": token,
        **changes,
    }


def _file(content: bytes, name: str = "altstadt.geojson") -> dict[str, Any]:
    return {"geometry_file": (name, content, "application/geo+json")}


def _error(field: str, message: str) -> str:
    return f'<p class="field-error" id="e-{field}">{message}</p>'


async def test_an_uploaded_feature_collection_becomes_the_zone_with_what_lies_in_it(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given two touchpoints inside the square and one outside
    inside = [
        await _point(composed, tenant, "Markt", 52.105, 8.75),
        await _point(composed, tenant, "Rathaus", 52.102, 8.745),
    ]
    outside = await _point(composed, tenant, "Bahnhof", 52.12, 8.75)
    token = await login(en, tenant.users["city-editor"])
    collection = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {"name": "x"}, "geometry": SQUARE}],
    }
    # when the file is uploaded with an empty text field
    response = await en.post(
        f"/console/{tenant.city.slug}/zones",
        data=_form(token),
        files=_file(json.dumps(collection).encode()),
    )
    # then the zone holds the file's polygon, and its page counts what lies in it
    assert response.status_code == 303
    (zone,) = await cities.list_zones(composed.ctx, tenant.city.id)
    assert zone.geometry == SQUARE
    assert response.headers["location"] == f"/console/{tenant.city.slug}/zones/{zone.id}?saved=1"
    assert [await _zone_of(composed, tenant, p) for p in inside] == [zone.id, zone.id]
    assert await _zone_of(composed, tenant, outside) is None
    page = await en.get(response.headers["location"])
    assert (
        '<p class="zone-members" id="zone-members">2 touchpoints and 2 shops lie in this zone.'
        in (page.text)
    )
    listed = await en.get(f"/console/{tenant.city.slug}/zones")
    assert '<td class="num">2</td><td class="num">2</td>' in listed.text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"\xff\xfe{not json", "The file is not a GeoJSON file."),
        (b" " * (MAX_UPLOAD_BYTES + 1), "The file is larger than 200 kB."),
        (
            json.dumps({"type": "FeatureCollection", "features": [SQUARE, SQUARE]}).encode(),
            "The file must hold exactly one area; it holds 2.",
        ),
        (
            json.dumps(
                {
                    "type": "MultiPolygon",
                    "coordinates": [WEST["coordinates"], SQUARE["coordinates"]],
                }
            ).encode(),
            "A zone is one connected area: the file holds several.",
        ),
        (
            json.dumps({"type": "Point", "coordinates": [8.75, 52.105]}).encode(),
            "The file holds no polygon. A zone needs a Polygon, as a Feature or alone.",
        ),
    ],
)
async def test_a_bad_file_is_named_beside_the_file_input_and_nothing_is_saved(
    en: httpx.AsyncClient, tenant: Tenant, composed: App, content: bytes, message: str
) -> None:
    # given
    token = await login(en, tenant.users["city-admin"])
    # when
    response = await en.post(
        f"/console/{tenant.city.slug}/zones", data=_form(token), files=_file(content)
    )
    # then
    assert response.status_code == 422
    assert _error("geometry_file", message) in response.text
    assert 'aria-invalid="true"' in response.text
    assert 'value="Altstadt"' in response.text
    assert await cities.list_zones(composed.ctx, tenant.city.id) == []


@pytest.mark.parametrize(
    ("role", "token", "content", "status"),
    [
        pytest.param("city-admin", "wrong", json.dumps(SQUARE).encode(), 403, id="csrf"),
        pytest.param("retailer-owner", "", json.dumps(SQUARE).encode(), 403, id="retailer"),
        pytest.param("city-admin", "", b" " * (MAX_UPLOAD_BYTES + 1), 422, id="too large"),
        pytest.param("city-admin", "", b"\x89PNG\r\n\x1a\n", 422, id="wrong type"),
    ],
)
async def test_a_refused_upload_stores_no_zone_and_its_file_is_closed(
    en: httpx.AsyncClient,
    tenant: Tenant,
    composed: App,
    uploads: list[UploadFile],
    role: str,
    token: str,
    content: bytes,
    status: int,
) -> None:
    # given a wrong CSRF token, a retailer who may not draw zones, or a bad file
    csrf = await login(en, tenant.users[role])
    # when
    response = await en.post(
        f"/console/{tenant.city.slug}/zones", data=_form(token or csrf), files=_file(content)
    )
    # then nothing is stored, and the upload's temporary file is closed
    assert response.status_code == status
    assert await cities.list_zones(composed.ctx, tenant.city.id) == []
    assert len(uploads) == 1
    assert uploads[0].file.closed


async def test_an_uploaded_shape_that_crosses_itself_is_put_into_the_text_field(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given a bowtie near the centre as a bare MultiPolygon of one polygon, with a BOM
    bowtie = [[8.74, 52.10], [8.76, 52.11], [8.76, 52.10], [8.74, 52.11], [8.74, 52.10]]
    content = (
        b"\xef\xbb\xbf" + json.dumps({"type": "MultiPolygon", "coordinates": [[bowtie]]}).encode()
    )
    token = await login(en, tenant.users["city-admin"])
    # when
    response = await en.post(
        f"/console/{tenant.city.slug}/zones", data=_form(token), files=_file(content)
    )
    # then the crossing is named, and the uploaded shape waits in the text field
    assert response.status_code == 422
    assert (
        _error(
            "geometry",
            "The outline crosses itself near latitude 52.105, longitude 8.75. "
            "Move the points so that no two edges cross.",
        )
        in response.text
    )
    assert "[\n        8.76,\n        52.11\n      ]" in response.text
    assert await cities.list_zones(composed.ctx, tenant.city.id) == []


@pytest.mark.parametrize(
    ("ring", "message"),
    [
        (  # latitude and longitude swapped: thousands of kilometres away
            [[52.10, 8.74], [52.10, 8.76], [52.11, 8.76], [52.10, 8.74]],
            "A point of the zone is more than 25 km from the city centre. "
            "Check that every position is [longitude, latitude].",
        ),
        (
            [[8.75, 52.105], [8.75001, 52.105], [8.75001, 52.10501], [8.75, 52.105]],
            "The zone is smaller than 25 square metres.",
        ),
        (
            [[8.5, 52.0], [9.0, 52.0], [9.0, 52.2], [8.5, 52.0]],
            "The zone is larger than 50 square kilometres.",
        ),
        (
            [[8.75, 52.105], [8.76, 52.105], [8.75, 52.105], [8.75, 52.105]],
            "A zone needs at least three different points.",
        ),
    ],
)
async def test_a_typed_shape_far_away_or_of_a_wrong_size_is_refused(
    en: httpx.AsyncClient, tenant: Tenant, composed: App, ring: list[Any], message: str
) -> None:
    # given
    token = await login(en, tenant.users["city-admin"])
    geometry = json.dumps({"type": "Polygon", "coordinates": [ring]})
    # when
    response = await en.post(
        f"/console/{tenant.city.slug}/zones", data=_form(token, geometry=geometry)
    )
    # then
    assert response.status_code == 422
    assert _error("geometry", message) in response.text
    assert await cities.list_zones(composed.ctx, tenant.city.id) == []


async def test_redrawing_and_deleting_a_zone_assign_its_touchpoints_again(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given a zone over the square with a touchpoint in its west and one in its east
    zone = await _zone(composed, tenant, "mitte", SQUARE)
    west = await _point(composed, tenant, "West", 52.105, 8.745)
    east = await _point(composed, tenant, "Ost", 52.105, 8.755)
    token = await login(en, tenant.users["city-admin"])
    url = f"/console/{tenant.city.slug}/zones/{zone.id}"
    # when the zone is redrawn to the west strip (the shops at 8.75 are now outside)
    response = await en.post(
        url, data=_form(token, slug="mitte", name="Mitte", geometry=json.dumps(WEST))
    )
    # then
    assert response.status_code == 303
    assert (await cities.get_zone(composed.ctx, zone.id)).geometry == WEST
    assert await _zone_of(composed, tenant, west) == zone.id
    assert await _zone_of(composed, tenant, east) is None
    page = await en.get(url)
    assert "1 touchpoint and 0 shops lie in this zone." in page.text
    # when it is deleted
    deleted = await en.post(f"{url}/delete", data={"csrf_token": token})
    # then
    assert deleted.status_code == 303
    assert await _zone_of(composed, tenant, west) is None


async def test_a_refused_redraw_keeps_the_stored_shape(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    zone = await _zone(composed, tenant, "mitte", SQUARE)
    token = await login(en, tenant.users["city-admin"])
    swapped = {"type": "Polygon", "coordinates": [[[y, x] for x, y in SQUARE["coordinates"][0]]]}
    # when
    response = await en.post(
        f"/console/{tenant.city.slug}/zones/{zone.id}",
        data=_form(token, slug="mitte", name="Neu", geometry=json.dumps(swapped)),
    )
    # then
    assert response.status_code == 422
    assert 'value="Neu"' in response.text
    assert await cities.get_zone(composed.ctx, zone.id) == zone


async def test_the_editor_gets_the_other_zones_and_the_reference_points(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given two zones and a touchpoint
    admin = tenant.users["city-admin"]
    mine = await _zone(composed, tenant, "ost", SQUARE)
    await _zone(composed, tenant, "west", WEST)
    await _point(composed, tenant, "Brunnen", 52.104, 8.751)
    await login(en, admin)
    # when
    response = await en.get(f"/console/{tenant.city.slug}/zones/{mine.id}")
    # then the map data holds the other zone only, the shops and the touchpoint
    block = response.text.split('<script type="application/json" id="map-data">')[1]
    data = json.loads(block.split("</script>")[0])
    assert [z["name"] for z in data["zones"]] == ["West"]
    assert sorted((p["kind"], p["name"]) for p in data["places"]) == [
        ("shop", "Mode B"),
        ("shop", "Optik A"),
        ("touchpoint", "Brunnen"),
    ]
    assert data["center"] == {"lat": 52.105, "lon": 8.75}
