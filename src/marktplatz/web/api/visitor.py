"""JSON API for anonymous visitors: consent, export and erasure, proven by the device's secret.

All of them are POST: the secret travels in the body, never in a URL that logs would keep.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import Field

from marktplatz.domain.errors import N_, Forbidden, NotFound
from marktplatz.services import visitors
from marktplatz.web.api.schemas import Strict
from marktplatz.web.i18n import gettext, pick_language
from marktplatz.web.state import app_of

router = APIRouter(prefix="/api/v1/visitor", tags=["visitor"])
NO_STORE = {"cache-control": "no-store"}


class VisitorProof(Strict):
    """The visitor id and the secret the device made with it (checked by the service)."""

    visitor: str = Field(max_length=100)
    secret: str = Field(max_length=200)


class ConsentChange(VisitorProof):
    purposes: dict[str, bool] = Field(max_length=10)
    text_version: str = Field(max_length=100)


def _refused(request: Request, exc: NotFound | Forbidden) -> JSONResponse:
    """An unknown visitor id or a wrong secret, said in the visitor's language."""
    lang = pick_language(request)
    if isinstance(exc, NotFound):
        message = gettext(lang, N_("Nothing is stored for this visitor id."))
        return JSONResponse({"detail": message}, status_code=404)
    message = gettext(lang, N_("The secret does not belong to this visitor id."))
    return JSONResponse({"detail": message}, status_code=403)


@router.post("/consent")
async def consent(request: Request, body: ConsentChange) -> JSONResponse:
    """Grant or withdraw consent per purpose; the first grant registers the visitor's secret."""
    try:
        state = await visitors.record_consent(
            app_of(request).ctx,
            visitor=body.visitor,
            secret=body.secret,
            purposes=body.purposes,
            text_version=body.text_version,
        )
    except (NotFound, Forbidden) as exc:
        return _refused(request, exc)
    return JSONResponse({"purposes": {p.value: g for p, g in state.items()}}, headers=NO_STORE)


@router.post("/export")
async def export(request: Request, body: VisitorProof) -> JSONResponse:
    """Everything stored for the visitor id, as JSON."""
    try:
        found = await visitors.export_data(
            app_of(request).ctx, visitor=body.visitor, secret=body.secret
        )
    except (NotFound, Forbidden) as exc:
        return _refused(request, exc)
    data: dict[str, Any] = {
        "visitor": {
            "pseudonym": found.visitor.pseudonym,
            "created_at": found.visitor.created_at,
        },
        "consents": [
            {
                "purpose": r.purpose.value,
                "granted": r.granted,
                "text_version": r.text_version,
                "at": r.at,
            }
            for r in found.consents
        ],
        "events": found.events,
        "coupons": found.coupons,
        "coupon_touches": found.coupon_touches,
    }
    return JSONResponse(jsonable_encoder(data), headers=NO_STORE)


@router.post("/erase")
async def erase(request: Request, body: VisitorProof) -> JSONResponse:
    """Erase everything stored for the visitor id; consent records stay, no longer linked."""
    try:
        counts = await visitors.erase_data(
            app_of(request).ctx, visitor=body.visitor, secret=body.secret
        )
    except (NotFound, Forbidden) as exc:
        return _refused(request, exc)
    return JSONResponse({"erased": counts}, headers=NO_STORE)
