"""Use cases for touchpoints: the fleet of beacons, QR codes, NFC tags and devices."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any
from uuid import UUID

from marktplatz.domain.accounts import User
from marktplatz.domain.errors import N_, Conflict, InvalidInput, NotFound
from marktplatz.domain.fleet import clean_interval
from marktplatz.domain.geo import Location, make_location, polygon_contains
from marktplatz.domain.text import clean_text
from marktplatz.domain.touchpoints import (
    LINK_KINDS,
    Touchpoint,
    TouchpointKind,
    TouchpointStatus,
    canonical_identifier,
    clean_target,
    is_code,
    new_code,
)
from marktplatz.domain.zones import Zone
from marktplatz.services.access import (
    access_city,
    access_member_city,
    access_touchpoint,
    can_manage_city,
    shops_of,
)
from marktplatz.services.audit import audit
from marktplatz.services.context import Context
from marktplatz.services.ports import UnitOfWork
from marktplatz.services.shops import moved_location

_ID_KEYS = {
    TouchpointKind.IBEACON: "ibeacon",
    TouchpointKind.ALTBEACON: "altbeacon",
    TouchpointKind.EDDYSTONE_UID: "eddystone",
}


def _kind(value: object) -> TouchpointKind:
    try:
        return TouchpointKind(str(value))
    except ValueError as exc:
        raise InvalidInput(
            "kind", N_("Unknown touchpoint kind: %(value)s"), value=str(value)[:40]
        ) from exc


def _status(value: object) -> TouchpointStatus:
    try:
        return TouchpointStatus(str(value))
    except ValueError as exc:
        raise InvalidInput(
            "status", N_("Unknown status: %(value)s"), value=str(value)[:40]
        ) from exc


def _identifier(kind: TouchpointKind, data: Mapping[str, object], code: str) -> str:
    key = _ID_KEYS.get(kind)
    raw = data.get(key) if key else None
    if key and not isinstance(raw, dict):
        raise InvalidInput(key, N_("Please give the beacon's identifiers."))
    return canonical_identifier(kind, raw if isinstance(raw, dict) else {}, code)


async def _zone_at(uow: UnitOfWork, city_id: UUID, location: Location) -> UUID | None:
    return zone_containing(await uow.zones.list_for_city(city_id), location)


def zone_containing(zones: Iterable[Zone], location: Location) -> UUID | None:
    for zone in zones:
        if polygon_contains(zone.geometry, location):
            return zone.id
    return None


async def rezone_touchpoints(
    ctx: Context, uow: UnitOfWork, zone: Zone, *, removed: bool = False
) -> None:
    """Re-derive zone_id by position after `zone` was drawn, redrawn or (`removed`) deleted, in
    the caller's transaction: touchpoints inside it get it; those it no longer covers get the
    zone that contains them, or none."""
    others = [z for z in await uow.zones.list_for_city(zone.city_id) if z.id != zone.id]
    now = ctx.clock.now()
    for point in await uow.touchpoints.list_for_city(zone.city_id):
        if not removed and polygon_contains(zone.geometry, point.location):
            zone_id: UUID | None = zone.id
        elif point.zone_id == zone.id:
            zone_id = zone_containing(others, point.location)
        else:
            continue
        if zone_id != point.zone_id:
            await uow.touchpoints.update(replace(point, zone_id=zone_id, updated_at=now))


async def _check_owner(uow: UnitOfWork, city_id: UUID, shop_id: object) -> UUID | None:
    if shop_id in (None, ""):
        return None
    try:
        owner = UUID(str(shop_id))
    except ValueError as exc:
        raise InvalidInput("shop_id", N_("Unknown shop.")) from exc
    shop = await uow.shops.get(owner)
    if shop is None or shop.city_id != city_id:
        raise InvalidInput("shop_id", N_("Unknown shop."))
    return owner


async def _check_unique(uow: UnitOfWork, identifier: str, except_id: UUID | None) -> None:
    other = await uow.touchpoints.by_identifier(identifier)
    if other is not None and other.id != except_id:
        # Two touchpoints sharing an identifier would make every sighting ambiguous.
        raise Conflict("identifier", N_("Another touchpoint already uses this identifier."))


async def list_touchpoints(ctx: Context, actor: User | None, city_id: UUID) -> list[Touchpoint]:
    """City staff see the whole fleet; a retailer sees the touchpoints of their own shops.

    A city in which the actor has no role at all looks nonexistent, also to retailers.
    """
    async with ctx.uow() as uow:
        await access_member_city(uow, actor, city_id)
        all_points = await uow.touchpoints.list_for_city(city_id)
    if can_manage_city(actor, city_id):
        return all_points
    own = shops_of(actor)
    return [t for t in all_points if t.shop_id in own]


async def get_touchpoint(ctx: Context, actor: User | None, touchpoint_id: UUID) -> Touchpoint:
    """One touchpoint for city staff or its owning retailer."""
    async with ctx.uow() as uow:
        return await access_touchpoint(uow, actor, touchpoint_id)


async def create_touchpoint(
    ctx: Context, actor: User | None, city_id: UUID, data: Mapping[str, object]
) -> Touchpoint:
    """Register a touchpoint (city staff); link kinds get a fresh random code."""
    kind = _kind(data.get("kind"))
    code = new_code() if kind not in _ID_KEYS else ""
    location = make_location(data.get("lat"), data.get("lon"))
    now = ctx.clock.now()
    async with ctx.uow(write=True) as uow:
        await access_city(uow, actor, city_id)
        touchpoint = Touchpoint(
            id=uuid.uuid4(),
            city_id=city_id,
            shop_id=await _check_owner(uow, city_id, data.get("shop_id")),
            zone_id=await _zone_at(uow, city_id, location),
            kind=kind,
            name=clean_text(data.get("name"), "name", max_len=120),
            identifier=_identifier(kind, data, code),
            code=code,
            target=clean_target(data.get("target")) if kind in LINK_KINDS else "",
            location=location,
            placement=clean_text(
                data.get("placement", ""), "placement", max_len=200, required=False
            ),
            status=_status(data.get("status", "active")),
            created_at=now,
            updated_at=now,
        )
        await _check_unique(uow, touchpoint.identifier, None)
        await uow.touchpoints.add(touchpoint)
        await audit(
            uow,
            ctx,
            actor,
            city_id,
            "touchpoint.created",
            "touchpoint",
            touchpoint.id,
            [touchpoint.identifier],
        )
        await uow.commit()
    return touchpoint


async def _changes(
    uow: UnitOfWork, current: Touchpoint, data: Mapping[str, object]
) -> dict[str, Any]:
    """The checked changes to a touchpoint, read in the write transaction that stores them."""
    changes: dict[str, Any] = {}
    if "target" in data:
        if current.kind not in LINK_KINDS:
            raise InvalidInput("target", N_("Only QR, NFC and URL beacons have a target."))
        changes["target"] = clean_target(data["target"])
    if "name" in data:
        changes["name"] = clean_text(data["name"], "name", max_len=120)
    if "placement" in data:
        changes["placement"] = clean_text(
            data["placement"], "placement", max_len=200, required=False
        )
    if "status" in data:
        changes["status"] = _status(data["status"])
    if "expected_interval_hours" in data:
        changes["expected_interval_hours"] = clean_interval(data["expected_interval_hours"])
    if "shop_id" in data:
        changes["shop_id"] = await _check_owner(uow, current.city_id, data["shop_id"])
    location = moved_location(current.location, data)
    if location is not None:
        changes["location"] = location
        changes["zone_id"] = await _zone_at(uow, current.city_id, location)
    if any(k in data for k in _ID_KEYS.values()):
        changes["identifier"] = _identifier(current.kind, data, current.code)
        await _check_unique(uow, changes["identifier"], current.id)
    return changes


async def update_touchpoint(
    ctx: Context, actor: User | None, touchpoint_id: UUID, data: Mapping[str, object]
) -> Touchpoint:
    """Edit a touchpoint; the owning shop's owner may change only the target of its codes."""
    async with ctx.uow(write=True) as uow:
        current = await access_touchpoint(uow, actor, touchpoint_id, edit=True)
        if not can_manage_city(actor, current.city_id) and set(data) - {"target"}:
            raise InvalidInput("target", N_("Retailers may change only the target address."))
        changes = await _changes(uow, current, data)
        updated = replace(current, **changes, updated_at=ctx.clock.now())
        await uow.touchpoints.update(updated)
        await audit(
            uow,
            ctx,
            actor,
            current.city_id,
            "touchpoint.updated",
            "touchpoint",
            current.id,
            sorted(changes),
        )
        await uow.commit()
        if current.code and changes.keys() & {"target", "status"}:
            # Right after COMMIT, before anything else can run: no task of this process
            # serves the old target from here on (see CodeCache for lookups in flight).
            ctx.codes.forget(current.code)
    return updated


async def resolve_code(ctx: Context, code: str) -> str:
    """The target behind /q/<code> of an active link touchpoint (public); NotFound otherwise.

    Links are cached briefly (update_touchpoint forgets a changed one at once). Unknown codes are
    never cached: a code must work the moment it is created, in every worker process.
    """
    code = code.strip().lower()
    if not is_code(code):
        raise NotFound("touchpoint")
    link = ctx.codes.get(code)
    if link is None:
        version = ctx.codes.version()
        async with ctx.uow() as uow:
            touchpoint = await uow.touchpoints.by_identifier(f"code:{code}")
        if touchpoint is None:
            raise NotFound("touchpoint")
        link = (touchpoint.target, _follows(touchpoint))
        ctx.codes.put(code, link, version)
    target, active = link
    if not active:
        raise NotFound("touchpoint")
    return target


def _follows(touchpoint: Touchpoint) -> bool:
    return touchpoint.is_link and touchpoint.status is TouchpointStatus.ACTIVE


QR_KINDS = {"svg": "image/svg+xml", "pdf": "application/pdf"}


class NoQrCode(NotFound):
    """The touchpoint exists for the caller but has no printable code (a beacon or a device)."""


async def printable_qr(
    ctx: Context, actor: User | None, touchpoint_id: UUID, kind: str
) -> tuple[Touchpoint, bytes, str]:
    """The QR code (SVG or PDF) of a link touchpoint for its staff: (touchpoint, bytes, type)."""
    async with ctx.uow() as uow:
        touchpoint = await access_touchpoint(uow, actor, touchpoint_id)
    url = touchpoint.short_url(ctx.base_url)
    if url is None or kind not in QR_KINDS:
        raise NoQrCode("qr code")
    data = ctx.qr.svg(url) if kind == "svg" else ctx.qr.pdf(url)
    return touchpoint, data, QR_KINDS[kind]
