"""The demo optician prints a window sticker of the shop's QR code in a real Chromium: the
downloaded PDF scans (zbar) to the code's short address, and after the owner points the code
somewhere else the same printed code leads there."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from qr_tools import pdf_text, pdf_to_png, require_tools, zbar

pytestmark = pytest.mark.e2e

SHOP_NAME = "Optik Brillenhaus Krüger"
POINT_NAME = "QR Optik Brillenhaus Krüger"
OWN_TEXT = "Schöne Brillen für große Augenblicke"
PRINT_URL = re.compile(r".*/portal/shops/[0-9a-f-]{36}/touchpoints/[0-9a-f-]{36}/print$")
NEW_TARGET = "/musterstadt/events"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def where_code_leads(url: str) -> tuple[int, str]:
    """(status, Location) of a scanned address, as a phone's browser gets it first."""
    try:
        urllib.request.build_opener(_NoRedirects).open(url, timeout=10)
    except urllib.error.HTTPError as answer:
        return answer.code, answer.headers["location"]
    raise AssertionError(f"{url} did not redirect")


def change_target(page: Any, panel: Any, target: str) -> None:
    panel.locator("input[name=target]").fill(target)
    with page.expect_navigation():
        panel.locator("form[action$='/target'] button[type=submit]").click()


def test_owner_prints_a_window_sticker_whose_code_follows_the_new_target(
    page: Any,
    server: Any,
    log_in: Any,
    assert_accessible: Any,
    screenshot: Any,
    problems: Any,
    tmp_path: Path,
) -> None:
    require_tools("zbarimg", "pdftoppm", "pdftotext")
    problems.allow(r"status of 422 .*/poster\.pdf")
    # The owner opens the shop's codes and the print form of the shop-window code.
    log_in(page, server.accounts["retailer-owner"])
    with page.expect_navigation():
        page.locator("nav.subnav a[href$='/touchpoints']").click()
    panel = page.locator("section.panel", has=page.get_by_role("heading", name=POINT_NAME))
    short_url = panel.locator(".qr code").inner_text()
    old_target = panel.locator("input[name=target]").input_value()
    with page.expect_navigation():
        panel.locator("a[href$='/print']").click()
    page.wait_for_url(PRINT_URL)
    assert page.locator("main code").inner_text() == short_url
    assert page.is_checked("#f-format-a4")
    assert_accessible(page)
    screenshot(page, "portal-poster.png")

    # Their own text, but left empty: the form says so, keeps the choices, and saves nothing.
    page.check("#f-format-window")
    page.check("#f-cta-custom")
    page.check("#f-language-both")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert page.locator("#e-text").is_visible()
    assert page.is_checked("#f-format-window")
    assert page.is_checked("#f-language-both")
    assert_accessible(page)

    # With the text written (which chooses "own text" again after a suggestion was clicked),
    # the button downloads the PDF.
    page.check("#f-cta-story")
    page.fill("#f-text", OWN_TEXT)
    assert page.is_checked("#f-cta-custom")
    with page.expect_download() as download_info:
        page.locator("main form button[type=submit]").click()
    download = download_info.value
    name = download.suggested_filename
    assert re.fullmatch(r"window-sticker-optik-brillenhaus-krueger-\w{8}\.pdf", name), name
    pdf = tmp_path / name
    download.save_as(pdf)

    # The printed code holds the short address; the sheet names the shop and the invitation.
    assert zbar(pdf_to_png(pdf)) == f"{short_url}\n"
    text = " ".join(pdf_text(pdf).split())
    assert SHOP_NAME in text
    assert OWN_TEXT in text
    assert short_url in text
    assert "/poster.pdf?format=window&cta=custom&text=" in download.url

    # The owner points the code at the events page: the same printed code now leads there.
    page.goto(page.url.rsplit("/touchpoints/", 1)[0] + "/touchpoints")
    change_target(page, panel, NEW_TARGET)
    code = urlsplit(short_url).path.rsplit("/", 1)[1]
    try:
        assert where_code_leads(short_url) == (307, f"{NEW_TARGET}?via={code}")
        visitor = page.context.browser.new_context(base_url=server.base_url)
        try:
            scanned = visitor.new_page()
            scanned.goto(short_url)
            assert urlsplit(scanned.url).path == NEW_TARGET
        finally:
            visitor.close()
    finally:
        # The demo server is shared by the whole suite: the shop window leads home again.
        change_target(page, panel, old_target)
    assert where_code_leads(short_url) == (307, f"{old_target}?via={code}")
