"""City console pages through the ASGI app: scope, zones, shops, touchpoints, print view, users."""

from __future__ import annotations

import json

import httpx
import pytest

from marktplatz.bootstrap import App
from marktplatz.services import cities, shops, touchpoints
from support import SQUARE, Tenant, login, make_tenant


@pytest.fixture
async def en(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """The client reading pages in English, so assertions do not depend on the German catalogue."""
    client.headers["accept-language"] = "en"
    return client


def _error(field: str, message: str) -> str:
    return f'<p class="field-error" id="e-{field}">{message}</p>'


def _touchpoint(**changes: str) -> dict[str, str]:
    form = {
        "kind": "qr",
        "name": "Schaufenster",
        "lat": "52.105",
        "lon": "8.75",
        "placement": "",
        "shop_id": "",
        "target": "/angebote",
    }
    return {**form, **changes}


def _ibeacon(**changes: str) -> dict[str, str]:
    ids = {
        "ibeacon_uuid": "f7826da6-4fa2-4e98-8024-bc5b71e0893e",
        "ibeacon_major": "100",
        "ibeacon_minor": "7",
    }
    return _touchpoint(kind="ibeacon", target="", **{**ids, **changes})


@pytest.mark.parametrize("role", ["city-admin", "city-editor"])
@pytest.mark.parametrize("page", ["", "/zones", "/shops", "/touchpoints"])
async def test_city_staff_open_every_page(
    en: httpx.AsyncClient, tenant: Tenant, role: str, page: str
) -> None:
    # given
    await login(en, tenant.users[role])
    # when
    response = await en.get(f"/console/{tenant.city.slug}{page}")
    # then
    assert response.status_code == 200
    assert f'href="/console/{tenant.city.slug}/zones"' in response.text


async def test_overview_counts_shops_zones_and_touchpoints(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    admin = tenant.users["city-admin"]
    await touchpoints.create_touchpoint(
        composed.ctx,
        admin,
        tenant.city.id,
        {"kind": "qr", "name": "Eingang", "lat": 52.105, "lon": 8.75, "target": "/"},
    )
    await login(en, admin)
    # when
    response = await en.get(f"/console/{tenant.city.slug}")
    # then
    assert response.status_code == 200
    assert '<p class="figure">2</p>' in response.text  # shops
    assert '<tr><th scope="row">QR code</th><td>1</td></tr>' in response.text


@pytest.mark.parametrize("role", ["city-admin", "retailer-owner"])
@pytest.mark.parametrize("page", ["", "/zones", "/shops", "/touchpoints", "/users"])
async def test_people_from_elsewhere_find_nothing(
    en: httpx.AsyncClient, tenant: Tenant, composed: App, role: str, page: str
) -> None:
    # given someone with a role in another city only
    other = await make_tenant(composed)
    await login(en, other.users[role])
    # when
    response = await en.get(f"/console/{tenant.city.slug}{page}")
    # then
    assert response.status_code == 404
    assert "This page does not exist." in response.text


@pytest.mark.parametrize("role", ["retailer-owner", "retailer-staff"])
@pytest.mark.parametrize("page", ["", "/zones", "/shops", "/touchpoints", "/users"])
async def test_the_citys_own_retailers_may_not_open_its_console(
    en: httpx.AsyncClient, tenant: Tenant, role: str, page: str
) -> None:
    # given a retailer of a shop in this city
    await login(en, tenant.users[role])
    # when
    response = await en.get(f"/console/{tenant.city.slug}{page}")
    # then they are told they may not, rather than that the city does not exist
    assert response.status_code == 403
    assert "You may not open this page." in response.text


async def test_anonymous_visitor_is_sent_to_login(en: httpx.AsyncClient, tenant: Tenant) -> None:
    # when
    response = await en.get(f"/console/{tenant.city.slug}/touchpoints")
    # then
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=/console/{tenant.city.slug}/touchpoints"


async def test_only_admins_see_the_users(en: httpx.AsyncClient, tenant: Tenant) -> None:
    # given
    url = f"/console/{tenant.city.slug}/users"
    await login(en, tenant.users["city-editor"])
    # when
    as_editor = await en.get(url)
    en.cookies.clear()
    await login(en, tenant.users["city-admin"])
    as_admin = await en.get(url)
    # then
    assert as_editor.status_code == 403
    assert as_admin.status_code == 200
    assert tenant.users["retailer-owner"].email in as_admin.text
    assert "Shop owner · Optik A" in as_admin.text


async def test_bad_geojson_is_shown_beside_the_shape(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    token = await login(en, tenant.users["city-editor"])
    # when
    response = await en.post(
        f"/console/{tenant.city.slug}/zones",
        data={
            "slug": "altstadt",
            "name": "Altstadt",
            "description": "",
            "geometry": "{nope",
            "csrf_token": token,
        },
    )
    # then
    assert response.status_code == 422
    assert _error("geometry", "The shape is not valid GeoJSON.") in response.text
    assert 'value="Altstadt"' in response.text
    assert await cities.list_zones(composed.ctx, tenant.city.id) == []


async def test_a_zone_is_created_edited_and_deleted(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    token = await login(en, tenant.users["city-editor"])
    base = f"/console/{tenant.city.slug}/zones"
    form = {
        "slug": "altstadt",
        "name": "Altstadt",
        "description": "Rund um den Markt",
        "geometry": json.dumps(SQUARE),
        "csrf_token": token,
    }
    # when
    created = await en.post(base, data=form)
    # then
    assert created.status_code == 303
    (zone,) = await cities.list_zones(composed.ctx, tenant.city.id)
    assert created.headers["location"] == f"{base}/{zone.id}?saved=1"
    assert ">Altstadt</a>" in (await en.get(base)).text
    # when
    edited = await en.post(f"{base}/{zone.id}", data={**form, "name": "Neue Altstadt"})
    # then
    assert edited.status_code == 303
    assert "Neue Altstadt" in (await en.get(f"{base}/{zone.id}")).text
    # when
    deleted = await en.post(f"{base}/{zone.id}/delete", data={"csrf_token": token})
    # then
    assert deleted.status_code == 303
    assert await cities.list_zones(composed.ctx, tenant.city.id) == []


async def test_a_shop_is_created_and_listed(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    token = await login(en, tenant.users["city-admin"])
    url = f"/console/{tenant.city.slug}/shops"
    form = {
        "slug": "baeckerei-korn",
        "name": "Bäckerei Korn",
        "category": "bakery",
        "street": "Markt 2",
        "postcode": "32756",
        "lat": "52,105",
        "lon": "8.75",
        "opening_hours": "Mo-Sa 06:30-18:00",
        "csrf_token": token,
    }
    # when
    refused = await en.post(url, data={**form, "lon": "east"})
    created = await en.post(url, data=form)
    # then
    assert refused.status_code == 422
    assert _error("lon", "Latitude and longitude must be numbers.") in refused.text
    assert created.status_code == 303
    page = await en.get(url)
    assert "Bäckerei Korn</a></th>" in page.text
    assert "<td>Bakery</td>" in page.text
    assert len(await shops.list_shops(composed.ctx, tenant.city.id)) == 3


async def test_a_qr_touchpoint_is_created_and_printable(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    token = await login(en, tenant.users["city-editor"])
    url = f"/console/{tenant.city.slug}/touchpoints"
    # when
    created = await en.post(
        url, data={**_touchpoint(shop_id=str(tenant.shop_a.id)), "csrf_token": token}
    )
    # then
    assert created.status_code == 303
    (qr,) = await touchpoints.list_touchpoints(
        composed.ctx, tenant.users["city-admin"], tenant.city.id
    )
    assert qr.shop_id == tenant.shop_a.id
    listing = await en.get(url)
    assert "<td>Optik A</td>" in listing.text
    printed = await en.get(f"{url}/{qr.id}/print")
    assert printed.status_code == 200
    assert f'src="/api/v1/touchpoints/{qr.id}/qr.svg"' in printed.text
    assert f"http://testserver/q/{qr.code}" in printed.text
    assert "Scan me — discover Teststadt&#39;s shops" in printed.text
    assert f'href="/api/v1/touchpoints/{qr.id}/qr.pdf"' in printed.text


async def test_beacon_ids_are_checked_per_field(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    token = await login(en, tenant.users["city-editor"])
    url = f"/console/{tenant.city.slug}/touchpoints"
    # when
    response = await en.post(url, data={**_ibeacon(ibeacon_major="70000"), "csrf_token": token})
    # then
    assert response.status_code == 422
    assert _error("ibeacon_major", "Enter a whole number from 0 to 65535.") in response.text
    assert 'value="70000"' in response.text
    assert (
        await touchpoints.list_touchpoints(composed.ctx, tenant.users["city-admin"], tenant.city.id)
        == []
    )


async def test_a_duplicate_beacon_is_shown_on_the_form(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    token = await login(en, tenant.users["city-editor"])
    url = f"/console/{tenant.city.slug}/touchpoints"
    assert (await en.post(url, data={**_ibeacon(), "csrf_token": token})).status_code == 303
    # when
    response = await en.post(url, data={**_ibeacon(name="Zwilling"), "csrf_token": token})
    # then
    assert response.status_code == 422
    assert (
        _error("ibeacon_uuid", "Another touchpoint already uses this identifier.") in response.text
    )
    points = await touchpoints.list_touchpoints(
        composed.ctx, tenant.users["city-admin"], tenant.city.id
    )
    assert [t.name for t in points] == ["Schaufenster"]


async def test_a_touchpoint_is_edited(en: httpx.AsyncClient, tenant: Tenant, composed: App) -> None:
    # given
    admin = tenant.users["city-admin"]
    qr = await touchpoints.create_touchpoint(
        composed.ctx,
        admin,
        tenant.city.id,
        {"kind": "qr", "name": "Eingang", "lat": 52.105, "lon": 8.75, "target": "/"},
    )
    token = await login(en, tenant.users["city-editor"])
    url = f"/console/{tenant.city.slug}/touchpoints/{qr.id}"
    form = {
        "name": "Haupteingang",
        "placement": "Tür links",
        "status": "inactive",
        "target": "/events",
        "shop_id": str(tenant.shop_b.id),
        "lat": "52.106",
        "lon": "8.751",
        "csrf_token": token,
    }
    # when
    refused = await en.post(url, data={**form, "target": "ftp://x"})
    saved = await en.post(url, data=form)
    # then
    assert refused.status_code == 422
    assert _error("target", "Enter a web address starting with https://.") in refused.text
    assert saved.status_code == 303
    assert saved.headers["location"] == f"{url}?saved=1"
    current = await touchpoints.get_touchpoint(composed.ctx, admin, qr.id)
    assert (current.name, current.status.value, current.target, current.shop_id) == (
        "Haupteingang",
        "inactive",
        "/events",
        tenant.shop_b.id,
    )
    assert "Haupteingang" in (await en.get(url)).text


async def test_a_touchpoint_of_another_city_is_not_found(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    other = await make_tenant(composed)
    foreign = await touchpoints.create_touchpoint(
        composed.ctx,
        other.users["city-admin"],
        other.city.id,
        {"kind": "qr", "name": "Fremd", "lat": 52.105, "lon": 8.75, "target": "/"},
    )
    await login(en, tenant.users["city-admin"])
    # when
    response = await en.get(f"/console/{tenant.city.slug}/touchpoints/{foreign.id}/print")
    # then
    assert response.status_code == 404
