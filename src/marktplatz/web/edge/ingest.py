"""POST /e: journey events in, acknowledged only after they are committed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    AwareDatetime,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    TypeAdapter,
    with_config,
)
from pydantic import ValidationError as PydanticError
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from marktplatz.domain.errors import StoreUnavailable, WriterBusy
from marktplatz.domain.journey import MAX_BATCH, Channel, EventKind, Proximity
from marktplatz.services.journey import EventInput, Rejected, record_events
from marktplatz.web.edge.raw import Disconnected, Refused, read_body, reply, to_json
from marktplatz.web.i18n import gettext, pick_language
from marktplatz.web.state import app_of_scope

MAX_BODY = 256 * 1024
Text = Annotated[StrictStr, Field(max_length=200)]


@with_config(ConfigDict(extra="forbid"))
@dataclass(frozen=True, slots=True)
class EventIn(EventInput):
    """The wire format of one event (schema version 1, see docs/events.md).

    The service's own input type with the limits of the wire added: pydantic validates straight
    into it, so an event is not copied from one class into the next on its way to the writer.
    """

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


_ONE = TypeAdapter(EventIn)
_BATCH = TypeAdapter(Annotated[list[EventIn], Field(max_length=MAX_BATCH)])

Parsed = list[tuple[int, EventInput]]
Errors = list[dict[str, Any]]


def parse(body: bytes) -> tuple[Parsed, Errors]:
    """The valid events by index and the invalid ones' first error; Refused for a bad request.

    The common case, a body without a bad event, is validated straight from the bytes in one
    call; only a failing body is decoded again and looked at event by event.
    """
    try:
        if body.lstrip()[:1] == b"[":
            return list(enumerate(_BATCH.validate_json(body))), []
        return [(0, _ONE.validate_json(body))], []
    except PydanticError:
        return _parse_each(body)


def _parse_each(body: bytes) -> tuple[Parsed, Errors]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Refused(400, "The body is not valid JSON.") from None
    items = data if isinstance(data, list) else [data]
    if len(items) > MAX_BATCH:
        raise Refused(413, f"At most {MAX_BATCH} events per request.")
    parsed: Parsed = []
    errors: Errors = []
    for index, item in enumerate(items):
        try:
            parsed.append((index, _ONE.validate_python(item)))
        except PydanticError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "event"
            errors.append({"index": index, "field": field, "message": first["msg"]})
    return parsed, errors


def _translated(rejected: list[Rejected], lang: str) -> Errors:
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


def _fingerprint(scope: Scope) -> str:
    # Address and browser feed only the salted daily count; neither is stored or logged.
    client = scope.get("client")
    agent = b""
    for name, value in scope["headers"]:
        if name == b"user-agent":
            agent = value
            break
    host = client[0] if client else ""
    return f"{host}|{agent.decode('latin-1')[:300]}"


async def ingest(scope: Scope, receive: Receive, send: Send) -> None:
    """One event (an object) or a batch (a list of at most MAX_BATCH objects).

    A raw ASGI handler: the busiest route of all builds no Request or Response objects unless
    it has errors to translate (docs/performance.md).
    """
    try:
        parsed, errors = parse(await read_body(scope, receive, MAX_BODY))
    except Refused as refused:
        await reply(send, refused.status, to_json({"detail": refused.detail}))
        return
    except Disconnected:
        return
    try:
        recorded = await record_events(app_of_scope(scope).ctx, parsed, _fingerprint(scope))
    except WriterBusy:
        body = to_json({"detail": "Busy, please retry."})
        await reply(send, 503, body, (b"retry-after", b"1"))
        return
    except StoreUnavailable:
        body = to_json({"detail": "The store is unavailable, please retry."})
        await reply(send, 503, body, (b"retry-after", b"5"))
        return
    if not errors and not recorded.rejected:
        await reply(send, 200, b'{"accepted":%d,"rejected":[]}' % recorded.accepted)
        return
    if recorded.rejected:
        errors += _translated(recorded.rejected, pick_language(Request(scope)))
        errors.sort(key=lambda e: e["index"])
    status = 200 if recorded.accepted else 422
    await reply(send, status, to_json({"accepted": recorded.accepted, "rejected": errors}))


class IngestApp:
    """`ingest` as an ASGI app that a Starlette Route mounts as it is."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await ingest(scope, receive, send)
