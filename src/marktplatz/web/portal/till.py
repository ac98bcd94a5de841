"""The till in the portal: scan or type a coupon, see its offer and limits, redeem, undo."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from marktplatz.domain.coupons import UNDO_WINDOW
from marktplatz.domain.errors import N_, Conflict, Forbidden, InvalidInput
from marktplatz.domain.shops import Shop
from marktplatz.services import coupons, shops
from marktplatz.services.coupons import AlreadyUndone, GuessingThrottled, RedeemRefused, TillView
from marktplatz.web.i18n import gettext, pick_language
from marktplatz.web.pages import field_errors, render
from marktplatz.web.portal.routes import LoggedIn
from marktplatz.web.presenters import refusal_message
from marktplatz.web.security import csrf_guard
from marktplatz.web.state import app_of
from marktplatz.web.static import has_asset

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_guard)])
Code = Annotated[str, Form(max_length=64)]


async def _till_shop(request: Request, user: LoggedIn, shop_id: UUID) -> Shop:
    """The shop, if the user works there: only its own staff redeem its coupons."""
    shop = await shops.get_shop(app_of(request).ctx, user, shop_id)
    if user.shop_role(shop.id) is None:
        raise Forbidden("shop staff required")
    return shop


async def _page(
    request: Request,
    user: LoggedIn,
    shop: Shop,
    *,
    status_code: int = 200,
    **context: Any,
) -> Response:
    ctx = app_of(request).ctx
    _, _, city = await shops.public_shop_by_id(ctx, shop.id)
    response = render(
        request,
        "portal/till.html",
        status_code=status_code,
        shop=shop,
        city=city,
        recent=await coupons.till_today(ctx, user, shop.id),
        undo_minutes=int(UNDO_WINDOW.total_seconds() // 60),
        scanner=has_asset("vendor/jsQR.js"),
        **{"view": None, "refusal": None, "errors": {}, "code": "", "done": False, **context},
    )
    response.headers["cache-control"] = "no-store"
    return response


def _refusal_text(request: Request, exc: RedeemRefused) -> str:
    return refusal_message(pick_language(request), exc.refusal, exc.detail)


def _view_refusal(request: Request, view: TillView) -> str | None:
    if view.refusal is None:
        return None
    return refusal_message(pick_language(request), view.refusal, view.detail)


@router.get("/portal/shops/{shop_id}/till", response_class=HTMLResponse)
async def till(
    request: Request, shop_id: UUID, user: LoggedIn, redeemed: UUID | None = None
) -> Response:
    """Scan or type a code; the shop's redemptions of the last day below. After a redemption
    (`?redeemed=<coupon>`) it shows that one: a reload or a second tap redeems nothing again."""
    shop = await _till_shop(request, user, shop_id)
    notice = N_("The redemption was undone.") if request.query_params.get("undone") else None
    if redeemed is not None:
        view = await coupons.till_view(app_of(request).ctx, user, redeemed, shop.id)
        return await _page(request, user, shop, view=view, done=True, notice=notice)
    return await _page(request, user, shop, notice=notice)


async def _act(
    request: Request, user: LoggedIn, shop_id: UUID, code: str, redeem: bool
) -> Response:
    shop = await _till_shop(request, user, shop_id)
    ctx = app_of(request).ctx
    try:
        act = coupons.redeem_coupon if redeem else coupons.check_coupon
        view = await act(ctx, user, code, shop.id)
    except InvalidInput as exc:
        errors = field_errors(request, exc)
        return await _page(request, user, shop, status_code=422, errors=errors, code=code)
    except GuessingThrottled:
        text = gettext(
            pick_language(request),
            N_("Too many unknown codes. The till is paused for a few minutes."),
        )
        return await _page(request, user, shop, status_code=429, refusal=text, code=code)
    except RedeemRefused as exc:
        text = _refusal_text(request, exc)
        return await _page(request, user, shop, status_code=409, refusal=text, code=code)
    if redeem:  # POST-redirect-GET: reloading the answer must not redeem again
        return RedirectResponse(
            f"/portal/shops/{shop.id}/till?redeemed={view.coupon.id}", status_code=303
        )
    refusal = _view_refusal(request, view)
    return await _page(request, user, shop, view=view, refusal=refusal, code=code)


@router.post("/portal/shops/{shop_id}/till/check", response_class=HTMLResponse)
async def till_check(request: Request, shop_id: UUID, user: LoggedIn, code: Code) -> Response:
    """Show the coupon's offer, validity and limits before the cashier confirms."""
    return await _act(request, user, shop_id, code, redeem=False)


@router.post("/portal/shops/{shop_id}/till/redeem", response_class=HTMLResponse)
async def till_redeem(request: Request, shop_id: UUID, user: LoggedIn, code: Code) -> Response:
    """Redeem with one tap: single use, stock and limits hold even if two tills try at once."""
    return await _act(request, user, shop_id, code, redeem=True)


@router.post("/portal/coupons/{coupon_id}/undo", response_class=HTMLResponse)
async def till_undo(
    request: Request,
    coupon_id: UUID,
    user: LoggedIn,
    shop_id: Annotated[UUID, Form()],
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Take back a wrong redemption (the shop's owner, within the undo window, with a reason)."""
    shop = await _till_shop(request, user, shop_id)
    try:
        await coupons.undo_redemption(app_of(request).ctx, user, coupon_id, reason)
    except AlreadyUndone:
        pass  # a second tap: what the cashier wanted has happened
    except InvalidInput as exc:
        errors = {f"reason-{coupon_id}": field_errors(request, exc).popitem()[1]}
        return await _page(request, user, shop, status_code=422, errors=errors)
    except Conflict as exc:  # the undo window has passed: said at the top, the form is gone
        text = field_errors(request, exc).popitem()[1]
        return await _page(request, user, shop, status_code=409, refusal=text)
    return RedirectResponse(f"/portal/shops/{shop.id}/till?undone=1", status_code=303)
