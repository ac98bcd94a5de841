"""City console: the touchpoint fleet's health as a table and a map, CSV in and out, QR sheets."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from marktplatz.domain.code_sheets import UNKNOWN, CodePick, UnknownCodes
from marktplatz.domain.errors import InvalidInput
from marktplatz.domain.fleet import FleetQuery, FleetRow, Health, select_rows
from marktplatz.domain.fleet_csv import MAX_BYTES, MAX_ROWS, Problem, decode
from marktplatz.domain.touchpoints import TouchpointKind
from marktplatz.services import cities, fleet
from marktplatz.web.console.routes import Staff, StaffOf, console_page
from marktplatz.web.i18n import gettext, pick_language, translations
from marktplatz.web.pages import field_errors, render_error
from marktplatz.web.portal.posters import pdf_download
from marktplatz.web.portal.routes import form_text
from marktplatz.web.security import csrf_guard
from marktplatz.web.state import app_of
from marktplatz.web.static import has_asset
from marktplatz.web.uploads import close_form, read_upload

router = APIRouter(
    prefix="/console",
    include_in_schema=False,
    dependencies=[Depends(close_form), Depends(csrf_guard)],
)
HEALTH_MARKS = {  # a symbol per state: markers and badges differ without colour too
    Health.ALERT: "‼",
    Health.WARNING: "!",
    Health.NEVER_SEEN: "?",
    Health.OK: "✓",
    Health.INACTIVE: "–",
}


async def _zone_names(request: Request, staff: Staff) -> dict[UUID, str]:
    zones = await cities.list_zones(app_of(request).ctx, staff.city.id)
    return {z.id: z.name for z in zones}


def _fleet_page(
    request: Request,
    staff: Staff,
    rows: list[FleetRow],
    query: FleetQuery,
    zone_names: dict[UUID, str],
    status: int = 200,
    sheet_error: str = "",
    picked: frozenset[str] = frozenset(),
) -> Response:
    listed = select_rows(rows, query, zone_names)
    return console_page(
        request,
        "console/fleet.html",
        staff,
        "fleet",
        status,
        rows=listed,
        total=len(rows),
        qr_count=sum(row.touchpoint.kind is TouchpointKind.QR for row in listed),
        query=query,
        zone_names=zone_names,
        marks=HEALTH_MARKS,
        sheet_error=sheet_error,
        picked=picked,
    )


def fleet_query(
    kind: str = "",
    zone: str = "",
    health: str = "",
    q: str = "",
    sort: str = "health",
    order: str = "asc",
) -> FleetQuery:
    """The table's filters and order from the query string (the page and the sheet's form)."""
    return FleetQuery.of(kind, zone, health, q, sort, order)


QueryOf = Annotated[FleetQuery, Depends(fleet_query)]
QUERY_FIELDS = ("kind", "zone", "health", "q", "sort", "order")


@router.get("/{city}/fleet", response_class=HTMLResponse)
async def fleet_page(request: Request, staff: StaffOf, query: QueryOf) -> Response:
    """The fleet's health, sorted and filtered on the server (a GET form: works without JS)."""
    rows = await fleet.fleet_health(app_of(request).ctx, staff.user, staff.city.id)
    zone_names = await _zone_names(request, staff)
    return _fleet_page(request, staff, rows, query, zone_names)


@router.get("/{city}/fleet/qr-codes.pdf")
async def fleet_qr_sheet(
    request: Request, staff: StaffOf, query: QueryOf, scope: str = ""
) -> Response:
    """The ticked QR codes, or all of the filtered list, as A4 sheets of labels to cut apart
    (a GET: printing changes nothing; links and bookmarks of a list keep working)."""
    pick = CodePick.of(scope, request.query_params.getlist("id"), query)
    return await _code_sheet(request, staff, pick)


@router.post("/{city}/fleet/qr-codes.pdf")
async def fleet_qr_sheet_posted(request: Request, staff: StaffOf) -> Response:
    """The same sheet from the fleet page's form: the ticked ids travel in the body, as
    hundreds of them make an address longer than proxies accept. It changes nothing."""
    form = await request.form()
    texts = {name: form_text(form, name) for name in QUERY_FIELDS if name in form}
    ids = [value for value in form.getlist("id") if isinstance(value, str)]
    pick = CodePick.of(form_text(form, "scope"), ids, fleet_query(**texts))
    return await _code_sheet(request, staff, pick)


async def _code_sheet(request: Request, staff: Staff, pick: CodePick) -> Response:
    """The PDF; a bad choice shows the fleet page again, with why and the ticks kept."""
    ctx, lang = app_of(request).ctx, pick_language(request)
    try:
        printed = await fleet.print_code_sheet(ctx, staff.user, staff.city.id, pick, lang, gettext)
    except UnknownCodes:
        return render_error(request, 404, gettext(lang, UNKNOWN))
    except InvalidInput as exc:
        rows = await fleet.fleet_health(ctx, staff.user, staff.city.id)
        zone_names = await _zone_names(request, staff)
        (error,) = field_errors(request, exc).values()
        return _fleet_page(
            request,
            staff,
            rows,
            pick.query,
            zone_names,
            422,
            sheet_error=error,
            picked=frozenset(pick.ids),
        )
    return pdf_download(printed)


def _map_point(row: FleetRow) -> dict[str, Any]:
    point = row.touchpoint
    return {
        "id": f"tp-{point.id}",
        "lat": point.location.lat,
        "lon": point.location.lon,
        "health": row.health.value,
        "mark": HEALTH_MARKS[row.health],
    }


@router.get("/{city}/fleet/map", response_class=HTMLResponse)
async def fleet_map(request: Request, staff: StaffOf) -> Response:
    """All touchpoints on the map, by health; the list below is the page without scripts."""
    composed = app_of(request)
    rows = await fleet.fleet_health(composed.ctx, staff.user, staff.city.id)
    rows = select_rows(rows, FleetQuery(), {})
    zones = await cities.list_zones(composed.ctx, staff.city.id)
    tiles = composed.settings.map_tile_url
    data = {
        "center": {"lat": staff.city.center.lat, "lon": staff.city.center.lon},
        "tiles": tiles or None,
        "zones": [{"id": f"zone-{z.slug}", "name": z.name, "geometry": z.geometry} for z in zones],
        "points": [_map_point(row) for row in rows],
    }
    return console_page(
        request,
        "console/fleet_map.html",
        staff,
        "fleet",
        rows=rows,
        map_data=data,
        zone_names={z.id: z.name for z in zones},
        marks=HEALTH_MARKS,
        has_leaflet=has_asset("vendor/leaflet/leaflet.js"),
        tile_attribution=composed.settings.map_tile_attribution if tiles else "",
    )


@router.get("/{city}/fleet.csv")
async def fleet_export(request: Request, staff: StaffOf) -> Response:
    """Every touchpoint with its fields and health, as German Excel opens a CSV file."""
    data = await fleet.export_fleet(app_of(request).ctx, staff.user, staff.city.id)
    name = f"touchpoints-{staff.city.slug}.csv"
    return Response(
        data,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


def problem_rows(request: Request, problems: list[Problem]) -> list[tuple[int, str, str]]:
    """(row, column, translated message) for the page."""
    gettext = translations(pick_language(request)).gettext
    found = []
    for problem in problems:
        text = gettext(problem.message)
        found.append(
            (problem.row, problem.column, text % problem.params if problem.params else text)
        )
    return found


def _import_page(request: Request, staff: Staff, status: int = 200, **ctx: Any) -> Response:
    return console_page(
        request,
        "console/fleet_import.html",
        staff,
        "fleet",
        status,
        max_kb=MAX_BYTES // 1000,
        max_rows=MAX_ROWS,
        **ctx,
    )


@router.get("/{city}/fleet/import", response_class=HTMLResponse)
async def import_form(request: Request, staff: StaffOf) -> Response:
    return _import_page(request, staff)


@router.post("/{city}/fleet/import", response_class=HTMLResponse)
async def import_check(request: Request, staff: StaffOf) -> Response:
    """The dry run: every problem by row, or a summary with the button that imports."""
    data, filename, _ = await read_upload(request, MAX_BYTES)
    plan = await fleet.check_import(app_of(request).ctx, staff.user, staff.city.id, data)
    if plan.problems:
        problems = problem_rows(request, plan.problems)
        return _import_page(request, staff, 422, problems=problems, filename=filename)
    # The checked file goes back to the browser with the confirm button, and is checked again
    # in the transaction that imports it: nothing is kept on the server in between.
    return _import_page(request, staff, plan=plan, csv_text=decode(data), filename=filename)


@router.post("/{city}/fleet/import/confirm", response_class=HTMLResponse)
async def import_confirm(request: Request, staff: StaffOf) -> Response:
    """Import every row in one transaction; refused as a whole if anything changed meanwhile."""
    form = await request.form()
    data = form_text(form, "csv").encode("utf-8")
    try:
        plan = await fleet.import_fleet(app_of(request).ctx, staff.user, staff.city.id, data)
    except fleet.ImportRefused as exc:
        problems = problem_rows(request, exc.problems)
        return _import_page(
            request, staff, 422, problems=problems, filename=form_text(form, "filename")
        )
    return _import_page(request, staff, done=plan)
