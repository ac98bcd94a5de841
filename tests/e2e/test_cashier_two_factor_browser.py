"""An owner invites a cashier by link; the cashier accepts on a phone, turns on two-factor login
with an authenticator app, and from then on logs in with password and code (real Chromium)."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import pyotp
import pytest

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
TILL_URL = re.compile(r".*/portal/shops/[0-9a-f-]{36}/till$")
PASSWORD = "Kassenrolle-Lindenweg-27"


def fresh_code(totp: pyotp.TOTP) -> str:
    """The current code, not in the last two seconds of its step."""
    while 30 - time.time() % 30 < 2:
        time.sleep(0.5)
    return totp.now()


def test_an_invited_cashier_logs_in_with_a_code_from_their_app(
    new_context: Any, open_page: Any, server: Any, log_in: Any
) -> None:
    # given the owner invites a cashier from the staff page
    owner = open_page(new_context(viewport=PHONE))
    log_in(owner, server.accounts["retailer-owner"])
    with owner.expect_navigation():
        owner.locator("nav.subnav a[href$='/staff']").click()
    email = f"kasse-{uuid.uuid4().hex[:8]}@example.org"
    owner.fill("#f-email", email)
    with owner.expect_navigation():
        owner.locator("form[action$='/staff'] button[type=submit]").click()
    link = owner.input_value("#invite-link")

    # when the cashier accepts on their phone ...
    cashier = open_page(new_context(viewport=PHONE))
    cashier.goto(link)
    cashier.fill("#f-display_name", "Ali Kasse")
    cashier.fill("#f-password", PASSWORD)
    with cashier.expect_navigation():
        cashier.locator("main form button[type=submit]").click()
    cashier.wait_for_url(TILL_URL)

    # ... and turns on two-factor login with the app's first code
    cashier.goto("/account/two-factor")
    with cashier.expect_navigation():
        cashier.get_by_role("button", name="Zwei-Faktor-Anmeldung einrichten").click()
    totp = pyotp.TOTP(cashier.locator("[data-secret]").inner_text().replace(" ", ""))
    first = fresh_code(totp)
    cashier.get_by_label("Code aus Ihrer App").fill(first)
    with cashier.expect_navigation():
        cashier.get_by_role("button", name="Zwei-Faktor-Anmeldung einschalten").click()
    assert cashier.locator("ol.recovery-codes li").count() == 10
    with cashier.expect_navigation():
        cashier.get_by_role("button", name="Abmelden").click()

    # then the password alone opens nothing, and the app's next code opens the till
    cashier.goto("/login")
    cashier.fill("#f-email", email)
    cashier.fill("#f-password", PASSWORD)
    with cashier.expect_navigation():
        cashier.locator("main form button[type=submit]").click()
    assert cashier.url.endswith("/login")
    code_field = cashier.get_by_label("Code", exact=True)
    while (code := fresh_code(totp)) == first:  # a used step is refused: wait for the next
        time.sleep(1)
    code_field.fill(code)
    with cashier.expect_navigation():
        cashier.get_by_role("button", name="Anmelden").click()
    cashier.wait_for_url(TILL_URL)
    assert cashier.locator("main h1").inner_text().startswith("Kasse")
