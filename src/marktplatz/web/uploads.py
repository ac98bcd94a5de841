"""Files uploaded with a form: read up to a limit, and closed also when the request is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request
from starlette.datastructures import UploadFile

MAX_NAME = 200


async def close_form(request: Request) -> AsyncIterator[None]:
    """A dependency that closes the parsed form, and an upload's temporary file, after the request.

    csrf_guard parses a multipart form to find the token; when it or a later dependency then
    refuses the request, the route that would close the form never runs. A router that takes
    uploads lists this before csrf_guard, so the form is closed in every case.
    """
    try:
        yield
    finally:
        await request.close()


async def read_upload(request: Request, max_bytes: int) -> tuple[bytes, str]:
    """The form's `file`: its bytes (at most one past the limit, so a parser can refuse the
    size) and its name; empty when no file was sent."""
    async with request.form() as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            return b"", ""
        return await upload.read(max_bytes + 1), (upload.filename or "")[:MAX_NAME]
