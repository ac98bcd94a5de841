"""The newcomer journey in a real Chromium (issue 6, must-hold (a)): a visitor opens the start page,
declines and later accepts consent, finds the optician, saves a coupon, goes offline, opens the
wallet and comes back online — and every event the app made arrives at the server exactly once,
the one made offline included, with the visitor id only after consent."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

CITY = "musterstadt"
OPTICIAN = "optik-brillenhaus-krueger"
PHONE = {"width": 390, "height": 844}
QUEUE = "marktplatz-queue"

# The events waiting on the device (journey.js keeps them in IndexedDB only with consent).
_QUEUED = """async (name) => {
  if (!(await indexedDB.databases()).some((d) => d.name === name)) return [];
  const db = await new Promise((done, fail) => {
    const opening = indexedDB.open(name);
    opening.onsuccess = () => done(opening.result);
    opening.onerror = () => fail(opening.error);
  });
  try {
    return await new Promise((done) => {
      const all = db.transaction("events").objectStore("events").getAll();
      all.onsuccess = () => done(all.result);
    });
  } finally {
    db.close();
  }
}"""


@dataclass
class Wire:
    """Every event the pages sent to POST /e, and which of those sends the server acknowledged."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)

    def on_request(self, request: Any) -> None:
        if request.method == "POST" and request.url.endswith("/e"):
            self.sent.extend(json.loads(request.post_data or "[]"))

    def on_response(self, response: Any) -> None:
        request = response.request
        if request.method == "POST" and request.url.endswith("/e") and response.status == 200:
            self.acknowledged.extend(e["event_id"] for e in json.loads(request.post_data or "[]"))

    def ids(self) -> set[str]:
        return {e["event_id"] for e in self.sent}


def stored(server: Any, ids: set[str]) -> list[dict[str, Any]]:
    """The stored events among `ids` (SQLite keeps UUIDs as 32 hex digits), oldest first."""
    wanted = {uuid.UUID(i).hex for i in ids}
    with closing(sqlite3.connect(server.var_dir / "marktplatz.sqlite3")) as conn:
        conn.row_factory = sqlite3.Row
        found = conn.execute(
            "SELECT event_id, kind, path, content_id, pseudonym, occurred_at FROM events "
            "ORDER BY occurred_at"
        )
        return [
            {**row, "event_id": str(uuid.UUID(row["event_id"]))}
            for row in map(dict, found)
            if row["event_id"] in wanted
        ]


def saves_of(server: Any, pseudonym: str) -> int:
    with closing(sqlite3.connect(server.var_dir / "marktplatz.sqlite3")) as conn:
        query = "SELECT count(*) FROM events WHERE kind = 'content.saved' AND pseudonym = ?"
        count: int = conn.execute(query, (pseudonym,)).fetchone()[0]
        return count


def test_the_newcomer_journey_delivers_every_event_exactly_once(
    server: Any,
    service_worker: None,
    new_context: Any,
    open_page: Any,
    problems: Any,
    controlled: Any,
    delivered: Any,
) -> None:
    problems.allow(r"ERR_INTERNET_DISCONNECTED|Failed to fetch|net::")
    wire = Wire()
    context = new_context(viewport=PHONE)
    context.on("request", wire.on_request)
    context.on("response", wire.on_response)
    page = open_page(context)

    # given a newcomer on the start page, who declines
    page.goto(f"/{CITY}")
    banner = page.locator("#consent-banner")
    banner.get_by_role("button", name="Ablehnen").click()
    expect(banner).to_be_hidden()

    # when they look for an optician, and accept on the next page
    page.get_by_role("searchbox", name="Suche").fill("Optik")
    with page.expect_navigation():
        page.get_by_role("button", name="Zeigen").click()
    with page.expect_response("**/api/v1/visitor/consent"):
        banner.get_by_role("button", name="Zustimmen").click()
    expect(banner).to_be_hidden()
    visitor = page.evaluate("JSON.parse(localStorage.getItem('marktplatz.consent')).visitor")
    page.get_by_role("link", name="Optik Brillenhaus Krüger").click()
    expect(page.locator("h1")).to_have_text("Optik Brillenhaus Krüger")

    # and save the coupon of its free eye test
    offer = page.locator("section.news li", has=page.locator("form.save-coupon")).first
    with page.expect_navigation():
        offer.locator("form.save-coupon button").click()
    code = page.locator(".coupon-code").inner_text()
    controlled(page)
    page.goto(f"/{CITY}/wallet")
    expect(page.locator(".wallet-coupon", has_text=code)).to_be_visible()
    delivered(page)

    # when the network goes and they open the wallet again
    context.set_offline(True)
    page.reload()
    expect(page.locator(".wallet-coupon", has_text=code)).to_be_visible()
    # then the page view waits on the device, with the visitor id (they consented)
    waiting: list[dict[str, Any]] = []
    for _ in range(50):
        waiting = page.evaluate(_QUEUED, QUEUE)
        if waiting:
            break
        page.wait_for_timeout(100)
    assert [(e["kind"], e["path"], e["visitor"]) for e in waiting] == [
        ("page.view", f"/{CITY}/wallet", visitor)
    ]
    offline_id = waiting[0]["event_id"]

    # when the network is back
    context.set_offline(False)
    # then the app sends what waited, and the queue is empty
    delivered(page)
    expect(page.locator(".wallet-coupon", has_text=code)).to_be_visible()

    # and every event the app made is stored exactly once, none acknowledged twice
    made = wire.ids()
    assert offline_id in made
    twice = [i for i, n in Counter(wire.acknowledged).items() if n > 1]
    assert twice == []
    assert set(wire.acknowledged) == made
    rows = stored(server, made)
    assert sorted(r["event_id"] for r in rows) == sorted(made)

    # and the page views tell the journey, with the visitor id only after consent
    views = [(r["path"], r["pseudonym"]) for r in rows if r["kind"] == "page.view"]
    assert views == [
        (f"/{CITY}", None),  # the start page, before any choice
        (f"/{CITY}", None),  # the search for "Optik", sent before they accepted
        (f"/{CITY}/shops/{OPTICIAN}", visitor),
        (f"/{CITY}/coupons", visitor),
        (f"/{CITY}/wallet", visitor),
        (f"/{CITY}/wallet", visitor),  # offline, sent once the network was back
    ]
    assert next(r for r in rows if r["event_id"] == offline_id)["pseudonym"] == visitor
    # and the viewed offers name content of the optician's page only
    viewed = {r["content_id"] for r in rows if r["kind"] == "content.viewed"}
    assert viewed == {e["content_id"] for e in wire.sent if e["kind"] == "content.viewed"}
    # and the save itself was recorded by the server, under the visitor's id
    assert saves_of(server, visitor) == 1
