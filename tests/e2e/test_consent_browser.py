"""Consent in a real Chromium (§ 25 TDDDG, issue 6 must-hold (b)): before a choice and after
declining, the device stores nothing and no request carries an identifier; a grant is recorded
by the server before the device keeps it; withdrawal and erasure in the privacy centre clear the
device at once, and the server's records say so."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from marktplatz.domain.consent import CONSENT_TEXT_VERSION

pytestmark = pytest.mark.e2e

CITY = "musterstadt"
SHOP = "optik-brillenhaus-krueger"  # its offer "Gratis-Sehtest …" carries a coupon
PHONE = {"width": 390, "height": 844}
NARROW = 320
KEY = "marktplatz.consent"
WALLET = "marktplatz.wallet"
# A visitor id: 32 hex digits on their own (asset names carry 12, UUIDs have dashes).
VISITOR_ID = re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{32}(?![0-9a-fA-F])")
# Workbox names the build's own revision of a precached file (an MD5 of its content, the same
# on every device): not an identifier, so it is taken out before searching for one.
_REVISION = re.compile(r"__WB_REVISION__=[0-9a-f]+")


def carries_an_id(text: str) -> bool:
    return VISITOR_ID.search(_REVISION.sub("", text)) is not None


SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

# Everything a page can keep on the device, read from inside the page. IndexedDB databases are
# dumped whole (opening only those that exist: opening another would create it); Cache Storage
# by the URLs it keeps.
_DEVICE = """async () => {
  const dump = (name) => new Promise((done, fail) => {
    const opening = indexedDB.open(name);
    opening.onerror = () => fail(opening.error);
    opening.onsuccess = async () => {
      const db = opening.result;
      const stores = {};
      for (const store of db.objectStoreNames) {
        stores[store] = await new Promise((got) => {
          const all = db.transaction(store).objectStore(store).getAll();
          all.onsuccess = () => got(all.result);
        });
      }
      db.close();
      done(stores);
    };
  });
  const indexeddb = {};
  for (const { name } of await indexedDB.databases()) indexeddb[name] = await dump(name);
  const caches_ = {};
  for (const name of await caches.keys()) {
    caches_[name] = (await (await caches.open(name)).keys()).map((r) => r.url);
  }
  return {
    local: Object.fromEntries(Object.entries(localStorage)),
    session: Object.fromEntries(Object.entries(sessionStorage)),
    indexeddb,
    caches: caches_,
    cookie: document.cookie,
  };
}"""
# The service worker (frontend/build-sw.mjs) keeps the pages and assets a visitor opened in the
# Cache Storage only: no IndexedDB database may exist before consent (docs/privacy.md).
SERVICE_WORKER_DATABASES: set[str] = set()


@dataclass
class Requests:
    """Every request a page made: URL, headers and body, to search for an identifier."""

    seen: list[str] = field(default_factory=list)

    def record(self, request: Any) -> None:
        self.seen.append(
            f"{request.method} {request.url}\n{json.dumps(request.headers)}\n"
            f"{request.post_data or ''}"
        )

    def carrying_an_id(self) -> list[str]:
        return [r for r in self.seen if carries_an_id(r)]

    def to(self, path: str) -> list[str]:
        return [r for r in self.seen if r.startswith("POST ") and path in r.split("\n")[0]]


@pytest.fixture
def requests() -> Requests:
    return Requests()


@pytest.fixture
def visitor(new_context: Any, open_page: Any, requests: Requests) -> Any:
    """A German visitor's phone, every request recorded."""
    context = new_context(viewport=PHONE)
    context.on("request", requests.record)  # the pages' requests and the service worker's
    return open_page(context)


def device(page: Any) -> dict[str, Any]:
    found: dict[str, Any] = page.evaluate(_DEVICE)
    found["cookies"] = page.context.cookies()
    return found


def assert_nothing_stored(page: Any) -> None:
    """No key, no cookie, no database of our own; the service worker's caches hold no id."""
    found = device(page)
    assert (found["local"], found["session"], found["cookie"], found["cookies"]) == ({}, {}, "", [])
    assert set(found["indexeddb"]) <= SERVICE_WORKER_DATABASES, found["indexeddb"]
    kept = json.dumps([found["indexeddb"], found["caches"]])
    assert not carries_an_id(kept), kept


def consent_record(page: Any) -> dict[str, Any] | None:
    found: dict[str, Any] | None = page.evaluate(f"JSON.parse(localStorage.getItem('{KEY}'))")
    return found


def kept_consent(page: Any, seconds: float = 10.0) -> dict[str, Any]:
    """The record the device keeps once the server has answered.

    The script writes it after it has read the answer's body, a moment after the response
    event the test waited for, so this waits for it rather than reading it at once.
    """
    deadline = time.monotonic() + seconds
    while (found := consent_record(page)) is None:
        assert time.monotonic() < deadline, "the device kept no consent record"
        page.wait_for_timeout(50)
    return found


def rows(server: Any, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(server.var_dir / "marktplatz.sqlite3")) as conn:
        return list(conn.execute(sql, args))


def latest_consent(server: Any, pseudonym: str) -> dict[str, bool]:
    found = rows(
        server,
        "SELECT purpose, granted FROM consents WHERE pseudonym = ? ORDER BY at, id",
        pseudonym,
    )
    return {purpose: bool(granted) for purpose, granted in found}


def banner(page: Any) -> Any:
    return page.locator("#consent-banner")


def accept(page: Any) -> dict[str, Any]:
    """Press "Accept" in the banner; the server's answer, then the record the device keeps."""
    with page.expect_response("**/api/v1/visitor/consent") as answered:
        banner(page).get_by_role("button", name="Zustimmen").click()
    assert answered.value.status == 200
    expect(banner(page)).to_be_hidden()
    return kept_consent(page)


def privacy_centre(page: Any) -> Any:
    page.goto(f"/{CITY}/privacy")
    centre = page.locator("#privacy-centre")
    expect(centre).to_be_visible()
    return centre


def viewport_screenshot(page: Any, name: str) -> None:
    """What a phone shows first (the fixture `screenshot` takes the whole, long page)."""
    if os.environ.get("MARKTPLATZ_SCREENSHOTS") != "1":
        return
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / name), animations="disabled", caret="hide")


# --- before a choice, declining, accepting, withdrawing -----------------------------------------


def test_nothing_is_stored_or_sent_before_consent_nor_after_declining_it(
    server: Any, visitor: Any, requests: Requests
) -> None:
    # given a visitor who opens the start page and a shop page
    visitor.goto(f"/{CITY}")
    expect(banner(visitor)).to_be_visible()
    assert_nothing_stored(visitor)
    visitor.goto(f"/{CITY}/shops/{SHOP}")
    visitor.wait_for_load_state("networkidle")
    # then before any choice the device holds nothing and no request carries an id
    expect(banner(visitor)).to_be_visible()
    assert_nothing_stored(visitor)
    assert requests.carrying_an_id() == []

    # when they decline
    banner(visitor).get_by_role("button", name="Ablehnen").click()
    # then the banner goes, the focus moves to the page, and still nothing is kept or sent
    expect(banner(visitor)).to_be_hidden()
    assert visitor.evaluate("document.activeElement.id") == "main"
    assert_nothing_stored(visitor)
    assert requests.to("/api/v1/visitor/") == []
    # and, as no "declined" flag is kept either, the next page asks again
    visitor.goto(f"/{CITY}")
    visitor.wait_for_load_state("networkidle")
    expect(banner(visitor)).to_be_visible()
    assert_nothing_stored(visitor)
    assert requests.carrying_an_id() == []


def test_accepting_records_consent_first_and_withdrawing_clears_the_device(
    server: Any, visitor: Any, requests: Requests
) -> None:
    # given a visitor on the start page
    visitor.goto(f"/{CITY}")
    # when they accept
    kept = accept(visitor)
    # then the server was asked once, and the device keeps one record made of random values
    assert len(requests.to("/api/v1/visitor/consent")) == 1
    assert VISITOR_ID.fullmatch(kept["visitor"])
    assert len(kept["secret"]) >= 32
    assert kept["secret"] != kept["visitor"]
    assert kept["purposes"] == {"analytics": True, "personalisation": True}
    assert kept["version"] == CONSENT_TEXT_VERSION
    assert list(device(visitor)["local"]) == [KEY]
    assert latest_consent(server, kept["visitor"]) == {"analytics": True, "personalisation": True}
    # and the banner stays away on the next page
    visitor.goto(f"/{CITY}/shops/{SHOP}")
    expect(banner(visitor)).to_be_hidden()

    # when they withdraw everything in the privacy centre
    centre = privacy_centre(visitor)
    expect(centre.locator("[data-device-consent]")).to_contain_text(kept["visitor"])
    with visitor.expect_response("**/api/v1/visitor/consent") as answered:
        centre.get_by_role("button", name="Alle Einwilligungen widerrufen").click()
    assert answered.value.status == 200
    # then the device forgets the id at once, and says so
    expect(centre.locator("[data-status]")).to_have_text(
        "Ihre Einwilligung ist widerrufen, und dieses Gerät speichert keine Besucher-ID mehr."
    )
    assert_nothing_stored(visitor)
    expect(centre.locator("[data-device-consent]")).to_have_text(
        "Nichts: Sie haben auf diesem Gerät in nichts eingewilligt."
    )
    # and the server's latest record per purpose says withdrawn
    assert latest_consent(server, kept["visitor"]) == {"analytics": False, "personalisation": False}
    # and the next visitor page asks again, with nothing sent that carries the old id
    sent_before = len(requests.seen)
    visitor.goto(f"/{CITY}")
    visitor.wait_for_load_state("networkidle")
    expect(banner(visitor)).to_be_visible()
    assert [r for r in requests.seen[sent_before:] if kept["visitor"] in r] == []


def test_choosing_per_purpose_grants_only_what_was_ticked(
    server: Any, visitor: Any, requests: Requests
) -> None:
    # given a visitor who opens "Choose per purpose" by keyboard
    visitor.goto(f"/{CITY}")
    summary = banner(visitor).locator("summary")
    summary.focus()
    visitor.keyboard.press("Enter")
    # then nothing is ticked in advance
    boxes = banner(visitor).locator("input[type=checkbox]")
    expect(boxes).to_have_count(2)
    assert [boxes.nth(i).is_checked() for i in range(2)] == [False, False]
    # when they tick analytics only and save
    banner(visitor).get_by_label(
        "Statistik: Besuche zählen und sehen, welche Angebote ankommen"
    ).check()
    with visitor.expect_response("**/api/v1/visitor/consent") as answered:
        banner(visitor).get_by_role("button", name="Meine Auswahl speichern").click()
    assert answered.value.ok
    # then only analytics is granted, on the device and on the server
    kept = kept_consent(visitor)
    assert kept["purposes"] == {"analytics": True, "personalisation": False}
    assert latest_consent(server, kept["visitor"]) == {"analytics": True, "personalisation": False}
    sent = json.loads(requests.to("/api/v1/visitor/consent")[0].split("\n", 2)[2])
    assert sent["purposes"] == {"analytics": True, "personalisation": False}
    assert sent["text_version"] == CONSENT_TEXT_VERSION


def test_saving_nothing_ticked_is_a_decline(visitor: Any, requests: Requests) -> None:
    # given
    visitor.goto(f"/{CITY}")
    banner(visitor).locator("summary").click()
    # when the visitor saves without ticking anything
    banner(visitor).get_by_role("button", name="Meine Auswahl speichern").click()
    # then it is a decline: nothing kept, nothing sent
    expect(banner(visitor)).to_be_hidden()
    assert_nothing_stored(visitor)
    assert requests.to("/api/v1/visitor/") == []


def test_a_failed_grant_stores_nothing(visitor: Any, problems: Any) -> None:
    problems.allow(r"status of 503|Failed to load resource")
    # given a server that does not record the consent
    visitor.route("**/api/v1/visitor/consent", lambda route: route.fulfill(status=503, body="down"))
    visitor.goto(f"/{CITY}")
    # when the visitor accepts
    banner(visitor).get_by_role("button", name="Zustimmen").click()
    # then the banner says so and the device keeps nothing
    expect(banner(visitor).locator("[role=alert]")).to_be_visible()
    assert_nothing_stored(visitor)
    expect(banner(visitor)).to_be_visible()


def test_a_withdrawal_the_server_did_not_get_stops_the_id_at_once(
    visitor: Any, problems: Any
) -> None:
    problems.allow(r"status of 503|Failed to load resource")
    # given a consenting visitor in the privacy centre, and a server that does not answer
    visitor.goto(f"/{CITY}")
    kept = accept(visitor)
    centre = privacy_centre(visitor)
    visitor.route("**/api/v1/visitor/consent", lambda route: route.fulfill(status=503, body="down"))
    # when they withdraw
    centre.get_by_role("button", name="Alle Einwilligungen widerrufen").click()
    # then the page says it failed; the id is granted for nothing any more, and only the
    # secret stays to try again
    expect(centre.locator("[data-status]")).to_contain_text("Das hat nicht geklappt")
    left = consent_record(visitor)
    assert left == {**kept, "purposes": {"analytics": False, "personalisation": False}}


# --- the coupon, export and erasure ------------------------------------------------------------


def save_the_coupon(page: Any) -> str:
    page.goto(f"/{CITY}/shops/{SHOP}")
    item = page.locator("section.news li", has=page.locator("form.save-coupon"))
    with page.expect_navigation():
        item.first.locator("form.save-coupon button").click()
    code: str = page.locator(".coupon-code").inner_text()
    return code


def test_a_consenting_visitor_exports_and_erases_and_keeps_the_coupons(
    server: Any, visitor: Any, requests: Requests, delivered: Any
) -> None:
    # given a visitor who accepted, saved a coupon and was counted on a page view
    visitor.goto(f"/{CITY}")
    kept = accept(visitor)
    pseudonym = kept["visitor"]
    code = save_the_coupon(visitor)
    saves = [r for r in requests.seen if r.startswith(f"POST {server.base_url}/{CITY}/coupons")]
    assert len(saves) == 1
    assert f"visitor={pseudonym}" in saves[0]
    assert rows(server, "SELECT count(*) FROM coupons WHERE pseudonym = ?", pseudonym) == [(1,)]
    assert rows(server, "SELECT count(*) FROM visitors WHERE pseudonym = ?", pseudonym) == [(1,)]

    # when they open the privacy centre
    centre = privacy_centre(visitor)
    # (the app's own page views since consent, this one's included, have arrived)
    delivered(visitor)
    kinds = "SELECT DISTINCT kind FROM events WHERE pseudonym = ?"
    assert {"content.saved", "page.view"} <= {k for (k,) in rows(server, kinds, pseudonym)}
    recorded = rows(server, "SELECT count(*) FROM events WHERE pseudonym = ?", pseudonym)[0][0]
    # then it shows what this device keeps
    expect(centre.locator("[data-device-coupons]")).to_have_text("1")
    expect(centre.locator("[data-device-consent]")).to_contain_text(pseudonym)
    # and exports the server's data with the device's, without the secret
    with visitor.expect_download() as downloading:
        centre.get_by_role("button", name="Meine Daten exportieren").click()
    exported = json.loads(Path(downloading.value.path()).read_text())
    assert exported["server"]["visitor"]["pseudonym"] == pseudonym
    assert len(exported["server"]["events"]) == recorded
    assert {"content.saved", "page.view"} <= {e["kind"] for e in exported["server"]["events"]}
    assert len(exported["server"]["coupons"]) == 1
    assert exported["device"]["consent"]["visitor"] == pseudonym
    assert "secret" not in exported["device"]["consent"]
    assert [c["code"] for c in exported["device"]["wallet"]] == [code]
    assert kept["secret"] not in json.dumps(exported)

    # when they erase, leaving "also remove the coupons" unticked (the default)
    assert not centre.get_by_label(
        "Auch die auf diesem Gerät gespeicherten Gutscheine entfernen"
    ).is_checked()
    visitor.once("dialog", lambda dialog: dialog.accept())
    with visitor.expect_response("**/api/v1/visitor/erase") as answered:
        centre.get_by_role("button", name="Meine Daten löschen").click()
    assert answered.value.status == 200
    # then the device forgets the id at once and keeps only the coupon
    expect(centre.locator("[data-status]")).to_contain_text(
        "Ihre Daten sind auf dem Server gelöscht"
    )
    assert list(device(visitor)["local"]) == [WALLET]
    expect(centre.locator("[data-device-coupons]")).to_have_text("1")
    # and the server keeps no event and no visitor row for the id; the coupon names nobody
    assert rows(server, "SELECT count(*) FROM events WHERE pseudonym = ?", pseudonym) == [(0,)]
    assert rows(server, "SELECT count(*) FROM visitors WHERE pseudonym = ?", pseudonym) == [(0,)]
    assert rows(server, "SELECT count(*) FROM coupons WHERE pseudonym = ?", pseudonym) == [(0,)]
    assert rows(server, "SELECT count(*) FROM consents WHERE pseudonym = ?", pseudonym) == [(0,)]


def test_withdrawing_can_remove_the_coupons_too(visitor: Any) -> None:
    # given a consenting visitor with a coupon in the wallet
    visitor.goto(f"/{CITY}")
    accept(visitor)
    save_the_coupon(visitor)
    centre = privacy_centre(visitor)
    # when they tick "also remove the coupons" and withdraw
    centre.get_by_label("Auch die auf diesem Gerät gespeicherten Gutscheine entfernen").check()
    with visitor.expect_response("**/api/v1/visitor/consent"):
        centre.get_by_role("button", name="Alle Einwilligungen widerrufen").click()
    # then the device holds nothing at all
    expect(centre.locator("[data-status]")).to_contain_text("auch entfernt")
    assert_nothing_stored(visitor)


def test_without_analytics_a_saved_coupon_carries_no_id(
    server: Any, visitor: Any, requests: Requests
) -> None:
    # given a visitor who grants personalisation only
    visitor.goto(f"/{CITY}")
    banner(visitor).locator("summary").click()
    banner(visitor).get_by_label("Personalisierung: Angebote nach meinen Interessen").check()
    with visitor.expect_response("**/api/v1/visitor/consent"):
        banner(visitor).get_by_role("button", name="Meine Auswahl speichern").click()
    kept = kept_consent(visitor)
    # when they save a coupon
    save_the_coupon(visitor)
    # then the save carries no id
    saves = [r for r in requests.seen if r.startswith(f"POST {server.base_url}/{CITY}/coupons")]
    assert len(saves) == 1
    assert "visitor=" not in saves[0]
    assert kept["visitor"] not in saves[0]


# --- the banner itself: equal weight, keyboard, small screens, axe ------------------------------


def test_the_banner_is_fair_accessible_and_fits_a_phone(
    visitor: Any, assert_accessible: Any, reflows_at_320: Any
) -> None:
    # given a visitor's phone on the start page
    visitor.goto(f"/{CITY}")
    expect(banner(visitor)).to_be_visible()
    yes = banner(visitor).get_by_role("button", name="Zustimmen")
    no = banner(visitor).get_by_role("button", name="Ablehnen")
    # then "Accept" and "Decline" look the same: same class, size and colours
    style = """(el) => {
      const s = getComputedStyle(el);
      return [el.className, s.backgroundColor, s.color, s.fontSize, s.fontWeight, s.border];
    }"""
    assert yes.evaluate(style) == no.evaluate(style)
    a, b = yes.bounding_box(), no.bounding_box()
    assert (a["width"], a["height"]) == (b["width"], b["height"])
    assert a["y"] == b["y"]  # side by side: neither is hidden below the other
    # and the banner is a labelled region, reached with Tab before the page
    assert banner(visitor).get_attribute("aria-labelledby") == "consent-h"
    visitor.keyboard.press("Tab")  # the skip link
    for _ in range(3):
        visitor.keyboard.press("Tab")
        if visitor.evaluate("document.activeElement.dataset.consentAccept !== undefined"):
            break
    assert visitor.evaluate("document.activeElement.textContent") == "Zustimmen"
    visitor.keyboard.press("Tab")
    assert visitor.evaluate("document.activeElement.textContent") == "Ablehnen"
    # and nothing of it is wider than a 320 px screen; axe-core finds nothing serious
    assert reflows_at_320(visitor) <= NARROW
    assert_accessible(visitor)
    visitor.evaluate("document.activeElement.blur()")
    viewport_screenshot(visitor, "visitor-consent-banner-mobile.png")


def test_the_privacy_centre_is_accessible_in_both_languages(
    new_context: Any, open_page: Any, assert_accessible: Any, screenshot: Any, reflows_at_320: Any
) -> None:
    # given a consenting German visitor
    page = open_page(new_context(viewport=PHONE))
    page.goto(f"/{CITY}")
    kept = accept(page)
    # when they open the privacy centre
    centre = privacy_centre(page)
    # then it shows the choice as kept, and passes axe-core at phone size and at 320 px
    assert centre.get_by_label(
        "Statistik: Besuche zählen und sehen, welche Angebote ankommen"
    ).is_checked()
    expect(centre.locator("[data-device-consent]")).to_contain_text(kept["visitor"])
    expect(banner(page)).to_be_hidden()
    assert reflows_at_320(page) <= NARROW
    assert_accessible(page)
    screenshot(page, "visitor-privacy-mobile.png")
    # and an English visitor reads it in English
    english = open_page(new_context(viewport=PHONE))
    english.goto(f"/{CITY}/privacy?lang=en")
    assert english.locator("main h1").inner_text() == "Privacy centre"
    expect(english.locator("[data-device-consent]")).to_have_text(
        "Nothing: you have not agreed to anything on this device."
    )
    english.goto(f"/{CITY}?lang=en")
    expect(banner(english).locator("h2")).to_have_text("May we count visits and tailor offers?")
    assert_accessible(english)
