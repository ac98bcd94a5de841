"""Finding things in a real Chromium (issue 6, "Find"): the events calendar filters by period and
words and hands out .ics files; the QR scanner reads a code with the (fake) camera and opens it,
shows another site's address without opening it, and takes a typed code without JavaScript."""

from __future__ import annotations

import io
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import segno
from playwright.sync_api import expect

from e2e.test_coupon_loop import Offer, _publish_offer, _user, prepare, y4m_of
from marktplatz.domain.content import Action, ContentKind, ContentStatus
from marktplatz.services import cities, shops
from marktplatz.services import content as content_service
from marktplatz.services.content import ContentInput
from marktplatz.services.context import Context

pytestmark = pytest.mark.e2e

CITY = "musterstadt"
OPTICIAN = "optik-brillenhaus-krueger"
PHONE = {"width": 390, "height": 844}
JSQR = Path(__file__).resolve().parents[2] / "src/marktplatz/web/static/vendor/jsQR.js"
MARKET = "Adventsmarkt auf dem Kirchplatz"
READING = "Lesung: Brillen in der Literatur"
TASTING = "Weinprobe im Gewölbekeller"


@pytest.fixture(scope="module")
def server(
    chromium_path: str, serve_demo: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """A server of this module's own: its events and opened-up rules stay here."""
    del chromium_path  # no browser, no server
    with serve_demo(tmp_path_factory.mktemp("e2e-find")) as running:
        yield running


async def _events(ctx: Context, server: Any) -> None:
    """Three events relative to now: one running today, one in two days, one in ten."""
    admin = await _user(ctx, server.accounts["city-admin"])
    city = await cities.city_by_slug(ctx, CITY)
    optician, _ = await shops.public_shop(ctx, city.id, OPTICIAN)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    in_two = (now + timedelta(days=2)).replace(hour=17)
    event = partial(ContentInput, kind=ContentKind.EVENT)
    plans = {
        None: [
            event(
                title=MARKET,
                starts_at=now - timedelta(hours=1),
                ends_at=now + timedelta(hours=3),
                place="Kirchplatz",
                body_html="<p>Glühwein, Kunsthandwerk und <strong>Musik</strong>.</p>",
            ),
            event(
                title=TASTING,
                starts_at=in_two + timedelta(days=8),
                place="Ratskeller",
                body_html="<p>Sechs Weine aus der Region.</p>",
                registration="weinprobe@musterstadt.example",
            ),
        ],
        optician.id: [
            event(
                title=READING,
                starts_at=in_two,
                ends_at=in_two + timedelta(hours=2),
                place="Im Laden, Lange Straße 12",
                body_html="<p>Eine Lesung mit Brillen, Tee &amp; Gebäck.</p>",
                registration="https://example.org/anmeldung",
            )
        ],
    }
    for shop_id, items in plans.items():
        for data in items:
            item = await content_service.create_content(ctx, admin, city.id, shop_id, data)
            done = await content_service.act_on_content(ctx, admin, item.id, Action.SUBMIT)
            if done.status is ContentStatus.SUBMITTED:
                done = await content_service.act_on_content(ctx, admin, item.id, Action.APPROVE)
            assert done.status is ContentStatus.PUBLISHED


@pytest.fixture(scope="module")
def events(server: Any) -> None:
    prepare(server, lambda ctx: _events(ctx, server))


@pytest.fixture(scope="module")
def offer(server: Any) -> Offer:
    """An offer the optician's window QR code shows to everyone who scans it."""
    return prepare(server, lambda ctx: _publish_offer(ctx, server, "Brillenreinigung gratis"))


def titles(page: Any) -> list[str]:
    return [t.strip() for t in page.locator(".event-card h3").all_inner_texts()]


# --- the events calendar -------------------------------------------------------------


def test_the_calendar_filters_by_period_and_words(
    events: None, new_context: Any, open_page: Any, screenshot: Any
) -> None:
    # given a visitor on a phone
    page = open_page(new_context(viewport=PHONE, is_mobile=True, device_scale_factor=2))
    # when they open the calendar (a decline is not remembered: the banner goes for this page)
    page.goto(f"/{CITY}/events")
    page.get_by_role("button", name="Ablehnen").click()
    # then every upcoming event is there (the demo city's own among them), by day, in order
    shown = titles(page)
    assert [t for t in shown if t in (MARKET, READING, TASTING)] == [MARKET, READING, TASTING]
    today = page.locator(".event-day").first
    expect(today.locator("h2 .today-badge")).to_have_text("Heute")
    expect(today.locator("h3", has_text=MARKET)).to_be_visible()
    market = page.locator(".event-card", has=page.locator("h3", has_text=MARKET))
    expect(market.locator(".event-facts")).to_contain_text("Musterstadt")
    reading = page.locator(".event-card", has=page.locator("h3", has_text=READING))
    expect(reading.locator(".event-facts a")).to_have_text("Optik Brillenhaus Krüger")
    screenshot(page, "visitor-events-mobile.png")
    # when they choose "today"
    page.get_by_role("link", name="Heute", exact=True).click()
    # then only today's events are left, and the chip says which period is shown
    expect(page.locator(".event-day")).to_have_count(1)
    assert MARKET in titles(page)
    assert READING not in titles(page)
    assert TASTING not in titles(page)
    expect(page.locator(".period-chips [aria-current=page]")).to_have_text("Heute")
    # when they search all upcoming events for a word of the text
    page.get_by_role("link", name="Alle kommenden", exact=True).click()
    page.fill("#f-q", "gebäck")
    page.locator(".event-search button[type=submit]").click()
    # then the reading is found by its text
    expect(page.locator(".event-card h3")).to_have_count(1)
    assert titles(page) == [READING]
    # when nothing matches, the page says so and offers every event again
    page.fill("#f-q", "Zauberflöte")
    page.locator(".event-search button[type=submit]").click()
    expect(page.locator(".event-empty")).to_contain_text("Keine Veranstaltung passt")
    page.get_by_role("link", name="Alle kommenden Veranstaltungen zeigen").first.click()
    expect(page.locator(".event-card h3")).to_have_count(len(shown))


def test_an_event_downloads_as_an_ics_file(events: None, page: Any) -> None:
    page.goto(f"/{CITY}/events")
    card = page.locator(".event-card", has=page.locator("h3", has_text=READING))
    with page.expect_download() as download:
        card.locator("a.ics-link").click()
    saved = download.value
    assert re.fullmatch(r"musterstadt-[0-9a-f]{8}\.ics", saved.suggested_filename)
    text = Path(saved.path()).read_text(encoding="utf-8")
    assert "SUMMARY:Lesung: Brillen in der Literatur" in text
    assert "DTSTART;TZID=Europe/Berlin:" in text


def test_the_calendar_is_accessible_and_reflows_at_320_px(
    events: None, page: Any, assert_accessible: Any, reflows_at_320: Any
) -> None:
    page.goto(f"/{CITY}/events")
    assert_accessible(page)
    assert reflows_at_320(page) <= 320


# --- the scanner ---------------------------------------------------------------------


def camera_showing(launch_browser: Any, text: str, tmp_path: Path) -> Any:
    """A Chromium whose fake camera films a QR code of `text` (made with segno)."""
    picture = io.BytesIO()
    segno.make_qr(text, error="m").save(picture, kind="png", scale=6, border=4)
    video = tmp_path / "camera.y4m"
    y4m_of(picture.getvalue(), video)
    return launch_browser(
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    )


@pytest.fixture
def scanner_installed(requirement: Any) -> None:
    requirement(JSQR, "jsQR", "`make install` copies it from node_modules")


@pytest.fixture
def filming(
    scanner_installed: None, launch_browser: Any, new_context: Any, open_page: Any, tmp_path: Path
) -> Callable[[str], Any]:
    """filming(text): the scanner page on a phone whose camera films a QR code of `text`,
    before the visitor presses the button."""

    def scanner(text: str) -> Any:
        camera = camera_showing(launch_browser, text, tmp_path)
        page = open_page(new_context(viewport=PHONE, in_browser=camera))
        page.goto(f"/{CITY}/scan")
        assert page.evaluate("window.isSecureContext") is True  # http://127.0.0.1 counts
        expect(page.locator("#scanner")).to_be_visible()
        expect(page.locator("[data-no-camera]")).to_be_hidden()
        # the camera is not asked for before the button is pressed
        assert page.evaluate("document.querySelector('[data-video]').srcObject") is None
        return page

    return scanner


def exposures_at(server: Any, offer: Offer) -> int:
    """How many contents were recorded as shown at the offer's touchpoint (in the server's
    database): what a contact there leaves behind."""
    with sqlite3.connect(server.var_dir / "marktplatz.sqlite3") as db:
        row = db.execute(
            "select count(*) from events where kind = 'content.exposed' and touchpoint_id = ?",
            (offer.touchpoint_id.hex,),
        ).fetchone()
    return int(row[0])


def test_scanning_a_touchpoint_opens_its_page_and_records_the_contact(
    server: Any, offer: Offer, filming: Callable[[str], Any]
) -> None:
    # given the QR code in the optician's window, filmed by the phone's camera
    page = filming(f"{server.base_url}/q/{offer.qr_code}")
    before = exposures_at(server, offer)
    # when the visitor presses "Start the camera"
    with page.expect_navigation(url=re.compile(rf"/{CITY}/shops/{OPTICIAN}\?via=")):
        page.get_by_role("button", name="Kamera starten").click()
    # then the code's page opens and shows what is offered right there
    assert page.url == f"{server.base_url}/{CITY}/shops/{OPTICIAN}?via={offer.qr_code}"
    expect(page.locator("section.here li.here-pick").first).to_be_visible()
    # and the contact was recorded at that touchpoint
    deadline = time.monotonic() + 5
    while exposures_at(server, offer) == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert exposures_at(server, offer) > before


def test_another_sites_address_is_shown_not_opened(filming: Callable[[str], Any]) -> None:
    # given a sticker someone put on a lamp post, leading to another site
    address = "https://example.org/gewinnspiel?preis=1"
    page = filming(address)
    # when the visitor scans it
    page.get_by_role("button", name="Kamera starten").click()
    # then the page stays, warns and shows the address as a plain link; the camera is off
    result = page.locator("[data-result=foreign]")
    expect(result).to_be_visible()
    expect(result.locator("h3")).to_have_text("Dieser Code führt zu einer anderen Website")
    link = result.locator("a")
    expect(link).to_have_text(address)
    assert link.get_attribute("href") == address
    assert link.get_attribute("rel") == "noopener noreferrer nofollow"
    assert page.url.endswith(f"/{CITY}/scan")
    assert page.evaluate("document.querySelector('[data-video]').srcObject") is None
    expect(page.get_by_role("button", name="Weiteren Code scannen")).to_be_visible()


def test_a_coupon_code_points_to_the_till_and_the_wallet(filming: Callable[[str], Any]) -> None:
    # given a coupon's QR code (someone films another phone's wallet)
    page = filming("K7QF-9M2X-PA3T")
    # when the visitor scans it
    page.get_by_role("button", name="Kamera starten").click()
    # then the page says it is a coupon for the till, and shows the way to the wallet
    result = page.locator("[data-result=coupon]")
    expect(result).to_be_visible()
    expect(result.locator("[data-scanned]")).to_have_text("K7QF-9M2X-PA3T")
    expect(result.get_by_role("link", name="Gutscheinmappe öffnen")).to_have_attribute(
        "href", f"/{CITY}/wallet"
    )


def test_typing_the_code_works_without_javascript(
    server: Any, offer: Offer, new_context: Any, open_page: Any, problems: Any
) -> None:
    problems.allow(r"status of 422 .*/scan/code")
    # given a phone without JavaScript
    page = open_page(new_context(viewport=PHONE, java_script_enabled=False))
    page.goto(f"/{CITY}/scan")
    # then there is no camera part, but a short explanation and the form
    expect(page.locator("#scanner")).to_be_hidden()
    expect(page.locator("[data-no-camera]")).to_be_visible()
    # when the visitor types a code wrongly
    page.fill("#f-code", "k7qf")
    page.get_by_role("button", name="Öffnen").click()
    # then the page says what is wrong, in German
    expect(page.locator("#code-error")).to_contain_text("Das ist kein Code von uns")
    # when they type the code printed under the QR code, as it is printed
    page.fill("#f-code", offer.qr_code.upper())
    page.get_by_role("button", name="Öffnen").click()
    # then they land on the code's page, with what is offered right there
    expect(page).to_have_url(f"{server.base_url}/{CITY}/shops/{OPTICIAN}?via={offer.qr_code}")
    expect(page.locator("section.here li.here-pick").first).to_be_visible()


def test_the_scanner_is_accessible_and_reflows_at_320_px(
    page: Any, assert_accessible: Any, reflows_at_320: Any
) -> None:
    page.goto(f"/{CITY}/scan")
    assert_accessible(page)
    assert reflows_at_320(page) <= 320


def test_the_calendar_and_the_scanner_open_offline_once_visited(
    events: None,
    service_worker: None,
    new_context: Any,
    open_page: Any,
    problems: Any,
    controlled: Any,
) -> None:
    problems.allow(r"ERR_INTERNET_DISCONNECTED|Failed to fetch|net::")
    # given a visitor who opened the calendar and the scanner with the service worker running
    context = new_context(viewport=PHONE)
    page = open_page(context)
    page.goto(f"/{CITY}/events")
    controlled(page)
    page.goto(f"/{CITY}/events")
    page.goto(f"/{CITY}/scan")
    # when the network is gone
    context.set_offline(True)
    # then both pages are still there, styled, and the code form is shown
    page.reload()
    expect(page.locator("h1")).to_have_text("QR-Code scannen")
    expect(page.locator("#f-code")).to_be_visible()
    page.goto(f"/{CITY}/events")
    expect(page.locator(".event-card h3", has_text=MARKET)).to_be_visible()
    assert (
        page.locator(".period-chips a").first.evaluate("a => getComputedStyle(a).borderRadius")
        == "999px"
    )
    context.set_offline(False)


def test_a_refused_camera_says_so_and_leaves_the_typed_code(
    scanner_installed: None, new_context: Any, open_page: Any
) -> None:
    # given a phone whose visitor does not let the page use the camera
    page = open_page(new_context(viewport=PHONE))
    page.goto(f"/{CITY}/scan")
    expect(page.locator("#scanner")).to_be_visible()
    # when they press "Start the camera"
    page.get_by_role("button", name="Kamera starten").click()
    # then the page says what to do, offers the button again and the form still works
    expect(page.locator("[data-scan-status]")).to_have_text(
        "Die Kamera ließ sich nicht öffnen. Erlauben Sie dieser Seite die Kamera, "
        "oder geben Sie den Code unten ein."
    )
    expect(page.get_by_role("button", name="Kamera starten")).to_be_visible()
    expect(page.locator("#f-code")).to_be_editable()
