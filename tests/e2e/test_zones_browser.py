"""A city admin draws a zone on the map in a real Chromium, names and saves it: the zone keeps the
drawn polygon and takes the touchpoint inside it; then a corner is dragged and saved again."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

CONSOLE = "/console/musterstadt"
# North of every demo shop, zone and touchpoint: the topmost dot on the editor's map.
LAT, LON = "52.1085", "8.7500"


def add_touchpoint(page: Any, name: str) -> None:
    page.goto(f"{CONSOLE}/touchpoints")
    page.fill("#f-name", name)
    page.fill("#f-lat", LAT)
    page.fill("#f-lon", LON)
    page.fill("#f-target", "/musterstadt")
    with page.expect_navigation():
        page.locator(f"form[action='{CONSOLE}/touchpoints'] button[type=submit]").click()


def topmost_touchpoint(page: Any) -> dict[str, float]:
    page.locator("#map").scroll_into_view_if_needed()
    boxes = [dot.bounding_box() for dot in page.locator("path.zone-place.is-touchpoint").all()]
    box = min(boxes, key=lambda b: b["y"])
    return {"x": box["x"] + box["width"] / 2, "y": box["y"] + box["height"] / 2}


def shape_in(page: Any) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(page.input_value("#f-geometry"))
    return found


def test_a_zone_is_drawn_named_saved_and_reshaped_by_dragging_a_corner(
    page: Any, server: Any, log_in: Any, assert_accessible: Any, screenshot: Any
) -> None:
    mark = uuid.uuid4().hex[:6]
    log_in(page, server.accounts["city-admin"])
    add_touchpoint(page, f"Nordtor {mark}")
    # given the zones page with its map
    page.goto(f"{CONSOLE}/zones")
    page.locator("path.zone-place.is-touchpoint").first.wait_for()
    dot = topmost_touchpoint(page)
    corners = [(-40, -30), (45, -35), (50, 40), (-35, 45)]
    # when four corners are clicked around the new touchpoint and the first is clicked again
    for dx, dy in corners:
        page.mouse.click(dot["x"] + dx, dot["y"] + dy)
    assert page.input_value("#f-geometry") == ""  # not closed yet
    page.locator(".zone-corner.is-first").click()
    drawn = shape_in(page)
    assert drawn["type"] == "Polygon"
    ring = drawn["coordinates"][0]
    assert len(ring) == 5
    assert ring[0] == ring[-1]
    assert page.locator(".zone-corner").count() == 4
    assert page.locator(".zone-middle").count() == 4
    assert "4" in page.locator("#zone-status").inner_text()
    # and the zone is named and saved
    page.fill("#f-name", f"Am Nordtor {mark}")
    page.fill("#f-slug", f"nordtor-{mark}")
    screenshot(page, "console-zones-map.png")
    with page.expect_navigation():
        page.locator(f"form[action='{CONSOLE}/zones'] button[type=submit]").click()
    # then the zone's page shows the stored polygon, the touchpoint is in it
    assert "/zones/" in page.url
    assert shape_in(page) == drawn
    assert page.locator("#zone-members").inner_text().startswith("1 ")
    assert_accessible(page)
    # when the first corner is dragged 30 px to the left and the zone saved again
    page.locator("#map").scroll_into_view_if_needed()
    corner = page.locator(".zone-corner").first.bounding_box()
    x, y = corner["x"] + corner["width"] / 2, corner["y"] + corner["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 15, y, steps=3)
    page.mouse.move(x - 30, y, steps=3)
    page.mouse.up()
    moved = shape_in(page)
    assert moved["coordinates"][0][0][0] < ring[0][0]  # further west
    assert moved["coordinates"][0][0][1] == pytest.approx(ring[0][1], abs=2e-5)  # a pixel or two
    assert moved["coordinates"][0][1:4] == ring[1:4]
    with page.expect_navigation():
        page.locator("form[action*='/zones/'] button[type=submit]").first.click()
    # then the new shape is stored and the touchpoint is still in the zone
    assert shape_in(page) == moved
    assert page.locator("#zone-members").inner_text().startswith("1 ")
    zone_url = page.url
    page.goto(f"{CONSOLE}/fleet?q=Nordtor+{mark}")
    assert f"Am Nordtor {mark}" in page.locator(".fleet-table tbody tr").first.inner_text()
    # when, by keyboard, a corner is removed with Delete, and one added on a middle handle
    page.goto(zone_url)
    page.locator(".zone-corner").nth(3).focus()
    page.keyboard.press("Delete")
    assert len(shape_in(page)["coordinates"][0]) == 4
    page.locator(".zone-middle").first.focus()
    page.keyboard.press("Enter")
    # then the field follows the map each time
    assert len(shape_in(page)["coordinates"][0]) == 5
    assert page.locator(".zone-corner").count() == 4
    # finally the zone is deleted, leaving the demo city's zones as they were for other tests
    delete(page)


def delete(page: Any) -> None:
    with page.expect_navigation():
        page.locator("form[action$='/delete'] button[type=submit]").click()
    assert page.url.endswith("/zones?saved=1")


def test_without_javascript_the_shape_is_typed_into_the_text_field(
    new_context: Any, open_page: Any, server: Any, log_in: Any
) -> None:
    page = open_page(new_context(java_script_enabled=False))
    mark = uuid.uuid4().hex[:6]
    log_in(page, server.accounts["city-admin"])
    # given the zones page without scripts: no map, the text field instead
    page.goto(f"{CONSOLE}/zones")
    assert page.locator("#map-figure").is_hidden()
    square = [[8.7560, 52.1080], [8.7570, 52.1080], [8.7570, 52.1086], [8.7560, 52.1080]]
    shape = {"type": "Polygon", "coordinates": [square]}
    # when
    page.fill("#f-name", f"Getippt {mark}")
    page.fill("#f-slug", f"getippt-{mark}")
    page.fill("#f-geometry", json.dumps(shape))
    with page.expect_navigation():
        page.locator(f"form[action='{CONSOLE}/zones'] button[type=submit]").click()
    # then
    assert "/zones/" in page.url
    assert shape_in(page) == shape
    delete(page)
    assert f"Getippt {mark}" not in page.locator("main").inner_text()
