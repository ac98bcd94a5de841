"""The demo owner invites a cashier in a real Chromium; the cashier accepts on a phone and works
the till; the owner removes them again and their session ends."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
STAFF_URL = re.compile(r".*/portal/shops/[0-9a-f-]{36}/staff(\?.*)?$")
TILL_URL = re.compile(r".*/portal/shops/[0-9a-f-]{36}/till$")


def test_owner_invites_a_cashier_who_lands_at_the_till(
    new_context: Any,
    open_page: Any,
    server: Any,
    log_in: Any,
    assert_accessible: Any,
    screenshot: Any,
) -> None:
    # The owner, on a phone, finds the staff page from the shop's navigation.
    owner = open_page(new_context(viewport=PHONE))
    log_in(owner, server.accounts["retailer-owner"])
    with owner.expect_navigation():
        owner.locator("nav.subnav a[href$='/staff']").click()
    owner.wait_for_url(STAFF_URL)
    assert_accessible(owner)

    email = f"kasse-{uuid.uuid4().hex[:8]}@example.org"
    owner.fill("#f-email", email)
    with owner.expect_navigation():
        owner.locator("form[action$='/staff'] button[type=submit]").click()
    link = owner.input_value("#invite-link")
    assert link.startswith(f"{server.base_url}/invite/")
    notice = owner.locator(".alert.success").inner_text()
    assert "nur einmal" in notice
    assert "7 Tage" in notice
    assert "keine E-Mail" in notice
    assert email in owner.locator("#open-h + ul").inner_text()
    assert_accessible(owner)
    screenshot(owner, "portal-staff-mobile.png")

    # The cashier opens the link in a browser of their own and sets a password.
    cashier = open_page(new_context(viewport=PHONE))
    cashier.goto(link)
    cashier.fill("#f-display_name", "Kim Kasse")
    cashier.fill("#f-password", "Kassenrolle-Lindenweg-27")
    with cashier.expect_navigation():
        cashier.locator("main form button[type=submit]").click()
    cashier.wait_for_url(TILL_URL)
    assert cashier.locator("main h1").inner_text().startswith("Kasse")

    # The owner sees the new cashier, and removes them after confirming.
    owner.goto(owner.url)
    person = owner.locator("li.item-row", has_text=email)
    assert "Kim Kasse" in person.inner_text()
    person.locator("summary").click()
    with owner.expect_navigation():
        person.locator("button.danger").click()
    assert "done=removed" in owner.url
    assert email not in owner.locator("main").inner_text()

    # The cashier's session has ended: the till asks for a login again.
    cashier.reload()
    cashier.wait_for_url(re.compile(r".*/login\?next=.*"))
