"""A visitor in a real Chromium: start page, filters by keyboard, a shop page, languages,
and no cookies or storage before consent."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

CITY = "musterstadt"
OPTICIAN = "optik-brillenhaus-krueger"
UNPARSEABLE = "antiquariat-eselsohr"
PHONE = {"width": 390, "height": 844}

COUNT = re.compile(r"(\d+)\s+(?:von|of)\s+(\d+)")


def shown_count(page: Any) -> tuple[int, int]:
    """(shown, total) from the result line, e.g. "2 von 60 Geschäften" or "2 of 60 shops"."""
    found = COUNT.search(page.locator(".result-count").inner_text())
    assert found, page.locator(".result-count").inner_text()
    return int(found[1]), int(found[2])


def api_open_count(page: Any) -> int:
    response = page.request.get(f"/api/v1/cities/{CITY}/shops?open_now=true")
    assert response.ok, response.text()
    return len(response.json())


def focused(page: Any) -> str:
    return str(page.evaluate("document.activeElement.id || document.activeElement.outerHTML"))


def test_start_page_filters_and_shop_page(page: Any, screenshot: Any, server: Any) -> None:
    response = page.goto("/")
    assert response is not None
    assert response.ok
    assert page.url == f"{server.base_url}/{CITY}"
    assert page.get_attribute("html", "lang") == "de"
    assert page.locator(".demo-note").is_visible()
    assert "Musterstadt" in page.locator("main h1").inner_text()
    assert shown_count(page) == (60, 60)
    assert page.locator("li.shop-card").count() == 60
    # The site's own icon, so Chromium does not ask for a missing /favicon.ico.
    favicon = page.get_attribute("link[rel=icon]", "href")
    assert favicon is not None
    assert page.request.get(favicon).headers["content-type"] == "image/svg+xml"
    screenshot(page, "visitor-start.png")

    # Category "Optiker" with the keyboard only: Tab into the select, type ahead, Tab, Enter.
    page.focus("#f-q")
    page.keyboard.press("Tab")
    assert focused(page) == "f-category"
    page.keyboard.type("Optiker")
    assert page.locator("#f-category").input_value() == "optician"
    page.keyboard.press("Tab")
    assert focused(page) == "f-open"
    page.keyboard.press("Tab")
    assert "button" in focused(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "category=optician" in page.url
    shown, total = shown_count(page)
    assert (shown, total) == (2, 60)
    eyebrows = page.locator("li.shop-card .eyebrow").all_text_contents()
    assert eyebrows == ["Optiker"] * 2
    assert page.locator("#f-category").input_value() == "optician"  # the choice is kept

    # "Open now": the same shops as the API says at this moment.
    page.goto(f"/{CITY}")
    page.focus("#f-open")
    page.keyboard.press("Space")
    assert page.locator("#f-open").is_checked()
    before = api_open_count(page)
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    after = api_open_count(page)
    assert "open_now=1" in page.url
    shown, total = shown_count(page)
    assert total == 60
    assert shown in {before, after}, (shown, before, after)  # a shop may open or close meanwhile
    assert page.locator("li.shop-card").count() == shown
    assert page.locator("li.shop-card .badge.ok").count() == shown
    if shown == 0:
        assert page.locator("li.empty").is_visible()
    assert page.locator("#f-open").is_checked()

    # The optician's page: its opening hours for the week, lunch break included.
    page.goto(f"/{CITY}")
    page.get_by_role("link", name="Optik Brillenhaus Krüger").click()
    page.wait_for_url(f"**/{CITY}/shops/{OPTICIAN}")
    hours = page.locator("table.hours")
    assert hours.is_visible()
    assert hours.locator("tbody tr").count() == 7
    assert "09:00–13:00, 14:30–18:00" in hours.inner_text()
    assert page.locator("article .eyebrow").inner_text().lower() == "optiker"
    assert "Augenoptikermeister" in page.locator("section.story").inner_text()
    screenshot(page, "visitor-shop.png")

    # English through the header link: labels, day names and the story change.
    page.locator(".site-header a[hreflang=en]").click()
    page.wait_for_url(f"**/{CITY}/shops/{OPTICIAN}")
    assert page.get_attribute("html", "lang") == "en"
    assert page.locator("#hours-h").inner_text() == "Opening hours"
    assert page.locator("#story-h").inner_text() == "Our story"
    assert "Master optician" in page.locator("section.story").inner_text()
    assert re.search(
        r"Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday",
        page.locator("table.hours").inner_text(),
    )
    assert page.locator("article .eyebrow").inner_text().lower() == "optician"
    page.goto(f"/{CITY}")
    assert page.get_attribute("html", "lang") == "en"
    assert re.search(r"\d+ of 60 shops", page.locator(".result-count").inner_text())


def test_unparseable_hours_show_the_raw_text_and_a_hint(page: Any) -> None:
    response = page.goto(f"/{CITY}/shops/{UNPARSEABLE}")
    assert response is not None
    assert response.status == 200
    panel = page.locator("section[aria-labelledby=hours-h]")
    assert panel.get_by_text("Di-Fr 10-18 Uhr, Sa nach Vereinbarung").is_visible()
    assert panel.locator(".hint").is_visible()
    assert panel.locator("table.hours").count() == 0
    assert page.locator(".shop-head .badge.neutral").is_visible()
    # The start page lists it too, with "please ask" instead of a guess.
    page.goto(f"/{CITY}?q=Eselsohr")
    assert shown_count(page) == (1, 60)
    assert page.locator("li.shop-card .badge.neutral").is_visible()


def test_start_page_on_a_phone(new_context: Any, open_page: Any, screenshot: Any) -> None:
    page = open_page(
        new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    )
    page.goto(f"/{CITY}")
    assert page.locator(".demo-note").is_visible()
    assert page.locator("form.filters button[type=submit]").is_visible()
    # Nothing sticks out sideways on a 390 px wide phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    first = page.locator("li.shop-card").first.bounding_box()
    assert first is not None
    assert first["width"] <= PHONE["width"]
    # Fingers need 44 px: the filter controls and every card (the whole card is the link).
    for target in ("#f-q", "#f-category", "form.filters button[type=submit]", "li.shop-card"):
        box = page.locator(target).first.bounding_box()
        assert box is not None
        assert box["height"] >= 44, (target, box)
    # Phones get a compact list (pictogram left, text right), not 60 poster-sized cards.
    assert page.evaluate("document.documentElement.scrollHeight") < 14_000
    # The docs show the page with a category.
    page.select_option("#f-category", "cafe")
    with page.expect_navigation():
        page.locator("form.filters button[type=submit]").tap()
    assert shown_count(page) == (4, 60)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "visitor-start-mobile.png")


def test_shop_page_on_a_phone(new_context: Any, open_page: Any, screenshot: Any) -> None:
    page = open_page(
        new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    )
    page.goto(f"/{CITY}/shops/{OPTICIAN}")
    # story, offers, hours and contact, one under the other, nothing sideways
    for part in ("h1", "section.news", "section.story", "table.hours", "#contact-h"):
        expect(page.locator(part)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    save = page.locator("form.save-coupon button").first.bounding_box()
    assert save is not None
    assert save["height"] >= 44
    screenshot(page, "visitor-shop-mobile.png")


def test_no_cookie_or_storage_before_consent(context: Any, page: Any) -> None:
    page.goto("/")
    page.focus("#f-q")
    page.keyboard.type("Apotheke")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.locator("li.shop-card h2 a").first.click()
    page.wait_for_load_state()
    page.goto(f"/{CITY}/shops/{UNPARSEABLE}")
    page.goto(f"/{CITY}?open_now=1")

    def storage() -> list[int]:
        return list(page.evaluate("[localStorage.length, sessionStorage.length]"))

    assert context.cookies() == []
    assert storage() == [0, 0]

    # Choosing a language explicitly stores exactly that preference, nothing else.
    page.locator(".site-header a[hreflang=en]").click()
    page.wait_for_url(f"**/{CITY}")
    cookies = context.cookies()
    assert [(c["name"], c["value"]) for c in cookies] == [("mp_lang", "en")]
    assert cookies[0]["sameSite"] == "Lax"
    page.goto(f"/{CITY}/shops/{OPTICIAN}")
    assert [c["name"] for c in context.cookies()] == ["mp_lang"]
    assert storage() == [0, 0]


def test_error_page_leads_back_to_the_start(page: Any, problems: Any, server: Any) -> None:
    problems.allow(r"status of 404 .*@ .*/musterstadt/shops/gibt-es-nicht")
    page.goto(f"/{CITY}")
    response = page.goto(f"/{CITY}/shops/gibt-es-nicht")
    assert response is not None
    assert response.status == 404
    page.locator("main a.button").click()
    page.wait_for_url(f"{server.base_url}/{CITY}", timeout=5_000)
