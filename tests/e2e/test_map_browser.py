"""The visitor map in a real Chromium: without a tile URL (as in the demo) it draws the zones and
shops on a plain background and asks no other site for anything; a marker opens by keyboard;
without JavaScript the list is the page; it reflows at 320 px and keeps still for reduced motion.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

CITY = "musterstadt"
MAP = f"/{CITY}/map"
PHONE = {"width": 390, "height": 844}


def map_data(page: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(page.locator("#map-data").text_content())
    return data


def test_the_map_draws_zones_and_shops_without_tiles(page: Any, server: Any) -> None:
    # given the demo, which configures no tile server
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    # when a visitor opens the map
    page.goto(MAP, wait_until="networkidle")
    data = map_data(page)
    assert data["tiles"] is None
    # then every zone is a polygon and every shop a marker, on the plain background
    expect(page.locator("#map-figure")).to_be_visible()
    expect(page.locator(".leaflet-overlay-pane path.map-zone")).to_have_count(len(data["zones"]))
    assert len(data["shops"]) == 60
    expect(page.locator(".leaflet-marker-icon.map-marker")).to_have_count(60)
    assert page.locator(".leaflet-tile").count() == 0
    assert "map-plain" in (page.get_attribute("#map", "class") or "")
    # open shops are marked by a shape of their own (a tick), not by colour alone
    open_ids = [s["id"] for s in data["shops"] if s["open"]]
    assert page.locator(".leaflet-marker-icon .map-pin.is-open").count() == len(open_ids)
    # and nothing was asked of another site (the open_page fixture fails on any such request)
    assert requested
    assert all(url.startswith(server.base_url) for url in requested), requested


def test_a_marker_opens_by_keyboard_and_links_to_the_shop(page: Any) -> None:
    page.goto(MAP)
    first = map_data(page)["shops"][0]
    expect(page.locator(".leaflet-marker-icon")).to_have_count(60)
    # given the keyboard on the map itself (one Tab stop; arrows pan)
    page.focus("#map")
    # when the visitor tabs to the first marker and presses Enter
    page.keyboard.press("Tab")
    marker = page.locator(":focus")
    assert "leaflet-marker-icon" in (marker.get_attribute("class") or "")
    name = marker.get_attribute("aria-label") or ""
    assert name.startswith(page.locator(f"#{first['id']} h3").inner_text())
    page.keyboard.press("Enter")
    # then the popup shows the shop, and the focus is on its link to the shop page
    popup = page.locator(".leaflet-popup")
    expect(popup).to_be_visible()
    expect(page.locator(":focus")).to_have_attribute("href", first["url"])
    expect(popup.locator(".badge")).to_be_visible()
    # and Escape closes it and brings the keyboard back to the marker: no trap
    page.keyboard.press("Escape")
    expect(popup).to_have_count(0)
    assert "leaflet-marker-icon" in (page.locator(":focus").get_attribute("class") or "")
    # and following the link opens the shop page
    page.keyboard.press("Enter")
    with page.expect_navigation():
        page.locator(".leaflet-popup a[href]:not(.leaflet-popup-close-button)").press("Enter")
    assert page.url.endswith(first["url"])


def test_filters_apply_to_the_markers(page: Any) -> None:
    page.goto(MAP)
    page.select_option("#f-category", "optician")
    with page.expect_navigation():
        page.locator("form.map-filters button[type=submit]").click()
    expect(page.locator(".leaflet-marker-icon")).to_have_count(2)
    expect(page.locator("li.map-entry")).to_have_count(2)


def test_without_javascript_the_list_is_the_map(new_context: Any, open_page: Any) -> None:
    page = open_page(new_context(java_script_enabled=False))
    page.goto(MAP)
    # the empty map box stays hidden; the shops and zones are there as lists, linked
    expect(page.locator("#map-figure")).to_be_hidden()
    expect(page.locator("li.map-entry")).to_have_count(60)
    expect(page.locator("li.map-entry h3 a").first).to_be_visible()
    expect(page.locator(".map-zones li")).to_have_count(3)
    # and the filter still works, as a form
    page.check("#f-open")
    with page.expect_navigation():
        page.locator("form.map-filters button[type=submit]").click()
    assert "open_now=1" in page.url


def test_the_map_reflows_at_320_px(page: Any, reflows_at_320: Any) -> None:
    page.goto(MAP)
    expect(page.locator(".leaflet-marker-icon")).to_have_count(60)
    assert reflows_at_320(page) <= 320


def test_reduced_motion_switches_the_map_animations_off(new_context: Any, open_page: Any) -> None:
    moving = open_page(new_context())
    moving.goto(MAP)
    expect(moving.locator("#map.leaflet-fade-anim")).to_have_count(1)
    still = open_page(new_context(reduced_motion="reduce"))
    still.goto(MAP)
    expect(still.locator(".leaflet-marker-icon")).to_have_count(60)
    assert still.locator("#map.leaflet-fade-anim").count() == 0


def test_leaflet_is_loaded_on_the_map_page_only(page: Any) -> None:
    loaded: list[str] = []
    page.on("request", lambda request: loaded.append(request.url))
    page.goto(f"/{CITY}", wait_until="networkidle")
    assert not [url for url in loaded if "leaflet" in url or "/js/map." in url]
    page.goto(MAP, wait_until="networkidle")
    assert [url for url in loaded if "/vendor/leaflet/leaflet." in url]


def test_the_map_opened_before_works_offline(
    service_worker: None, new_context: Any, open_page: Any, problems: Any, controlled: Any
) -> None:
    problems.allow(r"ERR_INTERNET_DISCONNECTED|Failed to fetch|net::")
    context = new_context()
    page = open_page(context)
    page.goto(f"/{CITY}")
    controlled(page)
    page.goto(MAP)
    expect(page.locator(".leaflet-marker-icon")).to_have_count(60)
    context.set_offline(True)
    page.reload()
    expect(page.locator(".leaflet-marker-icon")).to_have_count(60)
    expect(page.locator("li.map-entry")).to_have_count(60)
    context.set_offline(False)


def test_the_map_on_a_phone(new_context: Any, open_page: Any, screenshot: Any) -> None:
    page = open_page(
        new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    )
    # The docs show the fashion shops: the whole page with all 60 listed is too long a picture.
    page.goto(f"{MAP}?category=clothes")
    page.locator("[data-consent-decline]").click()  # the visitor answers the banner first
    expect(page.locator("#consent-banner")).to_be_hidden()
    expect(page.locator(".leaflet-marker-icon")).to_have_count(8)
    box = page.locator("#map").bounding_box()
    assert box is not None
    assert box["width"] <= PHONE["width"]
    assert box["height"] >= 240
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "map.png")


def test_an_open_popup_is_accessible(page: Any, assert_accessible: Any) -> None:
    page.goto(MAP)
    page.locator(".leaflet-marker-icon").first.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".leaflet-popup")).to_be_visible()
    expect(page.locator(".leaflet-popup")).to_have_css("opacity", "1")  # faded in: true colours
    assert_accessible(page)
