"""The demo optician's owner lands on the shop overview on a phone: today's state, what visitors
see, what waits, the till's figures, and the reminder to set up two-factor login."""

from __future__ import annotations

import re
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
OVERVIEW_URL = re.compile(r".*/portal/shops/[0-9a-f-]{36}/overview$")


def test_the_owner_starts_the_day_on_the_overview(
    new_context: Any,
    open_page: Any,
    server: Any,
    log_in: Any,
    assert_accessible: Any,
    screenshot: Any,
) -> None:
    owner = open_page(new_context(viewport=PHONE))
    log_in(owner, server.accounts["retailer-owner"])
    owner.wait_for_url(OVERVIEW_URL)

    assert owner.locator("main h1").inner_text() == "Optik Brillenhaus Krüger"
    assert owner.locator("nav.subnav a[aria-current=page]").inner_text() == "Übersicht"
    today = owner.locator("section[aria-labelledby=today-h]")
    assert today.locator(".badge").count() == 1
    assert re.search(r"\d\d:\d\d–\d\d:\d\d|geschlossen|Feiertag", today.inner_text())
    published = owner.locator("section[aria-labelledby=published-h]")
    assert published.locator("li.item-row").count() >= 1  # the demo optician has offers out
    assert owner.locator("[data-redeemed-today]").inner_text().isdigit()
    reminder = owner.locator("[data-two-factor-due]")
    assert "Zwei-Faktor-Anmeldung" in reminder.inner_text()
    assert_accessible(owner)
    screenshot(owner, "portal-overview-mobile.png")

    with owner.expect_navigation():
        reminder.locator("a").click()
    assert owner.url.endswith("/account/two-factor")
    assert (
        "Bitte richten Sie sie bis zum" in owner.locator("[data-two-factor-required]").inner_text()
    )
