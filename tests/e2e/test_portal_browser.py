"""A retailer in a real Chromium: log in, edit the shop's phone, see it public; staff may look
but not save. (Story and hours have editors of their own: test_story_browser.py,
test_hours_browser.py.)"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.e2e

CITY = "musterstadt"
OPTICIAN = "optik-brillenhaus-krueger"
NEW_PHONE = "+49 5999 22419"
EDITOR_URL = re.compile(r".*/portal/shops/[0-9a-f-]{36}(\?.*)?$")
OVERVIEW_URL = re.compile(r".*/portal/shops/[0-9a-f-]{36}/overview$")


def profile_form(page: Any) -> Any:
    return page.locator(f"form[action='{urlsplit(page.url).path}']")


def save_profile(page: Any) -> None:
    with page.expect_navigation():
        profile_form(page).locator("button[type=submit]").click()
    assert "saved=1" in page.url, page.locator("main").inner_text()
    assert page.locator(".alert.success[role=status]").is_visible()


def test_owner_edits_the_phone(page: Any, server: Any, log_in: Any, screenshot: Any) -> None:
    owner = server.accounts["retailer-owner"]
    assert owner.shop == OPTICIAN
    log_in(page, owner)
    page.wait_for_url(OVERVIEW_URL)  # one shop and no city role: straight into its overview
    with page.expect_navigation():
        page.locator("nav.subnav a", has_text="Profil").click()
    page.wait_for_url(EDITOR_URL)
    assert page.locator("main h1").inner_text() == "Optik Brillenhaus Krüger"
    form = profile_form(page)
    assert form.locator("button[type=submit]").is_enabled()
    original_phone = page.input_value("#f-phone")
    assert original_phone != NEW_PHONE

    page.fill("#f-phone", NEW_PHONE)
    save_profile(page)
    assert page.input_value("#f-phone") == NEW_PHONE
    screenshot(page, "portal-editor.png")

    with page.expect_navigation():
        page.locator(
            "main a.button.secondary", has_text=re.compile("public|öffentlich", re.I)
        ).click()
    assert page.url == f"{server.base_url}/{CITY}/shops/{OPTICIAN}"
    assert page.locator(f"a[href='tel:{NEW_PHONE.replace(' ', '')}']").is_visible()

    # Put the demo shop back as it was, through the same form.
    page.go_back()
    page.wait_for_url(EDITOR_URL)
    page.fill("#f-phone", original_phone)
    save_profile(page)
    assert page.input_value("#f-phone") == original_phone


def test_staff_may_look_but_not_save(page: Any, problems: Any, server: Any, log_in: Any) -> None:
    problems.allow(r"status of 403 .*@ .*/portal/shops/")  # the refused save below
    staff = server.accounts["retailer-staff"]
    assert staff.shop == OPTICIAN
    log_in(page, staff)
    page.wait_for_url(re.compile(r".*/portal/shops/[0-9a-f-]{36}/till$"))  # a cashier's start
    page.goto(page.url.removesuffix("/till"))
    page.wait_for_url(EDITOR_URL)
    editor_url = page.url
    form = profile_form(page)
    assert form.locator("fieldset").first.evaluate("(f) => f.disabled")
    assert page.locator("#f-phone").is_disabled()
    assert form.locator("button[type=submit]").count() == 0
    phone = page.input_value("#f-phone")

    # Even with the form switched back on in the page, the server refuses the change.
    with page.expect_navigation() as navigation:
        page.evaluate(
            """(sel) => {
            const form = document.querySelector(sel);
            form.querySelectorAll("fieldset").forEach((f) => { f.disabled = false; });
            form.querySelector("#f-phone").value = "+49 5999 00000";
            form.submit();
        }""",
            f"form[action='{urlsplit(editor_url).path}']",
        )
    response = navigation.value
    assert response is not None
    assert response.status == 403
    page.goto(editor_url)
    assert page.input_value("#f-phone") == phone
