"""axe-core in a real Chromium on every kind of page: no serious or critical violation may remain.

axe-core comes from npm (package.json; `make install` runs `npm ci`), never from the repository.
The pages' CSP forbids inline and foreign scripts, so axe is handed to the page through the
DevTools protocol (`page.evaluate`), which the page's CSP does not govern; a CSP violation caused
by axe itself would still fail the test through the `open_page` fixture.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

CITY = "musterstadt"
OPTICIAN = "optik-brillenhaus-krueger"
UNPARSEABLE = "antiquariat-eselsohr"
CONSOLE = f"/console/{CITY}"
NARROW = {"width": 320, "height": 640}
Check = Callable[[Any], None]


@dataclass(frozen=True)
class Visit:
    path: str
    follow: str | None = None  # then open the first link matching this selector
    lang: str = "de"


def _open(page: Any, visit: Visit) -> None:
    response = page.goto(visit.path)
    assert response is not None
    if visit.follow:
        href = page.locator(visit.follow).first.get_attribute("href")
        assert href, f"no link {visit.follow} on {page.url}"
        response = page.goto(href)
        assert response is not None
    assert response.ok, f"{page.url}: {response.status}"
    assert page.get_attribute("html", "lang") == visit.lang


VISITOR_PAGES = {
    "city": Visit(f"/{CITY}"),
    "city-en": Visit(f"/lang/en?next=/{CITY}", lang="en"),
    "city-nothing-found": Visit(f"/{CITY}?q=gibt-es-nicht&open_now=1"),
    "shop": Visit(f"/{CITY}/shops/{OPTICIAN}"),
    "shop-en": Visit(f"/lang/en?next=/{CITY}/shops/{OPTICIAN}", lang="en"),
    "shop-unparseable-hours": Visit(f"/{CITY}/shops/{UNPARSEABLE}"),
    "map": Visit(f"/{CITY}/map"),
    "map-en": Visit(f"/lang/en?next=/{CITY}/map", lang="en"),
    "map-filtered": Visit(f"/{CITY}/map?category=optician&open_now=1"),
    "events": Visit(f"/{CITY}/events"),
    "events-en": Visit(f"/lang/en?next=/{CITY}/events", lang="en"),
    "events-nothing-found": Visit(f"/{CITY}/events?period=today&q=gibt-es-nicht"),
    "scan": Visit(f"/{CITY}/scan"),
    "login": Visit("/login"),
    "api-docs": Visit("/api/docs"),
}


@pytest.mark.parametrize("name", VISITOR_PAGES)
def test_visitor_page_is_accessible(name: str, page: Any, assert_accessible: Check) -> None:
    _open(page, VISITOR_PAGES[name])
    assert_accessible(page)


def test_error_page_is_accessible(page: Any, problems: Any, assert_accessible: Check) -> None:
    problems.allow(r"status of 404 .*@ .*/musterstadt/shops/gibt-es-nicht")
    response = page.goto(f"/{CITY}/shops/gibt-es-nicht")
    assert response is not None
    assert response.status == 404
    assert_accessible(page)


def test_failed_login_is_accessible(page: Any, problems: Any, assert_accessible: Check) -> None:
    problems.allow(r"status of 4\d\d .*@ .*/login")
    page.goto("/login")
    page.fill("#f-email", "niemand@musterstadt.example")
    page.fill("#f-password", "falsches-passwort")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert page.locator(".alert.error[role=alert]").is_visible()
    assert_accessible(page)


def test_a_refused_typed_code_is_accessible(
    page: Any, problems: Any, assert_accessible: Check
) -> None:
    problems.allow(r"status of 422 .*/scan/code")
    response = page.goto(f"/{CITY}/scan/code?code=abc")
    assert response is not None
    assert response.status == 422
    assert page.locator("#f-code[aria-invalid=true]").is_visible()
    assert_accessible(page)


@pytest.mark.parametrize(
    "path", [f"/{CITY}", f"/{CITY}/shops/{OPTICIAN}", f"/{CITY}/events", f"/{CITY}/scan"]
)
def test_visitor_page_reflows_at_320_px(
    path: str, new_context: Any, open_page: Any, assert_accessible: Check
) -> None:
    # WCAG 1.4.10: 320 CSS px is also what a 1280 px screen shows at 400 % zoom.
    page = open_page(new_context(viewport=NARROW))
    page.goto(path)
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    assert_accessible(page)


def test_skip_link_is_the_first_stop_and_reaches_the_content(page: Any) -> None:
    page.goto(f"/{CITY}")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    box = skip.bounding_box()
    assert box is not None
    assert box["x"] >= 0  # shown on screen while focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@pytest.fixture(scope="module")
def signed_in(browser: Any, server: Any, log_in: Any) -> Callable[[str], Any]:
    """signed_in(role): the storage state of that demo account, logged in through the form once
    per module (argon2 is slow on purpose)."""
    states: dict[str, Any] = {}

    def state(role: str) -> Any:
        if role not in states:
            context = browser.new_context(base_url=server.base_url, locale="de-DE")
            log_in(context.new_page(), server.accounts[role])
            states[role] = context.storage_state()
            context.close()
        return states[role]

    return state


STAFF_PAGES = {
    # One shop and no city role: /portal leads straight into the shop's overview.
    "portal-overview": ("retailer-owner", Visit("/portal")),
    "portal-editor": (
        "retailer-owner",
        Visit("/portal", follow="nav.subnav a[href$='/overview'] + a"),
    ),
    "portal-touchpoints": (
        "retailer-owner",
        Visit("/portal", follow="nav.subnav a[href$='/touchpoints']"),
    ),
    "portal-editor-read-only": ("retailer-staff", Visit("/portal")),
    "portal-index": ("city-admin", Visit("/portal")),
    "console-overview": ("city-admin", Visit(CONSOLE)),
    "console-zones": ("city-admin", Visit(f"{CONSOLE}/zones")),
    "console-zone": ("city-admin", Visit(f"{CONSOLE}/zones", follow="table th a")),
    "console-shops": ("city-admin", Visit(f"{CONSOLE}/shops")),
    "console-touchpoints": ("city-admin", Visit(f"{CONSOLE}/touchpoints")),
    "console-touchpoint": ("city-admin", Visit(f"{CONSOLE}/touchpoints", follow="table th a")),
    "console-print": (
        "city-admin",
        Visit(f"{CONSOLE}/touchpoints", follow="table td a[href$='/print']"),
    ),
    "portal-content": ("retailer-owner", Visit("/portal", follow="nav.subnav a[href$='/content']")),
    "console-moderation": ("city-admin", Visit(f"{CONSOLE}/moderation")),
    "console-rules": ("city-admin", Visit(f"{CONSOLE}/rules")),
    "console-invitations": ("city-admin", Visit(f"{CONSOLE}/invitations")),
    "console-users": ("city-admin", Visit(f"{CONSOLE}/users")),
    "password": ("city-admin", Visit("/account/password")),
    "portal-fitness": ("retailer-owner", Visit("/portal", follow="nav.subnav a[href$='/fitness']")),
    "console-fitness": ("city-admin", Visit(f"{CONSOLE}/fitness")),
    "portal-hours": ("retailer-owner", Visit("/portal", follow="nav.subnav a[href$='/hours']")),
    "portal-story": ("retailer-owner", Visit("/portal", follow="nav.subnav a[href$='/story']")),
    "portal-product-story": (
        "retailer-owner",
        Visit("/portal", follow="a[href$='/content/new?kind=story']"),
    ),
    "console-fleet": ("city-admin", Visit(f"{CONSOLE}/fleet")),
    "console-fleet-map": ("city-admin", Visit(f"{CONSOLE}/fleet/map")),
    "console-fleet-import": ("city-admin", Visit(f"{CONSOLE}/fleet/import")),
    "console-audit": ("city-admin", Visit(f"{CONSOLE}/audit")),
    "console-events": ("city-admin", Visit(f"{CONSOLE}/events")),
    "console-analytics": ("city-admin", Visit(f"{CONSOLE}/analytics")),
    "console-funnel": ("city-admin", Visit(f"{CONSOLE}/analytics/funnel")),
    "console-campaigns": ("city-admin", Visit(f"{CONSOLE}/analytics/campaigns")),
    "portal-analytics": (
        "retailer-owner",
        Visit("/portal", follow="nav.subnav a[href$='/analytics']"),
    ),
    "console-footfall": ("city-editor", Visit(f"{CONSOLE}/footfall")),
}


@pytest.mark.parametrize("name", STAFF_PAGES)
def test_staff_page_is_accessible(
    name: str,
    new_context: Any,
    open_page: Any,
    signed_in: Callable[[str], Any],
    assert_accessible: Check,
) -> None:
    role, visit = STAFF_PAGES[name]
    page = open_page(new_context(storage_state=signed_in(role)))
    _open(page, visit)
    assert "/login" not in page.url
    assert_accessible(page)


def test_form_with_errors_is_accessible(
    new_context: Any,
    open_page: Any,
    problems: Any,
    signed_in: Callable[[str], Any],
    assert_accessible: Check,
) -> None:
    problems.allow(r"status of 422 .*@ .*/console/musterstadt/zones")
    page = open_page(new_context(storage_state=signed_in("city-admin")))
    page.goto(f"{CONSOLE}/zones")
    page.fill("#f-name", "Probezone")
    page.fill("#f-slug", "probezone")
    page.fill("#f-geometry", "kein GeoJSON")
    with page.expect_navigation():
        page.locator(f"form[action='{CONSOLE}/zones'] button[type=submit]").click()
    assert page.locator(".alert.error[role=alert]").is_visible()
    assert page.get_attribute("#f-geometry", "aria-invalid") == "true"
    assert_accessible(page)


@pytest.mark.parametrize(
    ("role", "viewport"), [("retailer-owner", None), ("retailer-staff", NARROW)]
)
def test_poster_print_form_is_accessible(
    role: str,
    viewport: dict[str, int] | None,
    new_context: Any,
    open_page: Any,
    signed_in: Callable[[str], Any],
    assert_accessible: Check,
) -> None:
    # Two steps from the shop's codes to a code's print form: its id is the demo's own.
    page = open_page(new_context(viewport=viewport, storage_state=signed_in(role)))
    _open(page, Visit("/portal", follow="nav.subnav a[href$='/touchpoints']"))
    _open(page, Visit(page.url, follow="main a[href$='/print']"))
    assert page.is_checked("#f-format-a4")
    if viewport:
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    assert_accessible(page)
