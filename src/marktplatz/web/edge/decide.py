"""POST /decide (edge) and POST /api/v1/decide: what a contact should see now, and why."""

from __future__ import annotations

import functools
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, TypeAdapter
from pydantic import ValidationError as PydanticError
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from marktplatz.domain.content import INTEREST_LABELS, Interest
from marktplatz.domain.decision import REASON_TEXT, Mode, Pick, Reason
from marktplatz.domain.errors import N_, InvalidInput, NotFound
from marktplatz.domain.geo import make_location
from marktplatz.domain.touchpoints import TouchpointKind, canonical_identifier, is_code
from marktplatz.services.context import Context
from marktplatz.services.decisions import ContactInput, Outcome, decide_for_contact, why
from marktplatz.web.edge.raw import Disconnected, Refused, read_body, reply, to_json
from marktplatz.web.i18n import gettext, pick_language
from marktplatz.web.state import app_of, app_of_scope

MAX_BODY = 8 * 1024
_HEADERS = {"x-content-type-options": "nosniff", "cache-control": "no-store"}


class PositionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    lat: StrictFloat | StrictInt
    lon: StrictFloat | StrictInt


class BeaconIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    kind: Literal["ibeacon", "altbeacon", "eddystone-uid"]
    ids: dict[StrictStr, StrictStr | StrictInt]


class DecideIn(BaseModel):
    """A contact: exactly one of touchpoint_id, code, beacon or location."""

    model_config = ConfigDict(extra="forbid", strict=True)
    city: Annotated[StrictStr, Field(max_length=60)]
    language: Literal["de", "en"] = "de"
    mode: Literal["pull", "push"] = "pull"
    touchpoint_id: Annotated[UUID, Field(strict=False)] | None = None
    code: Annotated[StrictStr, Field(max_length=16)] | None = None
    beacon: BeaconIn | None = None
    location: PositionIn | None = None
    visitor: Annotated[StrictStr, Field(max_length=32)] | None = None
    interests: Annotated[list[StrictStr], Field(max_length=15)] = []


class ReasonOut(BaseModel):
    code: str
    text: str


class PickOut(BaseModel):
    content_id: UUID
    kind: str
    title: str
    shop_id: UUID | None
    score: float
    reasons: list[ReasonOut]


class DecisionOut(BaseModel):
    decision_id: UUID
    control: bool
    quiet: bool
    budget_left: int | None
    picks: list[PickOut]


_BODY = TypeAdapter(DecideIn)


def _contact(body: DecideIn) -> ContactInput:
    given = [body.touchpoint_id, body.code, body.beacon, body.location]
    if sum(value is not None for value in given) != 1:
        raise InvalidInput(
            "contact", N_("Give exactly one of touchpoint_id, code, beacon or location.")
        )
    identifier = None
    if body.code is not None:
        if not is_code(body.code):
            raise InvalidInput("code", N_("This is not a touchpoint code."))
        identifier = f"code:{body.code}"
    if body.beacon is not None:
        identifier = canonical_identifier(TouchpointKind(body.beacon.kind), body.beacon.ids, "")
    location = make_location(body.location.lat, body.location.lon) if body.location else None
    return ContactInput(
        city=body.city,
        language=body.language,
        mode=Mode(body.mode),
        touchpoint_id=body.touchpoint_id,
        identifier=identifier,
        location=location,
        visitor=body.visitor,
        interests=tuple(body.interests),
    )


def _pick(pick: Pick, lang: str) -> dict[str, Any]:
    content = pick.content
    return {
        "content_id": str(content.id),
        "kind": content.kind.value,
        "title": content.title,
        "shop_id": str(content.shop_id) if content.shop_id else None,
        "score": pick.score,
        "reasons": _reasons(pick.reasons, lang),
    }


@functools.lru_cache(maxsize=4096)
def _reasons(reasons: tuple[Reason, ...], lang: str) -> tuple[dict[str, str], ...]:
    """The reasons as they are answered, translated; the same few combinations recur all the
    time, so each is worked out once (the dicts are shared: never change them)."""
    return tuple(
        {"code": r.code.value, "text": gettext(lang, REASON_TEXT[r.code]) % _params(r, lang)}
        for r in reasons
    )


def _params(reason: Reason, lang: str) -> dict[str, str]:
    params = dict(reason.params)
    if "interest" in params and params["interest"] in Interest._value2member_map_:
        params["interest"] = gettext(lang, INTEREST_LABELS[Interest(params["interest"])])
    return params


def answer(outcome: Outcome, lang: str) -> dict[str, Any]:
    decision = outcome.decision
    return {
        "decision_id": str(outcome.decision_id),
        "control": decision.control,
        "quiet": decision.quiet,
        "budget_left": decision.budget_left,
        "picks": [_pick(p, lang) for p in decision.picks],
    }


async def _decide(ctx: Context, body: DecideIn) -> tuple[int, dict[str, Any]]:
    """(status, answer); NotFound is raised for the API's own 404."""
    try:
        outcome = await decide_for_contact(ctx, _contact(body))
    except InvalidInput as exc:
        text = gettext(body.language, exc.message)
        message = text % dict(exc.params) if exc.params else text
        return 422, {"detail": [{"field": exc.field, "message": message}]}
    return 200, answer(outcome, body.language)


async def decide_edge(scope: Scope, receive: Receive, send: Send) -> None:
    """The lean edge route: raw ASGI before the middleware stack (web/app.py), one body read,
    one validation, no dependency graph."""
    try:
        raw = await read_body(scope, receive, MAX_BODY)
    except Refused as refused:
        await reply(send, refused.status, to_json({"detail": "The request is too large."}))
        return
    except Disconnected:
        return
    try:
        body = _BODY.validate_json(raw)
    except PydanticError as exc:
        first = exc.errors()[0]
        if first["type"] == "json_invalid":
            await reply(send, 400, to_json({"detail": "The body is not valid JSON."}))
            return
        field = ".".join(str(p) for p in first["loc"]) or "body"
        await reply(send, 422, to_json({"detail": [{"field": field, "message": first["msg"]}]}))
        return
    try:
        status, content = await _decide(app_of_scope(scope).ctx, body)
    except NotFound as exc:
        # The same answer for another city's touchpoint as for one that never existed.
        message = N_("Unknown city.") if str(exc) == "city" else N_("Unknown touchpoint.")
        status, content = 404, {"detail": gettext(body.language, message)}
    await reply(send, status, to_json(content))


class DecideApp:
    """`decide_edge` as an ASGI app that a Starlette Route mounts as it is."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await decide_edge(scope, receive, send)


router = APIRouter(tags=["decisions"])


@router.post("/api/v1/decide", response_model=DecisionOut)
async def decide_api(request: Request, body: DecideIn) -> Response:
    """What a visitor at this touchpoint (or position) should see now, each pick with reasons.

    The same as the edge's POST /decide; no login, no cookie: the contact names its city.
    """
    status, content = await _decide(app_of(request).ctx, body)
    return JSONResponse(content, status, _HEADERS)


class ShownOut(BaseModel):
    content_id: str
    reasons: list[ReasonOut]


class WhyOut(BaseModel):
    decision_id: UUID
    picks: list[ShownOut]


@router.get("/api/v1/decisions/{decision_id}", response_model=WhyOut)
async def why_api(request: Request, decision_id: UUID) -> Response:
    """ "Why am I seeing this?": the reasons recorded when each item of a decision was shown,
    in the visitor's language. No login: the decision id is random and known to its device."""
    shown = await why(app_of(request).ctx, decision_id)
    lang = pick_language(request)
    content = {
        "decision_id": str(decision_id),
        "picks": [
            {"content_id": item.content_id, "reasons": _reasons(item.reasons, lang)}
            for item in shown
        ],
    }
    return JSONResponse(content, 200, _HEADERS)
