"""City console: the audit log (city admins), filtered by a GET form and exported as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from marktplatz.domain.audit import (
    ACTION_LABELS,
    GROUP_LABELS,
    OBJECT_LABELS,
    AuditFilter,
    AuditRow,
    clean_filter,
)
from marktplatz.domain.errors import N_, InvalidInput
from marktplatz.domain.text import spreadsheet_safe
from marktplatz.services import auditing
from marktplatz.web.console.routes import Staff, StaffOf, console_page
from marktplatz.web.i18n import gettext, pick_language
from marktplatz.web.pages import field_errors
from marktplatz.web.security import csrf_guard
from marktplatz.web.state import app_of

router = APIRouter(prefix="/console", include_in_schema=False, dependencies=[Depends(csrf_guard)])

_FILTER_FIELDS = ("group", "action", "actor", "object", "since", "until")
CSV_COLUMNS = (
    N_("Time (UTC)"),
    N_("Action"),
    N_("Action (code)"),
    N_("Person"),
    N_("E-mail"),
    N_("Object"),
    N_("Object id"),
    N_("Detail"),
)


def _raw_filter(request: Request) -> dict[str, str]:
    return {k: request.query_params.get(k, "")[:300] for k in _FILTER_FIELDS}


def _cursor(request: Request) -> int | None:
    value = request.query_params.get("before", "")
    return int(value) if value.isdigit() and len(value) < 19 else None


@router.get("/{city}/audit", response_class=HTMLResponse)
async def audit_page(request: Request, staff: StaffOf) -> Response:
    """The city's audit log, newest first, 50 lines a page, narrowed by the filter form."""
    raw = _raw_filter(request)
    try:
        found = clean_filter(raw)
    except InvalidInput as exc:
        return _page(request, staff, raw, field_errors(request, exc), None, [], None)
    ctx = app_of(request).ctx
    page = await auditing.audit_page(ctx, staff.user, staff.city.id, found, _cursor(request))
    return _page(request, staff, raw, {}, found, page.rows, page.older)


def _page(
    request: Request,
    staff: Staff,
    values: dict[str, str],
    errors: dict[str, str],
    found: AuditFilter | None,
    rows: list[AuditRow],
    older: int | None,
) -> Response:
    query = found.query() if found else {}
    return console_page(
        request,
        "console/audit.html",
        staff,
        "audit",
        422 if errors else 200,
        values=values,
        errors=errors,
        rows=rows,
        filtered=bool(query),
        paged=_cursor(request) is not None,
        older_url=f"?{urlencode({**query, 'before': older})}" if older else None,
        first_url=f"?{urlencode(query)}" if query else "?",
        export_url=f"{staff.base}/audit.csv" + (f"?{urlencode(query)}" if query else ""),
        group_labels=GROUP_LABELS,
        action_labels=ACTION_LABELS,
        object_labels=OBJECT_LABELS,
    )


@router.get("/{city}/audit.csv")
async def audit_csv(request: Request, staff: StaffOf) -> Response:
    """Every line the filter matches, as CSV for a spreadsheet (UTF-8 with BOM, formula-safe)."""
    try:
        found = clean_filter(_raw_filter(request))
    except InvalidInput as exc:
        return _page(
            request, staff, _raw_filter(request), field_errors(request, exc), None, [], None
        )
    lang = pick_language(request)
    rows = await auditing.export_audit(app_of(request).ctx, staff.user, staff.city.id, found)
    name = f"audit-{staff.city.slug}.csv"
    return StreamingResponse(
        _csv(rows, lang),
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "cache-control": "no-store",
        },
    )


def _csv_line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow([spreadsheet_safe(c) for c in cells])
    return out.getvalue()


async def _csv(rows: AsyncIterator[AuditRow], lang: str) -> AsyncIterator[str]:
    yield "\ufeff" + _csv_line([gettext(lang, c) for c in CSV_COLUMNS])
    async for row in rows:
        e = row.entry
        label = ACTION_LABELS.get(e.action)
        kind = OBJECT_LABELS.get(e.object_type)
        yield _csv_line(
            [
                e.at.isoformat(timespec="seconds"),
                gettext(lang, label) if label else e.action,
                e.action,
                row.actor_name or "",
                row.actor_email or "",
                gettext(lang, kind) if kind else e.object_type,
                e.object_id,
                e.detail,
            ]
        )
