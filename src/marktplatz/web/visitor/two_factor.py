"""The account's two-factor login page: set up with a QR code, recovery codes, turn off."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from marktplatz.domain.accounts import User
from marktplatz.domain.errors import N_, Conflict, InvalidInput
from marktplatz.domain.two_factor import required_for
from marktplatz.services import accounts, two_factor
from marktplatz.services.context import Context
from marktplatz.web.pages import field_errors, render
from marktplatz.web.security import CurrentUser, csrf_guard, set_session_cookie
from marktplatz.web.state import app_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_guard)])

PAGE = "/account/two-factor"


def _to_login() -> Response:
    return RedirectResponse(f"/login?next={PAGE}", status_code=303)


async def _page(
    request: Request,
    user: User,
    *,
    errors: dict[str, str] | None = None,
    codes: list[str] | None = None,
    status: int = 200,
) -> Response:
    ctx = app_of(request).ctx
    state = await two_factor.two_factor_status(ctx, user)
    qr = ""
    if state.enrolment is not None:
        qr = "data:image/svg+xml;base64," + base64.b64encode(state.enrolment.qr_svg).decode()
    return render(
        request,
        "two_factor.html",
        status_code=status,
        state=state,
        qr=qr,
        errors=errors or {},
        codes=codes,
        saved=request.query_params.get("saved"),
        due=await two_factor.setup_due(ctx, user),
        required=required_for(user),
    )


@router.get(PAGE, response_class=HTMLResponse)
async def two_factor_page(request: Request, user: CurrentUser) -> Response:
    if user is None:
        return _to_login()
    return await _page(request, user)


@router.post(f"{PAGE}/start", response_class=HTMLResponse)
async def start(request: Request, user: CurrentUser) -> Response:
    """A fresh secret to scan; two-factor login stays off until a code confirms it."""
    if user is None:
        return _to_login()
    try:
        await two_factor.start_enrolment(app_of(request).ctx, user)
    except Conflict as exc:
        return await _page(request, user, errors=field_errors(request, exc), status=409)
    return RedirectResponse(f"{PAGE}#confirm", status_code=303)


CodesFor = Callable[[Context, User, str], Awaitable[list[str]]]


async def _codes(request: Request, user: User | None, code: str, make: CodesFor) -> Response:
    """Recovery codes made for a right code, shown once on the page; or the page with an error."""
    if user is None:
        return _to_login()
    try:
        codes = await make(app_of(request).ctx, user, code)
    except (InvalidInput, accounts.LoginThrottled) as exc:
        return await _page(request, user, errors=_errors(request, exc), status=_status(exc))
    return await _page(request, user, codes=codes)


@router.post(f"{PAGE}/confirm", response_class=HTMLResponse)
async def confirm(
    request: Request, user: CurrentUser, code: Annotated[str, Form(max_length=64)]
) -> Response:
    """The first right code turns two-factor login on; the recovery codes are shown once."""
    return await _codes(request, user, code, two_factor.confirm_enrolment)


@router.post(f"{PAGE}/recovery-codes", response_class=HTMLResponse)
async def renew_codes(
    request: Request, user: CurrentUser, code: Annotated[str, Form(max_length=64)]
) -> Response:
    """Ten new recovery codes for a current code; the old ones stop working."""
    return await _codes(request, user, code, two_factor.renew_recovery_codes)


@router.post(f"{PAGE}/disable", response_class=HTMLResponse)
async def disable(
    request: Request,
    user: CurrentUser,
    current_password: Annotated[str, Form(max_length=256)],
    code: Annotated[str, Form(max_length=64)],
) -> Response:
    """Turn two-factor login off with password and code; every other session ends."""
    if user is None:
        return _to_login()
    ctx = app_of(request).ctx
    try:
        started = await two_factor.disable_two_factor(ctx, user, current_password, code)
    except (InvalidInput, accounts.LoginThrottled) as exc:
        # This page has two code fields: the error belongs to this form's one.
        errors = {k.replace("code", "disable_code"): v for k, v in _errors(request, exc).items()}
        return await _page(request, user, errors=errors, status=_status(exc))
    response = RedirectResponse(f"{PAGE}?saved=off", status_code=303)
    set_session_cookie(response, request, started.token)
    return response


def _errors(request: Request, exc: Exception) -> dict[str, str]:
    if isinstance(exc, accounts.LoginThrottled):
        return field_errors(
            request, InvalidInput("code", N_("Too many wrong codes. Please wait a few minutes."))
        )
    return field_errors(request, exc)


def _status(exc: Exception) -> int:
    return 429 if isinstance(exc, accounts.LoginThrottled) else 422
