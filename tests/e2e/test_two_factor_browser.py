"""Two-factor login in a real Chromium: a shop owner sets it up with an authenticator app's
code, logs out and logs in with password and code; both pages pass axe-core."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(
    chromium_path: str, serve_demo: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """A server of this module's own: the other browser tests log the owner in with a
    password only."""
    del chromium_path  # no browser, no server
    with serve_demo(tmp_path_factory.mktemp("e2e-two-factor")) as running:
        yield running


def fresh_code(totp: pyotp.TOTP, after: str | None = None) -> str:
    """The current code, waiting for the next step if `after` was used in this one."""
    while (code := totp.now()) == after or 30 - time.time() % 30 < 2:
        time.sleep(0.5)
    return code


def test_owner_sets_up_two_factor_login_and_logs_in_with_a_code(
    page: Any, server: Any, log_in: Any, assert_accessible: Any, problems: Any
) -> None:
    problems.allow(r"status of 401 .*@ .*/login/code$")  # the wrong code, on purpose
    owner = server.accounts["retailer-owner"]
    log_in(page, owner)

    # given the owner starts the set-up from the account page
    page.goto("/account/password")
    page.get_by_role("link", name="Zwei-Faktor-Anmeldung").click()
    page.wait_for_url(re.compile(r".*/account/two-factor$"))
    with page.expect_navigation():
        page.get_by_role("button", name="Zwei-Faktor-Anmeldung einrichten").click()
    qr = page.get_by_role("img", name="QR-Code für Ihre Authenticator-App")
    assert qr.is_visible()
    assert qr.get_attribute("src").startswith("data:image/svg+xml;base64,")
    assert_accessible(page)

    # when the app (here pyotp) reads the key shown and its code is entered
    secret = page.locator("[data-secret]").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)
    first = fresh_code(totp)
    page.get_by_label("Code aus Ihrer App").fill(first)
    with page.expect_navigation():
        page.get_by_role("button", name="Zwei-Faktor-Anmeldung einschalten").click()

    # then it is on and ten recovery codes are shown once
    assert page.locator("ol.recovery-codes li").count() == 10
    assert page.get_by_text("Die Zwei-Faktor-Anmeldung ist eingeschaltet.").is_visible()

    # when the owner logs out and in again: the password alone is not enough
    with page.expect_navigation():
        page.get_by_role("button", name="Abmelden").click()
    log_in(page, owner)
    assert page.url.endswith("/login")
    code_field = page.get_by_label("Code", exact=True)
    assert code_field.get_attribute("autocomplete") == "one-time-code"
    assert code_field.get_attribute("inputmode") == "numeric"
    assert_accessible(page)

    # then a wrong code is refused with a message read out
    wrong = f"{(int(totp.now()) + 1) % 1_000_000:06d}"
    code_field.fill(wrong)
    with page.expect_navigation():
        page.get_by_role("button", name="Anmelden").click()
    assert "Dieser Code stimmt nicht" in page.get_by_role("alert").inner_text()
    assert_accessible(page)

    # and the app's next code logs in
    page.get_by_label("Code", exact=True).fill(fresh_code(totp, after=first))
    with page.expect_navigation():
        page.get_by_role("button", name="Anmelden").click()
    assert "/portal" in page.url
    assert page.get_by_role("button", name="Abmelden").is_visible()
