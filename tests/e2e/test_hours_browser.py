"""The demo owner sets opening hours with a lunch break in a real Chromium on a phone: the live
preview follows, a row ending before it starts is explained and saves nothing, and visitors
then see the lunch break."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
CITY = "musterstadt"
OPTICIAN = "optik-brillenhaus-krueger"
WANTED = "Mo-Fr 09:00-13:00,14:30-18:30; Sa 10:00-14:00; PH off"
HOURS_URL = re.compile(r".*/portal/shops/[0-9a-f-]{36}/hours(\?.*)?$")
# German once the catalogue holds the editor's messages; their English msgids until then.
WRONG = re.compile(
    r"Montag, (2\. Zeitraum: endet um 08:00, bevor er um 14:30 beginnt"
    r"|period 2: ends at 08:00, before it starts at 14:30)\."
)


def reveal(page: Any, day: int, period: int) -> None:
    """The page shows a day's periods in use and a button for one more: press it if needed."""
    while not page.is_visible(f"#f-d{day}_{period}_from"):
        page.locator(f"#day-{day} [data-more]").click()


def set_period(page: Any, day: int, period: int, start: str, end: str) -> None:
    reveal(page, day, period)
    page.fill(f"#f-d{day}_{period}_from", start)
    page.fill(f"#f-d{day}_{period}_to", end)


def stored_hours(context: Any, hours_url: str) -> str:
    """The stored string, read in a second tab from the expert field."""
    other = context.new_page()
    other.goto(f"{hours_url}?mode=expert")
    value: str = other.input_value("#f-opening_hours")
    other.close()
    return value


def save(page: Any) -> None:
    with page.expect_navigation():
        page.locator("#hours-form .hours-actions button:not([name])").click()


def test_owner_sets_a_lunch_break_that_visitors_see(
    new_context: Any,
    open_page: Any,
    problems: Any,
    server: Any,
    log_in: Any,
    assert_accessible: Any,
    screenshot: Any,
) -> None:
    problems.allow(r"status of 422 .*@ .*/portal/shops/.*/hours")  # the refused save below
    context = new_context(viewport=PHONE)
    page = open_page(context)
    log_in(page, server.accounts["retailer-owner"])
    with page.expect_navigation():
        page.locator("nav.subnav a[href$='/hours']").click()
    page.wait_for_url(HOURS_URL)
    hours_url = page.url.split("?")[0]
    original = stored_hours(context, hours_url)
    assert original != WANTED
    assert page.locator("nav.subnav a[aria-current=page]").inner_text() == "Öffnungszeiten"

    # Monday with a lunch break, copied to Tuesday–Friday with one button; then Saturday.
    page.check("#f-d0_open")
    assert not page.is_visible("#f-d0_2_from")  # only the periods in use, and a button for more
    set_period(page, 0, 0, "09:00", "13:00")
    reveal(page, 0, 1)
    page.fill("#f-d0_1_from", "")
    page.focus("#f-d0_1_from")
    page.keyboard.type("14.30")  # typed like a person, with a dot as on a phone's keypad
    page.fill("#f-d0_1_to", "18:30")
    page.locator("[data-copy-monday]").click()
    assert page.url.startswith(hours_url)  # the script copied in place, nothing was sent
    assert page.input_value("#f-d4_1_to") == "18:30"
    assert page.is_checked("#f-d4_open")
    page.check("#f-d5_open")
    set_period(page, 5, 0, "10:00", "14:00")
    if page.is_visible("#f-d5_1_from"):
        set_period(page, 5, 1, "", "")
    if page.is_checked("#f-d6_open"):
        page.uncheck("#f-d6_open")
    preview = page.locator("#hours-preview")
    expect(preview.locator(".osm-line code")).to_have_text(WANTED)
    expect(preview.locator("table.hours")).to_contain_text("09:00–13:00, 14:30–18:30")
    assert preview.get_attribute("aria-live") == "polite"

    # A row ending before it starts: the preview explains it, and saving keeps nothing.
    page.fill("#f-d0_1_to", "08:00")
    expect(preview).to_contain_text(WRONG)
    save(page)
    expect(page.locator(".alert.error[role=alert]")).to_contain_text(WRONG)
    assert page.get_attribute("#f-d0_1_to", "aria-invalid") == "true"
    assert page.input_value("#f-d5_0_to") == "14:00"  # everything entered is still there
    assert stored_hours(context, hours_url) == original
    assert_accessible(page)

    # Corrected, and saved with the Enter key in the field.
    page.fill("#f-d0_1_to", "18:30")
    expect(preview.locator(".osm-line code")).to_have_text(WANTED)
    with page.expect_navigation():
        page.press("#f-d0_1_to", "Enter")
    assert "saved=1" in page.url
    expect(page.locator(".alert.success[role=status]")).to_be_visible()
    assert stored_hours(context, hours_url) == WANTED
    assert page.input_value("#f-d2_1_from") == "14:30"
    assert_accessible(page)
    screenshot(page, "portal-hours-mobile.png")

    # Visitors see the lunch break on weekdays and the new Saturday.
    page.goto(f"/{CITY}/shops/{OPTICIAN}")
    table = page.locator("table.hours")
    expect(table).to_contain_text("09:00–13:00, 14:30–18:30")
    saturday = table.locator("tr").filter(has=page.locator("th", has_text=re.compile("^Samstag")))
    if saturday.locator("td .muted").count() == 0:  # not a public holiday this week
        assert saturday.locator("td").inner_text().strip() == "10:00–14:00"

    # Put the demo shop back as it was, through the expert field.
    page.goto(f"{hours_url}?mode=expert")
    page.fill("#f-opening_hours", original)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert stored_hours(context, hours_url) == original
