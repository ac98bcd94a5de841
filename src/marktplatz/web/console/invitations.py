"""Console and API routes that invite people, and the page where an invitation is accepted."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from marktplatz.domain.accounts import CITY_ROLES, INVITATION_DAYS, Role
from marktplatz.domain.errors import N_, Conflict, InvalidInput, NotFound
from marktplatz.services import cities, invitations, shops
from marktplatz.web.api.schemas import Id, Strict
from marktplatz.web.console.routes import Staff, StaffOf, console_page
from marktplatz.web.pages import render
from marktplatz.web.portal.routes import form_errors
from marktplatz.web.security import (
    LOGIN_CSRF_COOKIE,
    CurrentUser,
    csrf_guard,
    current_session,
    login_csrf_ok,
    new_login_csrf,
    set_form_cookie,
    set_session_cookie,
)
from marktplatz.web.state import app_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_guard)])
api = APIRouter(prefix="/api/v1", dependencies=[Depends(csrf_guard)], tags=["users"])


def invitation_link(request: Request, token: str) -> str:
    return f"{app_of(request).settings.base_url.rstrip('/')}/invite/{token}"


async def _invitations_page(
    request: Request, staff: Staff, status: int = 200, **extra: object
) -> Response:
    ctx = app_of(request).ctx
    city_shops = await shops.list_shops(ctx, staff.city.id)
    pending = await invitations.open_invitations(ctx, staff.user, staff.city.id)
    defaults = {"shop_id": request.query_params.get("shop", ""), "role": "retailer-owner"}
    context = {"values": defaults, "errors": {}, "link": None, **extra}
    return console_page(
        request,
        "console/invitations.html",
        staff,
        "invitations",
        status,
        shop_choices=[(str(s.id), s.name) for s in city_shops],
        shop_names={s.id: s.name for s in city_shops},
        pending=pending,
        **context,
    )


@router.get("/console/{city}/invitations", response_class=HTMLResponse)
async def invitations_page(request: Request, staff: StaffOf) -> Response:
    """Open invitations of the city and the form to invite someone."""
    return await _invitations_page(request, staff)


@router.post("/console/{city}/invitations", response_class=HTMLResponse)
async def invitation_create(
    request: Request,
    staff: StaffOf,
    email: Annotated[str, Form(max_length=254)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
    shop_id: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Create an invitation; its link is shown exactly once, on this answer."""
    values = {"email": email, "role": role, "shop_id": shop_id}
    try:
        issued = await invitations.invite(
            app_of(request).ctx,
            staff.user,
            staff.city.id,
            email=email,
            role=role,
            shop_id=_uuid(shop_id),
        )
    except (InvalidInput, Conflict) as exc:
        return await _invitations_page(
            request, staff, 422, values=values, errors=form_errors(request, exc)
        )
    return await _invitations_page(
        request, staff, 201, link=invitation_link(request, issued.token), issued=issued.invitation
    )


def _uuid(value: str) -> UUID | None:
    try:
        return UUID(value) if value else None
    except ValueError as exc:
        raise InvalidInput("shop_id", N_("Unknown shop.")) from exc


class InvitationCreate(Strict):
    email: str = Field(max_length=254)
    role: Role = Field(strict=False)
    shop_id: Id | None = None


class InvitationPublic(BaseModel):
    email: str
    role: str
    shop_id: UUID | None
    expires_at: datetime
    link: str


@api.post("/cities/{city}/invitations", response_model=InvitationPublic, status_code=201)
async def api_invite(
    request: Request, city: str, body: InvitationCreate, user: CurrentUser
) -> InvitationPublic:
    """Invite someone to a role; the one-time link is returned only in this answer."""
    if user is None:
        raise HTTPException(status_code=401, detail="login required")
    ctx = app_of(request).ctx
    found = await cities.city_by_slug(ctx, city)
    issued = await invitations.invite(
        ctx, user, found.id, email=body.email, role=body.role, shop_id=body.shop_id
    )
    item = issued.invitation
    return InvitationPublic(
        email=item.email,
        role=item.role.value,
        shop_id=item.shop_id,
        expires_at=item.expires_at,
        link=invitation_link(request, issued.token),
    )


def _closed(request: Request, exc: NotFound) -> Response:
    """Why a link no longer works: expired (410), used (410), or unknown or withdrawn (404)."""
    closed = exc.invitation if isinstance(exc, invitations.InvitationClosed) else None
    reason = "unknown" if closed is None else "used" if closed.accepted_at else "expired"
    return render(
        request,
        "invite_closed.html",
        404 if closed is None else 410,
        reason=reason,
        invitation=closed,
        valid_days=INVITATION_DAYS,
    )


async def _accept_page(
    request: Request,
    token: str,
    status: int = 200,
    errors: dict[str, str] | None = None,
    display_name: str = "",
) -> Response:
    try:
        view = await invitations.view_invitation(app_of(request).ctx, token)
    except NotFound as exc:
        return _closed(request, exc)
    auth = await current_session(request)
    form_token = auth[0].csrf_token if auth else request.cookies.get(LOGIN_CSRF_COOKIE, "")
    fresh = not form_token
    form_token = form_token or new_login_csrf()
    response = render(
        request,
        "invite.html",
        status,
        view=view,
        token=token,
        form_token=form_token,
        errors=errors or {},
        display_name=display_name,
        city_role=view.invitation.role in CITY_ROLES,
    )
    if fresh:
        set_form_cookie(response, request, form_token, "/invite")
    return response


@router.get("/invite/{token}", response_class=HTMLResponse)
async def accept_form(request: Request, token: str) -> Response:
    """The invitee's page: who invited them to what, and the form to accept."""
    return await _accept_page(request, token)


@router.post("/invite/{token}", response_class=HTMLResponse)
async def accept_submit(
    request: Request,
    token: str,
    password: Annotated[str, Form(max_length=256)] = "",
    display_name: Annotated[str, Form(max_length=120)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Accept: create or confirm the account, log in, and open the portal or console."""
    if await current_session(request) is None and not login_csrf_ok(request, csrf_token):
        return await _accept_page(
            request,
            token,
            403,
            display_name=display_name,
            errors={"form": N_("Your form expired. Please try again.")},
        )
    ctx = app_of(request).ctx
    try:
        started = await invitations.accept_invitation(
            ctx, token, display_name=display_name, password=password
        )
    except (InvalidInput, Conflict) as exc:
        return await _accept_page(
            request, token, 422, display_name=display_name, errors=form_errors(request, exc)
        )
    except NotFound as exc:
        return _closed(request, exc)
    response = RedirectResponse("/portal", status_code=303)
    set_session_cookie(response, request, started.token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/invite")
    return response
