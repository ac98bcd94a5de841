"""The visitor's QR scanner page and the short code typed off a sticker (/{city}/scan)."""

from __future__ import annotations

import httpx
import pytest

from marktplatz.bootstrap import App
from support import Tenant, qr_point

EN = {"accept-language": "en"}


async def test_the_scanner_page_works_without_a_camera_by_typing_the_code(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # when
    response = await client.get(f"/{tenant.city.slug}/scan")
    # then the page is a visitor page kept for offline use, with the form for the typed code
    assert response.status_code == 200
    assert response.headers["x-offline-ok"] == "1"
    html = response.text
    assert f'<form method="get" action="/{tenant.city.slug}/scan/code"' in html
    assert '<label for="f-code">Code unter dem QR-Code</label>' in html
    # the camera part stays hidden until scan.js finds a camera it may use
    assert (
        '<section class="panel scan-camera" aria-labelledby="camera-h" id="scanner" hidden' in html
    )


@pytest.mark.parametrize(
    "typed",
    ["{code}", " {upper} ", "{dashed}", "https://marktplatz.example/q/{code}", "/q/{code}?x=1"],
)
async def test_a_typed_code_goes_to_the_qr_redirect(
    client: httpx.AsyncClient, composed: App, tenant: Tenant, typed: str
) -> None:
    # given a QR code in the pavement
    point = await qr_point(composed, tenant)
    code = point.code
    text = typed.format(code=code, upper=code.upper(), dashed=f"{code[:4]}-{code[4:]}")
    # when the visitor types what is printed under it
    response = await client.get(f"/{tenant.city.slug}/scan/code", params={"code": text})
    # then the app goes on to /q/<code>, which records the contact like a scan
    assert response.status_code == 303
    assert response.headers["location"] == f"/q/{code}"
    followed = await client.get(response.headers["location"])
    assert followed.status_code == 307
    assert followed.headers["location"] == f"/?via={code}"


@pytest.mark.parametrize("typed", ["", "abc", "k7qf9m2x0", "k7qf 9m2!", "ö" * 8, "x" * 300])
async def test_a_malformed_code_is_refused_with_a_german_message(
    client: httpx.AsyncClient, tenant: Tenant, typed: str
) -> None:
    response = await client.get(f"/{tenant.city.slug}/scan/code", params={"code": typed})
    assert response.status_code == 422
    assert (
        "Das ist kein Code von uns: Ein Code hat 8 Buchstaben und Ziffern, zum Beispiel "
        "k7qf9m2x. Bitte prüfen Sie ihn und geben Sie ihn noch einmal ein."
    ) in response.text
    assert 'aria-invalid="true"' in response.text


async def test_a_malformed_code_is_refused_in_english(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await client.get(
        f"/{tenant.city.slug}/scan/code", params={"code": "abc"}, headers=EN
    )
    assert response.status_code == 422
    assert "This is not a code of ours: a code has 8 letters and digits" in response.text


async def test_a_well_formed_code_nobody_printed_is_not_found(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await client.get(f"/{tenant.city.slug}/scan/code", params={"code": "zzzz2222"})
    assert response.status_code == 404
    assert "Kein QR-Code dieser Innenstadt hat diesen Code." in response.text
    assert 'value="zzzz2222"' in response.text


async def test_an_unknown_city_has_no_scanner(client: httpx.AsyncClient) -> None:
    assert (await client.get("/keine-solche-stadt/scan")).status_code == 404
    response = await client.get("/keine-solche-stadt/scan/code", params={"code": "zzzz2222"})
    assert response.status_code == 404
