"""POST /e: journey events in, acknowledged only after they are committed."""

from __future__ import annotations

import json
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    TypeAdapter,
)
from pydantic import ValidationError as PydanticError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from marktplatz.domain.errors import StoreUnavailable, WriterBusy
from marktplatz.domain.journey import MAX_BATCH, Channel, EventKind, Proximity
from marktplatz.services.journey import EventInput, Rejected, record_events
from marktplatz.web.i18n import gettext, pick_language
from marktplatz.web.state import app_of

MAX_BODY = 256 * 1024
Text = Annotated[StrictStr, Field(max_length=200)]


class EventIn(BaseModel):
    """The wire format of one event (schema version 1, see docs/events.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: UUID
    kind: EventKind
    city: Annotated[StrictStr, Field(max_length=60)]
    occurred_at: AwareDatetime
    touchpoint_id: UUID | None = None
    content_id: Annotated[StrictStr, Field(max_length=64)] | None = None
    channel: Channel | None = None
    proximity: Proximity | None = None
    rssi: Annotated[StrictInt, Field(ge=-127, le=20)] | None = None
    count: Annotated[StrictInt, Field(ge=0, le=1_000_000)] | None = None
    path: Text | None = None
    visitor: Annotated[StrictStr, Field(max_length=32)] | None = None


# POST /e skips the page middleware (web/app.py), so its answers carry their own headers.
_HEADERS = {"x-content-type-options": "nosniff", "cache-control": "no-store"}


def _error(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"detail": detail}, status_code=status, headers={**_HEADERS, **(headers or {})}
    )


async def _body(request: Request) -> bytes | None:
    """The request body, or None once it grows past MAX_BODY (read no further)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


_BATCH = TypeAdapter(list[EventIn])


def _parse(items: list[Any]) -> tuple[list[tuple[int, EventInput]], list[dict[str, Any]]]:
    try:
        # The common case, a batch without a bad event, is validated in one call.
        events = _BATCH.validate_python(items)
    except PydanticError:
        return _parse_each(items)
    return [(i, EventInput(**vars(e))) for i, e in enumerate(events)], []


def _parse_each(items: list[Any]) -> tuple[list[tuple[int, EventInput]], list[dict[str, Any]]]:
    parsed: list[tuple[int, EventInput]] = []
    errors: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            event = EventIn.model_validate(item)
        except PydanticError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "event"
            errors.append({"index": index, "field": field, "message": first["msg"]})
            continue
        parsed.append((index, EventInput(**vars(event))))
    return parsed, errors


def _translated(rejected: list[Rejected], lang: str) -> list[dict[str, Any]]:
    return [
        {
            "index": r.index,
            "field": r.field,
            "message": gettext(lang, r.message) % r.params
            if r.params
            else gettext(lang, r.message),
        }
        for r in rejected
    ]


async def ingest(request: Request) -> Response:
    """One event (an object) or a batch (a list of at most MAX_BATCH objects)."""
    body = await _body(request)
    if body is None:
        return _error(413, f"The request is larger than {MAX_BODY} bytes.")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _error(400, "The body is not valid JSON.")
    items = data if isinstance(data, list) else [data]
    if len(items) > MAX_BATCH:
        return _error(413, f"At most {MAX_BATCH} events per request.")
    parsed, errors = _parse(items)
    # Address and browser feed only the salted daily count; neither is stored or logged.
    host = request.client.host if request.client else ""
    fingerprint = f"{host}|{request.headers.get('user-agent', '')[:300]}"
    try:
        recorded = await record_events(app_of(request).ctx, parsed, fingerprint)
    except WriterBusy:
        return _error(503, "Busy, please retry.", {"retry-after": "1"})
    except StoreUnavailable:
        return _error(503, "The store is unavailable, please retry.", {"retry-after": "5"})
    if recorded.rejected:
        errors += _translated(recorded.rejected, pick_language(request))
        errors.sort(key=lambda e: e["index"])
    status = 200 if recorded.accepted or not errors else 422
    answer = {"accepted": recorded.accepted, "rejected": errors}
    return JSONResponse(answer, status_code=status, headers=_HEADERS)
