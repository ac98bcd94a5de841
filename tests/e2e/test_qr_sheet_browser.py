"""The city ticks two QR codes on the fleet page in a real Chromium and downloads their sheet:
each label, cut apart, scans (zbar) to its touchpoint's short address; ticking none says why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from marktplatz.domain.code_sheets import GRID
from qr_tools import cut_apart, pdf_pages, pdf_text, require_tools

pytestmark = pytest.mark.e2e

CITY = "musterstadt"
FLEET = f"/console/{CITY}/fleet?kind=qr&sort=name"


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
    with page.expect_download() as download_info:
        print_ticked.click()
    download = download_info.value
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
