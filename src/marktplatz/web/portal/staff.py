"""The shop's people in the portal: the owner invites cashiers, removes them, withdraws links."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from marktplatz.domain.accounts import INVITATION_DAYS, User
from marktplatz.domain.errors import Conflict, InvalidInput
from marktplatz.services import access, staff
from marktplatz.web.console.invitations import invitation_link
from marktplatz.web.pages import render
from marktplatz.web.portal.routes import LoggedIn, form_errors
from marktplatz.web.security import csrf_guard
from marktplatz.web.state import app_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_guard)])
NOTICES = {"removed", "withdrawn", "rights"}


async def _page(
    request: Request, user: User, shop_id: UUID, status_code: int = 200, **context: Any
) -> Response:
    found = await staff.shop_staff(app_of(request).ctx, user, shop_id)
    notice = request.query_params.get("done", "")
    response = render(
        request,
        "portal/staff.html",
        status_code=status_code,
        shop=found.shop,
        people=found.members,
        pending=found.open_invitations,
        city_staff=access.can_manage_city(user, found.shop.city_id),
        valid_days=INVITATION_DAYS,
        notice=notice if notice in NOTICES else "",
        **{"values": {}, "errors": {}, "link": None, "issued": None, **context},
    )
    # The one-time link must not stay in a shared device's cache.
    response.headers["cache-control"] = "no-store"
    return response


def _back(shop_id: UUID, done: str) -> Response:
    return RedirectResponse(f"/portal/shops/{shop_id}/staff?done={done}", status_code=303)


@router.get("/portal/shops/{shop_id}/staff", response_class=HTMLResponse)
async def staff_page(request: Request, shop_id: UUID, user: LoggedIn) -> Response:
    """The shop's owners and cashiers, its open invitations, and the form to invite a cashier."""
    return await _page(request, user, shop_id)


@router.post("/portal/shops/{shop_id}/staff", response_class=HTMLResponse)
async def staff_invite(
    request: Request,
    shop_id: UUID,
    user: LoggedIn,
    email: Annotated[str, Form(max_length=254)] = "",
) -> Response:
    """Invite a cashier; the one-time link is shown only on this answer."""
    try:
        issued = await staff.invite_cashier(app_of(request).ctx, user, shop_id, email)
    except (InvalidInput, Conflict) as exc:
        errors = form_errors(request, exc)
        return await _page(request, user, shop_id, 422, values={"email": email}, errors=errors)
    link = invitation_link(request, issued.token)
    return await _page(request, user, shop_id, 201, link=link, issued=issued.invitation)


@router.post("/portal/shops/{shop_id}/staff/rights")
async def staff_rights(request: Request, shop_id: UUID, user: LoggedIn) -> Response:
    """What the shop's staff may change besides the till: the story, the opening hours."""
    form = await request.form()
    await staff.open_to_staff(app_of(request).ctx, user, shop_id, form.getlist("area")[:10])
    return _back(shop_id, "rights")


@router.post("/portal/shops/{shop_id}/staff/{user_id}/remove")
async def staff_remove(request: Request, shop_id: UUID, user_id: UUID, user: LoggedIn) -> Response:
    """Take a cashier off the shop (confirmed on the page before this is sent)."""
    await staff.remove_cashier(app_of(request).ctx, user, shop_id, user_id)
    return _back(shop_id, "removed")


@router.post("/portal/shops/{shop_id}/invitations/{invitation_id}/withdraw")
async def invitation_withdraw(
    request: Request, shop_id: UUID, invitation_id: str, user: LoggedIn
) -> Response:
    """Withdraw an open invitation: its link stops working."""
    await staff.withdraw_invitation(app_of(request).ctx, user, shop_id, invitation_id)
    return _back(shop_id, "withdrawn")
