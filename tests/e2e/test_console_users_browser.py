"""A city admin invites someone from the users page, changes their role and disables them in a
real Chromium; the person's open session in another browser stops working at once."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

USERS = "/console/musterstadt/users"
PASSWORD = "Ladenkasse-Rosengasse-41"
LOGIN_URL = re.compile(r".*/login\?next=.*")


def test_admin_disables_a_user_whose_open_session_then_ends(
    new_context: Any,
    open_page: Any,
    server: Any,
    log_in: Any,
    assert_accessible: Any,
    screenshot: Any,
    problems: Any,
) -> None:
    problems.allow(r"status of 401 .*@ .*/login$")  # the refused login of the disabled account
    # The admin invites a cashier, starting from the users page.
    admin = open_page(new_context())
    log_in(admin, server.accounts["city-admin"])
    admin.goto(USERS)
    with admin.expect_navigation():
        admin.locator("main .page-head a[href$='/invitations']").click()
    email = f"kasse-{uuid.uuid4().hex[:8]}@example.org"
    admin.fill("#f-email", email)
    admin.select_option("#f-role", "retailer-staff")
    # The demo owner's shop: it keeps an owner when the new one is disabled below.
    admin.select_option("#f-shop_id", label="Optik Brillenhaus Krüger")
    with admin.expect_navigation():
        admin.locator("form[action$='/invitations'] button[type=submit]").click()
    link = admin.input_value("#invite-link")

    # The cashier accepts in a browser of their own (in English) and is logged in at the till.
    person = open_page(new_context())
    person.goto("/lang/en")
    person.goto(link)
    person.fill("#f-display_name", "Mika Musterkasse")
    person.fill("#f-password", PASSWORD)
    with person.expect_navigation():
        person.locator("main form button[type=submit]").click()
    till = person.url
    assert till.endswith("/till")

    # The admin makes the cashier the shop's owner: a choice, then the button.
    admin.goto(USERS)
    row = admin.locator("tr", has_text=email)
    row.locator("td details summary").first.click()
    row.locator("select[name=to]").select_option("retailer-owner")
    with admin.expect_navigation():
        row.locator("form[action$='/role'] button[type=submit]").click()
    assert "done=role" in admin.url
    row = admin.locator("tr", has_text=email)
    assert "retailer-owner" in row.locator("form[action$='/role'] input[name=role]").input_value()

    # The admin disables the account after confirming.
    account = row.locator("td").last
    account.locator("summary").click()
    assert_accessible(admin)
    with admin.expect_navigation():
        account.locator("button.danger").click()
    assert "done=disabled" in admin.url
    row = admin.locator("tr", has_text=email)
    assert row.locator("td").last.locator(".badge.bad").count() == 1
    assert row.locator("form[action$='/enable']").count() == 1
    assert_accessible(admin)
    screenshot(admin, "console-users.png")

    # The person's open session is over: their next page load asks for a login.
    person.goto(till)
    person.wait_for_url(LOGIN_URL)

    # And the password no longer logs them in; the form says why.
    person.fill("#f-email", email)
    person.fill("#f-password", PASSWORD)
    with person.expect_navigation():
        person.locator("main form button[type=submit]").click()
    assert "/login" in person.url
    assert "This account is disabled." in person.locator(".alert.error").inner_text()

    # Enabled again, the same password logs in.
    admin.locator("tr", has_text=email).locator("form[action$='/enable'] button").click()
    admin.wait_for_url(re.compile(r".*done=enabled.*"))
    person.goto("/login")
    person.fill("#f-email", email)
    person.fill("#f-password", PASSWORD)
    with person.expect_navigation():
        person.locator("main form button[type=submit]").click()
    assert "/login" not in person.url
