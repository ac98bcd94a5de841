"""The visitor app without a network (issue 6, first part): the service worker keeps the pages a
visitor opened and shows an offline page for the others; portal pages are never kept."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from marktplatz.web.i18n import LANG_COOKIE

pytestmark = pytest.mark.e2e

CITY = "musterstadt"


def test_pages_opened_before_open_offline_and_others_say_so(
    service_worker: None, new_context: Any, open_page: Any, problems: Any, controlled: Any
) -> None:
    problems.allow(r"ERR_INTERNET_DISCONNECTED|Failed to fetch|net::")
    # given a visitor who opened the start page and a shop page with the service worker running
    context = new_context(viewport={"width": 390, "height": 844})
    page = open_page(context)
    page.goto(f"/{CITY}")
    controlled(page)
    page.goto(f"/{CITY}/shops/optik-brillenhaus-krueger")
    expect(page.locator("h1")).to_have_text("Optik Brillenhaus Krüger")
    # when the network is gone
    context.set_offline(True)
    # then the shop page opened before is still there
    page.reload()
    expect(page.locator("h1")).to_have_text("Optik Brillenhaus Krüger")
    # and a page never opened shows the offline page instead of the browser's error
    page.goto(f"/{CITY}/shops/cafe-kraenzchen")
    expect(page.locator("h1")).to_have_text("Sie sind offline")
    context.set_offline(False)


# Until the service worker keeps the page the browser shows and its stylesheet, at most 10 s:
# it caches them a moment after it became active (app.js asks it to). A page that is never kept
# is left to the test's own assertion offline, which then names what is shown instead.
_KEPT = """async () => {
  const sheet = document.querySelector("link[rel=stylesheet]").href;
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    if ((await caches.match(location.href)) && (await caches.match(sheet))) return true;
    await new Promise((done) => setTimeout(done, 100));
  }
  return false;
}"""
# A colour of the shell's own stylesheet (static/css/site.css): the page is styled, not bare.
_SHELL_STYLED = "() => getComputedStyle(document.documentElement).getPropertyValue('--brand')"


@pytest.mark.parametrize(
    ("locale", "first", "lang", "welcome"),
    [
        ("de-DE", f"/{CITY}", "de", "Willkommen in Musterstadt"),
        ("en-GB", f"/{CITY}", "en", "Welcome to Musterstadt"),
        # the language chosen in the app (a cookie) over the browser's
        ("de-DE", f"/lang/en?next=/{CITY}", "en", "Welcome to Musterstadt"),
    ],
    ids=["german-browser", "english-browser", "english-chosen"],
)
def test_the_start_page_seen_only_on_the_first_visit_opens_offline(
    service_worker: None,
    new_context: Any,
    open_page: Any,
    problems: Any,
    controlled: Any,
    locale: str,
    first: str,
    lang: str,
    welcome: str,
) -> None:
    problems.allow(r"ERR_INTERNET_DISCONNECTED|Failed to fetch|net::")
    # given a visitor who opened the start page once, on their first visit, and chose nothing
    # in the consent banner; the service worker took over only after the page had loaded
    context = new_context(viewport={"width": 390, "height": 844}, locale=locale)
    page = open_page(context)
    page.goto(first)
    expect(page.locator("#consent-banner")).to_be_visible()
    controlled(page)
    page.evaluate(_KEPT)
    # when the network is gone and they open the start page again
    context.set_offline(True)
    page.reload()
    # then it is the start page in their language, with the app's styles, not the offline page
    expect(page.locator("h1")).to_have_text(welcome)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    assert page.evaluate(_SHELL_STYLED).strip() == "#9b2f1f"
    # and so is following the app's own link to it
    page.locator(".brand").click()
    expect(page.locator("h1")).to_have_text(welcome)
    context.set_offline(False)


# Asks the service worker to keep pages as app.js does, each as if shown in a language, one after
# the other once the worker has the answer to the one before; then, once it has kept the last one
# (it puts a copy a moment after the answer), the language of each page's copy, null if none.
_KEEP_AS_SHOWN = """async (pages) => {
  const { active } = await navigator.serviceWorker.ready;
  for (const [path, shown] of pages) {
    const channel = new MessageChannel();
    const answered = new Promise((done) => { channel.port1.onmessage = done; });
    const urlsToCache = [[path, { headers: { "x-shown-language": shown } }]];
    active.postMessage({ type: "CACHE_URLS", payload: { urlsToCache } }, [channel.port2]);
    await answered;
  }
  const deadline = Date.now() + 10000;
  while (!(await caches.match(pages.at(-1)[0])) && Date.now() < deadline) {
    await new Promise((done) => setTimeout(done, 100));
  }
  const kept = {};
  for (const [path] of pages) {
    kept[path] = (await caches.match(path))?.headers.get("content-language") ?? null;
  }
  return kept;
}"""


def test_a_page_is_kept_only_in_the_language_shown_and_never_over_a_newer_copy(
    service_worker: None, new_context: Any, open_page: Any, controlled: Any, server: Any
) -> None:
    # given an English browser with the service worker running, which kept the map page as
    # opened, and then a visitor's choice of German
    context = new_context(locale="en-GB")
    page = open_page(context)
    page.goto(f"/{CITY}")
    controlled(page)
    page.goto(f"/{CITY}/map")
    assert page.evaluate(_KEPT) is True
    context.add_cookies([{"name": LANG_COOKIE, "value": "de", "url": server.base_url}])
    # when it is asked to keep pages as app.js does after a first visit
    kept = page.evaluate(
        _KEEP_AS_SHOWN,
        [[f"/{CITY}/events", "en"], [f"/{CITY}/map", "de"], [f"/{CITY}/privacy", "de"]],
    )
    # then a page now answered in German is not kept as one shown in English; the map page's
    # copy from the visit stays; and a page answered as shown is kept
    assert kept == {f"/{CITY}/events": None, f"/{CITY}/map": "en", f"/{CITY}/privacy": "de"}


def test_the_app_can_be_installed_from_its_manifest(page: Any, server: Any) -> None:
    # given the city's start page
    page.goto(f"/{CITY}")
    # when the browser reads the manifest the page links
    href = page.locator("link[rel=manifest]").get_attribute("href")
    manifest = page.request.get(f"{server.base_url}{href}").json()
    # then it names the city's app, starts at the city and has icons that load
    assert (manifest["short_name"], manifest["start_url"], manifest["display"]) == (
        "Musterstadt",
        f"/{CITY}",
        "standalone",
    )
    sizes = sorted(icon["sizes"] for icon in manifest["icons"])
    assert sizes == ["192x192", "512x512", "512x512"]
    for icon in manifest["icons"]:
        answer = page.request.get(f"{server.base_url}{icon['src']}")
        assert (answer.status, answer.headers["content-type"]) == (200, "image/png")


PAGE_WEIGHT_LIMIT = 250 * 1024  # issue 6: the start page's first load


def test_the_start_page_weighs_at_most_250_kb_on_first_load(
    new_context: Any, open_page: Any, server: Any
) -> None:
    # given a browser that has never seen the site
    page = open_page(new_context(viewport={"width": 390, "height": 844}))
    sizes: dict[str, int] = {}

    def weigh(response: Any) -> None:
        headers = sum(len(k) + len(v) + 4 for k, v in response.headers.items())
        sizes[response.url] = len(response.body()) + headers

    page.on("response", weigh)
    # when it opens the city's start page and everything it loads has arrived
    page.goto(f"/{CITY}", wait_until="networkidle")
    # then all of it, headers included and uncompressed, stays within the budget
    total = sum(sizes.values())
    print(f"start page first load: {total} bytes in {len(sizes)} responses")
    assert total <= PAGE_WEIGHT_LIMIT, sorted(sizes.items(), key=lambda kv: -kv[1])[:5]
