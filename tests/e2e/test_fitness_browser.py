"""The digital-fitness check in a real Chromium: the demo optician answers it on a phone with
the keyboard alone and reads scores, the city's median and next steps; the city plans workshops."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

# The coupon loop's helper: run a use case on the server's own database.
from test_coupon_loop import prepare

from marktplatz.domain.fitness import QUESTIONS
from marktplatz.services import accounts, cities, fitness, shops
from marktplatz.services.context import Context

pytestmark = pytest.mark.e2e

CITY = "musterstadt"
OPTICIAN = "optik-brillenhaus-krueger"
PHONE = {"width": 390, "height": 844}
OTHERS = (
    "apotheke-am-markt",
    "loewen-apotheke",
    "augenoptik-lindner",
    "modehaus-hagemann",
    "boutique-leinenliebe",
)
RESULT_URL = re.compile(r".*/portal/shops/[0-9a-f-]{36}/fitness\?saved=1$")
# What the owner answers: mostly the second option, some the best, one the worst.
CHOSEN = {q.key: 1 for q in QUESTIONS} | {"hours_current": 0, "offers_online": 0, "social_plan": 2}


@pytest.fixture(scope="module")
def server(
    chromium_path: str, serve_demo: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """A server of this module's own: its checks would change what other tests see."""
    del chromium_path
    with serve_demo(tmp_path_factory.mktemp("e2e-fitness")) as running:
        yield running


def answers(index: int, offset: int = 0) -> dict[str, str]:
    """An answer to every question: the option at `index`, every second one moved by `offset`."""
    return {
        q.key: q.options[min(max(index + offset * (n % 2), 0), len(q.options) - 1)].value
        for n, q in enumerate(QUESTIONS)
    }


@pytest.fixture(scope="module")
def before(server: Any) -> dict[str, str]:
    """Five other shops took the check (so the median shows), the optician once already;
    returns the optician's answers then."""

    async def use(ctx: Context) -> dict[str, str]:
        account = server.accounts["city-admin"]
        admin = (await accounts.login(ctx, account.email, account.password, "e2e")).user
        city = await cities.city_by_slug(ctx, CITY)
        for n, slug in enumerate(OTHERS):
            shop, _ = await shops.public_shop(ctx, city.id, slug)
            await fitness.take_check(ctx, admin, shop.id, answers(n % 3, 1))
        optician, _ = await shops.public_shop(ctx, city.id, OPTICIAN)
        before = answers(2)
        await fitness.take_check(ctx, admin, optician.id, before)
        return before

    return prepare(server, use)


def answer_with_keys(page: Any, before: dict[str, str]) -> None:
    """Tab reaches each question's group; arrow keys move and choose within it."""
    # Where Tab enters the first group: at its chosen answer.
    page.locator("input[name=hours_current]:checked").focus()
    for n, question in enumerate(QUESTIONS):
        if n:
            page.keyboard.press("Tab")
        values = [o.value for o in question.options]
        current, wanted = values.index(before[question.key]), CHOSEN[question.key]
        if wanted == current:
            page.keyboard.press("Space")
        for _ in range(abs(wanted - current)):
            page.keyboard.press("ArrowDown" if wanted > current else "ArrowUp")
        checked = page.locator(f"input[name={question.key}]:checked")
        expect(checked).to_have_value(values[wanted])
        expect(checked).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("main form button[type=submit]")).to_be_focused()


def test_owner_answers_the_check_with_the_keyboard_and_sees_the_result(
    before: dict[str, str],
    new_context: Any,
    open_page: Any,
    server: Any,
    log_in: Any,
    assert_accessible: Any,
    screenshot: Any,
) -> None:
    owner = open_page(new_context(viewport=PHONE))
    log_in(owner, server.accounts["retailer-owner"])
    with owner.expect_navigation():
        owner.locator("nav.subnav a[href$='/fitness']").click()
    with owner.expect_navigation():
        owner.locator("main .page-head a[href$='/fitness/check']").click()
    assert_accessible(owner)

    # The form is prefilled with the last answers; the owner changes them by keyboard only.
    answer_with_keys(owner, before)
    with owner.expect_navigation():
        owner.keyboard.press("Enter")
    owner.wait_for_url(RESULT_URL)

    expect(owner.locator(".alert.success[role=status]")).to_be_visible()
    total = int(owner.locator(".fitness-total").inner_text())
    assert 0 < total < 100
    bars = owner.locator(".fitness-bar-row")
    expect(bars).to_have_count(6)
    # Six shops took part: the city's median is shown in every area.
    for row in bars.all():
        assert re.search(r"\d+ \D+ 100 · .+ \d+", row.inner_text()), row.inner_text()
    steps = owner.locator(".fitness-steps > li")
    assert 1 <= steps.count() <= 6
    assert owner.locator(".fitness-steps a[href*='/portal/shops/']").count() >= 1
    # The trend: the earlier check and this one, as a line and as a table.
    expect(owner.locator(".fitness-chart circle")).to_have_count(2)
    expect(owner.locator("#trend-h ~ .table-wrap tbody tr")).to_have_count(2)
    # Nothing reaches past the phone's edge (wide tables scroll inside their own box).
    assert owner.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_accessible(owner)
    screenshot(owner, "portal-fitness-mobile.png")


def test_city_staff_see_the_distribution(
    before: dict[str, str],
    new_context: Any,
    open_page: Any,
    server: Any,
    log_in: Any,
    assert_accessible: Any,
    screenshot: Any,
) -> None:
    page = open_page(new_context())
    log_in(page, server.accounts["city-admin"])
    page.goto(f"/console/{CITY}")
    with page.expect_navigation():
        page.locator("nav.subnav a[href$='/fitness']").click()
    spread = page.locator("table.fitness-spread tbody tr")
    expect(spread).to_have_count(6)
    for row in spread.all():
        counts = [int(c) for c in row.locator("td").all_inner_texts()[:4]]
        assert sum(counts) == len(OTHERS) + 1
    assert page.locator("#shops-h ~ .table-wrap tbody tr").count() == len(OTHERS) + 1
    assert_accessible(page)
    screenshot(page, "console-fitness.png")
