"""The visitor map and the console's fleet map by keyboard in a real Chromium: each map is a few
Tab stops however many markers it holds (one marker at a time, the arrow keys move between
them), every marker is still reached by keyboard with its name, a skip link jumps past the map,
the focus ring shows, and axe-core finds nothing serious with the focus on a marker."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

CITY = "musterstadt"
MAP = f"/{CITY}/map"
FLEET_MAP = f"/console/{CITY}/fleet/map"
# The map itself (Leaflet pans it with the arrows), one marker, zoom in, zoom out.
STOPS_IN_A_MAP = 4

_FOCUS = """() => {
  const element = document.activeElement;
  return {
    inMap: !!element.closest('#map'),
    marker: element.classList.contains('leaflet-marker-icon'),
    label: element.getAttribute('aria-label'),
    id: element.dataset.entry || null,
  };
}"""


def focused(page: Any) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(_FOCUS)
    return result


def tabs_to_leave_the_map(page: Any) -> int:
    """Tab presses from the focused map until the focus is past it."""
    page.focus("#map")
    for presses in range(1, 200):
        page.keyboard.press("Tab")
        if not focused(page)["inMap"]:
            return presses
    pytest.fail("the focus never left the map")


def walk_the_markers(page: Any, count: int) -> list[dict[str, Any]]:
    """From the map, Tab to its marker, then ArrowRight through all of them."""
    page.focus("#map")
    page.keyboard.press("Tab")
    seen = [focused(page)]
    for _ in range(count - 1):
        page.keyboard.press("ArrowRight")
        seen.append(focused(page))
    return seen


def entries_and_markers(page: Any, entries: str) -> tuple[list[str], int]:
    markers = page.locator(".leaflet-marker-icon")
    markers.first.wait_for()
    ids = page.locator(entries).evaluate_all("(items) => items.map((item) => item.id)")
    return ids, markers.count()


def test_the_visitor_map_is_four_tab_stops_and_its_shops_are_reached_by_arrows(
    page: Any, assert_accessible: Any
) -> None:
    # given the demo's map of 60 shops
    page.goto(MAP)
    ids, count = entries_and_markers(page, "li.map-entry")
    assert count == len(ids) == 60
    # when the visitor tabs through it, then it takes four presses whatever the number of shops
    assert tabs_to_leave_the_map(page) == STOPS_IN_A_MAP
    # when they walk the markers with the arrow key from the one Tab reaches
    seen = walk_the_markers(page, count)
    # then every shop is reached once, in the order of the list, named as in the list
    assert [spot["id"] for spot in seen] == ids
    assert all(spot["marker"] for spot in seen)
    names = page.locator("li.map-entry .map-entry-name").all_inner_texts()
    for spot, name, number in zip(seen, names, range(1, count + 1), strict=True):
        assert spot["label"].startswith(f"{name}, "), spot
        assert re.search(rf"\({number}\D+{count}\)$", spot["label"]), spot
    # and one more step wraps round to the first; Left goes back to the last, End and Home too
    page.keyboard.press("ArrowRight")
    assert focused(page)["id"] == ids[0]
    page.keyboard.press("ArrowLeft")
    assert focused(page)["id"] == ids[-1]
    page.keyboard.press("Home")
    assert focused(page)["id"] == ids[0]
    page.keyboard.press("End")
    assert focused(page)["id"] == ids[-1]
    # and Tab comes back to the marker last visited, not to the first
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    assert focused(page)["id"] == ids[-1]
    # and its ring is drawn, and axe-core finds nothing serious with the focus on it
    marker = page.locator(".leaflet-marker-icon:focus")
    expect(marker).to_have_css("outline-style", "solid")
    assert_accessible(page)


def test_the_visitor_map_opens_a_shop_reached_by_arrows(page: Any) -> None:
    page.goto(MAP)
    ids, _ = entries_and_markers(page, "li.map-entry")
    # given the focus on the third marker
    page.focus("#map")
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert focused(page)["id"] == ids[2]
    # when Enter is pressed, then its popup opens with the focus on the shop's link
    page.keyboard.press("Enter")
    expect(page.locator(".leaflet-popup")).to_be_visible()
    link = page.locator(f"#{ids[2]} h3 a").get_attribute("href")
    expect(page.locator(":focus")).to_have_attribute("href", link or "")
    # and Escape brings the focus back to that marker
    page.keyboard.press("Escape")
    expect(page.locator(".leaflet-popup")).to_have_count(0)
    assert focused(page)["id"] == ids[2]


def test_a_skip_link_jumps_past_the_visitor_map(page: Any) -> None:
    page.goto(MAP)
    page.locator(".leaflet-marker-icon").first.wait_for()
    skip = page.locator("a.map-skip")
    skip.focus()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    # the next Tab lands in the list after the map, on its first shop
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_attribute(
        "href", page.locator("li.map-entry h3 a").first.get_attribute("href") or ""
    )


def test_the_fleet_map_is_four_tab_stops_and_its_touchpoints_are_reached_by_arrows(
    page: Any, server: Any, log_in: Any, assert_accessible: Any
) -> None:
    # given the demo's fleet on the map
    log_in(page, server.accounts["city-admin"])
    page.goto(FLEET_MAP)
    ids, count = entries_and_markers(page, ".fleet-list li[id^='tp-']")
    assert count == len(ids) > 10
    # when tabbed through, then four presses take the keyboard past it
    assert tabs_to_leave_the_map(page) == STOPS_IN_A_MAP
    # when the markers are walked with the arrow key
    seen = walk_the_markers(page, count)
    # then every touchpoint is reached, named by its entry in the list
    assert [spot["id"] for spot in seen] == ids
    names = page.locator(".fleet-list li[id^='tp-'] > a").all_inner_texts()
    for spot, name, number in zip(seen, names, range(1, count + 1), strict=True):
        assert spot["label"].startswith(f"{name} "), spot
        assert re.search(rf"\({number}\D+{count}\)$", spot["label"]), spot
    expect(page.locator(".leaflet-marker-icon:focus")).to_have_css("outline-style", "solid")
    assert_accessible(page)
    # and Enter on the marker last reached opens that touchpoint
    href = page.locator(f"#{ids[-1]} > a").get_attribute("href") or ""
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(href)


def test_a_skip_link_jumps_past_the_fleet_map(page: Any, server: Any, log_in: Any) -> None:
    log_in(page, server.accounts["city-admin"])
    page.goto(FLEET_MAP)
    page.locator(".leaflet-marker-icon").first.wait_for()
    page.locator("a.map-skip").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_attribute(
        "href", page.locator(".fleet-list li[id^='tp-'] > a").first.get_attribute("href") or ""
    )
