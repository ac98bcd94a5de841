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
from marktplatz.web.i18n import gettext, pick_language

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


class Refused(Exception):
    """The whole request is refused (4xx) before any event is looked at."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


class _Disconnected(Exception):
    """The client went away before its body arrived: there is no one to answer."""


async def _body(scope: Scope, receive: Receive) -> bytes:
    """The request body; Refused (413) once it grows past MAX_BODY (read no further)."""
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit() and int(value) > MAX_BODY:
            raise Refused(413, f"The request is larger than {MAX_BODY} bytes.")
    chunks: list[bytes] = []
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise Refused(413, f"The request is larger than {MAX_BODY} bytes.")
        chunks.append(chunk)
        more = message.get("more_body", False)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


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


# POST /e skips the page middleware (web/app.py), so its answers carry their own headers.
_HEADERS = [
    (b"content-type", b"application/json"),
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
]


async def _reply(send: Send, status: int, body: bytes, *extra: tuple[bytes, bytes]) -> None:
    headers = [*_HEADERS, (b"content-length", b"%d" % len(body)), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _json(content: object) -> bytes:
    return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()


async def ingest(scope: Scope, receive: Receive, send: Send) -> None:
    """One event (an object) or a batch (a list of at most MAX_BATCH objects).

    A raw ASGI handler: the busiest route of all builds no Request or Response objects unless
    it has errors to translate (docs/performance.md).
    """
    try:
        parsed, errors = parse(await _body(scope, receive))
    except Refused as refused:
        await _reply(send, refused.status, _json({"detail": refused.detail}))
        return
    except _Disconnected:
        return
    try:
        recorded = await record_events(
            scope["app"].state.marktplatz.ctx, parsed, _fingerprint(scope)
        )
    except WriterBusy:
        body = _json({"detail": "Busy, please retry."})
        await _reply(send, 503, body, (b"retry-after", b"1"))
        return
    except StoreUnavailable:
        body = _json({"detail": "The store is unavailable, please retry."})
        await _reply(send, 503, body, (b"retry-after", b"5"))
        return
    if not errors and not recorded.rejected:
        await _reply(send, 200, b'{"accepted":%d,"rejected":[]}' % recorded.accepted)
        return
    if recorded.rejected:
        errors += _translated(recorded.rejected, pick_language(Request(scope)))
        errors.sort(key=lambda e: e["index"])
    status = 200 if recorded.accepted else 422
    await _reply(send, status, _json({"accepted": recorded.accepted, "rejected": errors}))


class IngestApp:
    """`ingest` as an ASGI app that a Starlette Route mounts as it is."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await ingest(scope, receive, send)
