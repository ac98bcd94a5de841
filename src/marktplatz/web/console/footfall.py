"""City console: people counts imported from counter exports, with a dry run and a confirm step."""

from __future__ import annotations

import base64
import binascii
import zlib
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from marktplatz.domain.errors import N_
from marktplatz.domain.fleet_csv import FILE, Problem
from marktplatz.domain.footfall_csv import MAX_BYTES, MAX_ROWS
from marktplatz.services import footfall
from marktplatz.web.console.fleet import problem_rows
from marktplatz.web.console.routes import Staff, StaffOf, console_page
from marktplatz.web.portal.routes import form_text
from marktplatz.web.security import csrf_guard
from marktplatz.web.state import app_of
from marktplatz.web.uploads import close_form, read_upload

router = APIRouter(
    prefix="/console",
    include_in_schema=False,
    dependencies=[Depends(close_form), Depends(csrf_guard)],
)
SHOWN_PROBLEMS = 300  # a page with more rows helps nobody; the count says how many there are
# A form field may hold 1 MB: the checked file travels to the confirm step compressed (hourly
# counts shrink about tenfold), and must then fit with room to spare.
PACKED_MAX = 900_000


def pack(data: bytes) -> str:
    """The file for the confirm form's hidden field: compressed, in URL-safe base64."""
    return base64.urlsafe_b64encode(zlib.compress(data, 9)).decode("ascii")


def unpack(text: str) -> bytes:
    """The file back from the confirm form; at most one byte past the limit is inflated, so a
    crafted field cannot blow up (the parser then refuses the size)."""
    try:
        inflater = zlib.decompressobj()
        return inflater.decompress(base64.urlsafe_b64decode(text.encode("ascii")), MAX_BYTES + 1)
    except (ValueError, binascii.Error, zlib.error):
        return b""


def _hour(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%d.%m.%Y %H:%M")


async def _page(request: Request, staff: Staff, status: int = 200, **ctx: Any) -> Response:
    counters = await footfall.counter_spans(app_of(request).ctx, staff.user, staff.city.id)
    problems = ctx.pop("problems", [])
    return console_page(
        request,
        "console/footfall.html",
        staff,
        "footfall",
        status,
        max_kb=MAX_BYTES // 1000,
        max_rows=MAX_ROWS,
        counters=counters,
        hour=lambda moment: _hour(moment, staff.city.tz),
        problems=problem_rows(request, problems[:SHOWN_PROBLEMS]),
        problem_count=len(problems),
        **ctx,
    )


@router.get("/{city}/footfall", response_class=HTMLResponse)
async def footfall_page(request: Request, staff: StaffOf) -> Response:
    """The people counters with their first and last imported hour, and the upload form."""
    return await _page(request, staff)


@router.post("/{city}/footfall", response_class=HTMLResponse)
async def footfall_check(request: Request, staff: StaffOf) -> Response:
    """The dry run: every problem by row, or what the import would store and a confirm button."""
    data, filename, _ = await read_upload(request, MAX_BYTES)
    ctx = app_of(request).ctx
    plan = await footfall.import_footfall(ctx, staff.user, staff.city.id, data, dry_run=True)
    packed = pack(data)
    problems = plan.problems
    if not problems and len(packed) > PACKED_MAX:
        message = N_("The file is too large to import in one step; please split it.")
        problems = [Problem(FILE, "", message)]
    if problems:
        return await _page(request, staff, 422, problems=problems, filename=filename)
    # The checked file goes back to the browser with the confirm button and is checked again
    # when it is imported: nothing is kept on the server in between.
    return await _page(request, staff, plan=plan, packed=packed, filename=filename)


@router.post("/{city}/footfall/confirm", response_class=HTMLResponse)
async def footfall_confirm(request: Request, staff: StaffOf) -> Response:
    """Import every row; refused as a whole when anything is wrong with the file."""
    form = await request.form()
    data, filename = unpack(form_text(form, "file")), form_text(form, "filename")[:200]
    ctx = app_of(request).ctx
    try:
        plan = await footfall.import_footfall(ctx, staff.user, staff.city.id, data, dry_run=False)
    except footfall.FootfallRefused as exc:
        return await _page(request, staff, 422, problems=exc.problems, filename=filename)
    return await _page(request, staff, done=plan, filename=filename)
