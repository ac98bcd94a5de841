"""City console: the overview, shops and the touchpoint fleet with printable QR codes."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from marktplatz.domain.accounts import User
from marktplatz.domain.cities import City
from marktplatz.domain.errors import Conflict, InvalidInput, NotFound
from marktplatz.domain.fleet import DEFAULT_INTERVAL_HOURS, worst_silent
from marktplatz.domain.touchpoints import LINK_KINDS, Touchpoint, TouchpointKind
from marktplatz.services import access, cities, fleet, shops, touchpoints
from marktplatz.web import presenters as p
from marktplatz.web.pages import render
from marktplatz.web.portal.routes import (
    LoggedIn,
    form_errors,
    form_number,
    form_text,
    saved,
)
from marktplatz.web.security import csrf_guard
from marktplatz.web.state import app_of
from marktplatz.web.uploads import form_values

router = APIRouter(prefix="/console", include_in_schema=False, dependencies=[Depends(csrf_guard)])

# Form inputs of each beacon kind: the service's key and the raw ids it expects.
BEACON_IDS: dict[str, tuple[str, tuple[str, ...]]] = {
    TouchpointKind.IBEACON: ("ibeacon", ("uuid", "major", "minor")),
    TouchpointKind.EDDYSTONE_UID: ("eddystone", ("namespace", "instance")),
    TouchpointKind.ALTBEACON: ("altbeacon", ("id1", "id2", "id3")),
}
_NUMERIC_IDS = frozenset({"major", "minor", "id2", "id3"})
Fields = dict[str, str]  # form values or errors by input name


@dataclass(frozen=True, slots=True)
class Staff:
    """The logged-in staff member and the city whose console they opened."""

    user: User
    city: City

    @property
    def base(self) -> str:
        return f"/console/{self.city.slug}"


async def staff_of_city(request: Request, city: str, user: LoggedIn) -> Staff:
    """City staff only: the city's own retailers get 403, to anyone else it looks nonexistent."""
    found = await cities.city_by_slug(app_of(request).ctx, city)
    access.check_city_staff(user, found.id)
    return Staff(user, found)


StaffOf = Annotated[Staff, Depends(staff_of_city)]


def console_page(
    request: Request, template: str, staff: Staff, section: str, status: int = 200, **ctx: Any
) -> Response:
    is_admin = access.can_manage_city(staff.user, staff.city.id, admin=True)
    return render(
        request, template, status, city=staff.city, section=section, is_admin=is_admin, **ctx
    )


# --- overview ------------------------------------------------------------------------------


@router.get("/{city}", response_class=HTMLResponse)
async def overview(request: Request, staff: StaffOf) -> Response:
    """Counts of shops, zones and touchpoints by kind, and the silent touchpoints, linked."""
    ctx, city_id = app_of(request).ctx, staff.city.id
    rows = await fleet.fleet_health(ctx, staff.user, city_id)
    points = [row.touchpoint for row in rows]
    return console_page(
        request,
        "console/overview.html",
        staff,
        "overview",
        shop_count=len(await shops.list_shops(ctx, city_id)),
        zone_count=len(await cities.list_zones(ctx, city_id)),
        touchpoint_count=len(points),
        by_kind=sorted(Counter(t.kind.value for t in points).items()),
        health_counts=Counter(row.health.value for row in rows),
        silent=worst_silent(rows),
    )


# --- shops ---------------------------------------------------------------------------------

_SHOP_CREATE = ("slug", "name", "category", "street", "postcode", "opening_hours")


def _shop_data(form: FormData) -> dict[str, Any]:
    data: dict[str, Any] = {name: form_text(form, name) for name in _SHOP_CREATE}
    data["lat"], data["lon"] = form_number(form, "lat"), form_number(form, "lon")
    data["keep_unparsed_hours"] = bool(form_text(form, "keep_unparsed_hours"))
    return data


def _at_center(city: City, **values: str) -> dict[str, str]:
    """Defaults for a new object's form: the city centre as its position."""
    return {"lat": str(city.center.lat), "lon": str(city.center.lon), **values}


async def _shops_page(
    request: Request, staff: Staff, values: Fields | None = None, errors: Fields | None = None
) -> Response:
    ctx, city = app_of(request).ctx, staff.city
    now = ctx.clock.now()
    rows = [(s, p.hours_status(s, city, now)) for s in await shops.list_shops(ctx, city.id)]
    return console_page(
        request,
        "console/shops.html",
        staff,
        "shops",
        422 if errors else 200,
        rows=rows,
        values=values or _at_center(city),
        errors=errors or {},
    )


@router.get("/{city}/shops", response_class=HTMLResponse)
async def shops_page(request: Request, staff: StaffOf) -> Response:
    return await _shops_page(request, staff)


@router.post("/{city}/shops", response_class=HTMLResponse)
async def shop_create(request: Request, staff: StaffOf) -> Response:
    """Add a shop; its owner then completes the profile in the portal."""
    form = await request.form()
    try:
        await shops.create_shop(app_of(request).ctx, staff.user, staff.city.id, _shop_data(form))
    except (InvalidInput, Conflict) as exc:
        return await _shops_page(request, staff, form_values(form), form_errors(request, exc))
    return saved(f"{staff.base}/shops")


# --- touchpoints ---------------------------------------------------------------------------


def _beacon_ids(form: FormData, kind: str) -> dict[str, Any]:
    """The raw ids of a beacon kind; non-digits stay text so the domain names the bad field."""
    key, parts = BEACON_IDS[kind]
    ids: dict[str, Any] = {}
    for part in parts:
        text = form_text(form, f"{key}_{part}").strip()
        ids[part] = int(text) if part in _NUMERIC_IDS and text.isdigit() else text
    return {key: ids}


def _touchpoint_data(form: FormData) -> dict[str, Any]:
    kind = form_text(form, "kind")
    data: dict[str, Any] = {k: form_text(form, k) for k in ("kind", "name", "placement")}
    data["shop_id"] = form_text(form, "shop_id") or None
    if kind in LINK_KINDS:
        data["target"] = form_text(form, "target")
    if kind in BEACON_IDS:
        data.update(_beacon_ids(form, kind))
    data["lat"], data["lon"] = form_number(form, "lat"), form_number(form, "lon")
    return data


def _identifier_aliases(kind: str) -> dict[str, str]:
    """A beacon's id errors, duplicates included, sit beside its first id input."""
    if kind not in BEACON_IDS:
        return {}
    key, parts = BEACON_IDS[kind]
    return {"identifier": f"{key}_{parts[0]}", key: f"{key}_{parts[0]}"}


async def _fleet(request: Request, staff: Staff) -> dict[str, Any]:
    """The touchpoints with the names of zones and shops, for tables and selects."""
    ctx, city_id = app_of(request).ctx, staff.city.id
    return {
        "touchpoints": await touchpoints.list_touchpoints(ctx, staff.user, city_id),
        "zone_names": {z.id: z.name for z in await cities.list_zones(ctx, city_id)},
        "shop_options": [(s.id, s.name) for s in await shops.list_shops(ctx, city_id)],
    }


async def _touchpoints_page(
    request: Request, staff: Staff, values: Fields | None = None, errors: Fields | None = None
) -> Response:
    fleet = await _fleet(request, staff)
    return console_page(
        request,
        "console/touchpoints.html",
        staff,
        "touchpoints",
        422 if errors else 200,
        values=values or _at_center(staff.city, kind="qr"),
        errors=errors or {},
        shop_names=dict(fleet["shop_options"]),
        **fleet,
    )


@router.get("/{city}/touchpoints", response_class=HTMLResponse)
async def touchpoints_page(request: Request, staff: StaffOf) -> Response:
    return await _touchpoints_page(request, staff)


@router.post("/{city}/touchpoints", response_class=HTMLResponse)
async def touchpoint_create(request: Request, staff: StaffOf) -> Response:
    """Register a beacon, code or device; a duplicate identifier is shown on the form."""
    ctx = app_of(request).ctx
    form = await request.form()
    try:
        await touchpoints.create_touchpoint(ctx, staff.user, staff.city.id, _touchpoint_data(form))
    except (InvalidInput, Conflict) as exc:
        errors = form_errors(request, exc, _identifier_aliases(form_text(form, "kind")))
        return await _touchpoints_page(request, staff, form_values(form), errors)
    return saved(f"{staff.base}/touchpoints")


async def _touchpoint_of(request: Request, staff: Staff, touchpoint_id: UUID) -> Touchpoint:
    touchpoint = await touchpoints.get_touchpoint(app_of(request).ctx, staff.user, touchpoint_id)
    if touchpoint.city_id != staff.city.id:
        raise NotFound("touchpoint")
    return touchpoint


def _touchpoint_values(t: Touchpoint) -> dict[str, str]:
    return {
        "name": t.name,
        "placement": t.placement,
        "status": t.status.value,
        "expected_interval_hours": str(t.expected_interval_hours or ""),
        "target": t.target,
        "shop_id": str(t.shop_id or ""),
        "lat": str(t.location.lat),
        "lon": str(t.location.lon),
    }


def _touchpoint_changes(form: FormData, touchpoint: Touchpoint) -> dict[str, Any]:
    names = ("name", "placement", "status", "shop_id", "expected_interval_hours")
    data: dict[str, Any] = {name: form_text(form, name) for name in names}
    if touchpoint.is_link:
        data["target"] = form_text(form, "target")
    data["lat"], data["lon"] = form_number(form, "lat"), form_number(form, "lon")
    return data


async def _touchpoint_page(
    request: Request,
    staff: Staff,
    touchpoint: Touchpoint,
    values: Fields | None = None,
    errors: Fields | None = None,
) -> Response:
    fleet = await _fleet(request, staff)
    return console_page(
        request,
        "console/touchpoint.html",
        staff,
        "touchpoints",
        422 if errors else 200,
        touchpoint=touchpoint,
        values=values or _touchpoint_values(touchpoint),
        errors=errors or {},
        shop_options=fleet["shop_options"],
        zone_names=fleet["zone_names"],
        short_url=touchpoint.short_url(app_of(request).settings.base_url),
        default_interval=DEFAULT_INTERVAL_HOURS[touchpoint.kind],
    )


@router.get("/{city}/touchpoints/{touchpoint_id}", response_class=HTMLResponse)
async def touchpoint_page(request: Request, touchpoint_id: UUID, staff: StaffOf) -> Response:
    touchpoint = await _touchpoint_of(request, staff, touchpoint_id)
    return await _touchpoint_page(request, staff, touchpoint)


@router.post("/{city}/touchpoints/{touchpoint_id}", response_class=HTMLResponse)
async def touchpoint_submit(request: Request, touchpoint_id: UUID, staff: StaffOf) -> Response:
    """Rename, move, re-assign, switch off or re-target a touchpoint."""
    touchpoint = await _touchpoint_of(request, staff, touchpoint_id)
    form = await request.form()
    try:
        changes = _touchpoint_changes(form, touchpoint)
        await touchpoints.update_touchpoint(app_of(request).ctx, staff.user, touchpoint.id, changes)
    except (InvalidInput, Conflict) as exc:
        errors = form_errors(request, exc)
        return await _touchpoint_page(request, staff, touchpoint, form_values(form), errors)
    return saved(f"{staff.base}/touchpoints/{touchpoint.id}")


@router.get("/{city}/touchpoints/{touchpoint_id}/print", response_class=HTMLResponse)
async def touchpoint_print(request: Request, touchpoint_id: UUID, staff: StaffOf) -> Response:
    """A printable sheet with a big QR code, its short address and a call to action."""
    touchpoint = await _touchpoint_of(request, staff, touchpoint_id)
    url = touchpoint.short_url(app_of(request).settings.base_url)
    if url is None:
        raise NotFound("touchpoint")
    return console_page(
        request, "console/print.html", staff, "touchpoints", touchpoint=touchpoint, short_url=url
    )
