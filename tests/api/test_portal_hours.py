"""The opening hours editor: save weekday rows with a lunch break, refuse wrong rows, preview."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from marktplatz.adapters.clock import FixedClock
from marktplatz.bootstrap import App
from marktplatz.domain.shops import Shop
from marktplatz.services import shops, staff
from marktplatz.settings import Settings
from marktplatz.store import tables as t
from marktplatz.web.app import create_app
from support import Tenant, login, new_client

LUNCH = "Mo-Fr 09:00-13:00,14:30-18:30; Sa 10:00-14:00; PH off"


@pytest.fixture
async def en(web: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with new_client(web) as c:
        c.headers["accept-language"] = "en"
        yield c


def shown(page: str, name: str) -> str:
    """The value a text input of the page shows."""
    match = re.search(rf'<input id="f-{name}" name="{name}"[^>]*? value="([^"]*)"', page)
    assert match, name
    return html.unescape(match[1])


def hours_url(tenant: Tenant, rest: str = "") -> str:
    return f"/portal/shops/{tenant.shop_a.id}/hours{rest}"


def week_form(token: str, **changes: str) -> dict[str, str]:
    """Mo–Fr 09:00–13:00 and 14:30–18:30, Sa 10:00–14:00, closed on Sundays and holidays."""
    form = {"csrf_token": token, "ph_mode": "closed", "special_rows": "2"}
    for day in range(5):
        form |= {
            f"d{day}_open": "1",
            f"d{day}_0_from": "09:00",
            f"d{day}_0_to": "13:00",
            f"d{day}_1_from": "14:30",
            f"d{day}_1_to": "18:30",
        }
    form |= {"d5_open": "1", "d5_0_from": "10:00", "d5_0_to": "14:00"}
    return {**form, **changes}


async def stored(composed: App, tenant: Tenant) -> Shop:
    return await shops.get_shop(composed.ctx, tenant.users["city-admin"], tenant.shop_a.id)


async def hours_audits(composed: App, tenant: Tenant) -> int:
    log = t.audit_log.c
    query = select(log.id).where(
        log.object_id == str(tenant.shop_a.id), log.action == "shop.hours_updated"
    )
    async with composed.engine.connect() as conn:
        return len((await conn.execute(query)).all())


async def test_owner_saves_a_week_with_a_lunch_break(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    token = await login(en, tenant.users["retailer-owner"])
    before = await stored(composed, tenant)
    # when
    response = await en.post(hours_url(tenant), data=week_form(token))
    page = await en.get(hours_url(tenant, "?saved=1"))
    # then
    assert response.status_code == 303
    assert response.headers["location"] == hours_url(tenant, "?saved=1")
    after = await stored(composed, tenant)
    assert after.opening_hours == LUNCH
    assert (after.name, after.story_html) == (before.name, before.story_html)
    assert await hours_audits(composed, tenant) == 1
    assert shown(page.text, "d0_1_from") == "14:30"
    assert shown(page.text, "d5_0_to") == "14:00"
    assert "Your changes have been saved." in page.text


async def test_a_row_ending_before_it_starts_is_named_and_nothing_is_saved(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    token = await login(en, tenant.users["retailer-owner"])
    before = await stored(composed, tenant)
    form = week_form(token, d0_1_from="09:00", d0_1_to="08:00", d0_0_from="", d0_0_to="")
    # when
    response = await en.post(hours_url(tenant), data=form)
    # then
    assert response.status_code == 422
    assert "Monday, period 2: ends at 08:00, before it starts at 09:00." in response.text
    assert 'aria-invalid="true" aria-describedby="e-d0_1_to"' in response.text
    assert shown(response.text, "d2_1_to") == "18:30"  # the rest is kept
    assert (await stored(composed, tenant)).opening_hours == before.opening_hours
    assert await hours_audits(composed, tenant) == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"d1_1_from": "12:00"},
            "Tuesday, period 2: overlaps period 1 (09:00–13:00).",
        ),
        ({"d2_1_to": ""}, "Wednesday, period 2: the end time is missing."),
        ({"d3_0_from": "9 Uhr"}, "Thursday, period 1: “9 Uhr” is not a time."),
        (
            {"d6_open": "1"},
            "Sunday: is marked open but has no times.",
        ),
        (
            {"s0_note": "Inventur", "s0_mode": "closed"},
            "Special day 1: the date is missing.",
        ),
        (
            {"s0_from": "2020-01-02", "s0_mode": "closed"},
            "Special day 1: Jan 2, 2020 is in the past.",
        ),
    ],
)
async def test_each_wrong_entry_gets_its_own_message(
    en: httpx.AsyncClient,
    tenant: Tenant,
    composed: App,
    changes: dict[str, str],
    message: str,
) -> None:
    # given
    token = await login(en, tenant.users["retailer-owner"])
    before = await stored(composed, tenant)
    # when
    response = await en.post(hours_url(tenant), data=week_form(token, **changes))
    # then
    assert response.status_code == 422
    assert message in response.text
    assert (await stored(composed, tenant)).opening_hours == before.opening_hours


async def test_overnight_special_days_and_holidays_are_written(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    token = await login(en, tenant.users["retailer-owner"])
    day = datetime.now(UTC).date() + timedelta(days=30)
    form = week_form(
        token,
        d5_0_from="18:00",
        d5_0_to="02:00",
        d5_0_night="1",
        ph_mode="hours",
        ph_0_from="11:00",
        ph_0_to="15:00",
        s0_from=day.isoformat(),
        s0_mode="closed",
        s0_note="Inventur",
    )
    # when
    response = await en.post(hours_url(tenant), data=form)
    # then
    assert response.status_code == 303, response.text
    month = day.strftime("%b")
    assert (await stored(composed, tenant)).opening_hours == (
        "Mo-Fr 09:00-13:00,14:30-18:30, Sa 18:00-02:00; PH 11:00-15:00; "
        f'{day.year} {month} {day.day} off "Inventur"'
    )
    page = await en.get(hours_url(tenant))
    assert shown(page.text, "s0_note") == "Inventur"
    assert 'name="d5_0_night" type="checkbox" value="1" checked' in page.text


async def test_preview_shows_the_osm_line_and_the_week_without_saving(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    token = await login(en, tenant.users["retailer-owner"])
    before = await stored(composed, tenant)
    # when
    fragment = await en.post(hours_url(tenant, "/preview"), data=week_form(token))
    wrong = await en.post(hours_url(tenant, "/preview"), data=week_form(token, d4_1_to="14:00"))
    no_script = await en.post(hours_url(tenant), data=week_form(token, action="preview"))
    # then
    assert fragment.status_code == 200
    assert f"<code>{LUNCH}</code>" in fragment.text
    assert '<table class="hours">' in fragment.text
    assert "<html" not in fragment.text
    assert "Friday, period 2: ends at 14:00, before it starts at 14:30." in wrong.text
    assert no_script.status_code == 200
    assert f"<code>{LUNCH}</code>" in no_script.text
    assert (await stored(composed, tenant)).opening_hours == before.opening_hours
    assert await hours_audits(composed, tenant) == 0


def preview_badge(fragment: str) -> str:
    """The preview's "open now / next change" line as read, spaces made plain."""
    match = re.search(r'<p class="preview-state">(.*?)</p>', fragment, re.DOTALL)
    assert match, fragment
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", match[1])).split())


BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("local", "badge"),
    [
        ("2026-06-10 11:00", "Open now · until 1:00 PM"),
        ("2026-06-10 13:00", "Closed · opens Wednesday, 2:30 PM"),
        ("2026-06-10 14:29", "Closed · opens Wednesday, 2:30 PM"),
        ("2026-06-10 18:30", "Closed · opens Thursday, 9:00 AM"),
        ("2026-06-13 15:00", "Closed · opens Monday, 9:00 AM"),
        ("2026-06-04 11:00", "Closed today — public holiday (Corpus Christi)"),
    ],
    ids=["open", "lunch-break", "a-minute-before", "evening", "weekend", "holiday"],
)
async def test_preview_says_whether_the_entered_hours_are_open_at_the_time(
    settings: Settings, tenant: Tenant, local: str, badge: str
) -> None:
    # given an app whose clock stands at that time in the city (before the test accounts were
    # made, so no owner's grace period for two-factor login has ended)
    clock = FixedClock(datetime.fromisoformat(local).replace(tzinfo=BERLIN).astimezone(UTC))
    app: Any = create_app(settings, clock=clock)
    try:
        async with new_client(app) as owner:
            owner.headers["accept-language"] = "en"
            token = await login(owner, tenant.users["retailer-owner"])
            # when the owner enters the week with a lunch break (not yet saved)
            fragment = await owner.post(hours_url(tenant, "/preview"), data=week_form(token))
    finally:
        await app.state.marktplatz.close()
    # then the preview says whether those hours are open now, and when that changes
    assert fragment.status_code == 200, fragment.text
    assert preview_badge(fragment.text) == badge


async def test_copy_monday_fills_tuesday_to_friday_without_saving(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    token = await login(en, tenant.users["retailer-owner"])
    before = await stored(composed, tenant)
    form = week_form(token, d0_1_to="19:00", action="copy")
    # when
    response = await en.post(hours_url(tenant), data=form)
    # then
    assert response.status_code == 200
    for day in range(5):
        assert shown(response.text, f"d{day}_1_to") == "19:00"
    assert shown(response.text, "d5_0_to") == "14:00"
    assert (await stored(composed, tenant)).opening_hours == before.opening_hours


async def test_hours_beyond_the_editor_open_the_expert_field_and_stay(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    token = await login(en, tenant.users["retailer-owner"])
    raw = 'Mo-Fr 09:00-18:00; Sa 09:00-14:00 "nur im Sommer"; Dec 24 off'
    await shops.set_opening_hours(
        composed.ctx, tenant.users["retailer-owner"], tenant.shop_a.id, raw
    )
    # when
    page = await en.get(hours_url(tenant))
    refused = await en.post(
        hours_url(tenant), data={"csrf_token": token, "mode": "expert", "opening_hours": "Mo 9"}
    )
    kept = await en.post(
        hours_url(tenant),
        data={
            "csrf_token": token,
            "mode": "expert",
            "opening_hours": "Mo 9",
            "keep_unparsed_hours": "1",
        },
    )
    # then
    assert "These opening hours use rules the editor cannot show." in page.text
    assert 'value="Mo-Fr 09:00-18:00; Sa 09:00-14:00 &#34;nur im Sommer&#34;; Dec 24 off"' in (
        page.text
    )
    assert 'id="f-d0_open"' not in page.text
    assert refused.status_code == 422
    assert 'id="e-opening_hours">These opening hours cannot be read:' in refused.text
    assert kept.status_code == 303
    assert (await stored(composed, tenant)).opening_hours == "Mo 9"
    unreadable = await en.get(hours_url(tenant))
    assert "The stored opening hours cannot be read." in unreadable.text


async def test_profile_save_keeps_the_hours_and_links_to_the_editor(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    token = await login(en, tenant.users["retailer-owner"])
    before = await stored(composed, tenant)
    url = f"/portal/shops/{tenant.shop_a.id}"
    form = {
        "csrf_token": token,
        "name": "Optik A",
        "category": "optician",
        "lat": "52.105",
        "lon": "8.75",
        "opening_hours": "",
    }
    # when
    response = await en.post(url, data=form)
    page = await en.get(url)
    # then
    assert response.status_code == 303, response.text
    assert (await stored(composed, tenant)).opening_hours == before.opening_hours
    assert 'id="f-opening_hours"' not in page.text
    assert f'<a href="{hours_url(tenant)}">Edit opening hours</a>' in page.text


async def test_staff_see_the_hours_but_cannot_save(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    token = await login(en, tenant.users["retailer-staff"])
    before = await stored(composed, tenant)
    # when
    page = await en.get(hours_url(tenant))
    refused = await en.post(hours_url(tenant), data=week_form(token, d0_1_to="08:00"))
    # then
    assert page.status_code == 200
    assert "only the shop owner can change them" in page.text
    assert "Save opening hours" not in page.text
    assert refused.status_code == 403
    assert (await stored(composed, tenant)).opening_hours == before.opening_hours


async def test_staff_save_the_hours_once_the_owner_allows_it_and_the_profile_stays_closed(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given the owner opens the hours (only) to the shop's staff
    await staff.open_to_staff(
        composed.ctx, tenant.users["retailer-owner"], tenant.shop_a.id, ["hours"]
    )
    token = await login(en, tenant.users["retailer-staff"])
    # when
    page = await en.get(hours_url(tenant))
    saved_answer = await en.post(hours_url(tenant), data=week_form(token))
    profile = await en.post(
        f"/portal/shops/{tenant.shop_a.id}",
        data={
            "csrf_token": token,
            "name": "Umbenannt",
            "category": "optician",
            "lat": "52.1",
            "lon": "8.7",
        },
    )
    # then
    assert "Save opening hours" in page.text
    assert saved_answer.status_code == 303
    assert (await stored(composed, tenant)).opening_hours == LUNCH
    assert profile.status_code == 403
    assert (await stored(composed, tenant)).name != "Umbenannt"
