"""The visitor's QR scanner: the camera page, and the short code typed off a sticker."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from marktplatz.domain.cities import City
from marktplatz.domain.errors import N_, InvalidInput, NotFound
from marktplatz.domain.touchpoints import clean_typed_code
from marktplatz.services import cities
from marktplatz.services.touchpoints import resolve_code
from marktplatz.web.i18n import gettext, pick_language
from marktplatz.web.pages import field_errors, render
from marktplatz.web.security import csrf_guard
from marktplatz.web.state import app_of
from marktplatz.web.static import has_asset

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_guard)])
UNKNOWN_CODE = N_(
    "No QR code of this city centre has this code. Please check it and type it again."
)


@router.get("/{city}/scan", response_class=HTMLResponse)
async def scan_page(request: Request, city: str) -> Response:
    """The camera opens only when the visitor presses the button; typing the code always works."""
    found = await cities.city_by_slug(app_of(request).ctx, city)
    return _page(request, found)


@router.get("/{city}/scan/code", response_class=HTMLResponse)
async def typed_code(request: Request, city: str, code: str = "") -> Response:
    """A code typed off a sticker: on to /q/<code>, which records the contact like a scan."""
    ctx = app_of(request).ctx
    found = await cities.city_by_slug(ctx, city)
    try:
        clean = clean_typed_code(code)
    except InvalidInput as exc:
        return _page(request, found, 422, code, field_errors(request, exc)["code"])
    try:
        await resolve_code(ctx, clean)
    except NotFound:
        return _page(request, found, 404, code, gettext(pick_language(request), UNKNOWN_CODE))
    return RedirectResponse(f"/q/{clean}", status_code=303, headers={"cache-control": "no-store"})


def _page(
    request: Request, city: City, status: int = 200, code: str = "", error: str | None = None
) -> Response:
    return render(
        request,
        "visitor/scan.html",
        status_code=status,
        city=city,
        scanner=has_asset("vendor/jsQR.js"),
        code=code[:200],
        error=error,
    )
