"""The audit log in a real Chromium: the city admin narrows it to logins without JavaScript's
help (a GET form) and downloads exactly those lines as a spreadsheet-safe CSV."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

CITY = "musterstadt"
LOGINS = re.compile(r"^login\.")


def test_city_admin_filters_to_logins_and_downloads_the_csv(
    server: Any,
    new_context: Any,
    open_page: Any,
    problems: Any,
    log_in: Any,
    assert_accessible: Any,
    screenshot: Any,
    tmp_path: Path,
) -> None:
    # given a shop owner who mistyped their password once, then logged in
    owner = server.accounts["retailer-owner"]
    other = open_page(new_context())
    other.goto("/login")
    other.fill("#f-email", owner.email)
    other.fill("#f-password", "falsch-getippt")
    other.locator("main form button[type=submit]").click()
    expect(other.locator(".alert.error, .field-error").first).to_be_visible()
    problems.allow("401")  # the refused login answers 401 to the login form's request
    log_in(other, owner)
    # and the city admin in the console
    admin = server.accounts["city-admin"]
    page = open_page(new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True))
    log_in(page, admin)
    page.goto(f"/console/{CITY}")
    # when they open the audit log and narrow it to logins ("Anmeldungen")
    with page.expect_navigation():
        page.locator("nav.subnav a[href$='/audit']").click()
    expect(page.locator("h1")).to_have_count(1)
    page.select_option("#f-group", "logins")
    with page.expect_navigation():
        page.locator("form.audit-filters button[type=submit]").click()
    # then only logins are listed, the owner's failed one among them, by name and address
    assert "group=logins" in page.url
    codes = page.locator("table.audit-table th[scope=row] code").all_inner_texts()
    assert codes, "no entries shown"
    assert all(LOGINS.match(code) for code in codes), codes
    assert "login.failed" in codes
    assert "login.succeeded" in codes
    expect(page.locator("table.audit-table")).to_contain_text(owner.email)
    expect(page.locator("table.audit-table")).to_contain_text(admin.email)
    expect(page.locator("#f-group")).to_have_value("logins")
    assert_accessible(page)
    screenshot(page, "console-audit.png")
    # when they download what they see
    with page.expect_download() as download:
        page.locator("a[href*='audit.csv']").click()
    saved = tmp_path / "audit.csv"
    download.value.save_as(saved)
    # then the file holds those lines, readable by a spreadsheet
    raw = saved.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) - 1 >= len(codes)
    assert all(LOGINS.match(row[2]) for row in rows[1:]), rows
    assert {row[4] for row in rows[1:]} >= {admin.email}
