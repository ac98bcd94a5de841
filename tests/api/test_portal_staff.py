"""The shop's staff page: the owner invites a cashier, removes them, withdraws an invitation."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from marktplatz.bootstrap import App
from marktplatz.domain.accounts import Invitation, Role, User
from marktplatz.domain.shops import ShopArea
from marktplatz.services import invitations
from marktplatz.services.accounts import get_user
from marktplatz.store import tables as t
from support import PASSWORD, Tenant, login, make_user, new_client, unique

EN = {"accept-language": "en"}
DE = {"accept-language": "de"}
NEW_PASSWORD = "Kassenrolle-Lindenweg-27"


@pytest.fixture
async def client(web: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with new_client(web) as c:
        yield c


def staff_url(tenant: Tenant, rest: str = "") -> str:
    return f"/portal/shops/{tenant.shop_a.id}/staff{rest}"


def shown_link(page: str) -> str:
    match = re.search(
        r'id="invite-link" class="copy-field" type="text" readonly value="([^"]+)"', page
    )
    assert match, page
    return html.unescape(match[1])


async def sent_to(composed: App, tenant: Tenant) -> list[Invitation]:
    async with composed.ctx.uow() as uow:
        return await uow.invitations.list_for_shop(tenant.shop_a.id)


async def invite(
    client: httpx.AsyncClient, tenant: Tenant, csrf: str, email: str
) -> httpx.Response:
    return await client.post(
        staff_url(tenant), data={"email": email, "csrf_token": csrf}, headers=EN
    )


async def invited(composed: App, tenant: Tenant, inviter: str, role: str) -> Invitation:
    """An open invitation to shop A, made through the service."""
    issued = await invitations.invite(
        composed.ctx,
        tenant.users[inviter],
        tenant.city.id,
        email=f"{unique('eingeladen')}@example.org",
        role=role,
        shop_id=tenant.shop_a.id,
    )
    return issued.invitation


async def accept(invitee: httpx.AsyncClient, link: str) -> None:
    """The invitee opens the link in a browser of their own and sets a password."""
    token = link.rsplit("/invite/", 1)[1]
    await invitee.get(f"/invite/{token}")
    accepted = await invitee.post(
        f"/invite/{token}",
        data={
            "display_name": "Kim Kasse",
            "password": NEW_PASSWORD,
            "csrf_token": invitee.cookies["mp_login_csrf"],
        },
    )
    assert accepted.status_code == 303, accepted.text
    assert accepted.headers["location"] == "/portal"


async def audit_actions(composed: App, object_id: str) -> list[str]:
    """What the audit log says about the staff and invitations of an object."""
    log = t.audit_log.c
    ours = log.action.startswith("staff.") | log.action.startswith("invitation.")
    query = select(log.action).where(log.object_id == object_id, ours).order_by(log.id)
    async with composed.engine.connect() as conn:
        return [row[0] for row in await conn.execute(query)]


async def test_owner_invites_a_cashier_who_then_opens_the_till(
    client: httpx.AsyncClient, tenant: Tenant, composed: App, web: Any
) -> None:
    # given
    csrf = await login(client, tenant.users["retailer-owner"])
    email = f"{unique('kasse')}@example.org"
    page = await client.get(staff_url(tenant), headers=EN)
    # when
    created = await invite(client, tenant, csrf, email)
    link = shown_link(created.text)
    async with new_client(web) as invitee:
        await accept(invitee, link)
        landing = await invitee.get("/portal")
        till = await invitee.get(f"/portal/shops/{tenant.shop_a.id}/till")
    listed = await client.get(staff_url(tenant), headers=EN)
    # then
    assert page.status_code == 200
    assert tenant.users["retailer-staff"].email in page.text
    assert "Till (staff member)" in page.text
    assert "Owner" in page.text
    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"
    assert link.startswith("http://testserver/invite/")
    assert "works only once and for 7 days" in created.text
    assert "sends no e-mail" in created.text
    (made,) = [i for i in await sent_to(composed, tenant) if i.email == email]
    assert (made.role, made.shop_id) == (Role.RETAILER_STAFF, tenant.shop_a.id)
    assert landing.headers["location"] == f"/portal/shops/{tenant.shop_a.id}/till"
    assert till.status_code == 200
    assert email in listed.text
    assert "Kim Kasse" in listed.text
    assert "since" in listed.text
    assert link not in listed.text  # the link is shown once only


async def test_removing_a_cashier_ends_their_session(
    client: httpx.AsyncClient, tenant: Tenant, composed: App, web: Any
) -> None:
    # given a cashier at the till, and the owner on the staff page
    cashier = tenant.users["retailer-staff"]
    async with new_client(web) as till_client:
        await login(till_client, cashier)
        before = await till_client.get(f"/portal/shops/{tenant.shop_a.id}/till")
        csrf = await login(client, tenant.users["retailer-owner"])
        # when
        removed = await client.post(
            staff_url(tenant, f"/{cashier.id}/remove"), data={"csrf_token": csrf}
        )
        after = await till_client.get(f"/portal/shops/{tenant.shop_a.id}/till")
    page = await client.get(removed.headers["location"], headers=EN)
    # then
    assert before.status_code == 200
    assert removed.status_code == 303
    assert after.status_code == 303
    assert after.headers["location"].startswith("/login")
    assert (await get_user(composed.ctx, cashier.id)).memberships == ()
    assert "can no longer use this shop" in page.text
    assert cashier.email not in page.text
    assert await audit_actions(composed, str(cashier.id)) == ["staff.removed"]


async def test_a_cashier_with_another_role_keeps_it_but_loses_this_till(
    client: httpx.AsyncClient, tenant: Tenant, composed: App, web: Any
) -> None:
    # given the cashier of shop A also owns shop B
    cashier = tenant.users["retailer-staff"]
    issued = await invitations.invite(
        composed.ctx,
        tenant.users["city-admin"],
        tenant.city.id,
        email=cashier.email,
        role="retailer-owner",
        shop_id=tenant.shop_b.id,
    )
    await invitations.accept_invitation(
        composed.ctx, issued.token, display_name="", password=PASSWORD
    )
    async with new_client(web) as cashier_client:
        await login(cashier_client, cashier)
        csrf = await login(client, tenant.users["retailer-owner"])
        # when
        removed = await client.post(
            staff_url(tenant, f"/{cashier.id}/remove"), data={"csrf_token": csrf}
        )
        old_till = await cashier_client.get(f"/portal/shops/{tenant.shop_a.id}/till")
        own_shop = await cashier_client.get(f"/portal/shops/{tenant.shop_b.id}")
    # then
    assert removed.status_code == 303
    assert old_till.status_code == 404
    assert own_shop.status_code == 200
    roles = [(m.role, m.shop_id) for m in (await get_user(composed.ctx, cashier.id)).memberships]
    assert roles == [(Role.RETAILER_OWNER, tenant.shop_b.id)]


async def test_a_withdrawn_invitation_link_no_longer_works(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    csrf = await login(client, tenant.users["retailer-owner"])
    email = f"{unique('kasse')}@example.org"
    link = shown_link((await invite(client, tenant, csrf, email)).text)
    token = link.rsplit("/invite/", 1)[1]
    (made,) = [i for i in await sent_to(composed, tenant) if i.email == email]
    assert (await client.get(f"/invite/{token}")).status_code == 200
    # when
    withdrawn = await client.post(
        f"/portal/shops/{tenant.shop_a.id}/invitations/{made.token_hash}/withdraw",
        data={"csrf_token": csrf},
    )
    # then
    assert withdrawn.status_code == 303
    assert withdrawn.headers["location"] == staff_url(tenant, "?done=withdrawn")
    assert (await client.get(f"/invite/{token}")).status_code == 404
    assert [i for i in await sent_to(composed, tenant) if i.email == email] == []
    assert await audit_actions(composed, email) == ["invitation.created", "invitation.withdrawn"]


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("keine-adresse", "Das ist keine gültige E-Mail-Adresse."),
        ("", "Bitte füllen Sie dieses Feld aus."),
        ("{staff}", "Diese Person hat diese Rolle bereits."),
    ],
)
async def test_a_bad_address_is_explained_in_german_and_creates_nothing(
    client: httpx.AsyncClient, tenant: Tenant, composed: App, email: str, message: str
) -> None:
    # given
    csrf = await login(client, tenant.users["retailer-owner"])
    before = await sent_to(composed, tenant)
    address = email.format(staff=tenant.users["retailer-staff"].email)
    # when
    response = await client.post(
        staff_url(tenant), data={"email": address, "csrf_token": csrf}, headers=DE
    )
    # then
    assert response.status_code == 422
    assert message in response.text
    assert 'id="invite-link"' not in response.text
    assert await sent_to(composed, tenant) == before


async def test_owners_are_not_removed_on_this_page(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given a second owner of the same shop
    owner = tenant.users["retailer-owner"]
    second = await make_user(composed, "retailer-owner", tenant.city, tenant.shop_a)
    csrf = await login(client, owner)
    # when
    themselves = await client.post(
        staff_url(tenant, f"/{owner.id}/remove"), data={"csrf_token": csrf}
    )
    other = await client.post(staff_url(tenant, f"/{second.id}/remove"), data={"csrf_token": csrf})
    page = await client.get(staff_url(tenant))
    # then
    assert (themselves.status_code, other.status_code) == (403, 403)
    for user in (owner, second):
        assert (await get_user(composed.ctx, user.id)).memberships == user.memberships
    assert f"/{owner.id}/remove" not in page.text
    assert f"/{second.id}/remove" not in page.text


async def test_an_owner_cannot_withdraw_the_citys_owner_invitation(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given the city invited a second owner of shop A
    made = await invited(composed, tenant, "city-admin", "retailer-owner")
    csrf = await login(client, tenant.users["retailer-owner"])
    # when
    response = await client.post(
        f"/portal/shops/{tenant.shop_a.id}/invitations/{made.token_hash}/withdraw",
        data={"csrf_token": csrf},
    )
    # then
    assert response.status_code == 403
    assert await sent_to(composed, tenant) == [made]


async def _denied_requests(tenant: Tenant, victim: User, invitation: Invitation) -> list[Any]:
    shop = tenant.shop_a.id
    return [
        ("GET", f"/portal/shops/{shop}/staff", {}),
        ("POST", f"/portal/shops/{shop}/staff", {"email": f"{unique('x')}@example.org"}),
        ("POST", f"/portal/shops/{shop}/staff/{victim.id}/remove", {}),
        ("POST", f"/portal/shops/{shop}/invitations/{invitation.token_hash}/withdraw", {}),
    ]


@pytest.mark.parametrize(("who", "status"), [("retailer-staff", 403), ("owner of shop B", 404)])
async def test_staff_and_other_shops_owners_are_refused(
    client: httpx.AsyncClient, tenant: Tenant, composed: App, who: str, status: int
) -> None:
    # given a cashier to remove and an invitation to withdraw in shop A
    victim = await make_user(composed, "retailer-staff", tenant.city, tenant.shop_a)
    invitation = await invited(composed, tenant, "retailer-owner", "retailer-staff")
    actor = (
        tenant.users[who]
        if who in tenant.users
        else await make_user(composed, "retailer-owner", tenant.city, tenant.shop_b)
    )
    csrf = await login(client, actor)
    # when
    answers = [
        (
            await client.request(
                method, path, data={**form, "csrf_token": csrf} if method == "POST" else None
            )
        ).status_code
        for method, path, form in await _denied_requests(tenant, victim, invitation)
    ]
    # then
    assert answers == [status] * 4
    assert await sent_to(composed, tenant) == [invitation]
    assert (await get_user(composed.ctx, victim.id)).memberships == victim.memberships


async def test_removing_without_the_form_token_changes_nothing(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    cashier = tenant.users["retailer-staff"]
    await login(client, tenant.users["retailer-owner"])
    # when
    response = await client.post(
        staff_url(tenant, f"/{cashier.id}/remove"), data={"csrf_token": "x"}
    )
    # then
    assert response.status_code == 403
    assert (await get_user(composed.ctx, cashier.id)).memberships == cashier.memberships


async def test_the_owner_finds_the_page_from_the_shop_and_the_cashier_does_not(
    client: httpx.AsyncClient, tenant: Tenant, web: Any
) -> None:
    # given
    await login(client, tenant.users["retailer-owner"])
    async with new_client(web) as cashier:
        await login(cashier, tenant.users["retailer-staff"])
        # when
        till = await cashier.get(f"/portal/shops/{tenant.shop_a.id}/till", headers=EN)
    shop_page = await client.get(f"/portal/shops/{tenant.shop_a.id}", headers=EN)
    # then
    assert f'href="{staff_url(tenant)}"' in shop_page.text
    assert till.status_code == 200
    assert staff_url(tenant) not in till.text


async def shop_a_areas(composed: App, tenant: Tenant) -> frozenset[ShopArea]:
    async with composed.ctx.uow() as uow:
        shop = await uow.shops.get(tenant.shop_a.id)
    assert shop is not None
    return shop.staff_may_edit


async def test_the_owner_opens_the_hours_to_staff_and_closes_them_again(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    csrf = await login(client, tenant.users["retailer-owner"])
    rights = staff_url(tenant, "/rights")
    # when
    opened = await client.post(rights, data={"area": "hours", "csrf_token": csrf}, headers=DE)
    page = await client.get(opened.headers["location"], headers=DE)
    after_open = await shop_a_areas(composed, tenant)
    closed = await client.post(rights, data={"csrf_token": csrf}, headers=DE)
    # then
    assert opened.status_code == closed.status_code == 303
    assert after_open == frozenset({ShopArea.HOURS})
    assert await shop_a_areas(composed, tenant) == frozenset()
    assert 'value="hours" checked' in page.text
    assert 'value="story" checked' not in page.text
    assert "Rechte Ihrer Mitarbeitenden sind gespeichert" in page.text
    changes = await audit_actions(composed, str(tenant.shop_a.id))
    assert changes == ["staff.rights_changed", "staff.rights_changed"]


@pytest.mark.parametrize(
    ("who", "form", "status"),
    [
        ("retailer-staff", {"area": "story"}, 403),
        ("retailer-owner", {"area": "prices"}, 422),
    ],
)
async def test_only_the_owner_sets_known_rights(
    client: httpx.AsyncClient,
    tenant: Tenant,
    composed: App,
    who: str,
    form: dict[str, str],
    status: int,
) -> None:
    # given
    csrf = await login(client, tenant.users[who])
    # when
    response = await client.post(staff_url(tenant, "/rights"), data={**form, "csrf_token": csrf})
    # then
    assert response.status_code == status
    assert await shop_a_areas(composed, tenant) == frozenset()
