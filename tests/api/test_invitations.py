"""Invitations: the city invites an owner, the owner accepts, logs in and edits the shop."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from marktplatz.adapters.clock import FixedClock
from marktplatz.bootstrap import App
from marktplatz.services import invitations
from marktplatz.services.accounts import get_user
from support import PASSWORD, Tenant, login, make_tenant, unique

NEW_PASSWORD = "Apfelbaum-Kreuzung-19"


async def invite_via_api(
    client: httpx.AsyncClient, tenant: Tenant, role: str, email: str, shop_id: str | None
) -> httpx.Response:
    csrf = await login(client, tenant.users["city-admin"])
    body: dict[str, Any] = {"email": email, "role": role}
    if shop_id:
        body["shop_id"] = shop_id
    return await client.post(
        f"/api/v1/cities/{tenant.city.slug}/invitations", json=body, headers={"x-csrf-token": csrf}
    )


def token_of(link: str) -> str:
    return link.rsplit("/invite/", 1)[1]


async def test_owner_invitation_is_accepted_once_and_gives_the_shop(
    client: httpx.AsyncClient, tenant: Tenant, web: Any
) -> None:
    # given an invitation of a new owner for shop B, made by the city admin
    email = f"{unique('owner')}@example.org"
    made = await invite_via_api(client, tenant, "retailer-owner", email, str(tenant.shop_b.id))
    assert made.status_code == 201, made.text
    link = made.json()["link"]
    assert link.startswith("http://testserver/invite/")
    # when the invitee opens the link in a fresh browser and accepts
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as invitee:
        page = await invitee.get(f"/invite/{token_of(link)}", headers={"accept-language": "en"})
        form_token = page.cookies.get("mp_login_csrf") or invitee.cookies.get("mp_login_csrf")
        accepted = await invitee.post(
            f"/invite/{token_of(link)}",
            data={
                "display_name": "Neue Inhaberin",
                "password": NEW_PASSWORD,
                "csrf_token": form_token,
            },
        )
        me = await invitee.get("/api/v1/me")
        again = await invitee.get(f"/invite/{token_of(link)}", headers={"accept-language": "de"})
    # then
    assert page.status_code == 200
    assert "Shop owner of Mode B" in page.text
    assert accepted.status_code == 303
    assert accepted.headers["location"] == "/portal"
    assert me.status_code == 200
    memberships = me.json()["user"]["memberships"]
    assert memberships == [
        {"role": "retailer-owner", "city_id": str(tenant.city.id), "shop_id": str(tenant.shop_b.id)}
    ]
    assert again.status_code == 410
    assert "Diese Einladung wurde bereits angenommen" in again.text
    assert 'href="/login"' in again.text


async def test_accepting_without_the_form_token_changes_nothing(
    client: httpx.AsyncClient, tenant: Tenant, web: Any
) -> None:
    # given
    email = f"{unique('owner')}@example.org"
    made = await invite_via_api(client, tenant, "retailer-owner", email, str(tenant.shop_b.id))
    token = token_of(made.json()["link"])
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as invitee:
        # when
        refused = await invitee.post(
            f"/invite/{token}",
            data={"display_name": "X", "password": NEW_PASSWORD, "csrf_token": "forged"},
        )
        # then the invitation still works
        assert refused.status_code == 403
        assert (await invitee.get(f"/invite/{token}")).status_code == 200


async def test_existing_user_confirms_with_the_own_password(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given the owner of shop A is invited as staff of shop B
    owner = tenant.users["retailer-owner"]
    made = await invite_via_api(
        client, tenant, "retailer-staff", owner.email, str(tenant.shop_b.id)
    )
    token = token_of(made.json()["link"])
    # when a wrong, then the right password is given
    with pytest.raises(invitations.InvalidInput) as wrong:
        await invitations.accept_invitation(
            composed.ctx, token, display_name="", password="falsch-falsch-falsch"
        )
    await invitations.accept_invitation(composed.ctx, token, display_name="", password=PASSWORD)
    # then
    assert wrong.value.field == "password"
    roles = {
        (m.role.value, m.shop_id) for m in (await get_user(composed.ctx, owner.id)).memberships
    }
    assert roles == {("retailer-owner", tenant.shop_a.id), ("retailer-staff", tenant.shop_b.id)}


@pytest.mark.parametrize(
    ("role", "inviter", "status"),
    [
        ("retailer-owner", "city-editor", 201),
        ("retailer-owner", "retailer-owner", 403),
        ("retailer-staff", "retailer-owner", 201),
        ("retailer-staff", "retailer-staff", 403),
        ("city-editor", "city-editor", 403),
        ("city-admin", "city-admin", 201),
    ],
)
async def test_who_may_invite_whom(
    client: httpx.AsyncClient, tenant: Tenant, role: str, inviter: str, status: int
) -> None:
    # given
    csrf = await login(client, tenant.users[inviter])
    body: dict[str, Any] = {"email": f"{unique('p')}@example.org", "role": role}
    if role.startswith("retailer"):
        body["shop_id"] = str(tenant.shop_a.id)
    # when
    response = await client.post(
        f"/api/v1/cities/{tenant.city.slug}/invitations", json=body, headers={"x-csrf-token": csrf}
    )
    # then
    assert response.status_code == status, response.text


async def test_a_foreign_shop_cannot_be_named(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given a shop of another city
    other = await make_tenant(composed)
    # when
    response = await invite_via_api(
        client, tenant, "retailer-owner", f"{unique('p')}@example.org", str(other.shop_a.id)
    )
    # then it looks nonexistent
    assert response.status_code == 404


async def test_an_invitation_expires_after_seven_days(tenant: Tenant, composed: App) -> None:
    # given an invitation made at a fixed time
    clock = FixedClock(composed.ctx.clock.now())
    ctx = composed.ctx.__class__(
        **{**{f: getattr(composed.ctx, f) for f in composed.ctx.__slots__}, "clock": clock}
    )
    issued = await invitations.invite(
        ctx,
        tenant.users["city-admin"],
        tenant.city.id,
        email=f"{unique('late')}@example.org",
        role="retailer-staff",
        shop_id=tenant.shop_a.id,
    )
    # when a week and a minute pass
    clock.advance(timedelta(days=7, minutes=1))
    # then
    with pytest.raises(invitations.NotFound):
        await invitations.view_invitation(ctx, issued.token)


async def test_console_shows_the_link_once_and_lists_the_open_invitation(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # given
    csrf = await login(client, tenant.users["city-editor"])
    email = f"{unique('owner')}@example.org"
    # when
    created = await client.post(
        f"/console/{tenant.city.slug}/invitations",
        data={
            "email": email,
            "role": "retailer-owner",
            "shop_id": str(tenant.shop_b.id),
            "csrf_token": csrf,
        },
        headers={"accept-language": "en"},
    )
    listed = await client.get(
        f"/console/{tenant.city.slug}/invitations", headers={"accept-language": "en"}
    )
    bad = await client.post(
        f"/console/{tenant.city.slug}/invitations",
        data={
            "email": "not-an-address",
            "role": "retailer-owner",
            "shop_id": str(tenant.shop_b.id),
            "csrf_token": csrf,
        },
        headers={"accept-language": "en"},
    )
    # then
    assert created.status_code == 201
    assert "http://testserver/invite/" in created.text
    assert email in listed.text
    assert "/invite/" not in listed.text
    assert bad.status_code == 422
    assert "This is not a valid e-mail address." in bad.text


async def test_an_expired_link_says_so_with_its_date_and_creates_nothing(
    tenant: Tenant, composed: App, web: Any
) -> None:
    # given an invitation made eight days ago
    clock = FixedClock(composed.ctx.clock.now() - timedelta(days=8))
    ctx = composed.ctx.__class__(
        **{**{f: getattr(composed.ctx, f) for f in composed.ctx.__slots__}, "clock": clock}
    )
    email = f"{unique('late')}@example.org"
    issued = await invitations.invite(
        ctx,
        tenant.users["city-admin"],
        tenant.city.id,
        email=email,
        role="retailer-staff",
        shop_id=tenant.shop_a.id,
    )
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as invitee:
        # when the invitee opens it and tries to accept anyway
        page = await invitee.get(f"/invite/{issued.token}", headers={"accept-language": "de"})
        form_token = invitee.cookies.get("mp_login_csrf", "")
        sent = await invitee.post(
            f"/invite/{issued.token}",
            data={"display_name": "Zu spät", "password": NEW_PASSWORD, "csrf_token": form_token},
            headers={"accept-language": "de"},
        )
        unknown = await invitee.get("/invite/abc", headers={"accept-language": "de"})
    # then
    assert page.status_code == sent.status_code == 410
    assert "Diese Einladung ist abgelaufen" in page.text
    assert "um einen neuen Link" in page.text
    assert "Diese Einladung ist abgelaufen" in sent.text
    assert unknown.status_code == 404
    assert "gibt es nicht (mehr)" in unknown.text
    async with composed.ctx.uow() as uow:
        assert await uow.users.by_email(email) is None
