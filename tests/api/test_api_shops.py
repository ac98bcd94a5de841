"""API tests for shops: input checks that lose nothing, the story and its versions, pictures."""

from __future__ import annotations

import io
import os
import re
from typing import Any
from uuid import UUID

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from marktplatz.bootstrap import App
from marktplatz.domain.accounts import User
from marktplatz.domain.categories import ShopCategory
from marktplatz.domain.hours import check_hours
from marktplatz.services import shops, story
from marktplatz.store import tables as t
from support import Tenant, login, make_user, unique

EN = {"accept-language": "en"}
BROKEN_HOURS = "Mo-Fr 9-18 Uhr"
MEDIA_URL = re.compile(r"^/media/([0-9a-f]{32})\.(jpg|png|webp)$")


async def login_headers(client: httpx.AsyncClient, user: User) -> dict[str, str]:
    """Log the client in; the headers a state change then needs (CSRF token, English)."""
    return {"x-csrf-token": await login(client, user), **EN}


@pytest.fixture
async def admin(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, str]:
    """Headers for state changes as the tenant's city admin (the client holds the cookie)."""
    return await login_headers(client, tenant.users["city-admin"])


async def read_shop(client: httpx.AsyncClient, shop_id: object) -> dict[str, Any]:
    """The public profile, without the parts that depend on the time of reading."""
    response = await client.get(f"/api/v1/shops/{shop_id}")
    assert response.status_code == 200, response.text
    shop: dict[str, Any] = response.json()
    for key in ("state", "next_change", "holiday_name"):
        shop["hours"].pop(key)
    return shop


async def city_shop_slugs(client: httpx.AsyncClient, tenant: Tenant) -> list[str]:
    response = await client.get(f"/api/v1/cities/{tenant.city.slug}/shops")
    assert response.status_code == 200
    return sorted(shop["slug"] for shop in response.json())


def enum_message(values: list[str]) -> str:
    quoted = [f"'{v}'" for v in values]
    return f"Input should be {', '.join(quoted[:-1])} or {quoted[-1]}"


def new_shop_body(**overrides: object) -> dict[str, object]:
    return {
        "slug": unique("neu"),
        "name": "Neuer Laden",
        "category": "books",
        "lat": 52.105,
        "lon": 8.75,
        **overrides,
    }


# --- create -------------------------------------------------------------------------------


async def test_city_admin_creates_a_shop(
    client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str]
) -> None:
    # given a valid new shop
    body = new_shop_body(street="Markt 3")

    # when
    response = await client.post(
        f"/api/v1/cities/{tenant.city.slug}/shops", headers=admin, json=body
    )

    # then
    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["slug"], created["category"], created["osm_tag"]) == (
        body["slug"],
        "books",
        "shop=books",
    )
    assert body["slug"] in await city_shop_slugs(client, tenant)


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        (
            {"lat": 123.4},
            [{"field": "location.lat", "message": "Latitude must be between -90 and 90."}],
        ),
        (
            {"lat": 91},
            [{"field": "location.lat", "message": "Latitude must be between -90 and 90."}],
        ),
        ({"lon": "abc"}, [{"field": "lon", "message": "Input should be a valid number"}]),
        (
            {"category": "spaceship"},
            [{"field": "category", "message": enum_message([c.value for c in ShopCategory])}],
        ),
    ],
)
async def test_create_shop_with_bad_input_is_rejected_and_stores_nothing(
    client: httpx.AsyncClient,
    tenant: Tenant,
    admin: dict[str, str],
    overrides: dict[str, object],
    errors: list[dict[str, str]],
) -> None:
    # given a new shop with one bad value
    before = await city_shop_slugs(client, tenant)
    body = new_shop_body(**overrides)

    # when
    response = await client.post(
        f"/api/v1/cities/{tenant.city.slug}/shops", headers=admin, json=body
    )

    # then
    assert response.status_code == 422
    assert response.json() == {"detail": "invalid input", "errors": errors}
    assert await city_shop_slugs(client, tenant) == before


async def test_create_shop_with_an_unknown_category_names_the_field(
    client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str]
) -> None:
    # given a new shop of a category outside the vocabulary
    before = await city_shop_slugs(client, tenant)

    # when
    response = await client.post(
        f"/api/v1/cities/{tenant.city.slug}/shops",
        headers=admin,
        json=new_shop_body(category="spaceship"),
    )

    # then
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["category"]
    assert await city_shop_slugs(client, tenant) == before


async def test_create_shop_with_unknown_fields_is_rejected(
    client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str]
) -> None:
    # given a new shop with a field the API does not know
    before = await city_shop_slugs(client, tenant)

    # when
    response = await client.post(
        f"/api/v1/cities/{tenant.city.slug}/shops", headers=admin, json=new_shop_body(owner_id="x")
    )

    # then
    assert response.status_code == 422
    assert {"field": "owner_id", "message": "Extra inputs are not permitted"} in (
        response.json()["errors"]
    )
    assert await city_shop_slugs(client, tenant) == before


# --- update: rejected input leaves the shop as it was ----------------------------------------


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"lat": 123.4, "lon": 8.75},
            [{"field": "location.lat", "message": "Latitude must be between -90 and 90."}],
        ),
        (
            {"lat": 52.1, "lon": -180.5},
            [{"field": "location.lon", "message": "Longitude must be between -180 and 180."}],
        ),
        (
            {"lat": 52.1, "lon": "abc"},
            [{"field": "lon", "message": "Input should be a valid number"}],
        ),
        (
            {"name": "Neu", "lat": 91, "lon": 8.75},
            [{"field": "location.lat", "message": "Latitude must be between -90 and 90."}],
        ),
        pytest.param(
            {"category": "spaceship"},
            [{"field": "category", "message": enum_message([c.value for c in ShopCategory])}],
            id="unknown-category",
        ),
        ({"colour": "red"}, [{"field": "colour", "message": "Extra inputs are not permitted"}]),
        ({"name": 5}, [{"field": "name", "message": "Input should be a valid string"}]),
        (
            {"lat": "52.1", "lon": 8.75},
            [{"field": "lat", "message": "Input should be a valid number"}],
        ),
        ({"postcode": 33602}, [{"field": "postcode", "message": "Input should be a valid string"}]),
        (
            {"opening_hours": BROKEN_HOURS, "keep_unparsed_hours": "yes"},
            [{"field": "keep_unparsed_hours", "message": "Input should be a valid boolean"}],
        ),
        (
            {"story_html": ["<p>Hi</p>"]},
            [{"field": "story_html", "message": "Input should be a valid string"}],
        ),
        (
            {"name": "Neu", "postcode": "3360"},
            [{"field": "postcode", "message": "A postcode has five digits."}],
        ),
        (
            {"name": "Neu", "website": "javascript:alert(1)"},
            [{"field": "website", "message": "Enter a web address starting with https://."}],
        ),
        ({"name": ""}, [{"field": "name", "message": "Please fill in this field."}]),
        ({"name": None}, [{"field": "name", "message": "Please fill in this field."}]),
    ],
)
async def test_rejected_update_names_the_field_and_keeps_the_shop(
    client: httpx.AsyncClient,
    tenant: Tenant,
    admin: dict[str, str],
    body: dict[str, object],
    errors: list[dict[str, str]],
) -> None:
    # given a shop with stored values
    shop_id = tenant.shop_a.id
    before = await read_shop(client, shop_id)

    # when a change with one bad value is sent
    response = await client.patch(f"/api/v1/shops/{shop_id}", headers=admin, json=body)

    # then
    assert response.status_code == 422
    assert response.json() == {"detail": "invalid input", "errors": errors}
    assert await read_shop(client, shop_id) == before


async def test_valid_update_is_stored(
    client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str]
) -> None:
    # given a shop
    shop_id = tenant.shop_a.id
    before = await read_shop(client, shop_id)

    # when
    response = await client.patch(
        f"/api/v1/shops/{shop_id}",
        headers=admin,
        json={
            "name": "  Optik   Anders ",
            "lat": 52.1051234567,
            "lon": 8.7512,
            "postcode": "33602",
            "email": "Info@Optik-Anders.DE",
            "website": "https://optik-anders.example",
        },
    )

    # then
    assert response.status_code == 200, response.text
    after = await read_shop(client, shop_id)
    assert after == {
        **before,
        "name": "Optik Anders",
        "lat": 52.1051235,
        "lon": 8.7512,
        "postcode": "33602",
        "email": "info@optik-anders.de",
        "website": "https://optik-anders.example",
    }


async def test_category_can_be_changed(
    client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str]
) -> None:
    # given an optician
    shop_id = tenant.shop_a.id

    # when it becomes a pharmacy
    response = await client.patch(
        f"/api/v1/shops/{shop_id}", headers=admin, json={"category": "pharmacy"}
    )

    # then
    assert response.status_code == 200, response.text
    after = await read_shop(client, shop_id)
    assert (after["category"], after["osm_tag"]) == ("pharmacy", "amenity=pharmacy")


@pytest.mark.parametrize(
    ("sent", "position"),
    [({"lat": 52.106}, (52.106, 8.75)), ({"lon": 8.7512}, (52.105, 8.7512))],
    ids=["only lat", "only lon"],
)
async def test_moving_only_one_coordinate_keeps_the_other(
    client: httpx.AsyncClient,
    tenant: Tenant,
    admin: dict[str, str],
    sent: dict[str, float],
    position: tuple[float, float],
) -> None:
    # given a shop at (52.105, 8.75)
    shop_id = tenant.shop_a.id
    before = await read_shop(client, shop_id)

    # when only one coordinate is sent
    response = await client.patch(f"/api/v1/shops/{shop_id}", headers=admin, json=sent)

    # then the other one is the stored one, and nothing else changed
    assert response.status_code == 200, response.text
    after = await read_shop(client, shop_id)
    assert after == {**before, "lat": position[0], "lon": position[1]}


@pytest.mark.parametrize(
    ("sent", "error"),
    [
        (
            {"lat": 91.0},
            {"field": "location.lat", "message": "Latitude must be between -90 and 90."},
        ),
        (
            {"lon": None},
            {"field": "location", "message": "Latitude and longitude must be numbers."},
        ),
    ],
    ids=["lat out of range", "lon null"],
)
async def test_a_bad_single_coordinate_is_rejected_and_nothing_changes(
    client: httpx.AsyncClient,
    tenant: Tenant,
    admin: dict[str, str],
    sent: dict[str, float | None],
    error: dict[str, str],
) -> None:
    # given a shop at (52.105, 8.75)
    shop_id = tenant.shop_a.id
    before = await read_shop(client, shop_id)

    # when one coordinate is sent, and it is wrong
    response = await client.patch(f"/api/v1/shops/{shop_id}", headers=admin, json=sent)

    # then
    assert response.status_code == 422
    assert response.json() == {"detail": "invalid input", "errors": [error]}
    assert await read_shop(client, shop_id) == before


# --- opening hours ---------------------------------------------------------------------------


async def test_unreadable_opening_hours_are_rejected_with_the_parsers_reason(
    client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str]
) -> None:
    # given a shop with valid hours, and a typo'd replacement
    shop_id = tenant.shop_a.id
    before = await read_shop(client, shop_id)
    reason = check_hours(BROKEN_HOURS).error

    # when
    response = await client.patch(
        f"/api/v1/shops/{shop_id}", headers=admin, json={"opening_hours": BROKEN_HOURS}
    )

    # then
    assert response.status_code == 422
    assert response.json() == {
        "detail": "invalid input",
        "errors": [
            {"field": "opening_hours", "message": f"These opening hours cannot be read: {reason}"}
        ],
    }
    assert reason is not None
    assert reason.endswith("(line 1, column 7)")
    assert await read_shop(client, shop_id) == before
    assert before["hours"]["raw"] == "Mo-Fr 09:00-18:00; Sa 09:00-14:00"


async def test_unreadable_opening_hours_may_be_kept_on_purpose(
    client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str]
) -> None:
    # given a shop, and hours the parser cannot read
    shop_id = tenant.shop_a.id

    # when the retailer insists on keeping them
    response = await client.patch(
        f"/api/v1/shops/{shop_id}",
        headers=admin,
        json={"opening_hours": f"  {BROKEN_HOURS}", "keep_unparsed_hours": True},
    )

    # then they are stored verbatim (trimmed) and flagged as invalid
    assert response.status_code == 200, response.text
    shown = (await client.get(f"/api/v1/shops/{shop_id}")).json()["hours"]
    assert shown == {
        "raw": BROKEN_HOURS,
        "state": "invalid",
        "next_change": None,
        "holiday_name": shown["holiday_name"],
        "error": check_hours(BROKEN_HOURS).error,
    }
    assert shown["error"]


# --- story -----------------------------------------------------------------------------------


async def test_story_html_is_sanitised(
    client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str]
) -> None:
    # given a story with a script, an event handler and a javascript: link
    story = (
        '<script>alert(1)</script><p onclick="x"><strong>Hi</strong> '
        '<a href="javascript:alert(1)">x</a></p>'
    )
    shop_id = tenant.shop_a.id

    # when
    response = await client.patch(
        f"/api/v1/shops/{shop_id}",
        headers=admin,
        json={"story_html": story, "story_html_en": story},
    )

    # then
    assert response.status_code == 200, response.text
    stored = await read_shop(client, shop_id)
    expected = '<p><strong>Hi</strong> <a rel="noopener noreferrer nofollow">x</a></p>'
    assert (stored["story_html"], stored["story_html_en"]) == (expected, expected)
    for part in ("<script", "onclick", "javascript:", "alert"):
        assert part not in stored["story_html"]


async def versions_of(composed: App, tenant: Tenant, language: str) -> list[tuple[int, str, str]]:
    """(id, source, html) of the shop's story versions in that language, oldest first."""
    admin = tenant.users["city-admin"]
    desk = await story.story_desk(composed.ctx, admin, tenant.shop_a.id, language)
    return [(v.id, v.source, v.html) for v in reversed(desk.versions)]


async def story_log(composed: App, tenant: Tenant) -> list[tuple[str, str]]:
    """(action, detail) of the shop's audit lines since it was made, oldest first."""
    log = t.audit_log.c
    query = select(log.action, log.detail).where(
        log.object_id == str(tenant.shop_a.id), log.action != "shop.created"
    )
    async with composed.engine.connect() as conn:
        return [(row.action, row.detail) for row in await conn.execute(query.order_by(log.id))]


FIRST_STORY = "## Seit 1950\n\nWir schleifen Gläser **selbst**."
FIRST_HTML = "<h2>Seit 1950</h2>\n<p>Wir schleifen Gläser <strong>selbst</strong>.</p>"


async def test_a_story_changed_through_the_api_is_a_version_that_can_be_restored(
    client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str], composed: App
) -> None:
    # given a story the API changed twice, the second time with the shop's name
    shop_url = f"/api/v1/shops/{tenant.shop_a.id}"
    first = await client.patch(shop_url, headers=admin, json={"story_html": FIRST_STORY})
    second = await client.patch(
        shop_url, headers=admin, json={"name": "Optik Neu", "story_html": "<p>Neu erzählt</p>"}
    )
    assert (first.status_code, second.status_code) == (200, 200), second.text
    # then each change was rendered as the story editor renders it and kept as a version
    assert first.json()["story_html"] == FIRST_HTML
    [(old, source, html), (new, *_)] = await versions_of(composed, tenant, "de")
    assert (source, html) == (FIRST_STORY, FIRST_HTML)
    assert await versions_of(composed, tenant, "en") == []

    # when the editor restores the first version
    restored = await client.post(
        f"/portal/shops/{tenant.shop_a.id}/story/versions/{old}/restore", headers=admin
    )

    # then the first story is published again, as a new version, and every step is logged
    assert restored.status_code == 303, restored.text
    shop = await read_shop(client, tenant.shop_a.id)
    assert (shop["name"], shop["story_html"]) == ("Optik Neu", FIRST_HTML)
    [*_, (newest, _, html)] = await versions_of(composed, tenant, "de")
    assert (newest > new, html) == (True, FIRST_HTML)
    assert await story_log(composed, tenant) == [
        ("shop.story_updated", f"de, version {old}"),
        ("shop.updated", "name"),
        ("shop.story_updated", f"de, version {new}"),
        ("shop.story_restored", f"de, from version {old}, version {newest}"),
    ]


async def test_a_story_with_a_foreign_picture_is_refused_with_the_whole_change(
    client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str], composed: App
) -> None:
    # given
    before = await read_shop(client, tenant.shop_a.id)
    body = {"name": "Optik Neu", "story_html_en": "![Pixel](https://tracker.example/p.gif)"}
    # when
    response = await client.patch(f"/api/v1/shops/{tenant.shop_a.id}", headers=admin, json=body)
    # then the field is named as it was sent, and nothing of the change is stored
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        {
            "field": "story_html_en",
            "message": "Picture 1 (“https://tracker.example/p.gif”) is not one of your shop's "
            "pictures. Please use “Insert picture” to choose or upload one.",
        }
    ]
    assert await read_shop(client, tenant.shop_a.id) == before
    assert await versions_of(composed, tenant, "en") == []


async def test_a_shop_created_with_a_story_has_it_as_its_first_version(
    client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str], composed: App
) -> None:
    # when
    body = new_shop_body(story_html_en=FIRST_STORY)
    response = await client.post(
        f"/api/v1/cities/{tenant.city.slug}/shops", headers=admin, json=body
    )
    # then
    assert response.status_code == 201, response.text
    assert response.json()["story_html_en"] == FIRST_HTML
    admin_user = tenant.users["city-admin"]
    desk = await story.story_desk(composed.ctx, admin_user, UUID(response.json()["id"]), "en")
    assert [(v.source, v.html) for v in desk.versions] == [(FIRST_STORY, FIRST_HTML)]


# --- who may change a shop --------------------------------------------------------------------


async def test_retailer_owner_edits_own_shop_only(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # given the owner of shop A
    headers = await login_headers(client, tenant.users["retailer-owner"])
    shop_b_before = await read_shop(client, tenant.shop_b.id)

    # when they rename their own shop and then try the neighbour's
    own = await client.patch(
        f"/api/v1/shops/{tenant.shop_a.id}", headers=headers, json={"name": "Optik Anna"}
    )
    other = await client.patch(
        f"/api/v1/shops/{tenant.shop_b.id}", headers=headers, json={"name": "Gekapert"}
    )

    # then
    assert own.status_code == 200
    assert (await read_shop(client, tenant.shop_a.id))["name"] == "Optik Anna"
    assert (other.status_code, other.json()) == (404, {"detail": "not found"})
    assert await read_shop(client, tenant.shop_b.id) == shop_b_before


async def test_retailer_staff_and_anonymous_may_not_edit(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # given shop A and a staff member of it
    before = await read_shop(client, tenant.shop_a.id)

    # when the client tries first without a login, then as the staff member
    anonymous = await client.patch(f"/api/v1/shops/{tenant.shop_a.id}", json={"name": "X"})
    headers = await login_headers(client, tenant.users["retailer-staff"])
    staff = await client.patch(
        f"/api/v1/shops/{tenant.shop_a.id}", headers=headers, json={"name": "X"}
    )

    # then
    assert (anonymous.status_code, anonymous.json()) == (401, {"detail": "login required"})
    assert (staff.status_code, staff.json()) == (403, {"detail": "forbidden"})
    assert await read_shop(client, tenant.shop_a.id) == before


# --- pictures --------------------------------------------------------------------------------


def two_colour_jpeg_with_exif() -> bytes:
    """A 40×20 JPEG, red left and blue right, tagged 'rotate 90° clockwise' and with GPS."""
    image = Image.new("RGB", (40, 20), (220, 20, 20))
    image.paste((20, 20, 220), (20, 0, 40, 20))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "Kamera GmbH"
    exif[0x8825] = {1: "N", 2: (52.0, 6.0, 30.0), 3: "E", 4: (8.0, 45.0, 0.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=95)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the GPS is really there
    return data


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    shop_id: object,
    name: str,
    data: bytes,
    mime: str,
) -> httpx.Response:
    return await client.post(
        f"/api/v1/shops/{shop_id}/images",
        headers=headers,
        files={"image": (name, data, mime)},
        data={"alt_text": "Unser Schaufenster"},
    )


def close_to(pixel: tuple[int, ...], colour: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 40 for a, b in zip(pixel, colour, strict=True))


async def test_uploaded_jpeg_is_rotated_renamed_and_stripped_of_exif(
    client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str]
) -> None:
    # given a landscape JPEG that says "rotate clockwise" and carries a GPS position
    data = two_colour_jpeg_with_exif()

    # when
    response = await upload(
        client, admin, tenant.shop_a.id, "holiday-photo.jpeg", data, "image/jpeg"
    )

    # then the picture is stored under a server-made name, upright
    assert response.status_code == 201, response.text
    created = response.json()
    match = MEDIA_URL.match(created["url"])
    assert match is not None
    assert match.group(1) == created["id"].replace("-", "")
    assert "holiday" not in created["url"]
    assert (created["width"], created["height"], created["alt_text"]) == (
        20,
        40,
        "Unser Schaufenster",
    )
    assert (await read_shop(client, tenant.shop_a.id))["images"] == [created]

    # and the served file has no metadata left and is turned as the tag said
    served = await client.get(created["url"])
    assert served.status_code == 200
    stored = Image.open(io.BytesIO(served.content))
    assert stored.size == (20, 40)
    assert len(stored.getexif()) == 0
    assert stored.getexif().get_ifd(0x8825) == {}
    assert "exif" not in stored.info
    assert b"Exif" not in served.content
    assert b"Kamera GmbH" not in served.content
    rgb = stored.convert("RGB")
    assert close_to(rgb.getpixel((10, 5)), (220, 20, 20))  # the left (red) half is now on top
    assert close_to(rgb.getpixel((10, 35)), (20, 20, 220))


async def test_uploaded_jpeg_stays_a_jpeg(
    client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str]
) -> None:
    # given a JPEG
    data = two_colour_jpeg_with_exif()

    # when
    response = await upload(
        client, admin, tenant.shop_a.id, "holiday-photo.jpeg", data, "image/jpeg"
    )

    # then
    assert response.status_code == 201, response.text
    url = response.json()["url"]
    served = await client.get(url)
    assert url.endswith(".jpg")
    assert served.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(served.content)).format == "JPEG"


async def rejected_upload(
    client: httpx.AsyncClient,
    composed: App,
    tenant: Tenant,
    headers: dict[str, str],
    name: str,
    data: bytes,
    mime: str,
) -> httpx.Response:
    """Upload, then check that neither the shop nor the media directory changed."""
    media_root = composed.media.root
    files_before = sorted(media_root.iterdir()) if media_root.exists() else []
    images_before = (await read_shop(client, tenant.shop_a.id))["images"]
    response = await upload(client, headers, tenant.shop_a.id, name, data, mime)
    assert (await read_shop(client, tenant.shop_a.id))["images"] == images_before
    files_after = sorted(media_root.iterdir()) if media_root.exists() else []
    assert files_after == files_before
    return response


async def test_oversized_upload_is_rejected(
    client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str], composed: App
) -> None:
    # given a valid PNG of random pixels, larger than the 5 MB upload limit
    assert composed.settings.max_upload_bytes == 5 * 1024 * 1024
    noise = Image.frombytes("RGB", (1400, 1400), os.urandom(1400 * 1400 * 3))
    out = io.BytesIO()
    noise.save(out, "PNG", compress_level=0)
    data = out.getvalue()
    assert len(data) > composed.settings.max_upload_bytes

    # when
    response = await rejected_upload(client, composed, tenant, admin, "big.png", data, "image/png")

    # then
    assert response.status_code == 422
    assert response.json() == {
        "detail": "invalid input",
        "errors": [{"field": "image", "message": "The file is too large (at most 5 MB)."}],
    }


async def test_text_named_png_is_rejected(
    client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str], composed: App
) -> None:
    # given a text file pretending to be a picture
    data = b"Dies ist kein Bild, nur Text.\n" * 50

    # when
    response = await rejected_upload(
        client, composed, tenant, admin, "photo.png", data, "image/png"
    )

    # then
    assert response.status_code == 422
    assert response.json() == {
        "detail": "invalid input",
        "errors": [{"field": "image", "message": "This file is not a picture we can read."}],
    }


async def test_picture_with_too_many_pixels_is_rejected(
    client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str], composed: App
) -> None:
    # given a one-colour 7000×7000 PNG: a small file, but 49 million pixels (limit 40 million)
    assert composed.settings.max_image_pixels == 40_000_000
    out = io.BytesIO()
    Image.new("1", (7000, 7000), 1).save(out, "PNG")
    data = out.getvalue()
    assert len(data) < composed.settings.max_upload_bytes

    # when
    response = await rejected_upload(client, composed, tenant, admin, "huge.png", data, "image/png")

    # then
    assert response.status_code == 422
    assert response.json() == {
        "detail": "invalid input",
        "errors": [{"field": "image", "message": "The picture has too many pixels."}],
    }


async def test_retailer_staff_may_not_upload(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given a staff member of shop A
    headers = await login_headers(client, tenant.users["retailer-staff"])

    # when
    response = await rejected_upload(
        client, composed, tenant, headers, "a.jpg", two_colour_jpeg_with_exif(), "image/jpeg"
    )

    # then
    assert (response.status_code, response.json()) == (403, {"detail": "forbidden"})


async def test_image_list_and_delete_through_the_service_match_the_api(
    client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str], composed: App
) -> None:
    # given an uploaded picture
    created = (
        await upload(
            client, admin, tenant.shop_a.id, "x.jpg", two_colour_jpeg_with_exif(), "image/jpeg"
        )
    ).json()
    owner = await make_user(composed, "retailer-owner", tenant.city, tenant.shop_a)

    # when the shop's owner lists its pictures and the admin deletes the one
    listed = await shops.shop_images(composed.ctx, owner, tenant.shop_a.id)
    deleted = await client.delete(
        f"/api/v1/shops/{tenant.shop_a.id}/images/{created['id']}", headers=admin
    )

    # then
    assert [str(image.id) for image in listed] == [created["id"]]
    assert deleted.status_code == 204
    assert (await read_shop(client, tenant.shop_a.id))["images"] == []
    assert (await client.get(created["url"])).status_code == 404
