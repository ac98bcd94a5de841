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


# --- by keyboard only (WCAG 2.1.1) ------------------------------------------------------------

FOCUSED_HANDLE = "() => document.activeElement.dataset.corner ?? document.activeElement.ariaLabel"
FOCUS_RING = """() => {
  const style = getComputedStyle(document.activeElement);
  return [style.outlineStyle, style.outlineWidth, style.outlineColor, style.boxShadow];
}"""


def tab_to(page: Any, selector: str, back: bool = False) -> None:
    """Press Tab (or Shift+Tab) until the element matching selector has the focus."""
    seen = []
    for _ in range(80):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
        seen.append(page.evaluate("() => document.activeElement.outerHTML.slice(0, 120)"))
    pytest.fail(f"{selector} is not reached with {'Shift+Tab' if back else 'Tab'}: {seen}")


def text(page: Any, key: str, **values: int) -> str:
    """One of the page's own (translated) texts for the editor, filled in as the script does."""
    found: str = page.get_attribute("#map", f"data-{key}")
    return found.format(**values)


def announced(page: Any) -> str:
    # The same announcement twice in a row differs by a trailing no-break space.
    return str(page.inner_text("#zone-said")).strip()


def press(page: Any, key: str, times: int = 1) -> None:
    for _ in range(times):
        page.keyboard.press(key)


def test_a_zone_is_drawn_reshaped_and_saved_with_the_keyboard_alone(
    page: Any, server: Any, log_in: Any, assert_accessible: Any
) -> None:
    mark = uuid.uuid4().hex[:6]
    log_in(page, server.accounts["city-admin"])
    page.goto(f"{CONSOLE}/zones")
    page.locator("path.zone-place").first.wait_for()
    # given three corners set at the map centre, two of them moved away with the arrow keys
    page.focus("#f-name")
    page.keyboard.type(f"Tastenzone {mark}")
    tab_to(page, "#zone-centre")
    press(page, "Enter", 3)
    assert page.locator(".zone-corner").count() == 3
    tab_to(page, ".zone-corner[data-corner='0']")
    press(page, "Shift+ArrowUp", 2)
    tab_to(page, ".zone-corner[data-corner='1']")
    press(page, "Shift+ArrowRight", 3)
    assert announced(page) == text(page, "moved", n=2)
    # when the zone is closed with "Done" and saved, all from the keyboard
    tab_to(page, "#zone-finish", back=True)
    page.keyboard.press("Enter")
    drawn = shape_in(page)
    a, b, c, _ = drawn["coordinates"][0]
    assert a[0] == pytest.approx(c[0], abs=1e-7)  # straight north of the centre
    assert a[1] > c[1]
    assert b[1] == pytest.approx(c[1], abs=1e-7)  # straight east of it
    assert b[0] > c[0]
    tab_to(page, "#f-slug", back=True)
    page.keyboard.type(f"tasten-{mark}")
    tab_to(page, f"form[action='{CONSOLE}/zones'] button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    # then the drawn shape is stored
    assert "/zones/" in page.url
    assert shape_in(page) == drawn
    # when the zone's map is walked with Tab: each corner, then the middle handle after it
    tab_to(page, "#map")
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED_HANDLE) == "0"
    first = page.get_attribute(".zone-corner[data-corner='0']", "aria-label")
    assert first == text(page, "corner", n=1, count=3)
    style, width, colour, shadow = page.evaluate(FOCUS_RING)
    assert (style, width, colour) == ("solid", "3px", "rgb(26, 95, 180)")
    assert shadow.startswith("rgb(255, 255, 255)")  # the white gap that keeps it visible on blue
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED_HANDLE) == text(page, "add-corner", n=1, next=2)
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED_HANDLE) == "1"
    # and corner 2 moves a small step west, a large one (six small ones) west and one south
    page.keyboard.press("ArrowLeft")
    small = b[0] - shape_in(page)["coordinates"][0][1][0]
    page.keyboard.press("Shift+ArrowLeft")
    large = b[0] - shape_in(page)["coordinates"][0][1][0] - small
    page.keyboard.press("Shift+ArrowDown")
    assert page.evaluate(FOCUSED_HANDLE) == "1"  # the focus stays on the moved corner
    assert announced(page) == text(page, "moved", n=2)
    assert small > 0
    assert large == pytest.approx(6 * small, rel=0.02)
    b2 = shape_in(page)["coordinates"][0][1]
    assert b2[0] == pytest.approx(b[0] - 7 * small, rel=1e-6)
    assert b2[1] < b[1]
    # and Enter on the middle handle before it adds a corner there, which moves north
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    assert page.evaluate(FOCUSED_HANDLE) == "1"  # the new corner has the focus
    assert announced(page) == text(page, "added", n=2)
    m = shape_in(page)["coordinates"][0][1]
    assert m[0] == pytest.approx((a[0] + b2[0]) / 2, abs=1e-5)
    page.keyboard.press("ArrowUp")
    m2 = shape_in(page)["coordinates"][0][1]
    assert m2[1] > m[1]
    # and Space after corner 3 adds corner 4, which Delete removes; Backspace removes the next
    tab_to(page, ".zone-middle[data-middle='2']")
    page.keyboard.press(" ")
    assert page.locator(".zone-corner").count() == 5
    assert page.evaluate(FOCUSED_HANDLE) == "3"
    page.keyboard.press("Delete")
    assert announced(page) == text(page, "removed", n=4)
    assert page.evaluate(FOCUSED_HANDLE) == "2"
    tab_to(page, ".zone-corner[data-corner='3']")
    page.keyboard.press("Backspace")
    assert announced(page) == text(page, "removed", n=4)
    # then at three corners a Delete is refused, and the reason said
    tab_to(page, ".zone-corner[data-corner='0']", back=True)
    page.keyboard.press("Delete")
    assert page.locator(".zone-corner").count() == 3
    assert announced(page) == text(page, "too-few", n=1)
    edited = [a, m2, b2, a]
    assert shape_in(page)["coordinates"][0] == edited
    assert_accessible(page)
    # when saved from the keyboard, the stored shape is the edited one
    tab_to(page, "form[action*='/zones/'] button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert shape_in(page)["coordinates"][0] == edited
    delete(page)
