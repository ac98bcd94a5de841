"""A retailer in a real Chromium: log in, edit the shop's story, see it public; staff may look
but not save. (The hours have an editor of their own: test_hours_browser.py.)"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.e2e

CITY = "musterstadt"
OPTICIAN = "optik-brillenhaus-krueger"
NEW_STORY = (
    "<p>Neu im Brillenhaus Krüger: Jeden Donnerstag zeigt Martin Krüger in der Werkstatt, "
    "wie aus einem Rohglas eine <strong>passgenaue Brille</strong> wird. "
    "Anmeldung ist nicht nötig – kommen Sie einfach vorbei.</p>"
)
EDITOR_URL = re.compile(r".*/portal/shops/[0-9a-f-]{36}(\?.*)?$")
OVERVIEW_URL = re.compile(r".*/portal/shops/[0-9a-f-]{36}/overview$")


def profile_form(page: Any) -> Any:
    return page.locator(f"form[action='{urlsplit(page.url).path}']")


def save_profile(page: Any) -> None:
    with page.expect_navigation():
        profile_form(page).locator("button[type=submit]").click()
    assert "saved=1" in page.url, page.locator("main").inner_text()
    assert page.locator(".alert.success[role=status]").is_visible()


def test_owner_edits_the_story(page: Any, server: Any, log_in: Any, screenshot: Any) -> None:
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
    original_story = page.input_value("#f-story_html")

    page.fill("#f-story_html", NEW_STORY)
    save_profile(page)
    assert page.input_value("#f-story_html") == NEW_STORY
    screenshot(page, "portal-editor.png")

    with page.expect_navigation():
        page.locator(
            "main a.button.secondary", has_text=re.compile("public|öffentlich", re.I)
        ).click()
    assert page.url == f"{server.base_url}/{CITY}/shops/{OPTICIAN}"
    story = page.locator("section.story")
    assert "Jeden Donnerstag zeigt Martin Krüger" in story.inner_text()
    assert story.locator("strong", has_text="passgenaue Brille").is_visible()

    # Put the demo shop back as it was, through the same form.
    page.go_back()
    page.wait_for_url(EDITOR_URL)
    page.fill("#f-story_html", original_story)
    save_profile(page)
    assert page.input_value("#f-story_html") == original_story


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
    assert page.locator("#f-story_html").is_disabled()
    assert form.locator("button[type=submit]").count() == 0
    story = page.input_value("#f-story_html")

    # Even with the form switched back on in the page, the server refuses the change.
    with page.expect_navigation() as navigation:
        page.evaluate(
            """(sel) => {
            const form = document.querySelector(sel);
            form.querySelectorAll("fieldset").forEach((f) => { f.disabled = false; });
            form.querySelector("#f-story_html").value = "<p>Von der Kasse geändert</p>";
            form.submit();
        }""",
            f"form[action='{urlsplit(editor_url).path}']",
        )
    response = navigation.value
    assert response is not None
    assert response.status == 403
    page.goto(editor_url)
    assert page.input_value("#f-story_html") == story
