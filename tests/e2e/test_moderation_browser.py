"""Moderation in a real Chromium: the city admin approves the pharmacy's submitted offer, which
visitors then see on the shop page; the rules and budget are a click away; a rejected item comes
back to the retailer with the city's message; a shop's changed story waits, is sent back and
approved."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

CITY = "musterstadt"
PHARMACY = "apotheke-am-markt"
OFFER = "Sonnencreme LSF 50"  # the demo pharmacy's offer, waiting under the pharmacy rule
ITEM_URL = re.compile(r".*/portal/content/[0-9a-f-]{36}\?saved=1$")


@pytest.fixture(scope="module")
def server(
    chromium_path: str, serve_demo: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """A server of this module's own: approving the demo's waiting offer would empty the queue
    other tests look at."""
    del chromium_path
    with serve_demo(tmp_path_factory.mktemp("e2e-moderation")) as running:
        yield running


def queued(page: Any, title: str) -> Any:
    return page.locator("section.panel", has=page.locator("h2", has_text=title))


def test_approve_a_submitted_offer_that_then_appears_to_visitors(
    new_context: Any,
    open_page: Any,
    server: Any,
    log_in: Any,
    assert_accessible: Any,
    screenshot: Any,
) -> None:
    # given a visitor on the pharmacy's page, where the waiting offer is not shown
    visitor = open_page(new_context())
    visitor.goto(f"/{CITY}/shops/{PHARMACY}")
    expect(visitor.locator("h3", has_text=OFFER)).to_have_count(0)
    # and the city admin in the approval queue, where it waits with the rule that flagged it
    admin = open_page(new_context())
    log_in(admin, server.accounts["city-admin"])
    admin.goto(f"/console/{CITY}/moderation")
    item = queued(admin, OFFER)
    expect(item.locator(".badge.warn", has_text="Branchenregel: Apotheke")).to_be_visible()
    assert_accessible(admin)
    screenshot(admin, "console-moderation.png")

    # the category rules and the notification budget are edited one click away
    with admin.expect_navigation():
        admin.locator(f"main a[href='/console/{CITY}/rules#cat-h']").click()
    expect(admin.locator("#f-push_budget_per_day")).to_be_editable()
    expect(admin.locator("#f-cat_pharmacy_approval")).to_be_checked()
    expect(admin.locator("#f-cat_pharmacy_terms")).to_have_value(re.compile("^rezeptpflichtig"))
    admin.go_back()

    # when the admin approves it
    with admin.expect_navigation():
        queued(admin, OFFER).locator("button[name=verdict][value=approve]").click()
    # then it leaves the queue and visitors see it on the shop page
    expect(queued(admin, OFFER)).to_have_count(0)
    visitor.reload()
    expect(visitor.locator("h3", has_text=OFFER)).to_be_visible()


def approving_admin(new_context: Any, open_page: Any, server: Any, log_in: Any) -> Any:
    """The city admin's page, after setting the city's rules to approve everything."""
    admin = open_page(new_context())
    log_in(admin, server.accounts["city-admin"])
    admin.goto(f"/console/{CITY}/rules")
    admin.check("#f-approve_everything")
    with admin.expect_navigation():
        admin.locator("main form button[type=submit]").click()
    return admin


def test_a_sent_back_item_shows_the_city_message_to_the_retailer(
    new_context: Any, open_page: Any, server: Any, log_in: Any, assert_accessible: Any
) -> None:
    # given a city that approves everything
    admin = approving_admin(new_context, open_page, server, log_in)
    # and the optician's owner who submits an offer
    owner = open_page(new_context())
    log_in(owner, server.accounts["retailer-owner"])
    with owner.expect_navigation():
        owner.locator("nav.subnav a[href$='/content']").click()
    with owner.expect_navigation():
        owner.locator("main a.button", has_text="Angebot").click()
    title = f"Zwei Brillen zum Preis von einer {uuid.uuid4().hex[:4]}"
    owner.fill("#f-title", title)
    with owner.expect_navigation():
        owner.locator("button[name=then][value=submit]").click()
    owner.wait_for_url(ITEM_URL)
    # when the city sends it back with a message
    admin.goto(f"/console/{CITY}/moderation")
    item = queued(admin, title)
    item.locator("textarea[name=note]").fill("Bitte nennen Sie den regulären Preis.")
    with admin.expect_navigation():
        item.locator("button[name=verdict][value=reject]").click()
    expect(queued(admin, title)).to_have_count(0)
    # then the retailer's overview shows it as returned by the city, with the message
    owner.goto("/portal")
    returned = owner.locator("section[aria-labelledby=rejected-h]")
    expect(returned).to_contain_text("Von der Stadt zurückgegeben")
    expect(returned).to_contain_text(title)
    expect(returned).to_contain_text("Bitte nennen Sie den regulären Preis.")
    assert_accessible(owner)


OPTICIAN = "optik-brillenhaus-krueger"  # the demo retailer-owner's shop


def test_a_changed_shop_story_waits_is_sent_back_with_a_reason_and_then_approved(
    new_context: Any, open_page: Any, server: Any, log_in: Any, assert_accessible: Any
) -> None:
    # given a city that approves everything
    admin = approving_admin(new_context, open_page, server, log_in)
    # when the optician's owner changes the shop's story
    owner = open_page(new_context())
    log_in(owner, server.accounts["retailer-owner"])
    with owner.expect_navigation():
        owner.locator("nav.subnav a[href$='/story']").click()
    mark = uuid.uuid4().hex[:6]
    owner.fill("#f-source", f"Wir schleifen Gläser seit 1950 ({mark}).")
    with owner.expect_navigation():
        owner.locator("button[name=action][value=save]").click()
    # then the editor says it waits, and visitors still see the old story
    expect(owner.locator("#story-state")).to_be_visible()
    visitor = open_page(new_context())
    visitor.goto(f"/{CITY}/shops/{OPTICIAN}")
    expect(visitor.locator("main")).not_to_contain_text(mark)
    # when the city reads what changed and sends it back with a reason
    admin.goto(f"/console/{CITY}/moderation")
    waiting = admin.locator("section.panel", has=admin.locator("form[action*='/story/']"))
    expect(waiting).to_have_count(1)
    waiting.locator("details summary").first.click()
    expect(waiting.locator(".line-changes ins")).to_contain_text(mark)
    assert_accessible(admin)
    waiting.locator("textarea[name=note]").fill("Bitte nennen Sie Ihre Meisterin.")
    with admin.expect_navigation():
        waiting.locator("button[name=verdict][value=reject]").click()
    expect(waiting).to_have_count(0)
    # then the retailer reads the reason in the editor
    owner.reload()
    expect(owner.locator("#story-state[role=alert]")).to_contain_text(
        "Bitte nennen Sie Ihre Meisterin."
    )
    assert_accessible(owner)
    # when the retailer saves again and the city approves
    owner.fill("#f-source", f"Meisterin Anna Krüger schleift Gläser seit 1950 ({mark}).")
    with owner.expect_navigation():
        owner.locator("button[name=action][value=save]").click()
    admin.goto(f"/console/{CITY}/moderation")
    with admin.expect_navigation():
        waiting.locator("button[name=verdict][value=approve]").click()
    # then visitors see the new story
    visitor.reload()
    expect(visitor.locator("main")).to_contain_text(
        f"Meisterin Anna Krüger schleift Gläser seit 1950 ({mark})."
    )
