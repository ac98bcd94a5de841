""" "Near me" in a real Chromium (issue 6): the position is asked for only on the button press,
feeds the decision engine, and a refusal is explained instead of breaking."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

CITY = "musterstadt"
PHONE = {"width": 390, "height": 844}
AT_OPTICIAN = {"latitude": 52.104742, "longitude": 8.747044}  # Optik Brillenhaus Krüger
# Every call of getCurrentPosition is reported to the test (window.noteAsked, exposed below).
_COUNT_ASKS = """{
  const geo = navigator.geolocation;
  const real = geo.getCurrentPosition.bind(geo);
  geo.getCurrentPosition = (...args) => {
    window.noteAsked();
    real(...args);
  };
}"""


def test_the_position_is_asked_for_on_the_press_and_shows_what_is_near(
    new_context: Any, open_page: Any, screenshot: Any, assert_accessible: Any
) -> None:
    # given a phone standing at the optician's door, its position allowed
    context = new_context(viewport=PHONE, geolocation=AT_OPTICIAN, permissions=["geolocation"])
    page = open_page(context)
    asked: list[str] = []
    page.expose_function("noteAsked", lambda: asked.append("asked"))
    page.add_init_script(_COUNT_ASKS)
    page.goto(f"/{CITY}")
    button = page.get_by_role("button", name="Was ist in meiner Nähe?")
    expect(button).to_be_visible()
    # then opening the page asked for nothing
    assert asked == []
    # when the visitor presses the button
    with page.expect_navigation():
        button.click()
    # then the position was asked for once and the page lists what is near, nearest first
    assert asked == ["asked"]
    expect(page.locator("h1")).to_have_text("In meiner Nähe")
    first = page.locator(".near-shop").first
    expect(first.locator("h3")).to_have_text("Optik Brillenhaus Krüger")
    expect(first.locator(".distance")).to_have_text("10 m entfernt")
    expect(page.locator("#picks-h")).to_have_text("Jetzt rund um Sie")
    # and the position went in the form body, rounded, never in the address
    assert "52.10" not in page.url
    assert_accessible(page)
    screenshot(page, "nearby.png")


def test_a_refused_position_is_explained_and_nothing_is_sent(
    new_context: Any, open_page: Any
) -> None:
    # given a browser that refuses to share the position
    context = new_context(viewport=PHONE)
    page = open_page(context)
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.url.endswith("/nearby") else None)
    page.goto(f"/{CITY}")
    # when the visitor presses the button
    page.get_by_role("button", name="Was ist in meiner Nähe?").click()
    # then the page says why nothing happened, and stays
    expect(page.locator("[data-nearby-status]")).to_contain_text(
        "Ihr Browser hat Ihren Standort nicht geteilt"
    )
    assert sent == []
    expect(page.get_by_role("button", name="Was ist in meiner Nähe?")).to_be_enabled()
