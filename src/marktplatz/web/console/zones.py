"""City console: zones drawn on a map, typed as GeoJSON or uploaded as a GeoJSON file."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from marktplatz.domain.errors import N_, Conflict, InvalidInput, NotFound
from marktplatz.domain.zones import MAX_UPLOAD_BYTES, Zone, polygon_of_upload
from marktplatz.services import cities, shops, touchpoints
from marktplatz.web.console.routes import Fields, Staff, StaffOf, console_page
from marktplatz.web.portal.routes import form_errors, saved
from marktplatz.web.security import csrf_guard
from marktplatz.web.state import app_of
from marktplatz.web.static import has_asset
from marktplatz.web.uploads import Upload, close_form, read_upload

Save = Callable[[dict[str, Any]], Awaitable[Zone]]
router = APIRouter(
    prefix="/console",
    include_in_schema=False,
    dependencies=[Depends(close_form), Depends(csrf_guard)],
)


def _zone_data(upload: Upload) -> dict[str, Any]:
    """The zone's data; an uploaded file's polygon replaces the typed shape and goes into the
    form's text fields, so a rejected shape is shown in the text field for correcting."""
    values = upload.fields
    data: dict[str, Any] = {k: values.get(k, "") for k in ("slug", "name", "description")}
    if upload.filename:
        polygon = polygon_of_upload(upload.data)
        values["geometry"] = json.dumps(polygon, indent=2)
        return {**data, "geometry": polygon}
    try:
        return {**data, "geometry": json.loads(values.get("geometry", ""))}
    except ValueError:
        raise InvalidInput("geometry", N_("The shape is not valid GeoJSON.")) from None


def _zone_values(zone: Zone) -> Fields:
    return {
        "slug": zone.slug,
        "name": zone.name,
        "description": zone.description,
        "geometry": json.dumps(zone.geometry, indent=2),
    }


async def _map_data(request: Request, staff: Staff, zones: list[Zone], editing: UUID | None) -> Any:
    """The editor's background: the other zones, and shops and touchpoints as reference points."""
    ctx, city = app_of(request).ctx, staff.city
    places = [
        {"kind": "shop", "name": s.name, "lat": s.location.lat, "lon": s.location.lon}
        for s in await shops.list_shops(ctx, city.id)
    ] + [
        {"kind": "touchpoint", "name": t.name, "lat": t.location.lat, "lon": t.location.lon}
        for t in await touchpoints.list_touchpoints(ctx, staff.user, city.id)
    ]
    return {
        "center": {"lat": city.center.lat, "lon": city.center.lon},
        "tiles": app_of(request).settings.map_tile_url or None,
        "zones": [{"name": z.name, "geometry": z.geometry} for z in zones if z.id != editing],
        "places": places,
    }


async def _page(
    request: Request,
    staff: Staff,
    template: str,
    zone: Zone | None,
    values: Fields,
    errors: Fields | None,
) -> Response:
    ctx = app_of(request).ctx
    zones = await cities.list_zones(ctx, staff.city.id)
    tiles = app_of(request).settings.map_tile_url
    return console_page(
        request,
        template,
        staff,
        "zones",
        422 if errors else 200,
        zone=zone,
        zones=zones,
        members=await cities.zone_members(ctx, staff.user, staff.city.id),
        values=values,
        errors=errors or {},
        map_data=await _map_data(request, staff, zones, zone.id if zone else None),
        has_leaflet=has_asset("vendor/leaflet/leaflet.js"),
        tile_attribution=app_of(request).settings.map_tile_attribution if tiles else "",
        max_kb=MAX_UPLOAD_BYTES // 1000,
    )


@router.get("/{city}/zones", response_class=HTMLResponse)
async def zones_page(request: Request, staff: StaffOf) -> Response:
    """Every zone with what lies in it, and the map to draw a new one."""
    return await _page(request, staff, "console/zones.html", None, {}, None)


async def _save(request: Request, save: Save) -> tuple[Zone | None, Fields, Fields]:
    """Read the form (closing its upload) and save: the zone, or the kept values and the error."""
    upload = await read_upload(request, MAX_UPLOAD_BYTES, "geometry_file")
    try:
        return await save(_zone_data(upload)), upload.fields, {}
    except (InvalidInput, Conflict) as exc:
        return None, upload.fields, form_errors(request, exc)


@router.post("/{city}/zones", response_class=HTMLResponse)
async def zone_create(request: Request, staff: StaffOf) -> Response:
    """A new zone; then its page, which says how many touchpoints and shops lie in it."""
    ctx, city_id = app_of(request).ctx, staff.city.id
    zone, values, errors = await _save(
        request, lambda data: cities.create_zone(ctx, staff.user, city_id, data)
    )
    if zone is None:
        return await _page(request, staff, "console/zones.html", None, values, errors)
    return saved(f"{staff.base}/zones/{zone.id}")


async def _zone_of(request: Request, staff: Staff, zone_id: UUID) -> Zone:
    zone = await cities.get_zone(app_of(request).ctx, zone_id)
    if zone.city_id != staff.city.id:
        raise NotFound("zone")
    return zone


@router.get("/{city}/zones/{zone_id}", response_class=HTMLResponse)
async def zone_page(request: Request, zone_id: UUID, staff: StaffOf) -> Response:
    """One zone on the map, its vertices to drag; what lies in it."""
    zone = await _zone_of(request, staff, zone_id)
    return await _page(request, staff, "console/zone.html", zone, _zone_values(zone), None)


@router.post("/{city}/zones/{zone_id}", response_class=HTMLResponse)
async def zone_submit(request: Request, zone_id: UUID, staff: StaffOf) -> Response:
    """Rename or redraw a zone; touchpoints are assigned again by position."""
    zone = await _zone_of(request, staff, zone_id)
    ctx = app_of(request).ctx
    updated, values, errors = await _save(
        request, lambda data: cities.update_zone(ctx, staff.user, zone.id, data)
    )
    if updated is None:
        return await _page(request, staff, "console/zone.html", zone, values, errors)
    return saved(f"{staff.base}/zones/{zone.id}")


@router.post("/{city}/zones/{zone_id}/delete")
async def zone_delete(request: Request, zone_id: UUID, staff: StaffOf) -> Response:
    """Remove a zone; its touchpoints fall to another zone that holds them, or to none."""
    zone = await _zone_of(request, staff, zone_id)
    await cities.delete_zone(app_of(request).ctx, staff.user, zone.id)
    return saved(f"{staff.base}/zones")
