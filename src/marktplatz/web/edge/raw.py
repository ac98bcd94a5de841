"""Raw ASGI plumbing for the edge's hot paths (POST /e, POST /decide): no Request or Response
objects, no middleware; their answers carry their own headers."""

from __future__ import annotations

import orjson
from starlette.types import Receive, Scope, Send

HEADERS = [
    (b"content-type", b"application/json"),
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
]


class Refused(Exception):
    """The whole request is refused (4xx) before its content is looked at."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


class Disconnected(Exception):
    """The client went away before its body arrived: there is no one to answer."""


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The request body; Refused (413) once it grows past `limit` bytes (read no further)."""
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            raise Refused(413, f"The request is larger than {limit} bytes.")
    chunks: list[bytes] = []
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise Refused(413, f"The request is larger than {limit} bytes.")
        chunks.append(chunk)
        more = message.get("more_body", False)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def reply(send: Send, status: int, body: bytes, *extra: tuple[bytes, bytes]) -> None:
    headers = [*HEADERS, (b"content-length", b"%d" % len(body)), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def to_json(content: object) -> bytes:
    """Compact UTF-8 JSON (orjson: a decision's answer costs a microsecond, not ten)."""
    return orjson.dumps(content)
