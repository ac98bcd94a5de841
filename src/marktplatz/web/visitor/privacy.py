"""The visitor's privacy centre: what the device stores, the choice per purpose, export, erasure."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from marktplatz.domain.consent import CONSENT_TEXT_VERSION
from marktplatz.services import cities
from marktplatz.web.pages import env, render
from marktplatz.web.security import csrf_guard
from marktplatz.web.state import app_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_guard)])

# The consent banner of every visitor page sends the version of the text it showed.
env.globals["consent_text_version"] = CONSENT_TEXT_VERSION


@router.get("/{city}/privacy", response_class=HTMLResponse)
async def privacy_centre(request: Request, city: str) -> Response:
    """Readable without JavaScript; the device's own data is drawn there by consent.js."""
    found = await cities.city_by_slug(app_of(request).ctx, city)
    return render(request, "visitor/privacy.html", city=found)
