"""The console's users page: change and remove roles, disable and enable accounts, guard rails."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from marktplatz.bootstrap import App
from marktplatz.domain.accounts import Membership, Role, User
from marktplatz.domain.errors import Conflict
from marktplatz.domain.two_factor import TwoFactor
from marktplatz.services import city_people
from marktplatz.services.accounts import get_user
from marktplatz.store import tables as t
from support import PASSWORD, Tenant, login, make_tenant, make_user, new_client

EN = {"accept-language": "en"}


@pytest.fixture
async def admin(web: Any, tenant: Tenant) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """The tenant's city admin, logged in, with the CSRF token for the page's forms."""
    async with new_client(web) as client:
        client.headers.update(EN)
        yield client, await login(client, tenant.users["city-admin"])


def users_url(tenant: Tenant, rest: str = "") -> str:
    return f"/console/{tenant.city.slug}/users{rest}"


async def post(client: tuple[httpx.AsyncClient, str], url: str, **data: str) -> httpx.Response:
    session, csrf = client
    return await session.post(url, data={**data, "csrf_token": csrf})


async def audit_of(composed: App, user: User) -> list[tuple[str, str]]:
    log = t.audit_log.c
    query = (
        select(log.action, log.detail)
        .where(
            log.object_id == str(user.id),
            log.action.startswith("user."),
            log.action != "user.created",
        )
        .order_by(log.id)
    )
    async with composed.engine.connect() as conn:
        return [(row[0], row[1]) for row in await conn.execute(query)]


async def session_count(composed: App, user: User) -> int:
    query = select(t.login_sessions.c.token_hash).where(t.login_sessions.c.user_id == user.id)
    async with composed.engine.connect() as conn:
        return len((await conn.execute(query)).all())


async def assert_nothing_changed(composed: App, person: User) -> None:
    """A refused change leaves the account, its one session and its audit lines as they were."""
    assert await get_user(composed.ctx, person.id) == person
    assert await session_count(composed, person) == 1
    assert await audit_of(composed, person) == []


async def form_login(client: httpx.AsyncClient, user: User) -> httpx.Response:
    page = await client.get("/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text
    data = {"email": user.email, "password": PASSWORD, "csrf_token": match[1], "next": "/portal"}
    return await client.post("/login", data=data, headers=EN)


# --- roles ---------------------------------------------------------------------------------


async def test_admin_makes_an_editor_an_admin_which_applies_at_once(
    admin: tuple[httpx.AsyncClient, str], tenant: Tenant, composed: App, web: Any
) -> None:
    # given
    editor = tenant.users["city-editor"]
    async with new_client(web) as their:
        await login(their, editor)
        before = await their.get(users_url(tenant))
        # when
        changed = await post(
            admin, users_url(tenant, f"/{editor.id}/role"), role="city-editor", to="city-admin"
        )
        after = await their.get(users_url(tenant))
    page = await admin[0].get(changed.headers["location"])
    # then
    assert before.status_code == 403
    assert changed.status_code == 303
    assert changed.headers["location"] == users_url(tenant, f"?done=role&who={editor.id}")
    assert after.status_code == 200  # the same session, with the new role on its next request
    assert (await get_user(composed.ctx, editor.id)).memberships == (
        Membership(Role.CITY_ADMIN, tenant.city.id, None),
    )
    assert "The role of city-editor was changed." in page.text
    assert await audit_of(composed, editor) == [("user.role_changed", "city-editor, city-admin, ")]


async def test_admin_makes_an_owner_the_cashier_of_their_shop(
    admin: tuple[httpx.AsyncClient, str], tenant: Tenant, composed: App, web: Any
) -> None:
    # given: the shop has a second owner, so it keeps one
    owner = tenant.users["retailer-owner"]
    shop = str(tenant.shop_a.id)
    await make_user(composed, "retailer-owner", tenant.city, tenant.shop_a)
    async with new_client(web) as their:
        await login(their, owner)
        # when
        changed = await post(
            admin,
            users_url(tenant, f"/{owner.id}/role"),
            role="retailer-owner",
            shop=shop,
            to="retailer-staff",
        )
        staff_page = await their.get(f"/portal/shops/{shop}/staff")
    # then
    assert changed.status_code == 303
    assert staff_page.status_code == 403  # the owner's page, closed to cashiers
    assert (await get_user(composed.ctx, owner.id)).memberships == (
        Membership(Role.RETAILER_STAFF, tenant.city.id, tenant.shop_a.id),
    )
    assert await audit_of(composed, owner) == [
        ("user.role_changed", f"retailer-owner, retailer-staff, {shop}")
    ]


async def test_removing_a_cashiers_last_role_ends_their_sessions(
    admin: tuple[httpx.AsyncClient, str], tenant: Tenant, composed: App, web: Any
) -> None:
    # given
    cashier = tenant.users["retailer-staff"]
    async with new_client(web) as their:
        await login(their, cashier)
        # when
        removed = await post(
            admin,
            users_url(tenant, f"/{cashier.id}/role/remove"),
            role="retailer-staff",
            shop=str(tenant.shop_a.id),
        )
        after = await their.get("/portal")
    page = await admin[0].get(removed.headers["location"])
    # then
    assert removed.status_code == 303
    assert after.status_code == 303
    assert after.headers["location"].startswith("/login")
    assert (await get_user(composed.ctx, cashier.id)).memberships == ()
    assert await session_count(composed, cashier) == 0
    assert cashier.email not in page.text  # no role in the city left: off the list
    assert await audit_of(composed, cashier) == [
        ("user.role_removed", f"retailer-staff, {tenant.shop_a.id}")
    ]


@pytest.mark.parametrize(
    ("role", "shop", "to", "message"),
    [
        ("city-editor", "", "retailer-owner", "A city role can only become another city role"),
        ("city-editor", "", "city-editor", "Choose a role other than the current one."),
        ("city-editor", "", "chef", "Unknown role: chef"),
    ],
)
async def test_a_wrong_new_role_is_refused_with_its_reason(
    admin: tuple[httpx.AsyncClient, str],
    tenant: Tenant,
    composed: App,
    role: str,
    shop: str,
    to: str,
    message: str,
) -> None:
    # given
    editor = tenant.users["city-editor"]
    # when
    response = await post(
        admin, users_url(tenant, f"/{editor.id}/role"), role=role, shop=shop, to=to
    )
    # then
    assert response.status_code == 422
    assert message in response.text
    assert (await get_user(composed.ctx, editor.id)).memberships == editor.memberships
    assert await audit_of(composed, editor) == []


async def test_a_role_the_person_does_not_hold_is_not_found(
    admin: tuple[httpx.AsyncClient, str], tenant: Tenant, composed: App
) -> None:
    # given
    editor = tenant.users["city-editor"]
    # when
    response = await post(admin, users_url(tenant, f"/{editor.id}/role/remove"), role="city-admin")
    # then
    assert response.status_code == 404
    assert (await get_user(composed.ctx, editor.id)).memberships == editor.memberships


# --- guard rails ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rest", "data"),
    [
        ("/role", {"role": "city-admin", "to": "city-editor"}),
        ("/role/remove", {"role": "city-admin"}),
        ("/disable", {}),
    ],
    ids=["demote", "remove", "disable"],
)
async def test_nobody_demotes_removes_or_disables_themselves(
    admin: tuple[httpx.AsyncClient, str],
    tenant: Tenant,
    composed: App,
    rest: str,
    data: dict[str, str],
) -> None:
    # given
    me = tenant.users["city-admin"]
    # when
    response = await post(admin, users_url(tenant, f"/{me.id}{rest}"), **data)
    # then
    assert response.status_code == 422
    assert "You cannot change your own roles or account." in response.text
    await assert_nothing_changed(composed, me)


async def test_the_page_offers_no_change_of_ones_own_roles(
    admin: tuple[httpx.AsyncClient, str], tenant: Tenant
) -> None:
    # given
    me, editor = tenant.users["city-admin"], tenant.users["city-editor"]
    # when
    page = await admin[0].get(users_url(tenant))
    # then
    assert page.status_code == 200
    assert f'action="{users_url(tenant, f"/{me.id}")}' not in page.text
    assert f'action="{users_url(tenant, f"/{editor.id}/disable")}"' in page.text
    assert f'href="/console/{tenant.city.slug}/invitations"' in page.text  # invite from here


async def test_two_admins_demoting_each_other_at_once_leave_the_city_one(
    tenant: Tenant, composed: App
) -> None:
    # given: both requests passed their access check before either change was made
    first = tenant.users["city-admin"]
    second = await make_user(composed, "city-admin", tenant.city)
    city = tenant.city.id

    async def demote(actor: User, person: User) -> str:
        try:
            await city_people.change_role(
                composed.ctx,
                actor,
                city,
                person.id,
                role="city-admin",
                shop_id=None,
                to="city-editor",
            )
        except Conflict as exc:
            return exc.message % dict(exc.params)
        return "done"

    # when
    outcomes = await asyncio.gather(demote(first, second), demote(second, first))
    # then
    refusal = (
        "city-admin is the last active admin of this city. Make someone else an admin first, "
        "so that the city is never without one."
    )
    assert sorted(outcomes, key=len) == ["done", refusal]
    roles = [(await get_user(composed.ctx, u.id)).city_role(city) for u in (first, second)]
    assert sorted(r.value for r in roles if r) == ["city-admin", "city-editor"]


async def test_the_last_active_admin_is_not_disabled_by_a_stale_request(
    tenant: Tenant, composed: App
) -> None:
    # given: a second admin, demoted after their request passed its access check
    first = tenant.users["city-admin"]
    second = await make_user(composed, "city-admin", tenant.city)
    city = tenant.city.id
    await city_people.change_role(
        composed.ctx, first, city, second.id, role="city-admin", shop_id=None, to="city-editor"
    )
    # when
    with pytest.raises(Conflict) as refused:
        await city_people.set_active(composed.ctx, second, city, first.id, active=False)
    # then
    assert refused.value.params == {"name": "city-admin"}
    assert (await get_user(composed.ctx, first.id)).is_active


async def test_someone_with_roles_in_another_city_is_not_disabled_here(
    admin: tuple[httpx.AsyncClient, str], tenant: Tenant, composed: App
) -> None:
    # given: the tenant's cashier is also an editor of another city
    other = await make_tenant(composed)
    cashier = tenant.users["retailer-staff"]
    async with composed.ctx.uow(write=True) as uow:
        await uow.users.add_membership(
            cashier.id, Membership(Role.CITY_EDITOR, other.city.id, None)
        )
        await uow.commit()
    page = await admin[0].get(users_url(tenant))
    # when
    response = await post(admin, users_url(tenant, f"/{cashier.id}/disable"))
    # then
    assert f'action="{users_url(tenant, f"/{cashier.id}/disable")}"' not in page.text
    assert "Also works for another city: remove this city" in page.text
    assert response.status_code == 422
    assert "also has roles in another city" in response.text
    assert (await get_user(composed.ctx, cashier.id)).is_active


OWNER_CHANGES = pytest.mark.parametrize(
    ("rest", "data"),
    [
        ("/role", {"role": "retailer-owner", "to": "retailer-staff"}),
        ("/role/remove", {"role": "retailer-owner"}),
        ("/disable", {}),
    ],
    ids=["demote", "remove", "disable"],
)


@OWNER_CHANGES
async def test_a_shops_last_owner_is_neither_demoted_removed_nor_disabled(
    admin: tuple[httpx.AsyncClient, str],
    tenant: Tenant,
    composed: App,
    web: Any,
    rest: str,
    data: dict[str, str],
) -> None:
    # given: the shop's only owner, logged in; a disabled second owner does not count
    owner = tenant.users["retailer-owner"]
    away = await make_user(composed, "retailer-owner", tenant.city, tenant.shop_a)
    await city_people.set_active(
        composed.ctx, tenant.users["city-admin"], tenant.city.id, away.id, active=False
    )
    async with new_client(web) as their:
        await login(their, owner)
        # when
        response = await post(
            admin, users_url(tenant, f"/{owner.id}{rest}"), shop=str(tenant.shop_a.id), **data
        )
        staff_page = await their.get(f"/portal/shops/{tenant.shop_a.id}/staff")
    # then
    assert response.status_code == 422
    assert (
        f"retailer-owner is the last active owner of {tenant.shop_a.name}; the shop would then "
        "have no owner. First give someone else the owner role of"
    ) in response.text
    assert staff_page.status_code == 200
    await assert_nothing_changed(composed, owner)


@OWNER_CHANGES
async def test_an_owner_goes_while_the_shop_keeps_another(
    admin: tuple[httpx.AsyncClient, str],
    tenant: Tenant,
    composed: App,
    rest: str,
    data: dict[str, str],
) -> None:
    # given
    owner = tenant.users["retailer-owner"]
    second = await make_user(composed, "retailer-owner", tenant.city, tenant.shop_a)
    # when
    response = await post(
        admin, users_url(tenant, f"/{owner.id}{rest}"), shop=str(tenant.shop_a.id), **data
    )
    # then
    assert response.status_code == 303
    assert await get_user(composed.ctx, owner.id) != owner
    assert (await get_user(composed.ctx, second.id)).shop_role(tenant.shop_a.id) is (
        Role.RETAILER_OWNER
    )
    assert len(await audit_of(composed, owner)) == 1


async def test_two_owners_removed_at_once_leave_the_shop_one(tenant: Tenant, composed: App) -> None:
    # given: both requests passed their access check before either change was made
    first = tenant.users["retailer-owner"]
    second = await make_user(composed, "retailer-owner", tenant.city, tenant.shop_a)
    admin, city, shop = tenant.users["city-admin"], tenant.city.id, tenant.shop_a.id

    async def remove(person: User) -> str:
        try:
            await city_people.remove_role(
                composed.ctx, admin, city, person.id, role="retailer-owner", shop_id=shop
            )
        except Conflict:
            return "refused"
        return "done"

    # when
    outcomes = await asyncio.gather(remove(first), remove(second))
    # then
    assert sorted(outcomes) == ["done", "refused"]
    roles = [(await get_user(composed.ctx, u.id)).shop_role(shop) for u in (first, second)]
    assert sorted(str(r) for r in roles) == ["None", "retailer-owner"]


# --- disable and enable --------------------------------------------------------------------


async def test_disabling_ends_every_session_and_refuses_the_login(
    admin: tuple[httpx.AsyncClient, str], tenant: Tenant, composed: App, web: Any
) -> None:
    # given: the shop has a second owner, so it keeps one
    owner = tenant.users["retailer-owner"]
    await make_user(composed, "retailer-owner", tenant.city, tenant.shop_a)
    async with new_client(web) as their, new_client(web) as later:
        await login(their, owner)
        await login(later, owner)
        # when
        disabled = await post(admin, users_url(tenant, f"/{owner.id}/disable"))
        page = await admin[0].get(disabled.headers["location"])
        open_page = await their.get(f"/portal/shops/{tenant.shop_a.id}")
        api = await later.get("/api/v1/me")
        form = await form_login(later, owner)
        api_login = await later.post(
            "/api/v1/session", json={"email": owner.email, "password": PASSWORD}, headers=EN
        )
    # then
    assert disabled.status_code == 303
    assert "The account of retailer-owner is disabled." in page.text
    assert open_page.status_code == 303
    assert open_page.headers["location"].startswith("/login")
    assert api.status_code == 401
    assert form.status_code == 401
    assert "This account is disabled." in form.text
    assert api_login.status_code == 401
    assert api_login.json()["detail"].startswith("This account is disabled.")
    assert await session_count(composed, owner) == 0
    assert not (await get_user(composed.ctx, owner.id)).is_active
    assert await audit_of(composed, owner) == [("user.disabled", "")]


async def test_a_wrong_password_for_a_disabled_account_says_nothing_about_it(
    admin: tuple[httpx.AsyncClient, str], tenant: Tenant, composed: App, web: Any
) -> None:
    # given
    owner = tenant.users["retailer-owner"]
    await make_user(composed, "retailer-owner", tenant.city, tenant.shop_a)
    await post(admin, users_url(tenant, f"/{owner.id}/disable"))
    # when
    async with new_client(web) as stranger:
        response = await stranger.post(
            "/api/v1/session", json={"email": owner.email, "password": "falsch-geraten-1"}
        )
    # then
    assert response.status_code == 401
    assert "disabled" not in response.text


async def test_enabling_restores_the_login(
    admin: tuple[httpx.AsyncClient, str], tenant: Tenant, composed: App, web: Any
) -> None:
    # given
    cashier = tenant.users["retailer-staff"]
    await post(admin, users_url(tenant, f"/{cashier.id}/disable"))
    listed = await admin[0].get(users_url(tenant))
    # when
    enabled = await post(admin, users_url(tenant, f"/{cashier.id}/enable"))
    async with new_client(web) as their:
        logged_in = await form_login(their, cashier)
        till = await their.get(f"/portal/shops/{tenant.shop_a.id}/till")
    # then
    assert f'action="{users_url(tenant, f"/{cashier.id}/enable")}"' in listed.text
    assert enabled.status_code == 303
    assert logged_in.status_code == 303
    assert till.status_code == 200
    assert (await get_user(composed.ctx, cashier.id)).is_active
    assert await audit_of(composed, cashier) == [("user.disabled", ""), ("user.enabled", "")]


# --- who may ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["city-editor", "retailer-owner"])
async def test_editors_and_retailers_change_nothing(
    tenant: Tenant, composed: App, web: Any, role: str
) -> None:
    # given
    cashier = tenant.users["retailer-staff"]
    async with new_client(web) as client:
        csrf = await login(client, tenant.users[role])
        # when
        responses = [
            await client.post(
                users_url(tenant, f"/{cashier.id}{rest}"), data={**data, "csrf_token": csrf}
            )
            for rest, data in (
                ("/disable", {}),
                (
                    "/role",
                    {
                        "role": "retailer-staff",
                        "shop": str(tenant.shop_a.id),
                        "to": "retailer-owner",
                    },
                ),
                ("/role/remove", {"role": "retailer-staff", "shop": str(tenant.shop_a.id)}),
            )
        ]
    # then
    assert [r.status_code for r in responses] == [403, 403, 403]
    assert await get_user(composed.ctx, cashier.id) == cashier
    assert await audit_of(composed, cashier) == []


async def test_another_citys_admin_finds_neither_the_city_nor_its_people(
    tenant: Tenant, composed: App, web: Any
) -> None:
    # given
    other = await make_tenant(composed)
    cashier = tenant.users["retailer-staff"]
    async with new_client(web) as client:
        csrf = await login(client, other.users["city-admin"])
        # when
        in_their_city = await client.post(
            users_url(tenant, f"/{cashier.id}/disable"), data={"csrf_token": csrf}
        )
        via_own_city = await client.post(
            users_url(other, f"/{cashier.id}/disable"), data={"csrf_token": csrf}
        )
        page = await client.get(users_url(tenant))
    # then
    assert (in_their_city.status_code, via_own_city.status_code, page.status_code) == (
        404,
        404,
        404,
    )
    assert cashier.email not in page.text
    assert await get_user(composed.ctx, cashier.id) == cashier
    assert await audit_of(composed, cashier) == []


# --- two-factor state ----------------------------------------------------------------------


async def test_the_list_shows_each_persons_two_factor_state(
    admin: tuple[httpx.AsyncClient, str], tenant: Tenant, composed: App
) -> None:
    # given: the editor has it on, the owner's grace period is over, the admin's is running
    now = composed.ctx.clock.now()
    editor, owner = tenant.users["city-editor"], tenant.users["retailer-owner"]
    async with composed.ctx.uow(write=True) as uow:
        await uow.two_factor.save(TwoFactor(editor.id, b"sealed", now, None, now))
        await uow.commit()
    async with composed.engine.begin() as conn:
        old = now - timedelta(days=composed.ctx.two_factor_grace_days + 1)
        await conn.execute(update(t.users).where(t.users.c.id == owner.id).values(created_at=old))
    # when
    page = await admin[0].get(users_url(tenant))
    # then
    rows = {
        role: re.search(rf'<tr id="person-{user.id}">(.*?)</tr>', page.text, re.S)
        for role, user in tenant.users.items()
    }
    states = {
        role: re.findall(r'<span class="badge (\w+)">([^<]+)</span>', m[1] if m else "")[0]
        for role, m in rows.items()
    }
    assert states == {
        "city-admin": ("warn", "Required, not set up yet"),
        "city-editor": ("ok", "On"),
        "retailer-owner": ("bad", "Required and overdue"),
        "retailer-staff": ("neutral", "Off"),
    }
