"""City events with registration in a real Chromium: the city admin publishes a workshop for
retailers' digitalisation in the console, a visitor registers for it from the public calendar and
keeps the cancel link, and the admin finds them in the event's participant list."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

CITY = "musterstadt"


@pytest.fixture(scope="module")
def server(
    chromium_path: str, serve_demo: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """A server of this module's own: its new event would change other tests' calendars."""
    del chromium_path
    with serve_demo(tmp_path_factory.mktemp("e2e-events")) as running:
        yield running


def test_a_visitor_registers_for_a_workshop_and_the_city_sees_them(
    new_context: Any,
    open_page: Any,
    server: Any,
    log_in: Any,
    assert_accessible: Any,
    screenshot: Any,
) -> None:
    # given the city admin on the console's events page
    admin = open_page(new_context())
    log_in(admin, server.accounts["city-admin"])
    admin.goto(f"/console/{CITY}/events")
    assert_accessible(admin)
    # when they publish a workshop with twelve places
    title = f"Workshop: Ihr Geschäft bei Google und OpenStreetMap {uuid.uuid4().hex[:4]}"
    day = (datetime.now(UTC) + timedelta(days=8)).strftime("%Y-%m-%d")
    admin.fill("#f-title", title)
    admin.fill("#f-body_html", "Wir pflegen gemeinsam **Öffnungszeiten** und Fotos.")
    admin.fill("#f-starts_at", f"{day}T18:00")
    admin.fill("#f-ends_at", f"{day}T20:00")
    admin.fill("#f-place", "Rathaus, Ratssaal")
    admin.select_option("#f-signup", "public")
    admin.fill("#f-capacity", "12")
    with admin.expect_navigation():
        admin.locator("form[action$='/events'] button[type=submit]").click()
    row = admin.locator("tbody tr", has=admin.locator("th", has_text=title))
    expect(row).to_contain_text(re.compile(r"0 (von|of) 12"))
    screenshot(admin, "console-events.png")

    # then a visitor finds it in the public calendar and registers
    visitor = open_page(new_context())
    visitor.goto(f"/{CITY}/events")
    card = visitor.locator("li.event-card", has=visitor.locator("h3", has_text=title))
    with visitor.expect_navigation():
        card.locator("a[href$='/register']").click()
    expect(visitor.locator("main h1")).to_have_text(title)
    visitor.fill("#f-name", "Greta Gast")
    visitor.fill("#f-email", "greta.gast@example.org")
    visitor.check("#f-consent")
    assert_accessible(visitor)
    with visitor.expect_navigation():
        visitor.locator("main form button[type=submit]").click()
    link = visitor.locator("a.cancel-link")
    expect(link).to_have_attribute("href", re.compile(rf"/{CITY}/registrations/[\w-]{{40,}}$"))
    assert_accessible(visitor)
    visitor.get_by_role("button", name="Ablehnen").click()  # a decline holds for this page only
    screenshot(visitor, "event-registered.png")

    # and the city admin sees them in the event's participant list
    admin.reload()
    row = admin.locator("tbody tr", has=admin.locator("th", has_text=title))
    expect(row).to_contain_text(re.compile(r"1 (von|of) 12"))
    with admin.expect_navigation():
        row.locator("a[href$='/participants']").click()
    person = admin.locator("tbody tr", has=admin.locator("th", has_text="Greta Gast"))
    expect(person).to_contain_text("greta.gast@example.org")
    expect(admin.locator("a[href$='/participants.csv']")).to_be_visible()
    assert_accessible(admin)
    screenshot(admin, "console-participants.png")

    # when the visitor cancels with the kept link, the list is empty again
    with visitor.expect_navigation():
        link.click()
    with visitor.expect_navigation():
        visitor.locator("main form button[type=submit]").click()
    expect(visitor.locator(".alert.success")).to_contain_text(title)
    admin.reload()
    expect(admin.locator("tbody tr", has=admin.locator("th", has_text="Greta Gast"))).to_have_count(
        0
    )
