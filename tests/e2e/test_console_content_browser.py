"""The city marketing team writes an offer of its own in the console, in a real Chromium: placed at
the QR code in the pavement by the market fountain, published, and then shown to a visitor who
scans that code; every page of the editor passes axe-core."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

CITY = "musterstadt"
FOUNTAIN = "QR Marktbrunnen"  # the city's own QR code in the pavement (demo data)
ITEM_URL = re.compile(rf".*/console/{CITY}/content/[0-9a-f-]{{36}}\?saved=1$")
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server(
    chromium_path: str, serve_demo: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """A server of this module's own: the control group switched off here, and the city's offer
    at the fountain, would change what the other browser tests see."""
    del chromium_path  # no browser, no server
    with serve_demo(tmp_path_factory.mktemp("e2e-city-content")) as running:
        yield running


def no_control_group(page: Any) -> None:
    """Every visitor sees offers (none is held back to measure uplift), set on the rules page."""
    page.goto(f"/console/{CITY}/rules")
    page.fill("#f-control_share", "0")
    with page.expect_navigation():
        page.locator("button", has_text="Regeln speichern").click()
    assert page.input_value("#f-control_share") == "0"


def test_the_city_publishes_an_offer_at_its_qr_code_and_a_visitor_sees_it(
    server: Any,
    new_context: Any,
    open_page: Any,
    log_in: Any,
    assert_accessible: Any,
    screenshot: Any,
) -> None:
    # given the city admin in the console, with no control group
    page = open_page(new_context())
    log_in(page, server.accounts["city-admin"])
    no_control_group(page)
    page.goto(f"/console/{CITY}")
    # when they open the city's own items from the navigation and write a new offer
    with page.expect_navigation():
        page.locator("nav.subnav a[href$='/content']").click()
    expect(page.locator("main h1")).to_have_text("Angebote und Geschichten")
    assert_accessible(page)
    with page.expect_navigation():
        page.locator("main a.button", has_text="Angebot").click()
    expect(page.locator("main h1")).to_have_text("Neu: Angebot")
    assert_accessible(page)
    title = "Parken am Samstag gratis"
    page.fill("#f-title", title)
    page.fill("#f-body_html", "Alle **Parkhäuser** der Innenstadt: die ersten zwei Stunden frei.")
    # the text is rendered as visitors will see it while it is written
    expect(page.locator("#text-preview strong")).to_have_text("Parkhäuser")
    page.get_by_label(FOUNTAIN, exact=True).check()
    with page.expect_navigation():
        page.locator("button[name=then][value=submit]").click()
    # then it is published, and the preview at the fountain's code shows it, with its reasons
    page.wait_for_url(ITEM_URL)
    expect(page.locator(".badge", has_text="Veröffentlicht")).to_be_visible()
    page.select_option("#f-touchpoint", label=FOUNTAIN)
    with page.expect_navigation():
        page.locator("section[aria-labelledby=preview-h] button", has_text="Anzeigen").click()
    mine = page.locator("section[aria-labelledby=preview-h] li.card", has_text="Ihrer")
    expect(mine.locator("strong")).to_have_text(title)
    assert_accessible(page)
    screenshot(page, "console-content.png")

    # and it is listed among the city's own items as published
    page.goto(f"/console/{CITY}/content")
    row = page.locator("tbody tr", has=page.locator("a", has_text=title))
    expect(row.locator(".badge")).to_have_text("Veröffentlicht")

    # when a visitor scans the QR code by the fountain (its address as the console shows it)
    page.goto(f"/console/{CITY}/touchpoints")
    with page.expect_navigation():
        page.locator("main a", has_text=FOUNTAIN).first.click()
    short_url = page.locator("main dd code", has_text="/q/").inner_text()
    visitor = open_page(new_context(viewport=PHONE))
    visitor.goto(short_url)
    # then the page it leads to shows the city's offer right there
    here = visitor.locator("section.here")
    pick = here.locator("li.here-pick", has=visitor.locator("h3", has_text=title))
    expect(pick).to_be_visible()
    expect(pick.locator("strong")).to_have_text("Parkhäuser")
