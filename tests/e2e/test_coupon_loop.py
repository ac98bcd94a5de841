"""The coupon loop in a real Chromium: a visitor scans a shop's QR code, saves the offer shown right
there and keeps it in the wallet; a cashier redeems it at the till, typed or scanned with the
camera; the owner's offer page counts the redemption at that touchpoint (issue 5)."""

from __future__ import annotations

import asyncio
import io
import re
import uuid
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import pytest
from PIL import Image
from playwright.sync_api import expect

from marktplatz.bootstrap import build
from marktplatz.domain.content import Action, ContentKind, ContentStatus
from marktplatz.services import accounts, cities, coupons, shops, touchpoints
from marktplatz.services import content as content_service
from marktplatz.services.content import ContentInput, CouponInput
from marktplatz.services.context import Context
from marktplatz.services.coupons import SaveInput
from marktplatz.settings import Settings

pytestmark = pytest.mark.e2e

CITY = "musterstadt"
OPTICIAN = "optik-brillenhaus-krueger"
QR_NAME = "QR Optik Brillenhaus Krüger"  # the QR code in the optician's shop window
PHONE = {"width": 390, "height": 844}
NARROW = 320
EARLIER = 4  # redemptions before the browser's: one short of the k-anonymity threshold
COUPON_CODE = re.compile(r"^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$")
JSQR = Path(__file__).resolve().parents[2] / "src/marktplatz/web/static/vendor/jsQR.js"
T = TypeVar("T")


@dataclass(frozen=True)
class Offer:
    content_id: UUID
    title: str
    touchpoint_id: UUID
    qr_code: str  # the touchpoint's short code: <base_url>/q/<code>


# --- data prepared through the services, in the server's own SQLite database ------------------


@pytest.fixture(scope="module")
def server(
    chromium_path: str, serve_demo: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """A server of this module's own: the rules opened up here (no quiet hours, no control
    group) and its offers would change what the other browser tests see."""
    del chromium_path  # no browser, no server
    with serve_demo(tmp_path_factory.mktemp("e2e-coupons")) as running:
        yield running


def prepare(server: Any, use: Callable[[Context], Awaitable[T]]) -> T:
    """Run `use` with a context on the server's database. In a thread of its own, because the
    sync Playwright API keeps an event loop of its own in this one."""
    settings = Settings(
        _env_file=None,  # the server's database, whatever a developer's .env says
        environment="test",
        database_url="",
        var_dir=server.var_dir,
        base_url=server.base_url,
        redis_url=None,
    )

    async def run() -> T:
        composed = build(settings)
        try:
            return await use(composed.ctx)
        finally:
            await composed.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run()).result()


async def _user(ctx: Context, account: Any) -> Any:
    return (await accounts.login(ctx, account.email, account.password, "e2e-prepare")).user


async def _publish_offer(ctx: Context, server: Any, title: str) -> Offer:
    """An always-open optician whose coupon offer the QR code in its window shows to everyone."""
    admin = await _user(ctx, server.accounts["city-admin"])
    owner = await _user(ctx, server.accounts["retailer-owner"])
    city = await cities.city_by_slug(ctx, CITY)
    shop, _ = await shops.public_shop(ctx, city.id, OPTICIAN)
    await shops.update_shop(ctx, admin, shop.id, {"opening_hours": "24/7"})
    await content_service.set_rules(
        ctx, admin, city.id, {"quiet_start": None, "quiet_end": None, "control_share": 0}
    )
    [point] = [
        p for p in await touchpoints.list_touchpoints(ctx, admin, city.id) if p.name == QR_NAME
    ]
    data = ContentInput(
        kind=ContentKind.OFFER,
        title=title,
        body_html="<p>Ultraschallreinigung und Nasenpads neu – während Sie warten.</p>",
        ends_at=datetime.now(UTC) + timedelta(days=30),
        touchpoint_ids=[point.id],
        coupon=CouponInput(stock=50, per_person=1),
    )
    item = await content_service.create_content(ctx, owner, city.id, shop.id, data)
    done = await content_service.act_on_content(ctx, owner, item.id, Action.SUBMIT)
    assert done.status is ContentStatus.PUBLISHED
    return Offer(done.id, title, point.id, point.code)


async def _save_and_redeem(ctx: Context, server: Any, offer: Offer, n: int) -> None:
    cashier = await _user(ctx, server.accounts["retailer-staff"])
    for i in range(n):
        saved = await coupons.save_coupon(
            ctx, SaveInput(offer.content_id, None, offer.touchpoint_id), f"earlier-phone-{i}"
        )
        await coupons.redeem_coupon(ctx, cashier, saved.code)


async def _redeem(ctx: Context, server: Any, code: str) -> None:
    cashier = await _user(ctx, server.accounts["retailer-staff"])
    await coupons.redeem_coupon(ctx, cashier, code)


async def _save(ctx: Context, offer: Offer) -> str:
    saved = await coupons.save_coupon(ctx, SaveInput(offer.content_id), "another-phone")
    return saved.code


# --- helpers ------------------------------------------------------------------------------


def tab_to(page: Any, target: Any, limit: int = 80) -> None:
    """Press Tab from the top of the page until `target` has the focus, as a keyboard user would."""
    page.evaluate("document.activeElement?.blur()")
    page.evaluate("window.scrollTo(0, 0)")
    handle = target.element_handle()
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(el) => el === document.activeElement", handle):
            return
    pytest.fail(f"{target} not reached with {limit} presses of Tab on {page.url}", pytrace=False)


def results_cell(page: Any, touchpoint: str, column: str) -> str:
    results = page.locator("section#results")
    headers = [h.strip() for h in results.locator("thead th").all_inner_texts()]
    row = results.locator("tbody tr", has=page.locator("th", has_text=touchpoint))
    text: str = row.locator("th, td").nth(headers.index(column)).inner_text()
    return text.strip()


def open_till(page: Any) -> None:
    """From the portal's start to the till, through the shop's navigation."""
    page.goto("/portal")
    with page.expect_navigation():
        page.locator("nav.subnav a[href$='/till']").click()
    assert page.locator("main h1").inner_text().startswith("Kasse")


# --- the loop -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def offer(server: Any) -> Offer:
    """The optician's offer with four coupons saved at its QR code and redeemed before."""
    title = "Brillenreinigung gratis"
    found = prepare(server, lambda ctx: _publish_offer(ctx, server, title))
    prepare(server, lambda ctx: _save_and_redeem(ctx, server, found, EARLIER))
    return found


@pytest.fixture
def other_offer(server: Any) -> Offer:
    """A further offer of the optician, for tests besides the loop: their coupons must not change
    the loop's counts."""
    title = f"Nasenpads gratis {uuid.uuid4().hex[:6]}"
    return prepare(server, lambda ctx: _publish_offer(ctx, server, title))


def test_a_coupon_met_at_a_qr_code_is_saved_redeemed_and_attributed(
    server: Any,
    offer: Offer,
    new_context: Any,
    open_page: Any,
    log_in: Any,
    assert_accessible: Any,
    screenshot: Any,
    reflows_at_320: Any,
) -> None:
    # given the owner's offer page: four redemptions at the QR code, too few to be shown
    owner = open_page(new_context())
    log_in(owner, server.accounts["retailer-owner"])
    owner.goto(f"/portal/content/{offer.content_id}")
    assert results_cell(owner, QR_NAME, "Eingelöst") == "< 5"
    assert results_cell(owner, QR_NAME, "Gespeichert") == "< 5"

    # when a visitor scans the QR code in the optician's window
    visitor = open_page(new_context(viewport=PHONE))
    visitor.goto(f"/q/{offer.qr_code}")
    # then the shop page tells them what is offered right there
    assert visitor.url == f"{server.base_url}/{CITY}/shops/{OPTICIAN}?via={offer.qr_code}"
    here = visitor.locator("section.here")
    assert here.locator("h2").inner_text() == "Genau hier für Sie"
    pick = here.locator("li.here-pick", has=visitor.locator("h3", has_text=offer.title))
    assert "1 pro Person" in pick.locator(".coupon-terms").inner_text()
    # and the save button is reached with Tab and pressed with Enter
    tab_to(visitor, pick.locator("form.save-coupon button"))
    with visitor.expect_navigation():
        visitor.keyboard.press("Enter")

    # then the coupon page shows the offer, its code and its QR code, kept in the wallet
    assert visitor.locator("main h1").inner_text() == offer.title
    code = visitor.locator(".coupon-code").inner_text()
    assert COUPON_CODE.match(code), code
    assert visitor.locator(".coupon-qr [role=img] svg").is_visible()
    expect(visitor.locator("[data-wallet-note]")).to_be_visible()
    kept = visitor.evaluate("JSON.parse(localStorage.getItem('marktplatz.wallet'))")
    assert [(e["code"], e["title"], e["state"]) for e in kept] == [(code, offer.title, "saved")]
    assert_accessible(visitor)
    assert reflows_at_320(visitor) <= NARROW
    screenshot(visitor, "visitor-coupon-mobile.png")

    # and the wallet shows it, ready to use, as the server confirms
    with visitor.expect_response("**/api/v1/coupons/wallet") as asked:
        visitor.locator("a.button", has_text="Gutscheinmappe öffnen").click()
    assert asked.value.ok
    coupon = visitor.locator("#wallet li.wallet-coupon")
    expect(coupon).to_have_count(1)
    assert coupon.locator("h2").inner_text() == offer.title
    assert coupon.locator(".coupon-code").inner_text() == code
    expect(coupon.locator(".wallet-state")).to_have_text("Einlösbar")
    expect(coupon.locator(".qr-box img")).to_have_attribute("alt", re.compile(code))
    assert_accessible(visitor)
    assert reflows_at_320(visitor) <= NARROW
    screenshot(visitor, "visitor-wallet-mobile.png")

    # when a cashier of the optician opens the till on their phone
    cashier = open_page(new_context(viewport=PHONE))
    log_in(cashier, server.accounts["retailer-staff"])
    open_till(cashier)
    assert_accessible(cashier)
    # and types the code, checks it and redeems it, by keyboard alone
    tab_to(cashier, cashier.locator("#f-code"))
    cashier.keyboard.type(code)
    tab_to(cashier, cashier.locator("#till-form button[type=submit]"))
    with cashier.expect_navigation():
        cashier.keyboard.press("Enter")
    result = cashier.locator("section.till-result")
    assert result.locator("h2").inner_text() == offer.title
    assert cashier.locator("[role=alert]").count() == 0
    assert f"… {code[-4:]}" in result.locator("dl").inner_text()
    assert "4 von 50 eingelöst" in result.locator("dl").inner_text()
    assert_accessible(cashier)
    tab_to(cashier, result.locator("button[type=submit]"))
    with cashier.expect_navigation():
        cashier.keyboard.press("Enter")
    # then the till says it is redeemed
    done = cashier.locator("section.till-ok")
    assert done.locator("h2").inner_text() == "✓ Eingelöst"
    assert offer.title in done.inner_text()
    assert "5 von 50 eingelöst" in done.inner_text()
    assert_accessible(cashier)
    assert reflows_at_320(cashier) <= NARROW
    screenshot(cashier, "portal-till-redeemed-mobile.png")

    # and the visitor's wallet shows the coupon as redeemed
    with visitor.expect_response("**/api/v1/coupons/wallet"):
        visitor.reload()
    expect(coupon.locator(".wallet-state")).to_have_text("Eingelöst")
    assert coupon.locator(".qr-box").count() == 0  # nothing left to scan

    # and the owner's offer page counts the fifth redemption at the QR code
    owner.reload()
    assert results_cell(owner, QR_NAME, "Eingelöst") == "5"
    assert results_cell(owner, QR_NAME, "Gespeichert") == "5"
    assert code[-4:] in owner.locator("section#results ul").first.inner_text()  # latest
    assert_accessible(owner)
    owner.locator("section#results").scroll_into_view_if_needed()
    screenshot(owner, "portal-offer-results.png")


def test_a_second_try_at_the_till_is_refused_with_its_own_message(
    server: Any, other_offer: Offer, new_context: Any, open_page: Any, problems: Any, log_in: Any
) -> None:
    problems.allow(r"status of 409 .*/till/check")
    # given a coupon already redeemed
    code = prepare(server, lambda ctx: _save(ctx, other_offer))
    prepare(server, lambda ctx: _redeem(ctx, server, code))
    cashier = open_page(new_context(viewport=PHONE))
    log_in(cashier, server.accounts["retailer-staff"])
    open_till(cashier)
    # when the cashier checks it again
    cashier.fill("#f-code", code.lower())
    with cashier.expect_navigation():
        cashier.locator("#till-form button[type=submit]").click()
    # then the till refuses it, says when it was redeemed and offers no button to redeem
    alert = cashier.locator("section.till-result [role=alert]")
    assert alert.inner_text().startswith("Dieser Gutschein wurde bereits am ")
    assert cashier.locator("form[action$='/till/redeem']").count() == 0


# --- the camera ---------------------------------------------------------------------------


@pytest.fixture
def scanner_installed(requirement: Any) -> None:
    requirement(JSQR, "jsQR", "`make install` copies it from node_modules")


def y4m_of(picture_png: bytes, path: Path, width: int = 640, height: int = 480) -> None:
    """A still video of a picture for Chromium's fake camera: YUV4MPEG2, 4:2:0, grey (neutral
    chroma planes), a few identical frames that Chromium plays in a loop."""
    shot = Image.open(io.BytesIO(picture_png)).convert("L")
    shot = shot.resize((shot.width * 2, shot.height * 2), Image.Resampling.NEAREST)
    picture = Image.new("L", (width, height), 255)
    picture.paste(shot, ((width - shot.width) // 2, (height - shot.height) // 2))
    chroma = bytes([128]) * (width // 2 * height // 2)
    frame = b"FRAME\n" + picture.tobytes() + chroma + chroma
    header = f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + frame * 5)


def test_the_cashier_scans_the_coupon_on_the_visitors_phone_with_the_camera(
    server: Any,
    other_offer: Offer,
    scanner_installed: None,
    launch_browser: Any,
    new_context: Any,
    open_page: Any,
    log_in: Any,
    tmp_path: Path,
) -> None:
    # given a visitor who saved a coupon on the shop page and shows its QR code on the phone
    visitor = open_page(new_context(viewport=PHONE))
    visitor.goto(f"/{CITY}/shops/{OPTICIAN}")
    item = visitor.locator("section.news li", has=visitor.locator("h3", has_text=other_offer.title))
    with visitor.expect_navigation():
        item.locator("form.save-coupon button").click()
    code = visitor.locator(".coupon-code").inner_text()
    # and the till's camera films that screen
    video = tmp_path / "phone.y4m"
    shot = visitor.locator(".coupon-qr [role=img]").screenshot(animations="disabled")
    y4m_of(shot, video)
    camera = launch_browser(
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    )
    cashier = open_page(new_context(viewport=PHONE, in_browser=camera))
    log_in(cashier, server.accounts["retailer-staff"])
    open_till(cashier)
    # http://127.0.0.1 is a secure context: the till may ask for the camera
    assert cashier.evaluate("window.isSecureContext") is True
    start = cashier.locator("[data-scan]")
    expect(start).to_be_visible()
    assert start.inner_text() == "Mit der Kamera scannen"
    # when the cashier presses "Scan with the camera"
    with cashier.expect_navigation(url=re.compile(r"/till/check$")):
        start.click()
    # then jsQR reads the code and the till checks it: that coupon, ready to redeem
    result = cashier.locator("section.till-result")
    assert result.locator("h2").inner_text() == other_offer.title
    assert f"… {code[-4:]}" in result.locator("dl").inner_text()
    redeem = result.locator("form[action$='/till/redeem']")
    assert redeem.locator("input[name=code]").input_value() == code
    assert redeem.locator("button[type=submit]").is_visible()


# --- offline ------------------------------------------------------------------------------


def test_the_wallet_opens_without_a_network_once_a_coupon_is_saved(
    server: Any,
    other_offer: Offer,
    new_context: Any,
    open_page: Any,
    problems: Any,
    controlled: Any,
    service_worker: None,
) -> None:
    problems.allow(r"Failed to fetch|ERR_INTERNET_DISCONNECTED|net::")
    # given a visitor who saved a coupon; the page then keeps the wallet for offline use
    context = new_context(viewport=PHONE)
    visitor = open_page(context)
    visitor.goto(f"/{CITY}/shops/{OPTICIAN}")
    item = visitor.locator("section.news li", has=visitor.locator("h3", has_text=other_offer.title))
    with visitor.expect_navigation():
        item.locator("form.save-coupon button").click()
    code = visitor.locator(".coupon-code").inner_text()
    controlled(visitor)
    visitor.goto(f"/{CITY}/wallet")
    expect(visitor.locator(".wallet-coupon", has_text=code)).to_be_visible()
    # when the network is gone and the visitor opens the wallet again
    context.set_offline(True)
    visitor.reload()
    # then the wallet is there, with the coupon's code and QR code, and says it is offline
    card = visitor.locator(".wallet-coupon", has_text=code)
    expect(card).to_be_visible()
    assert card.locator("h2").inner_text() == other_offer.title
    assert card.locator(".qr-box img").is_visible()
    expect(visitor.locator("#wallet .hint")).to_have_text(
        "Offline: Der angezeigte Stand ist von Ihrem letzten Besuch."
    )
    context.set_offline(False)
