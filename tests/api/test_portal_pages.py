"""Retailer portal pages through the ASGI app: roles, form errors, saving, pictures, QR targets."""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image
from starlette.datastructures import UploadFile

from marktplatz.bootstrap import App
from marktplatz.domain.content import ContentKind
from marktplatz.domain.touchpoints import Touchpoint
from marktplatz.services import content, shops, touchpoints
from marktplatz.services.content import ContentInput
from support import Tenant, login, make_tenant


@pytest.fixture
async def en(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """The client reading pages in English, so assertions do not depend on the German catalogue."""
    client.headers["accept-language"] = "en"
    return client


def _profile(**changes: str) -> dict[str, str]:
    form = {
        "name": "Optik A",
        "category": "optician",
        "street": "Lange Straße 1",
        "postcode": "32756",
        "town": "Teststadt",
        "lat": "52.105",
        "lon": "8.75",
        "phone": "",
        "email": "",
        "website": "",
        "story_html": "<p>Seit 1950</p>",
        "story_html_en": "",
    }
    return {**form, **changes}


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


async def _qr_for(composed: App, tenant: Tenant) -> Touchpoint:
    return await touchpoints.create_touchpoint(
        composed.ctx,
        tenant.users["city-admin"],
        tenant.city.id,
        {
            "kind": "qr",
            "name": "Schaufenster",
            "lat": 52.105,
            "lon": 8.75,
            "shop_id": str(tenant.shop_a.id),
            "target": "/angebote",
        },
    )


async def test_anonymous_visitor_is_sent_to_login(en: httpx.AsyncClient, tenant: Tenant) -> None:
    # when
    response = await en.get(f"/portal/shops/{tenant.shop_a.id}")
    # then
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=/portal/shops/{tenant.shop_a.id}"


async def test_owner_of_one_shop_goes_straight_to_its_overview(
    en: httpx.AsyncClient, tenant: Tenant
) -> None:
    # given
    await login(en, tenant.users["retailer-owner"])
    # when
    response = await en.get("/portal")
    # then
    assert response.status_code == 303
    assert response.headers["location"] == f"/portal/shops/{tenant.shop_a.id}/overview"


async def test_a_cashier_goes_straight_to_the_till(en: httpx.AsyncClient, tenant: Tenant) -> None:
    # given
    await login(en, tenant.users["retailer-staff"])
    # when
    response = await en.get("/portal")
    # then
    assert response.status_code == 303
    assert response.headers["location"] == f"/portal/shops/{tenant.shop_a.id}/till"


async def test_city_staff_see_a_link_to_their_console(
    en: httpx.AsyncClient, tenant: Tenant
) -> None:
    # given
    await login(en, tenant.users["city-editor"])
    # when
    response = await en.get("/portal")
    # then
    assert response.status_code == 200
    assert f'href="/console/{tenant.city.slug}"' in response.text


@pytest.mark.parametrize("role", ["retailer-owner", "city-editor"])
async def test_editors_get_the_profile_form(
    en: httpx.AsyncClient, tenant: Tenant, role: str
) -> None:
    # given
    await login(en, tenant.users[role])
    # when
    response = await en.get(f"/portal/shops/{tenant.shop_a.id}")
    # then
    assert response.status_code == 200
    assert "<h1>Optik A</h1>" in response.text
    assert "Save profile" in response.text
    assert 'name="csrf_token"' in response.text
    assert "Open now" in response.text or "Closed" in response.text


async def test_staff_member_sees_the_profile_read_only(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    token = await login(en, tenant.users["retailer-staff"])
    # when
    page = await en.get(f"/portal/shops/{tenant.shop_a.id}")
    denied = await en.post(
        f"/portal/shops/{tenant.shop_a.id}", data=_profile(name="Gekapert", csrf_token=token)
    )
    # then
    assert page.status_code == 200
    assert '<fieldset class="stack" disabled>' in page.text
    assert "Save profile" not in page.text
    assert denied.status_code == 403
    shop = await shops.get_shop(composed.ctx, tenant.users["city-admin"], tenant.shop_a.id)
    assert shop.name == "Optik A"


async def test_saving_the_profile_redirects_and_shows_the_change(
    en: httpx.AsyncClient, tenant: Tenant
) -> None:
    # given
    token = await login(en, tenant.users["retailer-owner"])
    url = f"/portal/shops/{tenant.shop_a.id}"
    # when
    response = await en.post(url, data=_profile(name="Optik Anders", csrf_token=token))
    # then
    assert response.status_code == 303
    assert response.headers["location"] == f"{url}?saved=1"
    page = await en.get(response.headers["location"])
    assert "<h1>Optik Anders</h1>" in page.text
    assert "Your changes have been saved." in page.text


async def test_a_post_without_the_csrf_token_is_refused(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    await login(en, tenant.users["retailer-owner"])
    # when
    response = await en.post(f"/portal/shops/{tenant.shop_a.id}", data=_profile(name="X"))
    # then
    assert response.status_code == 403
    shop = await shops.get_shop(composed.ctx, tenant.users["city-admin"], tenant.shop_a.id)
    assert shop.name == "Optik A"


async def test_a_non_number_position_is_shown_beside_the_field(
    en: httpx.AsyncClient, tenant: Tenant
) -> None:
    # given
    token = await login(en, tenant.users["retailer-owner"])
    # when
    response = await en.post(
        f"/portal/shops/{tenant.shop_a.id}",
        data=_profile(lat="north", name="Behalten", csrf_token=token),
    )
    # then
    assert response.status_code == 422
    assert (
        '<p class="field-error" id="e-lat">Latitude and longitude must be numbers.</p>'
        in response.text
    )
    assert 'value="Behalten"' in response.text
    assert 'value="north"' in response.text


async def test_a_picture_is_uploaded_shown_and_deleted(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    token = await login(en, tenant.users["retailer-owner"])
    url = f"/portal/shops/{tenant.shop_a.id}"
    # when
    uploaded = await en.post(
        f"{url}/images",
        data={"alt_text": "Unser Schaufenster", "csrf_token": token},
        files={"image": ("f.png", _png(), "image/png")},
    )
    # then
    assert uploaded.status_code == 303
    images = await shops.shop_images(composed.ctx, tenant.users["retailer-owner"], tenant.shop_a.id)
    assert [i.alt_text for i in images] == ["Unser Schaufenster"]
    page = await en.get(url)
    assert f'src="/media/{images[0].filename}" alt="Unser Schaufenster"' in page.text
    # when
    deleted = await en.post(f"{url}/images/{images[0].id}/delete", data={"csrf_token": token})
    # then
    assert deleted.status_code == 303
    assert (
        await shops.shop_images(composed.ctx, tenant.users["retailer-owner"], tenant.shop_a.id)
        == []
    )


async def test_a_picture_without_description_is_refused(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    token = await login(en, tenant.users["retailer-owner"])
    # when
    response = await en.post(
        f"/portal/shops/{tenant.shop_a.id}/images",
        data={"alt_text": " ", "csrf_token": token},
        files={"image": ("f.png", _png(), "image/png")},
    )
    # then
    assert response.status_code == 422
    assert '<p class="field-error" id="e-alt_text">Please fill in this field.</p>' in response.text
    assert (
        await shops.shop_images(composed.ctx, tenant.users["retailer-owner"], tenant.shop_a.id)
        == []
    )


@pytest.mark.parametrize("page", ["images", "story/images"])
@pytest.mark.parametrize(
    ("role", "token", "content", "status"),
    [
        pytest.param("retailer-owner", "wrong", None, 403, id="csrf"),
        pytest.param("retailer-staff", "", None, 403, id="cashier"),
        pytest.param("retailer-owner", "", b"GIF89a kein Bild", 422, id="wrong type"),
        pytest.param("retailer-owner", "", b"\0" * (5 * 1024 * 1024 + 1), 422, id="too large"),
    ],
)
async def test_a_refused_picture_stores_nothing_and_its_file_is_closed(
    en: httpx.AsyncClient,
    tenant: Tenant,
    composed: App,
    uploads: list[UploadFile],
    page: str,
    role: str,
    token: str,
    content: bytes | None,
    status: int,
) -> None:
    # given a wrong CSRF token, a cashier who may not add pictures, or a file that is no picture
    csrf = await login(en, tenant.users[role])
    # when
    response = await en.post(
        f"/portal/shops/{tenant.shop_a.id}/{page}",
        data={"alt_text": "Schaufenster", "csrf_token": token or csrf},
        files={"image": ("f.png", _png() if content is None else content, "image/png")},
    )
    # then nothing is stored, and the upload's temporary file is closed
    assert response.status_code == status
    owner = tenant.users["retailer-owner"]
    assert await shops.shop_images(composed.ctx, owner, tenant.shop_a.id) == []
    assert len(uploads) == 1
    assert uploads[0].file.closed


async def test_owner_sees_the_qr_code_and_changes_its_target(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    qr = await _qr_for(composed, tenant)
    token = await login(en, tenant.users["retailer-owner"])
    url = f"/portal/shops/{tenant.shop_a.id}/touchpoints"
    # when
    page = await en.get(url)
    changed = await en.post(
        f"/portal/touchpoints/{qr.id}/target",
        data={"target": "https://optik-a.example/herbst", "csrf_token": token},
    )
    # then
    assert page.status_code == 200
    assert f'src="/api/v1/touchpoints/{qr.id}/qr.svg"' in page.text
    assert changed.status_code == 303
    assert changed.headers["location"] == f"{url}?saved=1"
    current = await touchpoints.get_touchpoint(composed.ctx, tenant.users["city-admin"], qr.id)
    assert current.target == "https://optik-a.example/herbst"


async def test_a_bad_target_is_shown_beside_its_form(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    qr = await _qr_for(composed, tenant)
    token = await login(en, tenant.users["retailer-owner"])
    # when
    response = await en.post(
        f"/portal/touchpoints/{qr.id}/target",
        data={"target": "javascript:alert(1)", "csrf_token": token},
    )
    # then
    assert response.status_code == 422
    assert (
        f'<p class="field-error" id="e-target-{qr.id}">Enter a web address starting with '
        "https://.</p>" in response.text
    )
    assert 'value="javascript:alert(1)"' in response.text
    current = await touchpoints.get_touchpoint(composed.ctx, tenant.users["city-admin"], qr.id)
    assert current.target == "/angebote"


async def test_retailer_of_another_city_gets_not_found(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    other = await make_tenant(composed)
    await login(en, other.users["retailer-owner"])
    # when
    profile = await en.get(f"/portal/shops/{tenant.shop_a.id}")
    points = await en.get(f"/portal/shops/{tenant.shop_a.id}/touchpoints")
    # then
    assert profile.status_code == 404
    assert points.status_code == 404


async def test_staff_member_reads_an_item_but_gets_no_save_button(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given an offer of the shop, written by its owner
    data = ContentInput(kind=ContentKind.OFFER, title="Brillenputztücher gratis")
    item = await content.create_content(
        composed.ctx, tenant.users["retailer-owner"], tenant.city.id, tenant.shop_a.id, data
    )
    await login(en, tenant.users["retailer-staff"])
    # when a staff member opens it
    page = await en.get(f"/portal/content/{item.id}")
    # then they read it in a disabled form, told who may change it, without a way to save
    assert page.status_code == 200
    assert '<fieldset class="stack plain" disabled>' in page.text
    assert "only the shop owner can change it" in page.text
    assert 'name="then"' not in page.text
