"""City console: zones, shops, the touchpoint fleet with printable QR codes, and users."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from marktplatz.domain.accounts import User
from marktplatz.domain.cities import City
from marktplatz.domain.errors import N_, Conflict, InvalidInput, NotFound
from marktplatz.domain.touchpoints import LINK_KINDS, Touchpoint, TouchpointKind, TouchpointStatus
from marktplatz.domain.zones import Zone
from marktplatz.services import access, accounts, cities, shops, touchpoints
from marktplatz.web import presenters as p
from marktplatz.web.pages import render
from marktplatz.web.portal.routes import (
    form_errors,
    form_number,
    form_text,
    form_values,
    login_redirect,
    saved,
)
from marktplatz.web.security import CurrentUser, csrf_guard
from marktplatz.web.state import app_of

router = APIRouter(prefix="/console", include_in_schema=False, dependencies=[Depends(csrf_guard)])

# Form inputs of each beacon kind: the service's key and the raw ids it expects.
BEACON_IDS: dict[str, tuple[str, tuple[str, ...]]] = {
    TouchpointKind.IBEACON: ("ibeacon", ("uuid", "major", "minor")),
    TouchpointKind.EDDYSTONE_UID: ("eddystone", ("namespace", "instance")),
    TouchpointKind.ALTBEACON: ("altbeacon", ("id1", "id2", "id3")),
}
_NUMERIC_IDS = frozenset({"major", "minor", "id2", "id3"})


async def _staff_city(request: Request, user: User, slug: str) -> City:
    """The city, if the user is its staff; to anyone else a foreign city looks nonexistent."""
    city = await cities.city_by_slug(app_of(request).ctx, slug)
    if not access.can_manage_city(user, city.id):
        raise NotFound("city")
    return city


def _page(
    request: Request,
    template: str,
    user: User,
    city: City,
    section: str,
    status_code: int = 200,
    **context: Any,
) -> Response:
    is_admin = access.can_manage_city(user, city.id, admin=True)
    return render(
        request,
        template,
        status_code=status_code,
        city=city,
        section=section,
        is_admin=is_admin,
        **context,
    )


def _base(city: City) -> str:
    return f"/console/{city.slug}"


# --- overview ------------------------------------------------------------------------------


@router.get("/{city}", response_class=HTMLResponse)
async def overview(request: Request, city: str, user: CurrentUser) -> Response:
    """Counts of shops, zones and touchpoints by kind, with links to each list."""
    if user is None:
        return login_redirect(request)
    ctx = app_of(request).ctx
    found = await _staff_city(request, user, city)
    points = await touchpoints.list_touchpoints(ctx, user, found.id)
    by_kind = sorted(Counter(t.kind.value for t in points).items())
    return _page(
        request,
        "console/overview.html",
        user,
        found,
        "overview",
        shop_count=len(await shops.list_shops(ctx, found.id)),
        zone_count=len(await cities.list_zones(ctx, found.id)),
        touchpoint_count=len(points),
        by_kind=by_kind,
    )


# --- zones ---------------------------------------------------------------------------------


def _zone_data(form: FormData) -> dict[str, Any]:
    try:
        geometry = json.loads(form_text(form, "geometry"))
    except ValueError:
        raise InvalidInput("geometry", N_("The shape is not valid GeoJSON.")) from None
    return {
        "slug": form_text(form, "slug"),
        "name": form_text(form, "name"),
        "description": form_text(form, "description"),
        "geometry": geometry,
    }


def _zone_values(zone: Zone) -> dict[str, str]:
    return {
        "slug": zone.slug,
        "name": zone.name,
        "description": zone.description,
        "geometry": json.dumps(zone.geometry, indent=2),
    }


async def _zones_page(
    request: Request,
    user: User,
    city: City,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    zones = await cities.list_zones(app_of(request).ctx, city.id)
    return _page(
        request,
        "console/zones.html",
        user,
        city,
        "zones",
        status_code,
        zones=zones,
        values=values or {},
        errors=errors or {},
    )


@router.get("/{city}/zones", response_class=HTMLResponse)
async def zones_page(request: Request, city: str, user: CurrentUser) -> Response:
    if user is None:
        return login_redirect(request)
    return await _zones_page(request, user, await _staff_city(request, user, city))


@router.post("/{city}/zones", response_class=HTMLResponse)
async def zone_create(request: Request, city: str, user: CurrentUser) -> Response:
    if user is None:
        return login_redirect(request)
    found = await _staff_city(request, user, city)
    form = await request.form()
    try:
        await cities.create_zone(app_of(request).ctx, user, found.id, _zone_data(form))
    except (InvalidInput, Conflict) as exc:
        return await _zones_page(
            request, user, found, form_values(form), form_errors(request, exc), 422
        )
    return saved(f"{_base(found)}/zones")


async def _city_zone(request: Request, user: User, slug: str, zone_id: UUID) -> tuple[City, Zone]:
    city = await _staff_city(request, user, slug)
    zone = await cities.get_zone(app_of(request).ctx, zone_id)
    if zone.city_id != city.id:
        raise NotFound("zone")
    return city, zone


@router.get("/{city}/zones/{zone_id}", response_class=HTMLResponse)
async def zone_page(request: Request, city: str, zone_id: UUID, user: CurrentUser) -> Response:
    if user is None:
        return login_redirect(request)
    found, zone = await _city_zone(request, user, city, zone_id)
    return _page(
        request,
        "console/zone.html",
        user,
        found,
        "zones",
        zone=zone,
        values=_zone_values(zone),
        errors={},
    )


@router.post("/{city}/zones/{zone_id}", response_class=HTMLResponse)
async def zone_submit(request: Request, city: str, zone_id: UUID, user: CurrentUser) -> Response:
    if user is None:
        return login_redirect(request)
    found, zone = await _city_zone(request, user, city, zone_id)
    form = await request.form()
    try:
        await cities.update_zone(app_of(request).ctx, user, zone.id, _zone_data(form))
    except (InvalidInput, Conflict) as exc:
        return _page(
            request,
            "console/zone.html",
            user,
            found,
            "zones",
            422,
            zone=zone,
            values=form_values(form),
            errors=form_errors(request, exc),
        )
    return saved(f"{_base(found)}/zones/{zone.id}")


@router.post("/{city}/zones/{zone_id}/delete")
async def zone_delete(request: Request, city: str, zone_id: UUID, user: CurrentUser) -> Response:
    if user is None:
        return login_redirect(request)
    found, zone = await _city_zone(request, user, city, zone_id)
    await cities.delete_zone(app_of(request).ctx, user, zone.id)
    return saved(f"{_base(found)}/zones")


# --- shops ---------------------------------------------------------------------------------

_SHOP_CREATE = ("slug", "name", "category", "street", "postcode", "opening_hours")


def _shop_data(form: FormData) -> dict[str, Any]:
    data: dict[str, Any] = {name: form_text(form, name) for name in _SHOP_CREATE}
    data["lat"], data["lon"] = form_number(form, "lat"), form_number(form, "lon")
    data["keep_unparsed_hours"] = bool(form_text(form, "keep_unparsed_hours"))
    return data


async def _shops_page(
    request: Request,
    user: User,
    city: City,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    ctx = app_of(request).ctx
    now = ctx.clock.now()
    rows = [(s, p.hours_status(s, city, now)) for s in await shops.list_shops(ctx, city.id)]
    return _page(
        request,
        "console/shops.html",
        user,
        city,
        "shops",
        status_code,
        rows=rows,
        values=values or {"lat": str(city.center.lat), "lon": str(city.center.lon)},
        errors=errors or {},
    )


@router.get("/{city}/shops", response_class=HTMLResponse)
async def shops_page(request: Request, city: str, user: CurrentUser) -> Response:
    if user is None:
        return login_redirect(request)
    return await _shops_page(request, user, await _staff_city(request, user, city))


@router.post("/{city}/shops", response_class=HTMLResponse)
async def shop_create(request: Request, city: str, user: CurrentUser) -> Response:
    if user is None:
        return login_redirect(request)
    found = await _staff_city(request, user, city)
    form = await request.form()
    try:
        await shops.create_shop(app_of(request).ctx, user, found.id, _shop_data(form))
    except (InvalidInput, Conflict) as exc:
        return await _shops_page(
            request, user, found, form_values(form), form_errors(request, exc), 422
        )
    return saved(f"{_base(found)}/shops")


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
    data: dict[str, Any] = {
        "kind": kind,
        "name": form_text(form, "name"),
        "placement": form_text(form, "placement"),
        "shop_id": form_text(form, "shop_id") or None,
    }
    if kind in LINK_KINDS:
        data["target"] = form_text(form, "target")
    if kind in BEACON_IDS:
        data.update(_beacon_ids(form, kind))
    data["lat"], data["lon"] = form_number(form, "lat"), form_number(form, "lon")
    return data


def _identifier_alias(kind: str) -> dict[str, str]:
    """A duplicate identifier is shown beside the first id input of the beacon kind."""
    if kind not in BEACON_IDS:
        return {}
    key, parts = BEACON_IDS[kind]
    return {"identifier": f"{key}_{parts[0]}", key: f"{key}_{parts[0]}"}


async def _fleet(request: Request, user: User, city: City) -> dict[str, Any]:
    """The touchpoints with the names of their zones and owning shops, for tables and selects."""
    ctx = app_of(request).ctx
    return {
        "touchpoints": await touchpoints.list_touchpoints(ctx, user, city.id),
        "zone_names": {z.id: z.name for z in await cities.list_zones(ctx, city.id)},
        "shop_options": [(s.id, s.name) for s in await shops.list_shops(ctx, city.id)],
    }


async def _touchpoints_page(
    request: Request,
    user: User,
    city: City,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    fleet = await _fleet(request, user, city)
    defaults = {"kind": "qr", "lat": str(city.center.lat), "lon": str(city.center.lon)}
    return _page(
        request,
        "console/touchpoints.html",
        user,
        city,
        "touchpoints",
        status_code,
        values=values or defaults,
        errors=errors or {},
        shop_names=dict(fleet["shop_options"]),
        **fleet,
    )


@router.get("/{city}/touchpoints", response_class=HTMLResponse)
async def touchpoints_page(request: Request, city: str, user: CurrentUser) -> Response:
    if user is None:
        return login_redirect(request)
    return await _touchpoints_page(request, user, await _staff_city(request, user, city))


@router.post("/{city}/touchpoints", response_class=HTMLResponse)
async def touchpoint_create(request: Request, city: str, user: CurrentUser) -> Response:
    if user is None:
        return login_redirect(request)
    found = await _staff_city(request, user, city)
    form = await request.form()
    try:
        data = _touchpoint_data(form)
        await touchpoints.create_touchpoint(app_of(request).ctx, user, found.id, data)
    except (InvalidInput, Conflict) as exc:
        aliases = _identifier_alias(form_text(form, "kind"))
        return await _touchpoints_page(
            request, user, found, form_values(form), form_errors(request, exc, aliases), 422
        )
    return saved(f"{_base(found)}/touchpoints")


async def _city_touchpoint(
    request: Request, user: User, slug: str, touchpoint_id: UUID
) -> tuple[City, Touchpoint]:
    city = await _staff_city(request, user, slug)
    touchpoint = await touchpoints.get_touchpoint(app_of(request).ctx, user, touchpoint_id)
    if touchpoint.city_id != city.id:
        raise NotFound("touchpoint")
    return city, touchpoint


def _touchpoint_values(touchpoint: Touchpoint) -> dict[str, str]:
    return {
        "name": touchpoint.name,
        "placement": touchpoint.placement,
        "status": touchpoint.status.value,
        "target": touchpoint.target,
        "shop_id": str(touchpoint.shop_id or ""),
        "lat": str(touchpoint.location.lat),
        "lon": str(touchpoint.location.lon),
    }


def _touchpoint_changes(form: FormData, touchpoint: Touchpoint) -> dict[str, Any]:
    data: dict[str, Any] = {
        name: form_text(form, name) for name in ("name", "placement", "status", "shop_id")
    }
    if touchpoint.is_link:
        data["target"] = form_text(form, "target")
    data["lat"], data["lon"] = form_number(form, "lat"), form_number(form, "lon")
    return data


async def _touchpoint_page(
    request: Request,
    user: User,
    city: City,
    touchpoint: Touchpoint,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    fleet = await _fleet(request, user, city)
    return _page(
        request,
        "console/touchpoint.html",
        user,
        city,
        "touchpoints",
        status_code,
        touchpoint=touchpoint,
        values=values or _touchpoint_values(touchpoint),
        errors=errors or {},
        statuses=list(TouchpointStatus),
        shop_options=fleet["shop_options"],
        zone_names=fleet["zone_names"],
        short_url=p.short_url(app_of(request).settings.base_url, touchpoint),
    )


@router.get("/{city}/touchpoints/{touchpoint_id}", response_class=HTMLResponse)
async def touchpoint_page(
    request: Request, city: str, touchpoint_id: UUID, user: CurrentUser
) -> Response:
    if user is None:
        return login_redirect(request)
    found, touchpoint = await _city_touchpoint(request, user, city, touchpoint_id)
    return await _touchpoint_page(request, user, found, touchpoint)


@router.post("/{city}/touchpoints/{touchpoint_id}", response_class=HTMLResponse)
async def touchpoint_submit(
    request: Request, city: str, touchpoint_id: UUID, user: CurrentUser
) -> Response:
    if user is None:
        return login_redirect(request)
    found, touchpoint = await _city_touchpoint(request, user, city, touchpoint_id)
    form = await request.form()
    try:
        changes = _touchpoint_changes(form, touchpoint)
        await touchpoints.update_touchpoint(app_of(request).ctx, user, touchpoint.id, changes)
    except (InvalidInput, Conflict) as exc:
        return await _touchpoint_page(
            request, user, found, touchpoint, form_values(form), form_errors(request, exc), 422
        )
    return saved(f"{_base(found)}/touchpoints/{touchpoint.id}")


@router.get("/{city}/touchpoints/{touchpoint_id}/print", response_class=HTMLResponse)
async def touchpoint_print(
    request: Request, city: str, touchpoint_id: UUID, user: CurrentUser
) -> Response:
    """A printable sheet with a big QR code, its short address and a call to action."""
    if user is None:
        return login_redirect(request)
    found, touchpoint = await _city_touchpoint(request, user, city, touchpoint_id)
    url = p.short_url(app_of(request).settings.base_url, touchpoint)
    if url is None:
        raise NotFound("touchpoint")
    return _page(
        request,
        "console/print.html",
        user,
        found,
        "touchpoints",
        touchpoint=touchpoint,
        short_url=url,
    )


# --- users ---------------------------------------------------------------------------------


@router.get("/{city}/users", response_class=HTMLResponse)
async def users_page(request: Request, city: str, user: CurrentUser) -> Response:
    """Everyone with a role in the city or its shops (city admins; editors get 403)."""
    if user is None:
        return login_redirect(request)
    ctx = app_of(request).ctx
    found = await _staff_city(request, user, city)
    users = await accounts.list_city_users(ctx, user, found.id)
    shop_names = {s.id: s.name for s in await shops.list_shops(ctx, found.id)}
    return _page(
        request, "console/users.html", user, found, "users", users=users, shop_names=shop_names
    )
