"""The newcomer journey in a real Chromium (issue 6, must-hold (a)): a visitor opens the start page,
declines and later accepts consent, finds the optician, saves a coupon, goes offline, opens the
wallet and comes back online — and every event the app made arrives at the server exactly once,
the one made offline included, with the visitor id only after consent."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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

    # and every event the app made is stored exactly once; the offline one was sent once
    made = wire.ids()
    assert offline_id in made
    # (the page may see its last answer a moment before Playwright hands it to this test)
    for _ in range(50):
        if set(wire.acknowledged) >= made:
            break
        page.wait_for_timeout(100)
    # (an event whose answer was lost with a page left while its request was under way is sent
    # again by the next page: at least once on the wire, and the server stores an event_id once)
    assert set(wire.acknowledged) == made
    assert Counter(wire.acknowledged)[offline_id] == 1
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


# --- the queue's rules: old events are dropped, a busy server is asked again later --------------

_PUT_OLD = """async ([name, event]) => {
  const db = await new Promise((done, fail) => {
    const opening = indexedDB.open(name, 1);
    opening.onupgradeneeded = () =>
      opening.result.createObjectStore("events", { keyPath: "event_id" });
    opening.onsuccess = () => done(opening.result);
    opening.onerror = () => fail(opening.error);
  });
  await new Promise((done) => {
    const tx = db.transaction("events", "readwrite");
    tx.objectStore("events").put(event);
    tx.oncomplete = done;
  });
  db.close();
}"""


def consenting_visitor(new_context: Any, open_page: Any) -> tuple[Any, Any, str]:
    # Without the service worker: requests that pass through it escape page.route.
    context = new_context(viewport=PHONE, service_workers="block")
    page = open_page(context)
    page.goto(f"/{CITY}")
    with page.expect_response("**/api/v1/visitor/consent"):
        page.locator("#consent-banner").get_by_role("button", name="Zustimmen").click()
    # the banner closes only after the device has kept the record
    expect(page.locator("#consent-banner")).to_be_hidden()
    visitor: str = page.evaluate("JSON.parse(localStorage.getItem('marktplatz.consent')).visitor")
    return context, page, visitor


def test_events_older_than_seven_days_are_dropped_unsent(
    server: Any, new_context: Any, open_page: Any, delivered: Any
) -> None:
    # given a consenting visitor whose device still holds an event of eight days ago
    context, page, visitor = consenting_visitor(new_context, open_page)
    old = {
        "event_id": str(uuid.uuid4()),
        "kind": "page.view",
        "city": CITY,
        "occurred_at": (datetime.now(UTC) - timedelta(days=8)).isoformat(),
        "path": f"/{CITY}",
        "channel": "web",
        "visitor": visitor,
    }
    page.evaluate(_PUT_OLD, [QUEUE, old])
    wire = Wire()
    context.on("request", wire.on_request)
    # when the app sends what waits (on the next page)
    page.goto(f"/{CITY}/shops/{OPTICIAN}")
    delivered(page)
    # then the old event is gone from the device and was never sent; the new page view was
    assert old["event_id"] not in wire.ids()
    assert [e["path"] for e in wire.sent if e["kind"] == "page.view"] == [
        f"/{CITY}/shops/{OPTICIAN}"
    ]
    assert page.evaluate(_QUEUED, QUEUE) == []
    assert stored(server, {old["event_id"]}) == []


def test_a_busy_server_is_asked_again_later_and_gets_each_event_once(
    server: Any, new_context: Any, open_page: Any, problems: Any, delivered: Any
) -> None:
    problems.allow(r"status of 503")
    # given a consenting visitor and a server that is busy twice
    context, page, _ = consenting_visitor(new_context, open_page)
    delivered(page)
    tries: list[float] = []

    def busy_twice(route: Any) -> None:
        tries.append(time.monotonic())
        if len(tries) <= 2:
            route.fulfill(status=503, headers={"retry-after": "1"}, body='{"detail": "busy"}')
        else:
            route.continue_()

    page.route("**/e", busy_twice)
    wire = Wire()
    context.on("response", wire.on_response)
    # when they open a page
    page.goto(f"/{CITY}/wallet")
    # then its page view waits on the device and goes once the server takes it
    deadline = time.monotonic() + 20
    while len(tries) < 3 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    delivered(page)
    assert len(tries) == 3
    # and the tries were spread out: at least Retry-After (1 s) apart, the second wait longer
    first_wait, second_wait = tries[1] - tries[0], tries[2] - tries[1]
    assert first_wait >= 0.9
    assert second_wait >= 0.9
    assert second_wait >= first_wait * 1.2
    assert Counter(wire.acknowledged).most_common(1)[0][1] == 1


def test_a_withdrawal_in_another_tab_leaves_no_queue_behind(
    new_context: Any, open_page: Any, delivered: Any
) -> None:
    # given a consenting visitor with the optician's page open in one tab
    context, first, visitor = consenting_visitor(new_context, open_page)
    first.goto(f"/{CITY}/shops/{OPTICIAN}")
    delivered(first)
    assert QUEUE in [d["name"] for d in first.evaluate("indexedDB.databases()")]
    # when they withdraw in a second tab
    second = open_page(context)
    second.goto(f"/{CITY}/privacy")
    with second.expect_response("**/api/v1/visitor/consent"):
        second.get_by_role("button", name="Alle Einwilligungen widerrufen").click()
    # and the first tab then records more (an offer scrolled into view, a second page view)
    first.locator("section.news li").first.scroll_into_view_if_needed()
    first.wait_for_timeout(1500)
    first.evaluate("window.dispatchEvent(new Event('online'))")
    first.wait_for_timeout(300)
    # then no tab has a queue any more, and nothing the first tab sent carries the id
    for page in (first, second):
        names = [d["name"] for d in page.evaluate("indexedDB.databases()")]
        assert QUEUE not in names
    sent_after: list[str] = []
    first.on(
        "request", lambda r: sent_after.append(r.post_data or "") if r.url.endswith("/e") else None
    )
    first.locator("section.news li").last.scroll_into_view_if_needed()
    first.wait_for_timeout(1500)
    assert not [body for body in sent_after if visitor in body]
