"""City staff import a people-counter export in a real Chromium: two bad rows are both reported and
nothing is stored; the fixed file is imported after confirming; the counter shows its hours."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

CITY = "musterstadt"
WEST = "Passantenzähler Lange Straße West"


def csv_file(rows: list[str]) -> dict[str, Any]:
    # A German open-data export: ";" and Windows-1252 umlauts, local times.
    text = "\r\n".join(["Standort;Zeitpunkt;Wochentag;Passanten", *rows]) + "\r\n"
    return {"name": "passanten.csv", "mimeType": "text/csv", "buffer": text.encode("cp1252")}


def check(page: Any, rows: list[str]) -> None:
    page.set_input_files("#f-file", csv_file(rows))
    with page.expect_navigation():
        page.locator("form[enctype] button[type=submit]").click()


def test_a_counter_export_with_two_bad_rows_imports_nothing_until_fixed(
    page: Any, server: Any, log_in: Any, problems: Any, assert_accessible: Any
) -> None:
    problems.allow(r"status of 422 .*/footfall")
    day = 1 + uuid.uuid4().int % 28  # a day of its own in March 2023: hours not yet stored
    hour = f"{day:02d}.03.2023"
    good = [f"{WEST};{hour} 10:00;Montag;310", f"{WEST};{hour} 11:00;Montag;355"]
    log_in(page, server.accounts["city-editor"])
    # given the page, reached from the console's navigation
    page.goto(f"/console/{CITY}")
    with page.expect_navigation():
        page.locator(f"nav a[href='/console/{CITY}/footfall']").click()
    # when a file with a negative count and an unknown location is checked
    check(page, [*good, f"{WEST};{hour} 12:00;Montag;-5", f"Nirgendwo;{hour} 12:00;Montag;7"])
    # then both rows are reported with their column, and nothing can be imported
    reported = page.locator(".import-problems tbody tr")
    assert reported.count() == 2
    assert reported.nth(0).locator("td").all_inner_texts()[:2] == ["4", "Passanten"]
    assert reported.nth(1).locator("td").all_inner_texts()[:2] == ["5", "Standort"]
    assert "Passantenzähler Lange Straße Ost" in reported.nth(1).inner_text()
    assert page.locator("form[action$='/footfall/confirm']").count() == 0
    assert page.locator("#f-file").get_attribute("aria-invalid") == "true"
    assert_accessible(page)
    # and the file input, a keyboard's Tab away from the problems' link, names them
    assert "problems-h" in (page.locator("#f-file").get_attribute("aria-describedby") or "")
    # when the fixed file is checked and the import confirmed
    check(page, good)
    assert page.locator("#plan-h").is_visible()
    assert "Windows-1252" in page.locator("section[aria-labelledby=plan-h]").inner_text()
    with page.expect_navigation():
        page.locator("form[action$='/footfall/confirm'] button[type=submit]").click()
    # then the import says what it stored, and the counter has counts
    assert page.locator("#import-done").is_visible()
    assert "2" in page.locator("#import-done").inner_text()
    row = page.locator("section[aria-labelledby=counters-h] tbody tr", has_text=WEST)
    assert row.locator("time").count() == 2
    assert_accessible(page)
