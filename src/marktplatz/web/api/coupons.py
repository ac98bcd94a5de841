"""JSON API of coupons: save and wallet state (visitors), check, redeem and undo (the till)."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from marktplatz.domain.coupons import grouped
from marktplatz.domain.errors import N_
from marktplatz.services import attribution, coupons
from marktplatz.services.coupons import (
    AlreadyUndone,
    GuessingThrottled,
    RedeemRefused,
    SaveInput,
    SavingThrottled,
    TillView,
)
from marktplatz.web.api.schemas import Id, Strict
from marktplatz.web.i18n import gettext, pick_language
from marktplatz.web.presenters import refusal_message
from marktplatz.web.security import CurrentUser, client_key, csrf_guard
from marktplatz.web.state import app_of

router = APIRouter(prefix="/api/v1", tags=["coupons"], dependencies=[Depends(csrf_guard)])
NO_STORE = {"cache-control": "no-store"}
GUESS_WAIT = "600"


class CouponSave(Strict):
    content_id: Id
    visitor: str | None = Field(default=None, max_length=100)
    touchpoint_id: Id | None = None
    decision_id: Id | None = None


class WalletQuery(Strict):
    codes: list[str] = Field(max_length=coupons.MAX_WALLET)


class CodeGiven(Strict):
    code: str = Field(max_length=64)


class UndoGiven(Strict):
    reason: str = Field(max_length=1000)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def saved_json(saved: coupons.Saved, qr_svg: str) -> dict[str, Any]:
    """What the device keeps in its wallet: everything it needs to show the coupon offline."""
    content, terms = saved.content, saved.content.coupon
    return {
        "code": grouped(saved.code),
        "coupon_id": str(saved.coupon.id),
        "content_id": str(content.id),
        "title": content.title,
        "shop": saved.shop.name if saved.shop else saved.city.name,
        "city": saved.city.slug,
        "valid_from": _iso(content.window.starts_at),
        "valid_until": _iso(content.window.ends_at),
        "per_person": terms.per_person if terms else None,
        "period": terms.period.value if terms else None,
        "saved_at": saved.coupon.saved_at.isoformat(),
        "qr_svg": qr_svg,
    }


def _need_login(user: object) -> None:
    if user is None:
        raise HTTPException(status_code=401, detail="login required")


def _message(request: Request, text: str, status: int, **headers: str) -> JSONResponse:
    return JSONResponse(
        {"detail": gettext(pick_language(request), text)}, status_code=status, headers=headers
    )


@router.post("/coupons", status_code=201)
async def save(request: Request, body: CouponSave) -> JSONResponse:
    """Save a coupon of an offer. The code is in this answer only: the server keeps its hash."""
    ctx = app_of(request).ctx
    data = SaveInput(body.content_id, body.visitor, body.touchpoint_id, body.decision_id)
    try:
        saved = await coupons.save_coupon(ctx, data, client_key(request))
    except SavingThrottled:
        return _message(
            request,
            N_("Too many coupons saved at once. Please wait a minute."),
            429,
            **{"retry-after": "60"},
        )
    qr = ctx.qr.svg(grouped(saved.code)).decode()
    return JSONResponse(saved_json(saved, qr), status_code=201, headers=NO_STORE)


@router.post("/coupons/wallet")
async def wallet(request: Request, body: WalletQuery) -> JSONResponse:
    """The state of the device's coupons (saved, redeemed, unknown), asked by their codes."""
    ctx = app_of(request).ctx
    # Limited per client like saves: the answer says whether codes exist.
    if not ctx.save_limiter.hit(f"wallet:{client_key(request)}"):
        return _message(
            request, N_("Too many requests. Please wait a minute."), 429, **{"retry-after": "60"}
        )
    states = await coupons.wallet_state(ctx, body.codes)
    return JSONResponse({"states": states}, headers=NO_STORE)


def till_json(request: Request, view: TillView) -> dict[str, Any]:
    lang = pick_language(request)
    terms = view.content.coupon
    refusal = None
    if view.refusal is not None:
        refusal = {
            "code": view.refusal.value,
            "message": refusal_message(lang, view.refusal, view.detail),
        }
    return {
        "coupon_id": str(view.coupon.id),
        "code_tail": view.coupon.code_tail,
        "status": view.coupon.status.value,
        "title": view.content.title,
        "content_id": str(view.content.id),
        "valid_from": _iso(view.content.window.starts_at),
        "valid_until": _iso(view.content.window.ends_at),
        "stock": terms.stock if terms else None,
        "per_person": terms.per_person if terms else None,
        "period": terms.period.value if terms else None,
        "saved": view.saved,
        "redeemed": view.redeemed,
        "redeemed_at": _iso(view.coupon.redeemed_at),
        "refusal": refusal,
        "can_undo": view.can_undo,
    }


async def _till(request: Request, user: CurrentUser, code: str, *, redeem: bool) -> JSONResponse:
    _need_login(user)
    ctx = app_of(request).ctx
    try:
        if redeem:
            view = await coupons.redeem_coupon(ctx, user, code)
        else:
            view = await coupons.check_coupon(ctx, user, code)
    except GuessingThrottled:
        return _message(
            request,
            N_("Too many unknown codes. The till is paused for a few minutes."),
            429,
            **{"retry-after": GUESS_WAIT},
        )
    except RedeemRefused as exc:
        text = refusal_message(pick_language(request), exc.refusal, exc.detail)
        return JSONResponse(
            {"detail": text, "refusal": exc.refusal.value}, status_code=409, headers=NO_STORE
        )
    return JSONResponse(till_json(request, view), headers=NO_STORE)


@router.post("/coupons/check")
async def check(request: Request, body: CodeGiven, user: CurrentUser) -> JSONResponse:
    """What the till shows for a code before the cashier confirms (staff of the offering shop)."""
    return await _till(request, user, body.code, redeem=False)


@router.post("/coupons/redeem")
async def redeem(request: Request, body: CodeGiven, user: CurrentUser) -> JSONResponse:
    """Redeem a coupon at the till: single use, stock and limits per person hold under races."""
    return await _till(request, user, body.code, redeem=True)


@router.post("/coupons/{coupon_id}/undo")
async def undo(
    request: Request, coupon_id: UUID, body: UndoGiven, user: CurrentUser
) -> JSONResponse:
    """Take back a redemption within the undo window (the shop's owner), with a reason."""
    _need_login(user)
    with contextlib.suppress(AlreadyUndone):  # a retry: it is taken back either way
        await coupons.undo_redemption(app_of(request).ctx, user, coupon_id, body.reason)
    return JSONResponse({"coupon_id": str(coupon_id), "status": "saved"})


@router.get("/contents/{content_id}/results")
async def results(request: Request, content_id: UUID, user: CurrentUser) -> JSONResponse:
    """exposed → viewed → saved → redeemed per touchpoint; cells under 5 visitors are null."""
    _need_login(user)
    found = await attribution.offer_results(app_of(request).ctx, user, content_id)
    return JSONResponse(
        {
            "content_id": str(found.content.id),
            # the shop's tallies: null where the totals are suppressed, which they equal
            "saved": found.saved if found.totals["saved"] is not None else None,
            "redeemed": found.redeemed if found.totals["redeemed"] is not None else None,
            "totals": found.totals,
            "touchpoints": [
                {
                    "touchpoint_id": str(row.touchpoint_id) if row.touchpoint_id else None,
                    "name": row.name,
                    **row.counts,
                }
                for row in found.rows
            ],
        },
        headers=NO_STORE,
    )
