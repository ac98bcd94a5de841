"""Visitor pages of coupons: what a touchpoint offers right here, saving one, the wallet."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from marktplatz.domain.cities import City
from marktplatz.domain.coupons import grouped
from marktplatz.domain.decision import Mode
from marktplatz.domain.errors import N_, Conflict, InvalidInput, NotFound
from marktplatz.domain.shops import Shop
from marktplatz.domain.touchpoints import is_code
from marktplatz.services import cities, coupons, decisions, shops
from marktplatz.services.coupons import SaveInput, SavingThrottled
from marktplatz.services.decisions import ContactInput, Outcome
from marktplatz.web.api.coupons import saved_json
from marktplatz.web.edge.decide import answer
from marktplatz.web.i18n import gettext, pick_language
from marktplatz.web.pages import render
from marktplatz.web.security import client_key, csrf_guard
from marktplatz.web.state import app_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_guard)])
NO_STORE = {"cache-control": "no-store"}


async def here(request: Request, city: City, via: str) -> dict[str, Any] | None:
    """The decision for the touchpoint a visitor came from (`?via=<code>` of /q/<code>).

    A pull without any identifier of the visitor; an unknown or foreign code shows nothing.
    """
    code = via.strip().lower()[:40]
    if not code or not is_code(code):
        return None
    given = ContactInput(
        city=city.slug,
        language=pick_language(request),
        mode=Mode.PULL,
        identifier=f"code:{code}",
    )
    try:
        outcome: Outcome = await decisions.decide_for_contact(app_of(request).ctx, given)
    except NotFound:
        return None
    return await shown_picks(request, city, outcome)


async def shown_picks(
    request: Request, city: City, outcome: Outcome, listed: list[Shop] | None = None
) -> dict[str, Any]:
    """A decision as the visitor pages show it: each pick with its content, shop and reasons.
    `listed`: the city's shops when the caller has them already (no second query)."""
    shown = answer(outcome, pick_language(request))
    picks = outcome.decision.picks
    contents = {str(p.content.id): p.content for p in picks}
    if listed is None and any(p.content.shop_id for p in picks):
        listed = await shops.list_shops(app_of(request).ctx, city.id)
    by_id = {s.id: s for s in listed or []}
    for pick in shown["picks"]:
        pick["content"] = contents[pick["content_id"]]
        pick["shop"] = by_id.get(pick["content"].shop_id)
    shown["touchpoint_id"] = outcome.touchpoint_id
    return shown


@router.post("/{city}/coupons", response_class=HTMLResponse)
async def save(
    request: Request,
    city: str,
    content_id: Annotated[UUID, Form()],
    touchpoint_id: Annotated[UUID | None, Form()] = None,
    decision_id: Annotated[UUID | None, Form()] = None,
    back: Annotated[str, Form(max_length=300)] = "",
    visitor: Annotated[str | None, Form(max_length=100)] = None,
) -> Response:
    """Save a coupon and show it: its QR code and code, kept by the wallet on this device."""
    ctx = app_of(request).ctx
    found = await cities.city_by_slug(ctx, city)
    data = SaveInput(content_id, visitor or None, touchpoint_id, decision_id, found.id)
    back_to = back if back.startswith("/") and not back.startswith("//") else f"/{found.slug}"
    try:
        saved = await coupons.save_coupon(ctx, data, client_key(request))
    except SavingThrottled:
        message = N_("Too many coupons saved at once. Please wait a minute.")
        return _refused(request, found, back_to, message, 429)
    except (InvalidInput, Conflict) as exc:
        return _refused(request, found, back_to, exc.message, 409, **exc.params)
    qr = ctx.qr.svg(grouped(saved.code)).decode()
    entry = saved_json(saved, qr)
    response = render(
        request,
        "visitor/coupon.html",
        city=found,
        saved=saved,
        entry=entry,
        qr_svg=qr,
        code=grouped(saved.code),
        back=back_to,
    )
    response.headers.update(NO_STORE)  # the code is on this page once: no cache keeps it
    return response


def _refused(
    request: Request, city: City, back: str, message: str, status: int, **params: Any
) -> Response:
    text = gettext(pick_language(request), message)
    return render(
        request,
        "visitor/coupon_refused.html",
        status_code=status,
        city=city,
        message=text % params if params else text,
        back=back,
    )


@router.get("/{city}/wallet", response_class=HTMLResponse)
async def wallet(request: Request, city: str) -> Response:
    """The coupons saved on this device; they live in the browser, so the page is drawn there."""
    found = await cities.city_by_slug(app_of(request).ctx, city)
    return render(request, "visitor/wallet.html", city=found)
