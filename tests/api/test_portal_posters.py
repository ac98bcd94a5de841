"""QR posters and stickers in the portal: every format's PDF scans (zbar) to the touchpoint's
short address and prints the shop's name and call to action; bad choices re-render the form."""

from __future__ import annotations

import asyncio
import html
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from marktplatz.bootstrap import App
from marktplatz.domain.posters import CTA_PRESETS, URL_LABEL
from marktplatz.domain.touchpoints import Touchpoint
from marktplatz.services import shops, touchpoints
from marktplatz.web.i18n import gettext
from qr_tools import pdf_text, pdf_to_png, require_tools, zbar
from support import Tenant, login, new_client

EN = {"accept-language": "en"}
SHOP_NAME = "Brillen Größenwahn & Söhne"
OWN_TEXT = "Schön, dass Sie da sind – Gläser für große Füße"


@pytest.fixture
async def client(web: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with new_client(web) as c:
        yield c


async def add_point(composed: App, tenant: Tenant, kind: str = "qr", **extra: Any) -> Touchpoint:
    data: dict[str, Any] = {
        "kind": kind,
        "name": f"Schaufenster {kind}",
        "lat": 52.105,
        "lon": 8.75,
        "shop_id": str(tenant.shop_a.id),
        **extra,
    }
    if kind in ("qr", "nfc"):
        data["target"] = "/stadt/angebote"
    return await touchpoints.create_touchpoint(
        composed.ctx, tenant.users["city-admin"], tenant.city.id, data
    )


@pytest.fixture
async def point(composed: App, tenant: Tenant) -> Touchpoint:
    await shops.update_shop(
        composed.ctx,
        tenant.users["city-admin"],
        tenant.shop_a.id,
        {"name": SHOP_NAME, "postcode": "33602", "town": "Teststadt"},
    )
    return await add_point(composed, tenant)


def base(tenant: Tenant, point: Touchpoint) -> str:
    return f"/portal/shops/{tenant.shop_a.id}/touchpoints/{point.id}"


def short_url(point: Touchpoint) -> str:
    return f"http://testserver/q/{point.code}"


async def read_back(response: httpx.Response, tmp_path: Path) -> tuple[str, str]:
    """(what zbar decodes from the first page at 150 dpi, the PDF's text)."""
    pdf = tmp_path / "poster.pdf"
    pdf.write_bytes(response.content)
    return await asyncio.to_thread(lambda: (zbar(pdf_to_png(pdf)), pdf_text(pdf)))


@pytest.mark.parametrize(
    ("fmt", "stem"),
    [("a4", "poster-a4"), ("a6", "sticker-a6"), ("window", "window-sticker")],
)
async def test_each_format_scans_to_the_short_address(
    client: httpx.AsyncClient,
    tenant: Tenant,
    point: Touchpoint,
    tmp_path: Path,
    fmt: str,
    stem: str,
) -> None:
    require_tools("zbarimg", "pdftoppm", "pdftotext")
    # given the shop's owner
    await login(client, tenant.users["retailer-owner"])

    # when they download a print of the format with a text of their own
    params = {"format": fmt, "cta": "custom", "text": OWN_TEXT, "language": "de"}
    response = await client.get(f"{base(tenant, point)}/poster.pdf", params=params)

    # then it is a PDF to save, whose code holds exactly the short address
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="{stem}-{tenant.shop_a.slug}-{point.code}.pdf"'
    )
    decoded, text = await read_back(response, tmp_path)
    assert decoded == f"{short_url(point)}\n"
    # and it names the shop, the call to action, the address to type and the city, umlauts intact
    flat = " ".join(text.split())
    assert SHOP_NAME in flat
    assert OWN_TEXT in flat
    assert short_url(point) in flat
    assert gettext("de", URL_LABEL) in flat
    assert "Lange Straße 1 · 33602 Teststadt" in flat


async def test_both_languages_print_the_suggestion_in_german_and_english(
    client: httpx.AsyncClient, tenant: Tenant, point: Touchpoint, tmp_path: Path
) -> None:
    require_tools("zbarimg", "pdftoppm", "pdftotext")
    # given a cashier of the shop (printing changes nothing: cashiers may print too)
    await login(client, tenant.users["retailer-staff"])

    # when they print a suggested call to action in German and English
    params = {"format": "a6", "cta": "story", "language": "both"}
    response = await client.get(f"{base(tenant, point)}/poster.pdf", params=params)

    # then both versions are on it, German first
    assert response.status_code == 200, response.text
    decoded, text = await read_back(response, tmp_path)
    assert decoded == f"{short_url(point)}\n"
    flat = " ".join(text.split())
    german, english = gettext("de", CTA_PRESETS["story"]), CTA_PRESETS["story"]
    assert english == "Scan and read our story"
    assert flat.index(german) <= flat.index(english)
    assert URL_LABEL in flat


async def test_the_form_offers_formats_suggestions_and_languages(
    client: httpx.AsyncClient, tenant: Tenant, point: Touchpoint
) -> None:
    # given the owner on the page of the shop's codes
    await login(client, tenant.users["retailer-owner"])
    listing = await client.get(f"/portal/shops/{tenant.shop_a.id}/touchpoints", headers=EN)
    assert f'href="{base(tenant, point)}/print"' in listing.text

    # when they open the print form
    page = await client.get(f"{base(tenant, point)}/print", headers=EN)

    # then it offers every choice, with the first of each chosen, and sends a GET to the PDF
    assert page.status_code == 200
    assert f'action="{base(tenant, point)}/poster.pdf"' in page.text
    assert 'method="get"' in page.text
    for value in ("a4", "a6", "window"):
        assert f'id="f-format-{value}"' in page.text
    for key in (*CTA_PRESETS, "custom"):
        assert f'id="f-cta-{key}"' in page.text
    for value in ("de", "en", "both"):
        assert f'id="f-language-{value}"' in page.text
    checked = re.findall(r'id="f-(\w+-\w+)" name="\w+" value="\w+" checked[ >]', page.text)
    assert checked == ["format-a4", "cta-offer", "language-de"]
    assert "The code is 14 cm wide and scans from up to about 1.1 m away." in page.text
    assert short_url(point) in page.text


FORMAT_WRONG = "Please choose a format: A4 poster, A6 sticker or window sticker."
BAD = [
    ({"format": "a3"}, "format", FORMAT_WRONG),
    ({"cta": "angebot"}, "cta", "Please choose one of the suggested texts, or write your own."),
    (
        {"cta": "custom", "text": "   "},
        "text",
        "Please write your own call to action, or choose a suggested one.",
    ),
    (
        {"cta": "custom", "text": "x" * 61},
        "text",
        "Your text has 61 characters; at most 60 fit on the print.",
    ),
    (
        {"cta": "custom", "text": "Jetzt scannen ★ → Rabatt"},
        "text",
        "These characters cannot be printed: ★ →. Please leave them out.",
    ),
    (
        {"language": "fr"},
        "language",
        "Please choose the language of the print: German, English or both.",
    ),
    ({"format": ""}, "format", FORMAT_WRONG),
    (
        {"cta": "story", "text": "Unser eigener Text"},
        "cta",
        "You wrote your own text but chose a suggested one: choose “Your own text” to print it, "
        "or empty the text field.",
    ),
]
VALID = {
    "format": {"a4", "a6", "window"},
    "cta": {*CTA_PRESETS, "custom"},
    "language": {"de", "en", "both"},
}


@pytest.mark.parametrize(("change", "field", "message"), BAD)
async def test_bad_choices_re_render_the_form_with_the_values_kept(
    client: httpx.AsyncClient,
    tenant: Tenant,
    point: Touchpoint,
    change: dict[str, str],
    field: str,
    message: str,
) -> None:
    # given the owner
    await login(client, tenant.users["retailer-owner"])

    # when they ask for a print with one wrong choice
    params = {"format": "a6", "cta": "offer", "language": "en", **change}
    response = await client.get(f"{base(tenant, point)}/poster.pdf", params=params, headers=EN)

    # then the form comes back with the message at the field, and no PDF
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "content-disposition" not in response.headers
    page = html.unescape(response.text)
    assert f'<p class="field-error" id="e-{field}">{message}</p>' in page
    assert f'<a href="#f-{field}">{message}</a>' in page
    # and every choice comes back as it was sent
    kept = params.get("text", "")
    assert f'name="text" type="text" maxlength="60" value="{kept}"' in page
    for name in ("format", "cta", "language"):
        chosen = re.search(rf'name="{name}" value="{params[name]}" checked[ >]', page)
        assert (chosen is not None) == (params[name] in VALID[name]), name


async def test_codes_of_another_shop_are_not_printed_under_this_shop(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given a code of shop B, and the city admin (who may print both shops' codes)
    other = await touchpoints.create_touchpoint(
        composed.ctx,
        tenant.users["city-admin"],
        tenant.city.id,
        {
            "kind": "qr",
            "name": "Mode B Tür",
            "lat": 52.105,
            "lon": 8.75,
            "target": "/",
            "shop_id": str(tenant.shop_b.id),
        },
    )
    await login(client, tenant.users["city-admin"])
    params = {"format": "a4", "cta": "offer", "language": "de"}

    # when it is asked for under shop A's path, and under its own
    wrong = f"/portal/shops/{tenant.shop_a.id}/touchpoints/{other.id}/poster.pdf"
    right = f"/portal/shops/{tenant.shop_b.id}/touchpoints/{other.id}/poster.pdf"
    refused = await client.get(wrong, params=params)
    printed = await client.get(right, params=params)

    # then only its own shop prints it
    assert refused.status_code == 404
    assert "Mode B Tür" not in refused.text
    assert printed.status_code == 200


@pytest.mark.parametrize("kind", ["ibeacon", "nfc"])
async def test_touchpoints_without_a_printed_code_have_no_poster(
    client: httpx.AsyncClient, composed: App, tenant: Tenant, kind: str
) -> None:
    # given a beacon (or an NFC tag) of the shop
    ids = {"ibeacon": {"uuid": str(uuid.uuid4()), "major": 7, "minor": 11}}
    found = await add_point(composed, tenant, kind, **(ids if kind == "ibeacon" else {}))
    await login(client, tenant.users["retailer-owner"])
    path = f"/portal/shops/{tenant.shop_a.id}/touchpoints/{found.id}"

    # when the owner asks for its print form or a poster
    form = await client.get(f"{path}/print", headers=EN)
    pdf = await client.get(
        f"{path}/poster.pdf", params={"format": "a4", "cta": "offer", "language": "de"}
    )
    listing = await client.get(f"/portal/shops/{tenant.shop_a.id}/touchpoints", headers=EN)

    # then there is none, said plainly, and the codes page offers no print for it
    assert (form.status_code, pdf.status_code) == (404, 404)
    assert "Only QR codes are printed as posters and stickers" in html.unescape(form.text)
    assert f"{path}/print" not in listing.text
