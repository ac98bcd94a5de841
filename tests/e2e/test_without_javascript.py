"""The visitor pages with JavaScript switched off (issue 6: "pages that also work without
JavaScript for reading"): everything to read is there, the filters work, and where a feature
needs JavaScript the page says so instead of showing a control that does nothing."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

CITY = "musterstadt"
OPTICIAN = "optik-brillenhaus-krueger"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def reader(new_context: Any, open_page: Any) -> Any:
    return open_page(new_context(viewport=PHONE, java_script_enabled=False))


def test_the_start_page_lists_and_filters_shops_without_javascript(reader: Any) -> None:
    reader.goto(f"/{CITY}")
    everything = reader.locator(".shop-card").count()
    assert everything > 20
    # the consent banner and the "near me" button need JavaScript: neither is shown
    expect(reader.locator("#consent-banner")).to_be_hidden()
    expect(reader.locator("form[data-nearby]")).to_be_hidden()
    # the search is a plain form
    reader.get_by_role("searchbox", name="Suche").fill("Optik")
    with reader.expect_navigation():
        reader.get_by_role("button", name="Zeigen").click()
    found = reader.locator(".shop-card h2").all_inner_texts()
    assert "Optik Brillenhaus Krüger" in found
    assert len(found) < everything
    assert all("optik" in name.lower() for name in found)


def test_a_shop_page_reads_completely_without_javascript(reader: Any) -> None:
    reader.goto(f"/{CITY}/shops/{OPTICIAN}")
    expect(reader.locator("h1")).to_have_text("Optik Brillenhaus Krüger")
    expect(reader.locator("#story-h")).to_be_visible()
    expect(reader.locator("table.hours")).to_be_visible()
    expect(reader.locator("section.news li").first).to_be_visible()
    # saving a coupon is a plain form post too
    expect(reader.locator("form.save-coupon button").first).to_be_visible()


def test_pages_that_need_javascript_say_so(reader: Any) -> None:
    reader.goto(f"/{CITY}/wallet")
    expect(reader.locator("main")).to_contain_text("Die Gutscheinmappe braucht JavaScript")
    reader.goto(f"/{CITY}/privacy")
    expect(reader.locator("main")).to_contain_text("brauchen JavaScript")


def test_with_javascript_those_notes_are_gone(page: Any) -> None:
    page.goto(f"/{CITY}/wallet")
    expect(page.get_by_text("Die Gutscheinmappe braucht JavaScript")).to_be_hidden()
    page.goto(f"/{CITY}/privacy")
    expect(page.get_by_text("brauchen JavaScript")).to_be_hidden()
