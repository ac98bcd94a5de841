"""The city ticks QR codes on the fleet page in a real Chromium and downloads their sheet:
each label, cut apart, scans (zbar) to its touchpoint's short address; ticking none says why.
The ticked codes travel in a POST's body: 250 of them reach the page's own message."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from marktplatz.domain.code_sheets import GRID
from qr_tools import cut_apart, pdf_pages, pdf_text, require_tools

pytestmark = pytest.mark.e2e

CITY = "musterstadt"
FLEET = f"/console/{CITY}/fleet?kind=qr&sort=name"
SHEET = f"/console/{CITY}/fleet/qr-codes.pdf"


@pytest.fixture(scope="module")
def server(
    chromium_path: str, serve_demo: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """A server of this module's own: it imports 250 QR codes into the city."""
    del chromium_path  # no browser, no server
    with serve_demo(tmp_path_factory.mktemp("e2e-qr-sheet")) as running:
        yield running


def is_sheet(request: Any) -> bool:
    return "/fleet/qr-codes.pdf" in request.url


def short_address(page: Any, touchpoint_page: str) -> str:
    page.goto(touchpoint_page)
    return str(page.locator("dd code", has_text="/q/").inner_text())


def test_city_prints_two_ticked_qr_codes_as_a_sheet(
    page: Any,
    server: Any,
    log_in: Any,
    assert_accessible: Any,
    problems: Any,
    tmp_path: Path,
) -> None:
    require_tools("zbarimg", "pdftoppm", "pdftotext")
    problems.allow(r"status of 422 .*/fleet/qr-codes\.pdf")
    log_in(page, server.accounts["city-editor"])
    page.goto(FLEET)

    print_ticked = page.locator("#qr-sheet button[value=selected]")

    # Printing with nothing ticked: the page says so, and nothing is downloaded.
    with page.expect_navigation():
        print_ticked.click()
    assert page.locator("#qr-sheet-error").is_visible()
    assert page.locator(".fleet-table input[type=checkbox]:checked").count() == 0
    assert_accessible(page)

    # The first two codes of the list are ticked (by keyboard, as with a screen reader).
    page.goto(FLEET)
    rows = page.locator(".fleet-table tbody tr")
    names = [rows.nth(n).locator("th").inner_text() for n in range(2)]
    links = [rows.nth(n).locator("th a").get_attribute("href") for n in range(2)]
    for n in range(2):
        rows.nth(n).locator("input[type=checkbox][form=qr-sheet]").focus()
        page.keyboard.press("Space")
    assert page.locator(".fleet-table input[type=checkbox]:checked").count() == 2
    with page.expect_request(is_sheet) as sent, page.expect_download() as download_info:
        print_ticked.click()
    download = download_info.value

    # The ticked ids went in the POST's body, not into the address.
    assert sent.value.method == "POST"
    assert sent.value.url == f"{server.base_url}{SHEET}"
    form = parse_qsl(sent.value.post_data)
    assert [value for name, value in form if name == "id"] == [
        str(link).rsplit("/", 1)[1] for link in links
    ]
    assert download.suggested_filename == f"qr-codes-{CITY}.pdf"
    pdf = tmp_path / download.suggested_filename
    download.save_as(pdf)

    # One page; cut apart, its two labels scan to the two codes' short addresses, in order.
    (first,) = pdf_pages(pdf)
    decoded = [found.strip() for found in cut_apart(first, GRID, 2)]
    assert decoded == [short_address(page, link) for link in links]
    text = " ".join(pdf_text(pdf).split())
    for name, address in zip(names, decoded, strict=True):
        assert name in text
        assert address in text


def import_codes(page: Any, names: list[str]) -> None:
    """QR codes through the console's fleet import: checked, then confirmed."""
    rows = [f";qr;{name};52,105;8,75;;active;/" for name in names]
    text = "\r\n".join(["identifier;kind;name;lat;lon;placement;status;target", *rows])
    page.goto(f"/console/{CITY}/fleet/import")
    page.set_input_files(
        "#f-file", {"name": "codes.csv", "mimeType": "text/csv", "buffer": text.encode()}
    )
    with page.expect_navigation():
        page.locator("form[enctype] button[type=submit]").click()
    with page.expect_navigation():
        page.locator("form[action$='/fleet/import/confirm'] button[type=submit]").click()
    assert page.locator("#import-done").is_visible()


def test_250_ticked_codes_reach_the_page_and_200_of_them_print(
    page: Any, server: Any, log_in: Any, assert_accessible: Any, problems: Any, tmp_path: Path
) -> None:
    require_tools("pdftotext")
    problems.allow(r"status of 422 .*/fleet/qr-codes\.pdf")
    # given 250 QR codes in the pavement, listed by a search for their mark
    log_in(page, server.accounts["city-admin"])
    mark = uuid.uuid4().hex[:6]
    import_codes(page, [f"Pflaster {mark} {n:03}" for n in range(250)])
    page.goto(f"/console/{CITY}/fleet?q={mark}&sort=name")
    boxes = page.locator(".fleet-table input[type=checkbox][form=qr-sheet]")
    assert boxes.count() == 250

    # when all 250 are ticked and printed
    for n in range(250):
        boxes.nth(n).check()
    print_ticked = page.locator("#qr-sheet button[value=selected]")
    with page.expect_request(is_sheet) as sent, page.expect_navigation():
        print_ticked.click()

    # then they arrive (a POST: the address stays short), and the page says at most 200 fit,
    # with the search and all 250 ticks kept
    assert sent.value.method == "POST"
    assert sent.value.url == f"{server.base_url}{SHEET}"
    assert len([name for name, _ in parse_qsl(sent.value.post_data) if name == "id"]) == 250
    error = page.locator("#qr-sheet-error")
    assert error.is_visible()
    assert "250" in error.inner_text()
    assert "200" in error.inner_text()
    assert page.locator(".fleet-table input[type=checkbox]:checked").count() == 250
    assert page.locator("#qr-sheet input[name=q]").input_value() == mark
    assert_accessible(page)

    # when the last 50 are unticked and the rest printed
    for n in range(200, 250):
        boxes.nth(n).uncheck()
    with page.expect_download() as download_info:
        print_ticked.click()

    # then the sheet holds the first 200 codes, and none of the others
    pdf = tmp_path / "sheet.pdf"
    download_info.value.save_as(pdf)
    text = " ".join(pdf_text(pdf).split())
    assert text.count(f"Pflaster {mark}") == 200
    assert f"Pflaster {mark} 199" in text
    assert f"Pflaster {mark} 200" not in text
