"""Files uploaded with a form: read up to a limit, and closed also when the request is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import NamedTuple

from fastapi import Request
from starlette.datastructures import FormData, UploadFile

MAX_NAME = 200


class Upload(NamedTuple):
    """A form's file (empty when none was chosen), its name, and the form's text fields."""

    data: bytes
    filename: str
    fields: dict[str, str]


def form_values(form: FormData) -> dict[str, str]:
    """The submitted text values, to put back into a re-rendered form."""
    return {key: value for key, value in form.items() if isinstance(value, str)}


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


async def read_upload(request: Request, max_bytes: int, field: str = "file") -> Upload:
    """The form's file in `field`: its bytes (at most one past the limit, so a parser can refuse
    the size), its name and the form's text fields; no bytes and no name when no file was sent."""
    # Closing the form removes the spooled temporary file of the upload at once.
    async with request.form() as form:
        fields = form_values(form)
        upload = form.get(field)
        if not isinstance(upload, UploadFile) or not upload.filename:
            return Upload(b"", "", fields)
        data = await upload.read(max_bytes + 1)
        return Upload(data, upload.filename[:MAX_NAME], fields)
