"""Two-factor login is a must for shop owners and city admins, after a grace period.

Within the grace period the portal reminds them with the date; past it, the portal, the console
and the API wait until it is set up (the account pages and logging out stay open). Cashiers and
city editors may use it but are never made to.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from test_two_factor import EN, PAGE, On, api_login, clocked, code_at, confirm, csrf_of, start

from marktplatz.bootstrap import App
from marktplatz.domain.accounts import User
from marktplatz.settings import Settings
from support import Tenant, login, make_user, new_client

DE = {"accept-language": "de"}
GRACE = timedelta(days=14)


@pytest.fixture
async def later(settings: Settings, tmp_path: Path) -> AsyncIterator[On]:
    """An app whose clock stands a day after the end of every test user's grace period."""
    async with clocked(settings, tmp_path) as on:
        on.clock.advance(GRACE + timedelta(days=1))
        yield on


def shop_page(tenant: Tenant) -> str:
    return f"/portal/shops/{tenant.shop_a.id}"


async def test_within_the_grace_period_the_portal_reminds_the_owner_with_the_date(
    composed: App, tenant: Tenant, web: object
) -> None:
    # given
    owner = await make_user(composed, "retailer-owner", tenant.city, tenant.shop_a)
    async with new_client(web) as client:
        await login(client, owner)
        # when
        page = await client.get(shop_page(tenant), headers=DE)
    # then
    assert page.status_code == 200
    assert "data-two-factor-due" in page.text
    assert "Bitte richten Sie sie bis zum" in page.text
    assert 'href="/account/two-factor"' in page.text


async def test_past_the_grace_period_an_owner_sets_it_up_before_anything_else(
    later: On, composed: App, tenant: Tenant
) -> None:
    # given an owner of two weeks and a day, without two-factor login
    owner = await make_user(composed, "retailer-owner", tenant.city, tenant.shop_a)
    async with new_client(later.app) as client:
        assert (await api_login(client, owner)).status_code == 200
        # when
        portal = await client.get(shop_page(tenant), headers=EN)
        console = await client.get(f"/console/{tenant.city.slug}", headers=EN)
        api = await client.get(f"/api/v1/shops/{tenant.shop_a.id}", headers=EN)
        account = await client.get(f"{PAGE}?required=1", headers=DE)
        me = await client.get("/api/v1/me")
        # ... then it is set up
        secret = await start(client)
        confirmed = await confirm(client, code_at(secret, later.clock))
        after = await client.get(shop_page(tenant), headers=EN)
    # then
    assert (portal.status_code, portal.headers["location"]) == (303, f"{PAGE}?required=1")
    assert (console.status_code, console.headers["location"]) == (303, f"{PAGE}?required=1")
    assert (api.status_code, api.json()) == (
        403,
        {"detail": "two-factor login required", "setup": PAGE},
    )
    assert account.status_code == 200
    assert "Zwei-Faktor-Anmeldung Pflicht" in account.text
    assert "sobald sie eingeschaltet ist" in account.text
    assert me.status_code == 200
    assert confirmed.status_code == 200
    assert 'href="/portal"' in confirmed.text  # on from the recovery codes to the work
    assert after.status_code == 200
    assert "data-two-factor-due" not in after.text


async def test_a_city_admin_is_held_too_but_cashiers_and_city_editors_are_not(
    later: On, composed: App, tenant: Tenant
) -> None:
    # given
    admin = await make_user(composed, "city-admin", tenant.city)
    editor = await make_user(composed, "city-editor", tenant.city)
    cashier = await make_user(composed, "retailer-staff", tenant.city, tenant.shop_a)
    answers: dict[str, int] = {}
    for name, user, path in (
        ("admin", admin, f"/console/{tenant.city.slug}"),
        ("editor", editor, f"/console/{tenant.city.slug}"),
        ("cashier", cashier, f"{shop_page(tenant)}/till"),
    ):
        async with new_client(later.app) as client:
            assert (await api_login(client, user)).status_code == 200
            # when
            answers[name] = (await client.get(path, headers=EN)).status_code
    # then
    assert answers == {"admin": 303, "editor": 200, "cashier": 200}


async def test_an_owner_with_two_factor_login_is_never_held(
    later: On, composed: App, tenant: Tenant
) -> None:
    # given an owner who set it up on their first day
    owner = await make_user(composed, "retailer-owner", tenant.city, tenant.shop_a)
    later.clock.advance(-(GRACE + timedelta(days=1)))
    async with new_client(later.app) as client:
        assert (await api_login(client, owner)).status_code == 200
        secret = await start(client)
        assert (await confirm(client, code_at(secret, later.clock, -1))).status_code == 200
    later.clock.advance(GRACE + timedelta(days=1))
    async with new_client(later.app) as client:
        login_answer = await api_login(client, owner, code=code_at(secret, later.clock))
        # when
        page = await client.get(shop_page(tenant), headers=EN)
        csrf = await csrf_of(client)
    # then
    assert login_answer.status_code == 200
    assert page.status_code == 200
    assert "data-two-factor-due" not in page.text
    assert csrf


async def test_with_no_grace_period_it_is_required_at_once(
    settings: Settings, tmp_path: Path, composed: App, tenant: Tenant
) -> None:
    # given
    owner: User = await make_user(composed, "retailer-owner", tenant.city, tenant.shop_a)
    async with clocked(settings, tmp_path, two_factor_grace_days=0) as on:
        on.clock.advance(timedelta(minutes=1))  # the clock stands at the step's start
        async with new_client(on.app) as client:
            await login(client, owner)
            # when
            answer: httpx.Response = await client.get(shop_page(tenant), headers=EN)
    # then
    assert (answer.status_code, answer.headers["location"]) == (303, f"{PAGE}?required=1")
