"""A retailer writes a story in a real Chromium, previews what a visitor would see, publishes it,
finds it on the public shop page and takes it off again; a bad window is explained in place."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

CITY = "musterstadt"
OPTICIAN = "optik-brillenhaus-krueger"
ITEM_URL = re.compile(r".*/portal/content/[0-9a-f-]{36}\?saved=1$")


def open_content_list(page: Any) -> None:
    page.goto("/portal")
    with page.expect_navigation():
        page.locator("nav.subnav a[href$='/content']").click()
    assert page.locator("main h1").inner_text().startswith("Angebote und Geschichten")


def test_owner_publishes_a_story_and_sees_the_preview(
    page: Any, server: Any, log_in: Any, assert_accessible: Any, screenshot: Any
) -> None:
    # given the optician's owner on the list of their items
    log_in(page, server.accounts["retailer-owner"])
    open_content_list(page)
    with page.expect_navigation():
        page.locator("main a.button", has_text="Geschichte").click()
    title = f"Die Werkstatt hinter dem Laden {uuid.uuid4().hex[:6]}"
    # when they write a story for the street around the shop and publish it
    page.fill("#f-title", title)
    page.fill(
        "#f-body_html", "<p>Jede Brille wird bei uns <strong>von Hand</strong> angepasst.</p>"
    )
    page.fill("#f-radius_m", "200")
    with page.expect_navigation():
        page.locator("button[name=then][value=submit]").click()
    # then it is published, and the preview in front of the shop shows it, with reasons
    page.wait_for_url(ITEM_URL)
    assert page.locator(".badge", has_text="Veröffentlicht").is_visible()
    preview = page.locator("section[aria-labelledby=preview-h]")
    mine = preview.locator("li.card", has=page.locator(".badge", has_text="Ihrer"))
    assert mine.locator("strong").inner_text() == title
    assert "Das Geschäft ist 0 m von hier entfernt." in mine.inner_text()
    assert_accessible(page)
    screenshot(page, "portal-content-editor.png")

    # and a published story can be changed and saved again; it stays published
    title = f"{title} – neu"
    page.fill("#f-title", title)
    with page.expect_navigation():
        page.locator("button[name=then][value=submit]").click()
    page.wait_for_url(ITEM_URL)
    assert page.locator(".badge", has_text="Veröffentlicht").is_visible()
    assert page.input_value("#f-title") == title

    # and visitors find it on the shop page
    page.goto(f"/{CITY}/shops/{OPTICIAN}")
    news = page.locator("section.news")
    assert news.locator("h3", has_text=title).is_visible()
    assert news.locator("strong", has_text="von Hand").is_visible()

    # when the owner takes it off the site, visitors no longer see it
    page.go_back()
    with page.expect_navigation():
        page.locator("button", has_text="Von der Seite nehmen").click()
    assert page.locator(".badge", has_text="Entwurf").is_visible()
    page.goto(f"/{CITY}/shops/{OPTICIAN}")
    assert page.locator("h3", has_text=title).count() == 0


def test_a_window_ending_before_it_starts_is_explained_and_nothing_is_saved(
    page: Any, problems: Any, server: Any, log_in: Any, assert_accessible: Any
) -> None:
    problems.allow(r"status of 422")
    log_in(page, server.accounts["retailer-owner"])
    open_content_list(page)
    before = page.locator("main li.item-row").count()
    with page.expect_navigation():
        page.locator("main a.button", has_text="Angebot").click()
    page.fill("#f-title", "Winterschlussverkauf")
    page.fill("#f-starts_at", "2027-01-31T10:00")
    page.fill("#f-ends_at", "2027-01-02T18:00")
    with page.expect_navigation():
        page.locator("button[name=then][value=draft]").click()
    alert = page.locator(".alert.error[role=alert]")
    assert "Das Ende liegt vor dem Beginn." in alert.inner_text()
    assert page.get_attribute("#f-ends_at", "aria-invalid") == "true"
    assert page.input_value("#f-title") == "Winterschlussverkauf"  # nothing typed is lost
    assert_accessible(page)
    open_content_list(page)
    assert page.locator("main li.item-row").count() == before


def test_the_city_sees_the_pharmacy_offer_waiting_and_why(
    page: Any, server: Any, log_in: Any, assert_accessible: Any, screenshot: Any
) -> None:
    # given the demo city, whose pharmacy submitted an offer
    log_in(page, server.accounts["city-admin"])
    # when the city admin opens the approval queue
    page.goto(f"/console/{CITY}/moderation")
    # then the offer waits there, with the rule that asked for approval and its terms
    item = page.locator("section.panel", has=page.locator("h2", has_text="Sonnencreme LSF 50"))
    assert item.locator(".badge.warn", has_text="Branchenregel: Apotheke").is_visible()
    assert "Wann es gezeigt wird: ab " in item.inner_text()
    assert item.locator(".window time").count() == 2  # from today until in three weeks
    assert item.locator("button", has_text="Freigeben und veröffentlichen").is_visible()
    assert_accessible(page)
    screenshot(page, "console-moderation.png")
    page.goto(f"/console/{CITY}/rules")
    assert page.input_value("#f-push_budget_per_day") == "3"
    assert_accessible(page)
    screenshot(page, "console-rules.png")
