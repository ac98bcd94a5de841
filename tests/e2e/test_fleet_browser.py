"""The city checks a CSV file of touchpoints in a real Chromium: two bad rows are both reported,
nothing is stored; the fixed file is imported after confirming; the fleet shows it, on a map too."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

CITY = "musterstadt"
HEADER = "identifier;kind;name;lat;lon;placement;status;target"


def csv_file(rows: list[str]) -> dict[str, Any]:
    # Windows-1252, as older German Excel saves it.
    text = "\r\n".join([HEADER, *rows]) + "\r\n"
    return {"name": "flotte.csv", "mimeType": "text/csv", "buffer": text.encode("cp1252")}


def check(page: Any, rows: list[str]) -> None:
    page.set_input_files("#f-file", csv_file(rows))
    with page.expect_navigation():
        page.locator("form[enctype] button[type=submit]").click()


def test_a_csv_with_two_bad_rows_imports_nothing_until_fixed(
    page: Any, server: Any, log_in: Any, problems: Any, assert_accessible: Any, screenshot: Any
) -> None:
    problems.allow(r"status of 422 .*/fleet/import")
    mark = uuid.uuid4().hex[:6]
    good = f";qr;Pflaster Süd {mark};52,1049;8,7488;Gehweg;active;/{CITY}"
    bad_name = ";qr;;52,1052;8,7502;;active;/"
    bad_position = f";nfc;Tür {mark};521054;8,7510;;active;/"
    log_in(page, server.accounts["city-admin"])
    # given the import page, reached from the fleet
    page.goto(f"/console/{CITY}/fleet")
    with page.expect_navigation():
        page.locator(f"a[href='/console/{CITY}/fleet/import']").click()
    # when a file with two bad rows is checked
    check(page, [good, bad_name, bad_position])
    # then both rows are reported with their column, and nothing can be imported
    reported = page.locator(".import-problems tbody tr")
    assert reported.count() == 2
    assert reported.nth(0).locator("td").nth(0).inner_text() == "3"
    assert reported.nth(0).locator("td").nth(1).inner_text() == "name"
    assert reported.nth(1).locator("td").nth(0).inner_text() == "4"
    assert reported.nth(1).locator("td").nth(1).inner_text() == "lat"
    assert page.locator("form[action$='/fleet/import/confirm']").count() == 0
    assert_accessible(page)
    page.goto(f"/console/{CITY}/fleet?q={mark}")
    assert page.locator(".fleet-table").count() == 0  # nothing stored
    # when the fixed file is checked and the import confirmed
    page.goto(f"/console/{CITY}/fleet/import")
    check(
        page,
        [
            good,
            f";qr;Rathaus {mark};52,1052;8,7502;;active;/",
            bad_position.replace("521054", "52,1054"),
        ],
    )
    assert page.locator("#plan-h").is_visible()
    with page.expect_navigation():
        page.locator("form[action$='/fleet/import/confirm'] button[type=submit]").click()
    assert page.locator("#import-done").is_visible()
    # then all three rows are in the fleet
    page.goto(f"/console/{CITY}/fleet?q={mark}&sort=name")
    names = page.locator(".fleet-table tbody th").all_inner_texts()
    assert names == [f"Pflaster Süd {mark}", f"Rathaus {mark}", f"Tür {mark}"]


def contact(page: Any, touchpoint_id: str, ago: timedelta) -> None:
    """A beacon sighting through the ingest endpoint, as the visitor app sends it."""
    event = {
        "event_id": str(uuid.uuid4()),
        "kind": "touchpoint.contact",
        "city": CITY,
        "occurred_at": (datetime.now(UTC) - ago).isoformat(),
        "touchpoint_id": touchpoint_id,
        "channel": "beacon",
    }
    response = page.request.post("/e", data=event)
    assert response.json() == {"accepted": 1, "rejected": []}, response.text()


def test_the_fleet_by_health_in_a_table_and_on_the_map(
    page: Any, server: Any, log_in: Any, assert_accessible: Any, screenshot: Any
) -> None:
    # given three beacons heard an hour, a day and two days ago (12 h interval)
    log_in(page, server.accounts["city-admin"])
    page.goto(f"/console/{CITY}/fleet?kind=ibeacon&sort=name")
    links = page.locator(".fleet-table tbody th a")
    ids = [(links.nth(i).get_attribute("href") or "").rsplit("/", 1)[1] for i in range(3)]
    for touchpoint_id, hours in zip(ids, (1, 20, 48), strict=True):
        contact(page, touchpoint_id, timedelta(hours=hours))
    # when the fleet is sorted by health, worst first
    page.goto(f"/console/{CITY}/fleet?kind=ibeacon")
    # then the alert leads, then the warning; the healthy one sits below the never-seen
    health = page.locator(".fleet-table tbody td .health").all_inner_texts()
    assert health[0].startswith("‼")
    assert health[1].startswith("!")
    assert health[-1].startswith("✓")
    page.goto(f"/console/{CITY}/fleet")
    assert_accessible(page)
    screenshot(page, "console-fleet.png")
    # and the start page names the silent ones
    page.goto(f"/console/{CITY}")
    assert page.locator("section[aria-labelledby=silent-h] tbody tr").count() == 2
    # and the map draws a marker with the health's symbol for every touchpoint
    page.goto(f"/console/{CITY}/fleet/map")
    entries = page.locator(".fleet-list li[id^='tp-']")
    markers = page.locator(".leaflet-marker-icon")
    markers.first.wait_for()
    assert markers.count() == entries.count() > 0
    label = markers.first.get_attribute("aria-label") or ""
    assert label
    assert markers.first.locator(".fleet-pin").inner_text() in {"‼", "!", "?", "✓", "–"}
    assert_accessible(page)
    screenshot(page, "console-fleet-map.png")
