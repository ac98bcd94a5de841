"""Printable QR posters and stickers in the portal: the print form and the PDF download."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from babel.numbers import format_decimal
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from marktplatz.domain.accounts import User
from marktplatz.domain.errors import N_, InvalidInput
from marktplatz.domain.posters import CTA_MAX, CTA_PRESETS, CUSTOM, SHEETS, poster_order
from marktplatz.domain.touchpoints import TouchpointStatus
from marktplatz.services import posters
from marktplatz.web.i18n import gettext, pick_language
from marktplatz.web.pages import render, render_error
from marktplatz.web.portal.routes import LoggedIn, form_errors
from marktplatz.web.security import csrf_guard
from marktplatz.web.state import app_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_guard)])
BASE = "/portal/shops/{shop_id}/touchpoints/{touchpoint_id}"
FIELDS = ("format", "cta", "text", "language")
DEFAULTS = {"format": "a4", "cta": next(iter(CTA_PRESETS)), "text": "", "language": "de"}


def _no_poster(request: Request) -> Response:
    message = N_("Only QR codes are printed as posters and stickers; this touchpoint has none.")
    return render_error(request, 404, gettext(pick_language(request), message))


def _sizes(lang: str) -> dict[str, tuple[str, str]]:
    """Per format: the code's width in cm and how far away it scans in m, as numbers read."""
    return {
        key.value: (
            format_decimal(sheet.qr_mm / 10, locale=lang),
            format_decimal(sheet.scan_distance_m, format="0.0", locale=lang),
        )
        for key, sheet in SHEETS.items()
    }


async def _page(
    request: Request,
    user: User,
    shop_id: UUID,
    touchpoint_id: UUID,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    found = await posters.printable_code(app_of(request).ctx, user, shop_id, touchpoint_id)
    context: dict[str, Any] = {
        "shop": found.shop,
        "touchpoint": found.touchpoint,
        "short_url": found.url,
        "switched_off": found.touchpoint.status is not TouchpointStatus.ACTIVE,
        "sizes": _sizes(pick_language(request)),
        "presets": CTA_PRESETS,
        "custom": CUSTOM,
        "cta_max": CTA_MAX,
        "action": BASE.format(shop_id=shop_id, touchpoint_id=touchpoint_id) + "/poster.pdf",
    }
    return render(
        request,
        "portal/poster.html",
        status_code=status_code,
        values=values or DEFAULTS,
        errors=errors or {},
        **context,
    )


@router.get(f"{BASE}/print", response_class=HTMLResponse)
async def poster_form(
    request: Request, shop_id: UUID, touchpoint_id: UUID, user: LoggedIn
) -> Response:
    """Choose a format, a call to action and the language of a poster or sticker."""
    try:
        return await _page(request, user, shop_id, touchpoint_id)
    except posters.NoPoster:
        return _no_poster(request)


@router.get(f"{BASE}/poster.pdf")
async def poster_pdf(
    request: Request, shop_id: UUID, touchpoint_id: UUID, user: LoggedIn
) -> Response:
    """The PDF to print (a GET: printing changes nothing); bad choices re-render the form."""
    # Only the form's own fields reach the domain, which checks each; anything else is ignored.
    values = {name: request.query_params.get(name, "") for name in FIELDS}
    ctx = app_of(request).ctx
    try:
        printed = await posters.print_poster(
            ctx, user, shop_id, touchpoint_id, poster_order(values), gettext
        )
    except InvalidInput as exc:
        errors = form_errors(request, exc)
        return await _page(
            request, user, shop_id, touchpoint_id, values=values, errors=errors, status_code=422
        )
    except posters.NoPoster:
        return _no_poster(request)
    return pdf_download(printed)


def pdf_download(printed: posters.PrintedPoster) -> Response:
    """A printed PDF to save under its name; kept out of shared caches (it names touchpoints)."""
    disposition = f'attachment; filename="{printed.filename}"'
    return Response(
        printed.pdf,
        media_type="application/pdf",
        headers={"content-disposition": disposition, "cache-control": "private, no-store"},
    )
