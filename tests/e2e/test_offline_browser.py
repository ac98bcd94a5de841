"""The visitor app without a network (issue 6, first part): the service worker keeps the pages a
visitor opened and shows an offline page for the others; portal pages are never kept."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

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
