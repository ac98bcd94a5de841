"""Sheets of QR codes from the fleet page: every code on every page scans (zbar) to exactly the
chosen touchpoints' short addresses; bad choices say why, and another city's codes never print."""

from __future__ import annotations

import asyncio
import html
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from marktplatz.bootstrap import App
from marktplatz.domain.code_sheets import GRID, MAX_CODES, UNKNOWN
from marktplatz.domain.posters import URL_LABEL
from marktplatz.domain.touchpoints import Touchpoint
from marktplatz.services import cities, touchpoints
from qr_tools import cut_apart, pdf_pages, pdf_text, require_tools
from support import SQUARE, Tenant, login, make_tenant, qr_point, unique

EN = {"accept-language": "en"}


def short_url(point: Touchpoint) -> str:
    return f"http://testserver/q/{point.code}"


def sheet_of(tenant: Tenant) -> str:
    return f"/console/{tenant.city.slug}/fleet/qr-codes.pdf"


async def read_back(
    response: httpx.Response, tmp_path: Path, counts: Sequence[int]
) -> tuple[list[list[str]], str]:
    """(what zbar reads from each label of each page, cut apart; the PDF's text in one line)."""
    pdf = tmp_path / "sheet.pdf"
    pdf.write_bytes(response.content)

    def decode() -> tuple[list[list[str]], str]:
        pages = pdf_pages(pdf)
        assert len(pages) == len(counts)
        labels = [
            [found.strip() for found in cut_apart(page, GRID, count)]
            for page, count in zip(pages, counts, strict=True)
        ]
        return labels, " ".join(pdf_text(pdf).split())

    return await asyncio.to_thread(decode)


async def pavement(composed: App, tenant: Tenant, mark: str, count: int) -> list[Touchpoint]:
    """QR codes of the city in the pavement, named so that sorting by name keeps their order."""
    return [await qr_point(composed, tenant, name=f"Pflaster {mark} {n:02}") for n in range(count)]


async def beacon(composed: App, tenant: Tenant, name: str) -> Touchpoint:
    ids = {"uuid": str(uuid.uuid4()), "major": 1, "minor": 2}
    data = {"kind": "ibeacon", "name": name, "lat": 52.105, "lon": 8.75, "ibeacon": ids}
    return await touchpoints.create_touchpoint(
        composed.ctx, tenant.users["city-admin"], tenant.city.id, data
    )


def ids(points: Sequence[Touchpoint]) -> list[tuple[str, str]]:
    return [("id", str(point.id)) for point in points]


async def test_the_ticked_codes_print_on_pages_of_eight_and_scan_to_their_addresses(
    composed: App, client: httpx.AsyncClient, tenant: Tenant, tmp_path: Path
) -> None:
    require_tools("zbarimg", "pdftoppm", "pdftotext")
    # given eleven pavement codes in a zone, and an editor of the city
    zone = await cities.create_zone(
        composed.ctx,
        tenant.users["city-admin"],
        tenant.city.id,
        {"slug": unique("zone"), "name": "Altstadt", "description": "", "geometry": SQUARE},
    )
    mark = uuid.uuid4().hex[:6]
    points = await pavement(composed, tenant, mark, 11)
    chosen = points[:10]
    client.headers.update(EN)
    token = await login(client, tenant.users["city-editor"])

    # when ten of them are ticked and printed (the fleet page's form posts them)
    form = {"id": [str(p.id) for p in chosen], "scope": "selected", "sort": "name"}
    response = await client.post(sheet_of(tenant), data={**form, "csrf_token": token})

    # then the PDF has two pages, eight labels then two, whose codes hold exactly the chosen
    # short addresses, in the table's order
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="qr-codes-{tenant.city.slug}.pdf"'
    )
    assert response.headers["cache-control"] == "private, no-store"
    pages, text = await read_back(response, tmp_path, [8, 2])
    assert pages == [
        [short_url(p) for p in chosen[:8]],
        [short_url(p) for p in chosen[8:]],
    ]
    # and each label names the touchpoint, its zone and code, and the address to type
    for point in chosen:
        assert point.zone_id == zone.id
        assert point.name in text
        assert point.code in text
        assert short_url(point) in text
    assert points[10].name not in text
    assert text.count("Zone: Altstadt") == 10
    assert text.count(URL_LABEL) == 10


async def test_the_whole_filtered_list_prints_its_qr_codes_and_no_other_citys(
    composed: App, client: httpx.AsyncClient, tenant: Tenant, tmp_path: Path
) -> None:
    require_tools("zbarimg", "pdftoppm", "pdftotext")
    # given a list that holds two QR codes and a beacon, and another city with the same names
    mark = uuid.uuid4().hex[:6]
    codes = await pavement(composed, tenant, mark, 2)
    await beacon(composed, tenant, f"Pflaster {mark} Bake")
    await qr_point(composed, tenant, name=f"Rathaus {mark}")
    other_city = await make_tenant(composed)
    foreign = await pavement(composed, other_city, mark, 2)
    client.headers.update(EN)
    await login(client, tenant.users["city-admin"])

    # when every QR code of the list filtered by the mark is printed
    response = await client.get(sheet_of(tenant), params={"scope": "list", "q": f"Pflaster {mark}"})

    # then exactly the city's two codes of the list are on it
    assert response.status_code == 200, response.text
    pages, text = await read_back(response, tmp_path, [2])
    assert pages == [[short_url(p) for p in codes]]
    assert "Bake" not in text
    assert "No zone" in text
    for point in foreign:
        assert point.code not in text


async def test_the_fleet_page_offers_tick_boxes_for_qr_codes_only(
    composed: App, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # given a QR code and a beacon
    mark = uuid.uuid4().hex[:6]
    (code,) = await pavement(composed, tenant, mark, 1)
    other = await beacon(composed, tenant, f"Bake {mark}")
    client.headers.update(EN)
    await login(client, tenant.users["city-admin"])

    # when the fleet page lists both
    page = (await client.get(f"/console/{tenant.city.slug}/fleet", params={"q": mark})).text

    # then only the QR code has a labelled tick box, which belongs to the sheet's form
    assert (
        f'<form id="qr-sheet" class="panel qr-sheet" method="post" action="{sheet_of(tenant)}"'
        in page
    )
    sheet_form = page[
        page.index('<form id="qr-sheet"') : page.index("</form>", page.index('<form id="qr-sheet"'))
    ]
    assert '<input type="hidden" name="csrf_token" value="' in sheet_form
    assert (
        f'<input type="checkbox" form="qr-sheet" name="id" value="{code.id}" '
        f'id="pick-{code.id}">' in page
    )
    assert f'for="pick-{code.id}"' in page
    assert html.escape(f"Print the QR code “{code.name}”") in page
    assert str(other.id) not in page.replace(f"/touchpoints/{other.id}", "")
    assert '<input type="hidden" name="q" value="' + mark + '">' in page
    assert 'name="scope" value="list">Print all QR codes of this list (PDF)</button>' in page


async def send(
    client: httpx.AsyncClient, method: str, url: str, fields: list[tuple[str, str]], token: str
) -> httpx.Response:
    """The sheet's form sent as the page sends it (POST), or as a link or bookmark (GET)."""
    if method == "GET":
        return await client.get(url, params=fields)
    body = urlencode([*fields, ("csrf_token", token)])
    headers = {"content-type": "application/x-www-form-urlencoded"}
    return await client.post(url, content=body, headers=headers)


def error_of(page: str) -> str:
    start = page.index('id="qr-sheet-error"><p>') + len('id="qr-sheet-error"><p>')
    return html.unescape(page[start : page.index("</p>", start)])


@pytest.mark.parametrize(
    ("choose", "message"),
    [
        pytest.param(
            lambda code, other: [], "Please select at least one QR code to print.", id="none"
        ),
        pytest.param(
            lambda code, other: [code, other],
            "Only QR codes are printed on the sheet. Please deselect these touchpoints: {other}.",
            id="beacon",
        ),
        pytest.param(
            lambda code, other: [code] * 2 + [str(uuid.uuid4()) for _ in range(MAX_CODES)],
            f"You chose {MAX_CODES + 1} QR codes; at most {MAX_CODES} fit into one PDF. "
            "Please print them in parts, for example zone by zone.",
            id="too many",
        ),
    ],
)
@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_a_bad_choice_shows_the_fleet_page_again_with_why(
    composed: App,
    client: httpx.AsyncClient,
    tenant: Tenant,
    choose: Any,
    message: str,
    method: str,
) -> None:
    # given
    mark = uuid.uuid4().hex[:6]
    (code,) = await pavement(composed, tenant, mark, 1)
    other = await beacon(composed, tenant, f"Bake {mark}")
    picked = [p if isinstance(p, str) else str(p.id) for p in choose(code, other)]
    client.headers.update(EN)
    token = await login(client, tenant.users["city-admin"])

    # when
    fields = [*(("id", value) for value in picked), ("scope", "selected"), ("q", mark)]
    response = await send(client, method, sheet_of(tenant), fields, token)

    # then the page says what is wrong, keeps the filter and the ticks, and has no PDF
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert error_of(response.text) == message.format(other=other.name)
    assert f'name="q" value="{mark}"' in response.text
    assert (f'value="{code.id}" id="pick-{code.id}" checked' in response.text) == bool(picked)


async def test_an_empty_list_cannot_be_printed_whole(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    client.headers.update(EN)
    await login(client, tenant.users["city-admin"])
    response = await client.get(sheet_of(tenant), params={"scope": "list", "q": "nichts da"})
    assert response.status_code == 422
    assert error_of(response.text) == (
        "There is no QR code in this list. Change the filters, or select the codes to print."
    )


@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize("which", ["foreign", "missing", "garbled"])
async def test_a_code_of_another_city_or_none_looks_missing(
    composed: App, client: httpx.AsyncClient, tenant: Tenant, which: str, method: str
) -> None:
    # given a code of our city and one of another city
    (code,) = await pavement(composed, tenant, uuid.uuid4().hex[:6], 1)
    other_city = await make_tenant(composed)
    (foreign,) = await pavement(composed, other_city, uuid.uuid4().hex[:6], 1)
    stranger = {"foreign": str(foreign.id), "missing": str(uuid.uuid4()), "garbled": "x'1"}[which]
    client.headers.update(EN)
    token = await login(client, tenant.users["city-admin"])

    # when it is sent along with our own
    fields = [("id", str(code.id)), ("id", stranger)]
    response = await send(client, method, sheet_of(tenant), fields, token)

    # then nothing is printed, and the other city's code is not named
    assert response.status_code == 404
    assert html.unescape(response.text).count(UNKNOWN) == 1
    assert foreign.name not in response.text
    assert foreign.code not in response.text


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_retailers_may_not_print_the_citys_sheet(
    composed: App, client: httpx.AsyncClient, tenant: Tenant, method: str
) -> None:
    (code,) = await pavement(composed, tenant, uuid.uuid4().hex[:6], 1)
    token = await login(client, tenant.users["retailer-owner"])
    response = await send(client, method, sheet_of(tenant), [("id", str(code.id))], token)
    assert response.status_code == 403
    assert code.code not in response.text


@pytest.mark.parametrize("token", ["", "falsch"], ids=["no token", "wrong token"])
async def test_a_posted_sheet_needs_the_csrf_token(
    composed: App, client: httpx.AsyncClient, tenant: Tenant, token: str
) -> None:
    (code,) = await pavement(composed, tenant, uuid.uuid4().hex[:6], 1)
    await login(client, tenant.users["city-admin"])
    response = await send(client, "POST", sheet_of(tenant), [("id", str(code.id))], token)
    assert response.status_code == 403
    assert response.headers["content-type"] != "application/pdf"


async def test_200_ticked_codes_print_by_post_though_their_address_would_be_too_long(
    composed: App, client: httpx.AsyncClient, tenant: Tenant, tmp_path: Path
) -> None:
    require_tools("pdftoppm", "pdftotext")
    # given as many ticked codes as fit into one PDF: as a GET, their ids alone make an address
    # of about 8 kB, where nginx's default buffers for a request line end
    mark = uuid.uuid4().hex[:6]
    points = await pavement(composed, tenant, mark, MAX_CODES)
    fields = [*ids(points), ("scope", "selected"), ("sort", "name")]
    assert len(f"{sheet_of(tenant)}?{urlencode(fields)}") > 8000
    client.headers.update(EN)
    token = await login(client, tenant.users["city-editor"])

    # when they are printed from the fleet page's form
    response = await send(client, "POST", sheet_of(tenant), fields, token)

    # then the address stays short, and the PDF holds all of them on pages of eight
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "application/pdf"
    assert str(response.request.url) == f"http://testserver{sheet_of(tenant)}"
    pdf = tmp_path / "sheet.pdf"
    pdf.write_bytes(response.content)
    text = " ".join((await asyncio.to_thread(pdf_text, pdf)).split())
    assert text.count(URL_LABEL) == MAX_CODES
    for point in (points[0], points[-1]):
        assert short_url(point) in text


async def test_250_ticked_codes_are_refused_with_why_and_stay_ticked(
    composed: App, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # given 250 ticked codes, more than one PDF holds
    mark = uuid.uuid4().hex[:6]
    points = await pavement(composed, tenant, mark, 250)
    client.headers.update(EN)
    token = await login(client, tenant.users["city-admin"])

    # when they are printed from the fleet page's form, filtered by their mark
    fields = [*ids(points), ("scope", "selected"), ("q", f"Pflaster {mark}")]
    response = await send(client, "POST", sheet_of(tenant), fields, token)

    # then the page says how many fit, keeps the filter and every tick, and has no PDF
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert error_of(response.text) == (
        f"You chose 250 QR codes; at most {MAX_CODES} fit into one PDF. "
        "Please print them in parts, for example zone by zone."
    )
    assert f'name="q" value="Pflaster {mark}"' in response.text
    assert response.text.count('" checked aria-describedby="qr-sheet-error">') == 250


async def test_more_ids_than_a_form_may_hold_are_refused_before_anything_is_looked_up(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # given more fields than the form parser accepts (1000)
    token = await login(client, tenant.users["city-admin"])
    fields = [("id", str(uuid.uuid4())) for _ in range(1000)]
    # when
    response = await send(client, "POST", sheet_of(tenant), fields, token)
    # then
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
